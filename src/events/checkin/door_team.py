"""The door team: who may scan an event (door-staff people, and the phones paired for it), adding and removing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from events import db
from events.accounts import memberships
from events.accounts import service as accounts
from events.accounts.door_pages import DoorPage, register_door_pages
from events.accounts.roles import DOOR, CurrentUser, door_scope
from events.accounts.tables import Membership, User
from events.audit import service as audit
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event
from events.checkin.tables import DoorAssignment
from events.errors import InvalidInput, NotFound


async def assign_door_staff(event_id: int, user_id: int, *, now: datetime | None = None) -> None:
    """Let a door member of the event's organisation scan this event (a second assignment changes nothing)."""
    async with db.write_transaction():
        user = (
            await Membership.select(Membership.user.id, Membership.user.email)
            .where(
                Membership.user == user_id,
                Membership.organisation.is_in(Event.select(Event.organisation).where(Event.id == event_id)),
                Membership.role == DOOR,
                Membership.deactivated_at.is_null(),
                Membership.user.is_active == True,  # noqa: E712
            )
            .first()
        )
        if user is None:
            raise InvalidInput("Choose a door-staff account.", fields={"user": "Not a door-staff account."})
        user = {"email": user["user.email"]}
        if not await DoorAssignment.exists().where(DoorAssignment.event == event_id, DoorAssignment.user == user_id):
            await DoorAssignment(event=event_id, user=user_id).save()
            await audit.record(
                "door_staff.assigned",
                now=now or datetime.now(timezone.utc),
                event_id=event_id,
                subject_type="user",
                subject_id=user_id,
                after={"email": user["email"]},
            )


async def upcoming_door_pages(user: CurrentUser, now: datetime) -> list[DoorPage]:
    """The events of the organisation ``user`` acts for whose door team they are on, not over, cancelled or a draft:
    the links their account page gives them (the door page itself decides again who may scan)."""
    if user.organisation_id is None or not user.has_role(DOOR):
        return []
    rows = (
        await DoorAssignment.select(DoorAssignment.event.slug, DoorAssignment.event.title, DoorAssignment.event.starts_at)
        .where(
            DoorAssignment.user == user.id,
            DoorAssignment.event.organisation == user.organisation_id,
            DoorAssignment.event.ends_at >= now,
            DoorAssignment.event.status.is_in([EventStatus.on_sale, EventStatus.sales_closed]),
        )
        .order_by(DoorAssignment.event.starts_at)
    )
    return [DoorPage(row["event.slug"], row["event.title"], row["event.starts_at"]) for row in rows]


register_door_pages(upcoming_door_pages)


async def copy_door_team(source_event_id: int, target_event_id: int, organisation_id: int) -> int:
    """Put the people on ``source_event_id``'s door team on a copy of it (events.series), in the caller's transaction:
    those still active door members of the organisation. Paired phones are not copied: a phone is paired for one
    event's door. Returns how many were put on the team."""
    members = {row["user.id"] for row in await memberships.door_members(organisation_id) if not accounts.is_device_account(row["user.email"])}
    assigned = await DoorAssignment.select(DoorAssignment.user).where(DoorAssignment.event == source_event_id).order_by(DoorAssignment.id)
    copied = [row["user"] for row in assigned if row["user"] in members]
    for user_id in copied:
        await DoorAssignment(event=target_event_id, user=user_id).save()
    return len(copied)


async def create_door_staff(event_id: int, *, organisation_id: int, email: str, name: str, password: str, now: datetime) -> CurrentUser:
    """A new door-staff account, on this event's door team, in one transaction (no account without its assignment)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the person's name, as the door page will show it.", fields={"display_name": "Enter a name."})
    if len(name) > 120:
        raise InvalidInput("That name is too long.", fields={"display_name": "Use at most 120 characters."})
    async with db.write_transaction():
        user = await accounts.create_user(email, role=DOOR, password=password, display_name=name, organisation_id=organisation_id)
        await audit.record(
            "door_staff.created", now=now, event_id=event_id, subject_type="user", subject_id=user.id, after={"email": user.email, "name": name}
        )
        await assign_door_staff(event_id, user.id, now=now)
    return user


async def remove_door_staff(event_id: int, user_id: int, *, now: datetime) -> None:
    """Take someone (or a paired phone) off the door team, and revoke the device tokens made for this event's
    door; a paired phone's account is switched off."""
    async with db.write_transaction():
        removed = await DoorAssignment.delete().where(DoorAssignment.event == event_id, DoorAssignment.user == user_id).returning(DoorAssignment.id)
        if not removed:
            raise NotFound("That person is not on this event's door team.", code="not_assigned")
        revoked = await accounts.revoke_scoped_tokens(user_id, door_scope(event_id), now=now, deactivate_device=True)
        await audit.record(
            "door_staff.removed",
            now=now,
            event_id=event_id,
            subject_type="user",
            subject_id=user_id,
            before={"assigned": True},
            after={"assigned": False, "device_tokens_revoked": revoked},
        )


async def door_devices(event_id: int, *, now: datetime) -> list[accounts.ScopedToken]:
    """The devices that can use this event's door now: every live token scoped to it, whoever holds it (door staff,
    organisers who pressed "Use this device", paired phones)."""
    return await accounts.active_scoped_tokens(door_scope(event_id), now=now)


async def revoke_door_device(event_id: int, token_id: int, *, now: datetime) -> None:
    """Stop one device using this event's door, whoever holds its token (a paired phone's account is switched off;
    a person stays on the door team and keeps their sign-in)."""
    async with db.write_transaction():
        holder = await accounts.revoke_scoped_token(token_id, door_scope(event_id), now=now)
        if holder is None:
            raise NotFound("That device cannot use this event's door any more.", code="device_not_found")
        await audit.record(
            "door.device_revoked",
            now=now,
            event_id=event_id,
            subject_type="user",
            subject_id=holder,
            after={"token": token_id},
        )


@dataclass(frozen=True, slots=True)
class DoorMember:
    """Someone (or a paired phone's account) on an event's door team."""

    id: int
    email: str
    name: str
    device: bool  # a paired phone's account
    active: bool


@dataclass(frozen=True, slots=True)
class DoorCandidate:
    """A door-staff person who could be added to the team."""

    id: int
    email: str
    name: str


async def door_team(event_id: int, organisation_id: int) -> tuple[list[DoorMember], list[DoorCandidate]]:
    """Who may scan this event (people and paired phones), and the organisation's door members who could be added."""
    assigned = (
        await DoorAssignment.select(
            DoorAssignment.user.id, DoorAssignment.user.email, DoorAssignment.user.display_name, DoorAssignment.user.is_active
        )
        .where(DoorAssignment.event == event_id)
        .order_by(DoorAssignment.id)
    )
    team = [
        DoorMember(
            id=row["user.id"],
            email=row["user.email"],
            name=row["user.display_name"] or row["user.email"],
            device=row["user.email"].endswith("@" + accounts.DEVICE_EMAIL_DOMAIN),
            active=row["user.is_active"],
        )
        for row in assigned
    ]
    on_team = {member.id for member in team}
    others = [row for row in await memberships.door_members(organisation_id) if not accounts.is_device_account(row["user.email"])]
    return team, [
        DoorCandidate(row["user.id"], row["user.email"], row["user.display_name"] or row["user.email"])
        for row in others
        if row["user.id"] not in on_team
    ]


async def _event_and_person(event_slug: str, email: str) -> tuple[int, int, str, int | None]:
    """The event's id and organisation, the organisation's slug, and the id of the person with ``email`` (None if
    there is no such account)."""
    event = await Event.select(Event.id, Event.organisation, Event.organisation.slug).where(Event.slug == event_slug).first()
    if event is None:
        raise NotFound(f"No event with the slug {event_slug}.", code="event_not_found")
    person = await User.select(User.id).where(User.email == accounts.normalise_email(email)).first()
    return event["id"], event["organisation"], event["organisation.slug"], person["id"] if person else None


async def add_to_door_team(event_slug: str, email: str, *, now: datetime) -> list[DoorMember]:
    """Put a door member of the event's organisation on its door team, by email (the API and `events door add`);
    answers the team. Someone who is not (yet) a door member there is a clear error: invite them first."""
    event_id, organisation_id, organisation_slug, user_id = await _event_and_person(event_slug, email)
    if user_id is None or not await memberships.is_member(user_id, organisation_id, roles=(DOOR,)):
        message = f"{accounts.normalise_email(email)} is not a door member of {organisation_slug}: invite them with the door role first."
        raise InvalidInput(message, fields={"email": "Not a door member of this event's organisation."})
    await assign_door_staff(event_id, user_id, now=now)
    return (await door_team(event_id, organisation_id))[0]


async def remove_from_door_team(event_slug: str, email: str, *, now: datetime) -> list[DoorMember]:
    """Take someone off the event's door team by email (their door-device tokens for it are revoked); answers the
    team."""
    event_id, organisation_id, _, user_id = await _event_and_person(event_slug, email)
    if user_id is None:
        raise NotFound("That person is not on this event's door team.", code="not_assigned")
    await remove_door_staff(event_id, user_id, now=now)
    return (await door_team(event_id, organisation_id))[0]
