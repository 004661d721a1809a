"""Door scanning: redeeming scans exactly once (online, and offline scans synced later), the offline bundle,
the door's counts and search. The statements every scan runs are in checkin/queries.py."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec
from asyncpg.exceptions import UniqueViolationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from events import db
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.batching import Combiner
from events.checkin import queries, rules
from events.checkin.schemas import CountsOut, OfflineBundle, OfflineEvent, OfflineTicket, SearchHit
from events.errors import Conflict, NotAllowed, NotFound, is_database_unavailable
from events.i18n import N_
from events.orders.codes import normalise_reference
from events.orders.statuses import OrderStatus
from events.questions import service as questions
from events.tickets.keys import checking_key
from events.tickets.signing import (
    InvalidTicketCode,
    TicketClaims,
    looks_signed,
    read_claims,
    verify_ticket,
)
from events.tickets.statuses import TicketStatus
from events.tickets.tables import EventSigningKey, Ticket

logger = logging.getLogger(__name__)

# Only if another door keeps changing the same ticket between our read and our write (exit and re-entry
# scans in a tight loop) does a scan need more than a second try.
REDEEM_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class ScannedTicket:
    holder: str
    type: str
    checked_in_at: datetime | None
    checked_in_by: str


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """The event a ticket scanned at the wrong door is for."""

    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    status: str  # ok, error
    reason: str | None
    ticket: ScannedTicket | None
    conflict: bool = False
    # Only for a wrong_event refusal, and only to someone who may scan the ticket's own event.
    ticket_event: TicketEvent | None = None


@dataclass(frozen=True, slots=True)
class DoorEvent:
    id: int
    slug: str
    title: str
    allow_reentry: bool


async def door_event(slug: str, user: CurrentUser) -> DoorEvent:
    """The event, if this user may scan it: one of their organisation's (another's is not found at all), where
    organisers may scan any (a limited organiser: their chosen events) and door staff the events they are
    assigned to."""
    rows = await db.run(queries.DOOR_EVENT, user.id, user.id, slug)  # the event and the access in one round trip
    if not rows or rows[0]["organisation"] != user.organisation_id:
        raise _no_such_event()
    row = rows[0]
    _check_door_access(user, row["id"], row)
    return DoorEvent(row["id"], row["slug"], row["title"], bool(row["allow_reentry"]))


def _no_such_event() -> NotFound:
    return NotFound(N_("We could not find that event."), code="event_not_found")


def _may_scan(user: CurrentUser, access: Mapping[str, Any]) -> bool:
    """From a row with the event's ``organisation`` and the user's ``assigned`` (door team) and ``chosen`` (a
    limited organiser's events) flags."""
    if access["organisation"] != user.organisation_id:
        return False
    if user.scans_every_event:
        return True
    return bool(access["chosen"]) if user.role == ORGANISER else user.has_role(DOOR) and bool(access["assigned"])


def _check_door_access(user: CurrentUser, event_id: int, access: Mapping[str, Any]) -> None:
    if user.door_event_id is not None and user.door_event_id != event_id:
        raise NotAllowed(N_("This device is set up for another event's door."))
    if not _may_scan(user, access):
        raise NotAllowed(N_("You are not on the door team for this event."))


async def redeem(
    event_slug: str,
    user: CurrentUser,
    scanned: str,
    nonce: str,
    *,
    device: str,
    scanned_at: datetime,
    now: datetime,
    direction: str = "in",
    offline_result: str | None = None,
) -> ScanResult:
    """Record one scan by this user at this event's door and decide it, exactly once per ticket entry and
    exactly once per nonce (a nonce this scanner's device sent before for this event gets its first answer back,
    whatever is scanned with it; the same nonce from another device or for another event is a scan of its own).

    ``offline_result`` is what an offline door showed the guest ('ok' or a reason); when the
    door let someone in that the server refuses as already redeemed, the scan is a conflict."""
    state_sql, value, claims = await _identify(scanned)
    version = claims.version if claims else None
    scan = _Scan(nonce, direction, device, scanned_at, now, offline_result)
    # The one-statement way checks the door team but not a door device's event: such a device scanning another
    # event's door takes the general way, which refuses it.
    foreign_device = user.door_event_id is not None and (claims is None or claims.event_id != user.door_event_id)
    # A scan the one-statement way cannot admit (see _as_expected) does not wait for the running batch to learn so.
    expected = _as_expected(claims) if claims is not None and direction == "in" and not db.is_sqlite() and not foreign_device else None
    if expected is not None:
        admitted = await _ADMISSIONS.submit(event_slug, _Expected(expected, user, scan))
        if admitted is not None:
            return admitted
    for _ in range(REDEEM_ATTEMPTS):
        if db.is_sqlite():
            async with db.write_transaction():
                result = await _attempt(state_sql, value, version, event_slug, user, scan)
        else:
            try:
                result = await _attempt(state_sql, value, version, event_slug, user, scan)
            except UniqueViolationError:
                continue  # a retry with this nonce was recorded first: the next read finds its answer
        if result is not None:
            return result
    raise Conflict(N_("This ticket is being scanned at another door right now. Scan it again."), code="scan_contended")


@dataclass(frozen=True, slots=True)
class _Expected:
    """A usual scan waiting for its batch (see _admit_together): the ticket as its signed code says it is
    (_as_expected), who scans, and the scan."""

    expected: rules.TicketAtDoor
    user: CurrentUser
    scan: _Scan


def _as_expected(claims: TicketClaims) -> rules.TicketAtDoor | None:
    """What most scans find: the code's ticket, valid, paid, never admitted (the statements' IS NULL), if the rule
    admits that ticket whatever the event's re-entry setting (so the statements need not read it); else None."""
    expected = rules.TicketAtDoor(
        id=claims.ticket_id,
        event_id=claims.event_id,
        version=claims.version,
        status=TicketStatus.valid,
        order_status=OrderStatus.paid,
        checked_in_at=None,
        inside=False,
    )
    for reentry_allowed in (False, True):
        decision = rules.decide_entry(expected, event_id=claims.event_id, scanned_version=claims.version, reentry_allowed=reentry_allowed)
        if not isinstance(decision, rules.Admit):
            return None
    return expected


async def _admit_together(event_slug: Hashable, batch: Sequence[_Expected]) -> list[ScanResult | BaseException | None]:
    """Each usual scan's answer, for the scans of one event's door that arrived together: admitted, or None when
    the database does not agree with what the rule was told (the scan then goes the general way). One statement
    and one commit for them all. A scan whose ticket or nonce an earlier one in the batch also has is left to the
    general way, which runs after this commit. If the statement fails (a concurrent retry recorded a nonce first, a
    value the database refuses), each scan is tried on its own: one door's bad scan never fails another's."""
    slug = str(event_slug)
    if len(batch) == 1:
        return [await _admit_alone(slug, batch[0])]
    chosen: list[tuple[int, _Expected, rules.TicketAtDoor]] = []
    tickets: set[int] = set()
    nonces: set[tuple[str, int, str]] = set()
    for index, wanted in enumerate(batch):
        expected = wanted.expected
        nonce = (wanted.scan.nonce, wanted.user.id, wanted.scan.device)
        if expected.id in tickets or nonce in nonces:
            continue
        tickets.add(expected.id)
        nonces.add(nonce)
        chosen.append((index, wanted, expected))
    answers: list[ScanResult | BaseException | None] = [None] * len(batch)
    if not chosen:
        return answers
    try:
        rows = await db.run(
            queries.ADMIT_EXPECTED_TOGETHER,
            _ADMISSION_ROWS.encode([_admission_row(index, wanted, expected) for index, wanted, expected in chosen]).decode(),
            TicketStatus.valid,
            False,
            slug,
            OrderStatus.paid,
        )
    except Exception as exc:  # each scan is tried on its own (below), and gets its own answer or error
        if is_database_unavailable(exc):
            raise  # alone, each would meet the same closed door: every scan of the batch gets the 503 at once
        # The error's name only: its detail may quote a scan's values (a nonce, a door named after a person).
        logger.warning("A batch of %d door scans for %s failed (%s); admitting each on its own", len(batch), slug, type(exc).__name__)
        return [await _admit_alone(slug, wanted) for wanted in batch]
    for row in rows:
        answers[row["item"]] = ScanResult("ok", None, ScannedTicket(row["holder_name"], row["type_name"], row["checked_in_at"], row["checked_in_by"]))
    return answers


class _AdmissionRow(msgspec.Struct):
    """One scan of a batch as queries.ADMIT_EXPECTED_TOGETHER reads it."""

    item: int  # its place in the batch
    ticket: int
    event: int
    version: int
    organisation: int | None
    scanner: int
    every_event: bool
    door_role: bool
    nonce: str
    device: str
    scanned_at: datetime
    received_at: datetime
    offline: bool


_ADMISSION_ROWS = msgspec.json.Encoder()


def _admission_row(index: int, wanted: _Expected, expected: rules.TicketAtDoor) -> _AdmissionRow:
    user, scan = wanted.user, wanted.scan
    return _AdmissionRow(
        item=index,
        ticket=expected.id,
        event=expected.event_id,
        version=expected.version,
        organisation=user.organisation_id,
        scanner=user.id,
        # A limited organiser's scans take the general way, which checks their chosen events.
        every_event=user.scans_every_event,
        door_role=user.has_role(DOOR),
        nonce=scan.nonce,
        device=scan.device,
        # In UTC, as asyncpg sends a timestamp (a naive one is local time); JSON's text would otherwise be read in
        # the database session's time zone.
        scanned_at=scan.scanned_at.astimezone(timezone.utc),
        received_at=scan.received_at.astimezone(timezone.utc),
        offline=scan.offline_result is not None,
    )


async def _admit_alone(event_slug: str, wanted: _Expected) -> ScanResult | BaseException | None:
    """One usual scan in its own statement: admitted, None (the general way decides it), or its own error."""
    try:
        return await _admit_as_expected(wanted.expected, event_slug, wanted.user, wanted.scan)
    except UniqueViolationError:
        return None  # a retry with this nonce was recorded first: the general way returns its answer
    except Exception as exc:  # noqa: BLE001 - this scan's error, raised to this scan's request only
        return exc


async def _admit_as_expected(expected: rules.TicketAtDoor, event_slug: str, user: CurrentUser, scan: _Scan) -> ScanResult | None:
    """One statement for the usual scan; None if the ticket (or the door) is not as expected. A nonce already
    used raises UniqueViolationError, and nothing is written."""
    rows = await db.run(
        queries.ADMIT_EXPECTED,
        scan.scanned_at,
        scan.device,
        expected.id,
        expected.event_id,
        expected.version,
        expected.status,
        expected.inside,
        event_slug,
        user.organisation_id,
        expected.order_status,
        # A limited organiser's scans take the general way, which checks their chosen events.
        user.scans_every_event,
        user.has_role(DOOR),
        user.id,
        scan.nonce,
        scan.device,
        scan.device,
        scan.scanned_at,
        scan.received_at,
        scan.offline_result is not None,
        user.id,
    )
    if not rows:
        return None
    row = rows[0]
    return ScanResult("ok", None, ScannedTicket(row["holder_name"], row["type_name"], row["checked_in_at"], row["checked_in_by"]))


@dataclass(frozen=True, slots=True)
class _Scan:
    nonce: str
    direction: str
    device: str
    scanned_at: datetime
    received_at: datetime
    offline_result: str | None


# The usual scans of one event that arrive while a batch of them is being admitted go together in the next one
# (events.batching): one statement and one commit for them all. At most this many in one statement.
ADMIT_BATCH_LIMIT = 100
_ADMISSIONS: Combiner[_Expected, ScanResult | None] = Combiner(_admit_together, limit=ADMIT_BATCH_LIMIT)


async def _attempt(state_sql: str, value: Any, version: int | None, event_slug: str, user: CurrentUser, scan: _Scan) -> ScanResult | None:
    """Read, decide with the rule, write. None when the ticket changed between the read and the write (another
    door admitted it first): nothing was written, and the caller tries again from a fresh read."""
    rows = await db.run(state_sql, user.id, user.id, value, scan.nonce, user.id, scan.device, event_slug)
    if not rows or rows[0]["organisation"] != user.organisation_id:
        raise _no_such_event()
    row = rows[0]
    _check_door_access(user, row["event_id"], row)
    ticket, shown = _ticket_at_door(row)
    if row["first_status"] is not None:
        first_ticket = row["first_ticket"]
        if row["first_reason"] == "wrong_event":
            return await _wrong_event(first_ticket, user, conflict=bool(row["first_conflict"]))
        first_shown = shown if ticket is not None and first_ticket == ticket.id else await _scanned_ticket(first_ticket)
        return ScanResult(row["first_status"], row["first_reason"], first_shown, bool(row["first_conflict"]))
    event_id = row["event_id"]
    if scan.direction == "out":
        decision = rules.decide_exit(ticket, event_id=event_id)
    else:
        decision = rules.decide_entry(ticket, event_id=event_id, scanned_version=version, reentry_allowed=bool(row["allow_reentry"]))
    offline = scan.offline_result is not None
    if isinstance(decision, rules.Admit):
        assert ticket is not None and shown is not None
        changed = await _admit(ticket, event_id, scan, offline, user.id)
        if changed is None:
            return None
        return ScanResult("ok", None, ScannedTicket(shown.holder, shown.type, changed["checked_in_at"], changed["checked_in_by"]))
    conflict = scan.offline_result == "ok" and decision.reason == "already_redeemed"
    await db.run(
        queries.RECORD_SCAN,
        scan.nonce,
        event_id,
        decision.ticket_id,
        scan.direction,
        "error",
        decision.reason,
        scan.device,
        scan.device,
        scan.scanned_at,
        scan.received_at,
        offline,
        conflict,
        user.id,
    )
    if decision.reason == "wrong_event":
        return await _wrong_event(decision.ticket_id, user, conflict=conflict)
    return ScanResult("error", decision.reason, shown if decision.ticket_id is not None else None, conflict)


async def _wrong_event(ticket_id: int | None, user: CurrentUser, *, conflict: bool) -> ScanResult:
    """A ticket for another event. Whose it is and which event it is for are told only to someone who may scan
    that event (its door team, or an organiser, but not through a door device's token, which opens one door only);
    to anyone else it is just not a ticket for this door."""
    rows = await db.run(queries.TICKET_EVENT, user.id, user.id, ticket_id) if ticket_id is not None else []
    if not rows or user.door_event_id is not None or not _may_scan(user, rows[0]):
        return ScanResult("error", "wrong_event", None, conflict)
    return ScanResult("error", "wrong_event", await _scanned_ticket(ticket_id), conflict, TicketEvent(rows[0]["slug"], rows[0]["title"]))


async def _admit(ticket: rules.TicketAtDoor, event_id: int, scan: _Scan, offline: bool, scanner: int) -> Mapping[str, Any] | None:
    """Admit (or let out) the ticket and log the scan; None if the ticket is no longer as the rule saw it."""
    entering = scan.direction != "out"
    if db.is_sqlite():  # inside the caller's IMMEDIATE transaction: nothing can have changed since the read
        changed = (
            await db.run(queries.SQLITE_ENTER, scan.scanned_at, scan.device, ticket.id)
            if entering
            else (await db.run(queries.SQLITE_EXIT, ticket.id))
        )
        await db.run(
            queries.RECORD_SCAN,
            scan.nonce,
            event_id,
            ticket.id,
            scan.direction,
            "ok",
            None,
            scan.device,
            scan.device,
            scan.scanned_at,
            scan.received_at,
            offline,
            False,
            scanner,
        )
        return changed[0]
    change = (scan.scanned_at, scan.device) if entering else ()
    rows = await db.run(
        queries.ADMIT_ENTRY if entering else queries.ADMIT_EXIT,
        *change,
        ticket.id,
        ticket.version,
        ticket.status,
        ticket.inside,
        ticket.checked_in_at,
        scan.nonce,
        event_id,
        ticket.id,
        scan.direction,
        scan.device,
        scan.device,
        scan.scanned_at,
        scan.received_at,
        offline,
        scanner,
    )
    return rows[0] if rows else None


async def _identify(scanned: str) -> tuple[str, Any, TicketClaims | None]:
    """How to find the ticket a scan names: a signed code (checked against the event keys; its claims name the
    ticket, its event and the code's version) or a bare secret. A forged or malformed code names no ticket."""
    text = scanned.strip()
    if looks_signed(text):
        try:
            verified = await _verified(text)
        except (InvalidTicketCode, LookupError):
            return queries.SCAN_STATE_BY_ID, None, None
        # A re-issued ticket has a higher version, so codes printed before it are refused as void.
        return queries.SCAN_STATE_BY_ID, verified.ticket_id, verified
    if not text or len(text) > 64 or not text.isascii():  # lower() would turn the Kelvin sign into 'k'
        return queries.SCAN_STATE_BY_ID, None, None
    return queries.SCAN_STATE_BY_SECRET, text.lower(), None


async def _verified(code: str) -> TicketClaims:
    """The claims of a genuine code; a code of a key this process already holds is parsed only once."""
    try:
        return verify_ticket(code, _KEYS)
    except InvalidTicketCode:
        key_id = read_claims(code).key_id
        if key_id in _KEYS:
            raise  # the key is known: the code does not match its signature
        return verify_ticket(code, {key_id: await _checking_key(key_id)})


# The keys codes are checked with, by key id: each private half, where this process can open it, since re-signing a
# code costs a third of verifying it (tickets.signing.verify_ticket); else the public half. A key never changes once
# written (rotation only retires keys, and codes signed with retired keys still verify), so each worker reads a key
# from the database once.
_KEYS: dict[str, Ed25519PrivateKey | Ed25519PublicKey] = {}
_KEYS_MAX = 1024


async def _checking_key(key_id: str) -> Ed25519PrivateKey | Ed25519PublicKey:
    key = _KEYS.get(key_id)
    if key is not None:
        return key
    row = await EventSigningKey.select(EventSigningKey.public_key, EventSigningKey.private_key).where(EventSigningKey.key_id == key_id).first()
    if row is None:
        raise LookupError(key_id)  # unknown ids are not cached: anyone can make one up
    if len(_KEYS) >= _KEYS_MAX:
        _KEYS.clear()
    key = _KEYS[key_id] = checking_key(row["public_key"], row["private_key"])
    return key


def _ticket_at_door(row: Mapping[str, Any]) -> tuple[rules.TicketAtDoor, ScannedTicket] | tuple[None, None]:
    """The rule's view of the scanned ticket and what the scanner shows about it (none if no ticket matched)."""
    if row["id"] is None:
        return None, None
    state = rules.TicketAtDoor(
        id=row["id"],
        event_id=row["event"],
        version=row["version"],
        status=row["status"],
        order_status=row["order_status"],
        checked_in_at=row["checked_in_at"],
        inside=bool(row["inside"]),
    )
    return state, ScannedTicket(row["holder_name"], row["type_name"], row["checked_in_at"], row["checked_in_by"])


async def _scanned_ticket(ticket_id: int | None) -> ScannedTicket | None:
    if ticket_id is None:
        return None
    row = (
        await Ticket.select(Ticket.holder_name, Ticket.ticket_type.name, Ticket.checked_in_at, Ticket.checked_in_by)
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None:
        return None
    return ScannedTicket(row["holder_name"], row["ticket_type.name"], row["checked_in_at"], row["checked_in_by"])


async def offline_bundle(event: DoorEvent) -> OfflineBundle:
    """What a door device keeps for scanning without a connection: public keys, a minimal ticket index
    and the revocation list. Free and paid tickets are indistinguishable here."""
    keys = await EventSigningKey.select(EventSigningKey.key_id, EventSigningKey.public_key).where(EventSigningKey.event == event.id)
    tickets = await Ticket.select(
        Ticket.id,
        Ticket.version,
        Ticket.secret,
        Ticket.holder_name,
        Ticket.ticket_type.name,
        Ticket.status,
        Ticket.order_id.status,
        Ticket.checked_in_at,
    ).where(Ticket.event == event.id)
    index = []
    for t in tickets:
        state = rules.offline_state(t["status"], t["order_id.status"])
        index.append(
            OfflineTicket(
                id=t["id"],
                version=t["version"],
                secret=t["secret"],
                holder=t["holder_name"],
                type=t["ticket_type.name"],
                status=state,
                checked_in=t["checked_in_at"] is not None,
            )
        )
    return OfflineBundle(
        event=OfflineEvent(id=event.id, slug=event.slug, title=event.title, allow_reentry=event.allow_reentry),
        keys={k["key_id"]: k["public_key"] for k in keys},
        tickets=index,
        revoked=[t.id for t in index if t.status != "valid"],
    )


async def counts(event: DoorEvent) -> CountsOut:
    expected = await Ticket.count().where(Ticket.event == event.id, Ticket.status == TicketStatus.valid, Ticket.order_id.status == OrderStatus.paid)
    admitted = await Ticket.count().where(Ticket.event == event.id, Ticket.status == TicketStatus.valid, Ticket.checked_in_at.is_not_null())
    inside = await Ticket.count().where(Ticket.event == event.id, Ticket.inside == True)  # noqa: E712
    return CountsOut(admitted=admitted, expected=expected, inside=inside)


async def search(event: DoorEvent, query: str, limit: int = 20, *, locale: str = "en") -> list[SearchHit]:
    """Tickets by holder name or order reference, for guests without their code, each with the short flags of the
    questions the organiser flagged for the door that its guest answered (e.g. "Dietary note"; never the answer)."""
    text = query.strip()
    if len(text) < 2:
        return []
    condition = Ticket.holder_name.ilike(f"%{text}%") | (Ticket.order_id.reference == normalise_reference(text))
    rows = (
        await Ticket.select(
            Ticket.id,
            Ticket.secret,
            Ticket.holder_name,
            Ticket.ticket_type.name,
            Ticket.status,
            Ticket.checked_in_at,
            Ticket.order_id.reference,
            Ticket.order_id.status,
        )
        .where(Ticket.event == event.id, Ticket.order_id.status.is_in([OrderStatus.paid, OrderStatus.refunded]), condition)
        .order_by(Ticket.holder_name)
        .limit(limit)
    )
    notes = await questions.door_notes(event.id, [r["id"] for r in rows], locale=locale)
    return [
        SearchHit(
            id=r["id"],
            secret=r["secret"],
            holder=r["holder_name"],
            type=r["ticket_type.name"],
            status=rules.door_state(r["status"], r["order_id.status"]),
            checked_in_at=r["checked_in_at"],
            order=r["order_id.reference"],
            notes=notes.get(r["id"], []),
        )
        for r in rows
    ]
