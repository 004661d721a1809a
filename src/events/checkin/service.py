"""Door check-in: redeeming scans exactly once, the offline bundle, syncing offline scans, counts and search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events import db
from events.accounts.roles import DOOR, ORGANISER, CurrentUser
from events.catalogue.tables import Event
from events.checkin import rules
from events.checkin.tables import DoorAssignment, Scan
from events.errors import NotAllowed, NotFound
from events.i18n import N_
from events.orders.codes import normalise_reference
from events.orders.tables import Order, Ticket
from events.tickets.signing import InvalidTicketCode, looks_signed, public_key_from_text, read_claims, verify_ticket
from events.tickets.tables import EventSigningKey

_RECORD_SCAN_SQL = """
INSERT INTO scan (nonce, event, direction, status, device, scanned_by, scanned_at, received_at, offline, conflict, detail)
VALUES ({}, {}, {}, 'pending', {}, {}, {}, {}, {}, false, '')
ON CONFLICT (nonce) DO NOTHING
RETURNING id
"""
_ENTER_SQL = """
UPDATE ticket SET checked_in_at = COALESCE(checked_in_at, {}), checked_in_by = {}, inside = true
WHERE id = {} AND status = 'valid' AND inside = false AND (checked_in_at IS NULL OR {})
RETURNING id
"""
_EXIT_SQL = "UPDATE ticket SET inside = false WHERE id = {} AND inside = true RETURNING id"


@dataclass(frozen=True, slots=True)
class ScannedTicket:
    holder: str
    type: str
    checked_in_at: datetime | None
    checked_in_by: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    status: str  # ok, error
    reason: str | None
    ticket: ScannedTicket | None
    conflict: bool = False


@dataclass(frozen=True, slots=True)
class DoorEvent:
    id: int
    slug: str
    title: str
    allow_reentry: bool


async def door_event(slug: str, user: CurrentUser) -> DoorEvent:
    """The event, if this user may scan it: organisers any, door staff the events they are assigned to."""
    row = await Event.select(Event.id, Event.slug, Event.title, Event.allow_reentry).where(Event.slug == slug).first()
    if row is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    if not user.has_role(ORGANISER):
        assigned = user.has_role(DOOR) and await DoorAssignment.exists().where(
            DoorAssignment.user == user.id, DoorAssignment.event == row["id"]
        )
        if not assigned:
            raise NotAllowed(N_("You are not on the door team for this event."))
    return DoorEvent(row["id"], row["slug"], row["title"], row["allow_reentry"])


async def redeem(
    event: DoorEvent,
    scanned: str,
    nonce: str,
    *,
    device: str,
    scanned_at: datetime,
    now: datetime,
    direction: str = "in",
    offline_result: str | None = None,
) -> ScanResult:
    """Record one scan and decide it, exactly once per ticket entry and exactly once per nonce.

    ``offline_result`` is what an offline door showed the guest ('ok' or a reason); when the
    door let someone in that the server refuses as already redeemed, the scan is a conflict."""
    async with db.write_transaction():
        recorded = await Scan.raw(
            _RECORD_SCAN_SQL, nonce, event.id, direction, device, device, scanned_at, now, offline_result is not None
        )
        if not recorded:
            return await _earlier_result(nonce)
        scan_id = recorded[0]["id"]
        ticket, version = await _find_ticket(scanned)
        if direction == "out":
            decision = rules.decide_exit(ticket, event_id=event.id)
        else:
            decision = rules.decide_entry(ticket, event_id=event.id, scanned_version=version, reentry_allowed=event.allow_reentry)
        if isinstance(decision, rules.Admit):
            sql, args = (_EXIT_SQL, (decision.ticket_id,)) if direction == "out" else (
                _ENTER_SQL, (scanned_at, device, decision.ticket_id, event.allow_reentry)
            )
            if not await Ticket.raw(sql, *args):
                decision = rules.Reject("already_redeemed", decision.ticket_id)
        ticket_id = decision.ticket_id
        status = "ok" if isinstance(decision, rules.Admit) else "error"
        reason = None if isinstance(decision, rules.Admit) else decision.reason
        conflict = offline_result == "ok" and reason == "already_redeemed"
        await Scan.update(
            {Scan.status: status, Scan.reason: reason, Scan.ticket: ticket_id, Scan.conflict: conflict}
        ).where(Scan.id == scan_id)
    return ScanResult(status, reason, await _scanned_ticket(ticket_id), conflict)


async def _earlier_result(nonce: str) -> ScanResult:
    row = await Scan.select(Scan.status, Scan.reason, Scan.ticket, Scan.conflict).where(Scan.nonce == nonce).first()
    assert row is not None
    return ScanResult(row["status"], row["reason"], await _scanned_ticket(row["ticket"]), row["conflict"])


async def _find_ticket(scanned: str) -> tuple[rules.TicketAtDoor | None, int | None]:
    """The ticket a scan names: a signed code (checked against the event keys) or a bare secret."""
    text = scanned.strip()
    if looks_signed(text):
        try:
            claims = read_claims(text)
            verified = verify_ticket(text, {claims.key_id: await _public_key(claims.key_id)})
        except (InvalidTicketCode, LookupError):
            return None, None
        # A re-issued ticket has a higher version, so codes printed before it are refused as void.
        return await _ticket_state(Ticket.id == verified.ticket_id), verified.version
    if not text or len(text) > 64:
        return None, None
    return await _ticket_state(Ticket.secret == text.lower()), None


async def _public_key(key_id: str) -> Ed25519PublicKey:
    row = await EventSigningKey.select(EventSigningKey.public_key).where(EventSigningKey.key_id == key_id).first()
    if row is None:
        raise LookupError(key_id)
    return _parse_key(row["public_key"])


@lru_cache(maxsize=512)
def _parse_key(text: str) -> Ed25519PublicKey:
    return public_key_from_text(text)


async def _ticket_state(condition: Any) -> rules.TicketAtDoor | None:
    row = await Ticket.select(
        Ticket.id, Ticket.event, Ticket.version, Ticket.status, Ticket.order_id.status, Ticket.checked_in_at, Ticket.inside
    ).where(condition).first()
    if row is None:
        return None
    return rules.TicketAtDoor(
        id=row["id"],
        event_id=row["event"],
        version=row["version"],
        status=row["status"],
        order_status=row["order_id.status"],
        checked_in_at=row["checked_in_at"],
        inside=row["inside"],
    )


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


async def assign_door_staff(event_id: int, user_id: int) -> None:
    async with db.write_transaction():
        if not await DoorAssignment.exists().where(DoorAssignment.event == event_id, DoorAssignment.user == user_id):
            await DoorAssignment(event=event_id, user=user_id).save()
