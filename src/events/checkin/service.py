"""Door check-in: redeeming scans exactly once, the offline bundle, syncing offline scans, counts and search,
and the door devices (a signed-in person's phone, or a phone paired by QR)."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from piccolo.engine.postgres import PostgresEngine

from events import db
from events.accounts import service as accounts
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.accounts.tables import User
from events.audit import service as audit
from events.catalogue.rules import sells_at_door
from events.catalogue.tables import Event, TicketType
from events.checkin import rules
from events.checkin.tables import DevicePairing, DoorAssignment, Scan
from events.errors import Conflict, InvalidInput, NotAllowed, NotFound
from events.i18n import N_
from events.orders.codes import normalise_reference
from events.orders.tables import Ticket
from events.tickets.signing import (
    InvalidTicketCode,
    TicketClaims,
    looks_signed,
    public_key_from_text,
    read_claims,
    verify_ticket,
)
from events.tickets.tables import EventSigningKey

# In general a scan costs two statements on PostgreSQL, without BEGIN/COMMIT round trips: one read of everything
# the rule and the answer need, then one write (a CTE) that admits only if the ticket is still exactly as the rule
# saw it and logs the scan in the same statement; the usual scan costs one (_ADMIT_EXPECTED_SQL). Raw SQL: this
# is the hot path.
_SCAN_STATE_SQL = """
SELECT e.id AS event_id, e.allow_reentry,
       EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {{}}) AS assigned,
       t.id, t.event, t.version, t.status, o.status AS order_status, t.checked_in_at, t.inside,
       t.holder_name, y.name AS type_name, t.checked_in_by,
       s.status AS first_status, s.reason AS first_reason, s.ticket AS first_ticket, s.conflict AS first_conflict
FROM event e
LEFT JOIN ticket t ON {ticket}
LEFT JOIN ticket_order o ON o.id = t.order_id
LEFT JOIN ticket_type y ON y.id = t.ticket_type
LEFT JOIN scan s ON s.nonce = {{}} AND s.event = e.id AND s.scanner = {{}} AND s.device = {{}}
WHERE e.slug = {{}}
LIMIT 1
"""
_SCAN_STATE_BY_ID_SQL = _SCAN_STATE_SQL.format(ticket="t.id = {}")
_SCAN_STATE_BY_SECRET_SQL = _SCAN_STATE_SQL.format(ticket="t.secret = {}")
_SCAN_COLUMNS = "nonce, event, ticket, direction, status, reason, device, scanned_by, scanned_at, received_at, offline, conflict, detail, scanner"
# A refusal, or an admission on SQLite (whose IMMEDIATE transaction already serialises the read and the write).
# No ON CONFLICT: a nonce already taken by a concurrent retry aborts the statement, and the caller reads the
# first answer instead.
_RECORD_SCAN_SQL = f"INSERT INTO scan ({_SCAN_COLUMNS}) VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, '', {{}})"
# The compare-and-set: the ticket still has the version, status, admission time and inside flag the rule decided on.
# Under READ COMMITTED a concurrent admission makes PostgreSQL re-check this on the new row version, so of two
# doors only one gets the row back; the other writes nothing and decides again from a fresh read.
_UNCHANGED = "id = {} AND version = {} AND status = {} AND inside = {} AND checked_in_at IS NOT DISTINCT FROM {}"
_ADMIT_SQL = """
WITH admitted AS (
    UPDATE ticket SET {change} WHERE {unchanged}
    RETURNING checked_in_at, checked_in_by
), recorded AS (
    INSERT INTO scan ({columns})
    SELECT {{}}, {{}}::integer, {{}}::integer, {{}}, 'ok', NULL, {{}}, {{}}, {{}}::timestamptz, {{}}::timestamptz, {{}}::boolean, false, '',
           {{}}::integer
    FROM admitted
    RETURNING id
)
SELECT a.checked_in_at, a.checked_in_by FROM admitted a, recorded
"""
_ENTER = "checked_in_at = COALESCE(checked_in_at, {}::timestamptz), checked_in_by = {}, inside = true"
_EXIT = "inside = false"
_ADMIT_ENTRY_SQL = _ADMIT_SQL.format(change=_ENTER, unchanged=_UNCHANGED, columns=_SCAN_COLUMNS)
_ADMIT_EXIT_SQL = _ADMIT_SQL.format(change=_EXIT, unchanged=_UNCHANGED, columns=_SCAN_COLUMNS)
_SQLITE_ENTER_SQL = f"UPDATE ticket SET {_ENTER.replace('::timestamptz', '')} WHERE id = {{}} RETURNING checked_in_at, checked_in_by"
_SQLITE_EXIT_SQL = f"UPDATE ticket SET {_EXIT} WHERE id = {{}} RETURNING checked_in_at, checked_in_by"
# Most scans are of a signed code for a valid, paid ticket not yet admitted. For those the rule is asked about
# exactly that state (_admit_as_expected) and one statement admits the ticket only if the database agrees on every
# input the rule was given (and the door may scan this event), logging the scan with it; a nonce already used
# makes the insert, and so the whole statement, fail.
# Anything else (no row back) goes the general way: read, decide, write.
_ADMIT_EXPECTED_SQL = f"""
WITH admitted AS (
    UPDATE ticket t SET checked_in_at = {{}}::timestamptz, checked_in_by = {{}}, inside = true
    FROM event e, ticket_order o
    WHERE t.id = {{}} AND t.event = {{}} AND t.version = {{}} AND t.status = {{}} AND t.inside = {{}} AND t.checked_in_at IS NULL
      AND e.id = t.event AND e.slug = {{}} AND e.allow_reentry = {{}} AND o.id = t.order_id AND o.status = {{}}
      AND ({{}}::boolean OR ({{}}::boolean AND EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {{}})))
    RETURNING t.id, t.event, t.ticket_type, t.holder_name, t.checked_in_at, t.checked_in_by
), recorded AS (
    INSERT INTO scan ({_SCAN_COLUMNS})
    SELECT {{}}, a.event, a.id, 'in', 'ok', NULL, {{}}, {{}}, {{}}::timestamptz, {{}}::timestamptz, {{}}::boolean, false, '',
           {{}}::integer
    FROM admitted a
    RETURNING id
)
SELECT a.holder_name, y.name AS type_name, a.checked_in_at, a.checked_in_by
FROM admitted a JOIN ticket_type y ON y.id = a.ticket_type, recorded
"""
# Only if another door keeps changing the same ticket between our read and our write (exit and re-entry
# scans in a tight loop) does a scan need more than a second try.
REDEEM_ATTEMPTS = 10
_DOOR_EVENT_SQL = """
SELECT e.id, e.slug, e.title, e.allow_reentry,
       EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {}) AS assigned
FROM event e WHERE e.slug = {} LIMIT 1
"""


@functools.cache
def _numbered(sql: str) -> str:
    """Piccolo's {} placeholders as asyncpg's $1, $2, ..."""
    parts = sql.split("{}")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


async def _run(sql: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """A statement every scan runs. On PostgreSQL outside a transaction it goes straight to the engine's asyncpg
    pool: Piccolo's query-string processing of twenty arguments cost more CPU than PostgreSQL's parse of the
    (prepared, cached) statement. Everywhere else, and on SQLite, through Piccolo."""
    engine = db.engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None and engine.current_transaction.get() is None:
        async with engine.pool.acquire() as connection:
            return await connection.fetch(_numbered(sql), *args)
    return await Ticket.raw(sql, *args)


PAIRING_MINUTES = 15
DEVICE_NAME_MAX = 60
# A door device's token lasts until this long after its event ends (a late finish, the last offline scans to
# sync), and is revoked when its holder leaves that event's door team.
DOOR_TOKEN_GRACE = timedelta(hours=12)


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
    """The event, if this user may scan it: organisers any, door staff the events they are assigned to."""
    rows = await Event.raw(_DOOR_EVENT_SQL, user.id, slug)  # the event and the assignment in one round trip
    if not rows:
        raise _no_such_event()
    row = rows[0]
    _check_door_access(user, row["assigned"])
    return DoorEvent(row["id"], row["slug"], row["title"], bool(row["allow_reentry"]))


def _no_such_event() -> NotFound:
    return NotFound(N_("We could not find that event."), code="event_not_found")


def _check_door_access(user: CurrentUser, assigned: Any) -> None:
    if not user.has_role(ORGANISER) and not (user.has_role(DOOR) and bool(assigned)):
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
    if claims is not None and direction == "in" and not db.is_sqlite():
        try:
            admitted = await _admit_as_expected(claims, event_slug, user, scan)
        except UniqueViolationError:
            admitted = None  # a retry with this nonce was recorded first: the general way returns its answer
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


async def _admit_as_expected(claims: TicketClaims, event_slug: str, user: CurrentUser, scan: _Scan) -> ScanResult | None:
    """One statement for the usual scan; None if the ticket (or the door) is not as expected. A nonce already
    used raises UniqueViolationError, and nothing is written."""
    # What most scans find: the code's ticket, valid, paid, never admitted (the statement's IS NULL).
    expected = rules.TicketAtDoor(
        id=claims.ticket_id, event_id=claims.event_id, version=claims.version, status="valid", order_status="paid",
        checked_in_at=None, inside=False,
    )
    reentry_allowed = False  # the statement checks the event's setting too: for a first entry it makes no difference
    decision = rules.decide_entry(expected, event_id=claims.event_id, scanned_version=claims.version, reentry_allowed=reentry_allowed)
    if not isinstance(decision, rules.Admit):
        return None
    rows = await _run(
        _ADMIT_EXPECTED_SQL,
        scan.scanned_at, scan.device,
        expected.id, expected.event_id, expected.version, expected.status, expected.inside,
        event_slug, reentry_allowed, expected.order_status,
        user.has_role(ORGANISER), user.has_role(DOOR), user.id,
        scan.nonce, scan.device, scan.device, scan.scanned_at, scan.received_at, scan.offline_result is not None, user.id,
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


async def _attempt(
    state_sql: str, value: Any, version: int | None, event_slug: str, user: CurrentUser, scan: _Scan
) -> ScanResult | None:
    """Read, decide with the rule, write. None when the ticket changed between the read and the write (another
    door admitted it first): nothing was written, and the caller tries again from a fresh read."""
    rows = await _run(state_sql, user.id, value, scan.nonce, user.id, scan.device, event_slug)
    if not rows:
        raise _no_such_event()
    row = rows[0]
    _check_door_access(user, row["assigned"])
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
    await _run(
        _RECORD_SCAN_SQL, scan.nonce, event_id, decision.ticket_id, scan.direction, "error", decision.reason, scan.device,
        scan.device, scan.scanned_at, scan.received_at, offline, conflict, user.id,
    )
    if decision.reason == "wrong_event":
        return await _wrong_event(decision.ticket_id, user, conflict=conflict)
    return ScanResult("error", decision.reason, shown if decision.ticket_id is not None else None, conflict)


_TICKET_EVENT_SQL = """
SELECT e.slug, e.title, EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {}) AS assigned
FROM ticket t JOIN event e ON e.id = t.event
WHERE t.id = {}
LIMIT 1
"""


async def _wrong_event(ticket_id: int | None, user: CurrentUser, *, conflict: bool) -> ScanResult:
    """A ticket for another event. Whose it is and which event it is for are told only to someone who may scan
    that event (its door team, or an organiser); to anyone else it is just not a ticket for this door."""
    rows = await Ticket.raw(_TICKET_EVENT_SQL, user.id, ticket_id) if ticket_id is not None else []
    if not rows or not (user.has_role(ORGANISER) or (user.has_role(DOOR) and bool(rows[0]["assigned"]))):
        return ScanResult("error", "wrong_event", None, conflict)
    return ScanResult(
        "error", "wrong_event", await _scanned_ticket(ticket_id), conflict, TicketEvent(rows[0]["slug"], rows[0]["title"])
    )


async def _admit(ticket: rules.TicketAtDoor, event_id: int, scan: _Scan, offline: bool, scanner: int) -> Mapping[str, Any] | None:
    """Admit (or let out) the ticket and log the scan; None if the ticket is no longer as the rule saw it."""
    entering = scan.direction != "out"
    if db.is_sqlite():  # inside the caller's IMMEDIATE transaction: nothing can have changed since the read
        changed = await Ticket.raw(_SQLITE_ENTER_SQL, scan.scanned_at, scan.device, ticket.id) if entering else (
            await Ticket.raw(_SQLITE_EXIT_SQL, ticket.id)
        )
        await Scan.raw(
            _RECORD_SCAN_SQL, scan.nonce, event_id, ticket.id, scan.direction, "ok", None, scan.device, scan.device,
            scan.scanned_at, scan.received_at, offline, False, scanner,
        )
        return changed[0]
    change = (scan.scanned_at, scan.device) if entering else ()
    rows = await _run(
        _ADMIT_ENTRY_SQL if entering else _ADMIT_EXIT_SQL,
        *change, ticket.id, ticket.version, ticket.status, ticket.inside, ticket.checked_in_at,
        scan.nonce, event_id, ticket.id, scan.direction, scan.device, scan.device, scan.scanned_at, scan.received_at, offline,
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
            return _SCAN_STATE_BY_ID_SQL, None, None
        # A re-issued ticket has a higher version, so codes printed before it are refused as void.
        return _SCAN_STATE_BY_ID_SQL, verified.ticket_id, verified
    if not text or len(text) > 64 or not text.isascii():  # lower() would turn the Kelvin sign into 'k'
        return _SCAN_STATE_BY_ID_SQL, None, None
    return _SCAN_STATE_BY_SECRET_SQL, text.lower(), None


async def _verified(code: str) -> TicketClaims:
    """The claims of a genuine code; a code of a key this process already holds is parsed only once."""
    try:
        return verify_ticket(code, _PUBLIC_KEYS)
    except InvalidTicketCode:
        key_id = read_claims(code).key_id
        if key_id in _PUBLIC_KEYS:
            raise  # the key is known: the code does not match its signature
        return verify_ticket(code, {key_id: await _public_key(key_id)})


# Public keys by key id. A key's public half never changes once written (rotation only retires keys, and
# codes signed with retired keys still verify), so each worker reads a key from the database once.
_PUBLIC_KEYS: dict[str, Ed25519PublicKey] = {}
_PUBLIC_KEYS_MAX = 1024


async def _public_key(key_id: str) -> Ed25519PublicKey:
    key = _PUBLIC_KEYS.get(key_id)
    if key is not None:
        return key
    row = await EventSigningKey.select(EventSigningKey.public_key).where(EventSigningKey.key_id == key_id).first()
    if row is None:
        raise LookupError(key_id)  # unknown ids are not cached: anyone can make one up
    if len(_PUBLIC_KEYS) >= _PUBLIC_KEYS_MAX:
        _PUBLIC_KEYS.clear()
    key = _PUBLIC_KEYS[key_id] = public_key_from_text(row["public_key"])
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
    row = await Ticket.select(Ticket.holder_name, Ticket.ticket_type.name, Ticket.checked_in_at, Ticket.checked_in_by).where(
        Ticket.id == ticket_id
    ).first()
    if row is None:
        return None
    return ScannedTicket(row["holder_name"], row["ticket_type.name"], row["checked_in_at"], row["checked_in_by"])


async def offline_bundle(event: DoorEvent) -> dict[str, Any]:
    """What a door device keeps for scanning without a connection: public keys, a minimal ticket index
    and the revocation list. Free and paid tickets are indistinguishable here."""
    keys = await EventSigningKey.select(EventSigningKey.key_id, EventSigningKey.public_key).where(EventSigningKey.event == event.id)
    tickets = await Ticket.select(
        Ticket.id, Ticket.version, Ticket.secret, Ticket.holder_name, Ticket.ticket_type.name, Ticket.status,
        Ticket.order_id.status, Ticket.checked_in_at,
    ).where(Ticket.event == event.id)
    index = []
    for t in tickets:
        state = "valid" if t["status"] == "valid" and t["order_id.status"] == "paid" else (
            "refunded" if t["status"] == "refunded" or t["order_id.status"] in ("refunded", "refund_due") else
            "unpaid" if t["status"] == "valid" else "void"
        )
        index.append({
            "id": t["id"], "version": t["version"], "secret": t["secret"], "holder": t["holder_name"],
            "type": t["ticket_type.name"], "status": state, "checked_in": t["checked_in_at"] is not None,
        })
    return {
        "event": {"id": event.id, "slug": event.slug, "title": event.title, "allow_reentry": event.allow_reentry},
        "keys": {k["key_id"]: k["public_key"] for k in keys},
        "tickets": index,
        "revoked": [t["id"] for t in index if t["status"] != "valid"],
    }


async def counts(event: DoorEvent) -> dict[str, int]:
    expected = await Ticket.count().where(Ticket.event == event.id, Ticket.status == "valid", Ticket.order_id.status == "paid")
    admitted = await Ticket.count().where(
        Ticket.event == event.id, Ticket.status == "valid", Ticket.checked_in_at.is_not_null()
    )
    inside = await Ticket.count().where(Ticket.event == event.id, Ticket.inside == True)  # noqa: E712
    return {"admitted": admitted, "expected": expected, "inside": inside}


async def search(event: DoorEvent, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Tickets by holder name or order reference, for guests without their code."""
    text = query.strip()
    if len(text) < 2:
        return []
    condition = Ticket.holder_name.ilike(f"%{text}%") | (Ticket.order_id.reference == normalise_reference(text))
    rows = await Ticket.select(
        Ticket.id, Ticket.secret, Ticket.holder_name, Ticket.ticket_type.name, Ticket.status, Ticket.checked_in_at,
        Ticket.order_id.reference,
    ).where(Ticket.event == event.id, Ticket.order_id.status.is_in(["paid", "refunded"]), condition).order_by(
        Ticket.holder_name
    ).limit(limit)
    return [
        {
            "id": r["id"], "secret": r["secret"], "holder": r["holder_name"], "type": r["ticket_type.name"],
            "status": r["status"], "checked_in_at": r["checked_in_at"], "order": r["order_id.reference"],
        }
        for r in rows
    ]


async def conflicts(event_id: int) -> list[dict[str, Any]]:
    """Offline scans that let a ticket in after another door already had: for the organiser's event page."""
    rows = await Scan.select(
        Scan.ticket, Scan.ticket.holder_name, Scan.device, Scan.scanned_at, Scan.ticket.checked_in_by, Scan.ticket.checked_in_at
    ).where(Scan.event == event_id, Scan.conflict == True).order_by(Scan.scanned_at)  # noqa: E712
    return [
        {
            "ticket": r["ticket"], "holder": r["ticket.holder_name"], "device": r["device"], "scanned_at": r["scanned_at"],
            "first_admitted_by": r["ticket.checked_in_by"], "first_admitted_at": r["ticket.checked_in_at"],
        }
        for r in rows
    ]


async def assign_door_staff(event_id: int, user_id: int, *, now: datetime | None = None) -> None:
    """Let a door-staff account scan this event (a second assignment changes nothing)."""
    async with db.write_transaction():
        user = await User.select(User.id, User.role, User.email, User.is_active).where(User.id == user_id).first()
        if user is None or user["role"] != DOOR or not user["is_active"]:
            raise InvalidInput("Choose a door-staff account.", fields={"user": "Not a door-staff account."})
        if not await DoorAssignment.exists().where(DoorAssignment.event == event_id, DoorAssignment.user == user_id):
            await DoorAssignment(event=event_id, user=user_id).save()
            await audit.record(
                "door_staff.assigned", now=now or datetime.now(timezone.utc), event_id=event_id, subject_type="user",
                subject_id=user_id, after={"email": user["email"]},
            )


async def create_door_staff(event_id: int, *, email: str, name: str, password: str, now: datetime) -> CurrentUser:
    """A new door-staff account, on this event's door team, in one transaction (no account without its assignment)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the person's name, as the door page will show it.", fields={"display_name": "Enter a name."})
    if len(name) > 120:
        raise InvalidInput("That name is too long.", fields={"display_name": "Use at most 120 characters."})
    async with db.write_transaction():
        user = await accounts.create_user(email, role=DOOR, password=password, display_name=name)
        await audit.record("door_staff.created", now=now, event_id=event_id, subject_type="user", subject_id=user.id, after={"email": user.email, "name": name})
        await assign_door_staff(event_id, user.id, now=now)
    return user


async def remove_door_staff(event_id: int, user_id: int, *, now: datetime) -> None:
    """Take someone (or a paired phone) off the door team, and revoke the device tokens made for this event's
    door; a paired phone's account is switched off."""
    async with db.write_transaction():
        removed = await DoorAssignment.delete().where(DoorAssignment.event == event_id, DoorAssignment.user == user_id).returning(
            DoorAssignment.id
        )
        if not removed:
            raise NotFound("That person is not on this event's door team.", code="not_assigned")
        revoked = await accounts.revoke_scoped_tokens(user_id, _door_scope(event_id), now=now, deactivate_device=True)
        await audit.record(
            "door_staff.removed", now=now, event_id=event_id, subject_type="user", subject_id=user_id, before={"assigned": True},
            after={"assigned": False, "device_tokens_revoked": revoked},
        )


async def door_team(event_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Who may scan this event (people and paired phones), and the door-staff people who could be added."""
    assigned = await DoorAssignment.select(
        DoorAssignment.user.id, DoorAssignment.user.email, DoorAssignment.user.display_name, DoorAssignment.user.is_active
    ).where(DoorAssignment.event == event_id).order_by(DoorAssignment.id)
    team = [
        {
            "id": row["user.id"],
            "email": row["user.email"],
            "name": row["user.display_name"] or row["user.email"],
            "device": row["user.email"].endswith("@" + accounts.DEVICE_EMAIL_DOMAIN),
            "active": row["user.is_active"],
        }
        for row in assigned
    ]
    on_team = {member["id"] for member in team}
    others = await User.select(User.id, User.email, User.display_name).where(
        User.role == DOOR, User.is_active == True, User.email.not_like(f"%@{accounts.DEVICE_EMAIL_DOMAIN}")  # noqa: E712
    ).order_by(User.display_name).order_by(User.email)
    return team, [
        {"id": row["id"], "email": row["email"], "name": row["display_name"] or row["email"]} for row in others if row["id"] not in on_team
    ]


# --- door devices --------------------------------------------------------------------------------------


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
    types = await TicketType.select(TicketType.id, TicketType.name, TicketType.price_pence, TicketType.channel).where(
        TicketType.event == event.id
    ).order_by(TicketType.position)
    sale_types = [DoorSaleType(t["id"], t["name"], t["price_pence"]) for t in types if sells_at_door(t["channel"])]
    return DoorPage(event, row["currency"] if row else "GBP", sale_types)


def _device_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput(N_("Give this device a name, like Door 1 phone."), fields={"device": N_("Enter a name.")})
    if len(name) > DEVICE_NAME_MAX:
        raise InvalidInput(N_("That device name is too long."), fields={"device": N_("Use at most 60 characters.")})
    return name


def _door_scope(event_id: int) -> str:
    return f"door:{event_id}"


async def _door_token_expiry(event_id: int, now: datetime) -> datetime:
    row = await Event.select(Event.ends_at).where(Event.id == event_id).first()
    ends_at = row["ends_at"] if row else now
    return max(ends_at, now) + DOOR_TOKEN_GRACE


async def register_device(user: CurrentUser, event: DoorEvent, device_name: str, *, now: datetime) -> str:
    """An API token for the signed-in person's own device, labelled with its name: scans record that name.
    The token is the person's, so it scans what they may scan (check door_event first); it ends DOOR_TOKEN_GRACE
    after this event, or when the person leaves this event's door team."""
    name = _device_name(device_name)
    async with db.write_transaction():
        token = await accounts.create_api_token(
            user.email, label=name, now=now, expires_at=await _door_token_expiry(event.id, now), scope=_door_scope(event.id)
        )
        await audit.record("door.device_registered", now=now, subject_type="user", subject_id=user.id, after={"device": name})
    return token


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


async def create_pairing(event: DoorEvent, device_name: str, *, created_by: str, now: datetime) -> Pairing:
    """A one-time code, valid for PAIRING_MINUTES, that makes the phone which opens it a door device for this event."""
    name = _device_name(device_name)
    code = secrets.token_urlsafe(18)
    expires_at = now + timedelta(minutes=PAIRING_MINUTES)
    async with db.write_transaction():
        pairing = DevicePairing(
            code_hash=_code_hash(code), event=event.id, device_name=name, created_by=created_by, created_at=now, expires_at=expires_at
        )
        await pairing.save()
        # Never the code: it is a one-time password for the phone.
        await audit.record(
            "door.pairing_created", now=now, event_id=event.id, subject_type="device_pairing", subject_id=pairing.id,
            after={"device_name": name, "expires_at": expires_at},
        )
    return Pairing(code, event.slug, event.title, name, expires_at)


def _pairing_gone() -> NotFound:
    return NotFound(
        N_("This pairing code has expired or has already been used. Ask the organiser for a new one."), code="pairing_not_valid"
    )


async def pending_pairing(code: str, *, now: datetime) -> Pairing:
    """The pairing a code names, if it is unused and unexpired (shown before the phone accepts it)."""
    row = await DevicePairing.select(
        DevicePairing.device_name, DevicePairing.expires_at, DevicePairing.event.slug, DevicePairing.event.title
    ).where(DevicePairing.code_hash == _code_hash(code), DevicePairing.used_at.is_null(), DevicePairing.expires_at > now).first()
    if row is None:
        raise _pairing_gone()
    return Pairing(code, row["event.slug"], row["event.title"], row["device_name"], row["expires_at"])


async def use_pairing(code: str, *, now: datetime) -> PairedDevice:
    """Spend a pairing code, once: a door account for the device, on this event's door team, with a token."""
    async with db.write_transaction():
        # The conditional update is the lock: of two phones opening the same code, one gets no row back.
        claimed = await DevicePairing.update({DevicePairing.used_at: now}).where(
            DevicePairing.code_hash == _code_hash(code), DevicePairing.used_at.is_null(), DevicePairing.expires_at > now
        ).returning(DevicePairing.id, DevicePairing.event, DevicePairing.device_name)
        if not claimed:
            raise _pairing_gone()
        pairing = claimed[0]
        user, token = await accounts.create_device_account(
            pairing["device_name"], now=now, expires_at=await _door_token_expiry(pairing["event"], now), scope=_door_scope(pairing["event"])
        )
        await DoorAssignment(event=pairing["event"], user=user.id).save()
        await DevicePairing.update({DevicePairing.device_user: user.id}).where(DevicePairing.id == pairing["id"])
        await audit.record(
            "door.device_paired", now=now, event_id=pairing["event"], subject_type="user", subject_id=user.id,
            after={"device": pairing["device_name"]}, actor=user,
        )
        event = await Event.select(Event.slug).where(Event.id == pairing["event"]).first()
    assert event is not None
    return PairedDevice(user, token, event["slug"])
