"""Door devices: the door page, a signed-in person's own phone registered for scanning, and phones paired by a
one-time QR code (each gets a door account on the event's door team and a token scoped to that door)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from events import db
from events.accounts import memberships
from events.accounts import service as accounts
from events.accounts.roles import CurrentUser, door_scope
from events.audit import service as audit
from events.catalogue.rules import sells_at_door
from events.catalogue.tables import Event, TicketType
from events.checkin.rules import door_token_expiry
from events.checkin.scanning import DoorEvent, door_event
from events.checkin.tables import DevicePairing, DoorAssignment
from events.errors import InvalidInput, NotFound
from events.i18n import N_

PAIRING_MINUTES = 15
DEVICE_NAME_MAX = 60


@dataclass(frozen=True, slots=True)
class DoorSaleType:
    id: int
    name: str
    price_pence: int


@dataclass(frozen=True, slots=True)
class DoorPage:
    event: DoorEvent
    currency: str
    sale_types: list[DoorSaleType]


@dataclass(frozen=True, slots=True)
class Pairing:
    code: str
    event_slug: str
    event_title: str
    device_name: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PairedDevice:
    user: CurrentUser
    token: str
    event_slug: str


async def door_page(slug: str, user: CurrentUser) -> DoorPage:
    """What the door page needs: the event (if this user may scan it) and the types sold at the door."""
    event = await door_event(slug, user)
    row = await Event.select(Event.currency).where(Event.id == event.id).first()
    types = (
        await TicketType.select(TicketType.id, TicketType.name, TicketType.price_pence, TicketType.channel)
        .where(TicketType.event == event.id)
        .order_by(TicketType.position)
    )
    sale_types = [DoorSaleType(t["id"], t["name"], t["price_pence"]) for t in types if sells_at_door(t["channel"])]
    return DoorPage(event, row["currency"] if row else "GBP", sale_types)


def _device_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput(N_("Give this device a name, like Door 1 phone."), fields={"device": N_("Enter a name.")})
    if len(name) > DEVICE_NAME_MAX:
        raise InvalidInput(N_("That device name is too long."), fields={"device": N_("Use at most 60 characters.")})
    return name


async def _door_token_expiry(event_id: int, now: datetime) -> datetime:
    row = await Event.select(Event.starts_at, Event.ends_at).where(Event.id == event_id).first()
    if row is None:
        return now  # no event, no door: a token that is already over
    return door_token_expiry(starts_at=row["starts_at"], ends_at=row["ends_at"], now=now)


async def register_device(user: CurrentUser, event: DoorEvent, device_name: str, *, now: datetime) -> str:
    """An API token for the signed-in person's own device, labelled with its name: scans record that name.
    The token is the person's but scoped to this event's door (it opens nothing else, whatever the person's role;
    check door_event first); it ends as rules.door_token_expiry says, or when the person leaves this event's door
    team or an organiser revokes it."""
    name = _device_name(device_name)
    async with db.write_transaction():
        token = await accounts.create_api_token(
            user.email,
            label=name,
            now=now,
            expires_at=await _door_token_expiry(event.id, now),
            scope=door_scope(event.id),
            organisation_id=user.organisation,
        )
        await audit.record("door.device_registered", now=now, event_id=event.id, subject_type="user", subject_id=user.id, after={"device": name})
    return token


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


async def create_pairing(event: DoorEvent, device_name: str, *, created_by: str, now: datetime, paired_by: int | None = None) -> Pairing:
    """A one-time code, valid for PAIRING_MINUTES, that makes the phone which opens it a door device for this event."""
    name = _device_name(device_name)
    code = secrets.token_urlsafe(18)
    expires_at = now + timedelta(minutes=PAIRING_MINUTES)
    async with db.write_transaction():
        pairing = DevicePairing(
            code_hash=_code_hash(code),
            event=event.id,
            device_name=name,
            created_by=created_by,
            paired_by=paired_by,
            created_at=now,
            expires_at=expires_at,
        )
        await pairing.save()
        # Never the code: it is a one-time password for the phone.
        await audit.record(
            "door.pairing_created",
            now=now,
            event_id=event.id,
            subject_type="device_pairing",
            subject_id=pairing.id,
            after={"device_name": name, "expires_at": expires_at},
        )
    return Pairing(code, event.slug, event.title, name, expires_at)


def _pairing_gone() -> NotFound:
    return NotFound(N_("This pairing code has expired or has already been used. Ask the organiser for a new one."), code="pairing_not_valid")


async def pending_pairing(code: str, *, now: datetime) -> Pairing:
    """The pairing a code names, if it is unused and unexpired (shown before the phone accepts it)."""
    row = (
        await DevicePairing.select(DevicePairing.device_name, DevicePairing.expires_at, DevicePairing.event.slug, DevicePairing.event.title)
        .where(DevicePairing.code_hash == _code_hash(code), DevicePairing.used_at.is_null(), DevicePairing.expires_at > now)
        .first()
    )
    if row is None:
        raise _pairing_gone()
    return Pairing(code, row["event.slug"], row["event.title"], row["device_name"], row["expires_at"])


async def use_pairing(code: str, *, now: datetime) -> PairedDevice:
    """Spend a pairing code, once: a door account for the device, on this event's door team, with a token."""
    async with db.write_transaction():
        # The conditional update is the lock: of two phones opening the same code, one gets no row back.
        claimed = (
            await DevicePairing.update({DevicePairing.used_at: now})
            .where(DevicePairing.code_hash == _code_hash(code), DevicePairing.used_at.is_null(), DevicePairing.expires_at > now)
            .returning(DevicePairing.id, DevicePairing.event, DevicePairing.device_name, DevicePairing.paired_by)
        )
        if not claimed:
            raise _pairing_gone()
        pairing = claimed[0]
        [organisation] = await Event.select(Event.organisation).where(Event.id == pairing["event"])
        # A code from someone no longer on the team (or of a suspended organisation) pairs nothing.
        if pairing["paired_by"] is not None and not await memberships.is_member(pairing["paired_by"], organisation["organisation"]):
            raise _pairing_gone()
        user, token = await accounts.create_device_account(
            pairing["device_name"],
            organisation_id=organisation["organisation"],
            now=now,
            expires_at=await _door_token_expiry(pairing["event"], now),
            scope=door_scope(pairing["event"]),
            paired_by=pairing["paired_by"],
        )
        await DoorAssignment(event=pairing["event"], user=user.id).save()
        await DevicePairing.update({DevicePairing.device_user: user.id}).where(DevicePairing.id == pairing["id"])
        await audit.record(
            "door.device_paired",
            now=now,
            event_id=pairing["event"],
            subject_type="user",
            subject_id=user.id,
            after={"device": pairing["device_name"]},
            actor=user,
        )
        event = await Event.select(Event.slug).where(Event.id == pairing["event"]).first()
    assert event is not None
    return PairedDevice(user, token, event["slug"])
