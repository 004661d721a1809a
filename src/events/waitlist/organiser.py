"""The organiser's side of an event's waiting lists: the list in order with each person's offer, counts per referral
partner for the free-place list, offering places by hand, removing a person, and closing or reopening the list.

Every change is written to the audit log with the entry's id, never the guest's name or contact details."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct

from events import db
from events.audit import service as audit
from events.catalogue import service as catalogue
from events.catalogue.lookup import find_event
from events.catalogue.tables import Event
from events.errors import Conflict, NotFound
from events.i18n import N_
from events.orders import service as orders
from events.orders.tables import Order
from events.waitlist import service as core
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry

# Entries still in play: waiting their turn, or holding places.
ACTIVE = (WaitingStatus.waiting, WaitingStatus.offered)
ENTRY_NOT_FOUND = N_("We could not find that person on the waiting list.")


class WaitingListEntryOut(Struct, frozen=True):
    """One person on the waiting list, as the organiser sees them (they need to be able to contact them)."""

    id: int
    # Their turn among those still waiting on the same list (paid or free), 1 first; null once offered or gone.
    position: int | None
    kind: WaitingKind
    ticket_type_id: int | None  # paid places: the ticket type wanted
    ticket_type: str
    partner: str  # free places: the referral partner whose link they came from
    quantity: int
    status: WaitingStatus
    name: str
    email: str
    phone: str
    language: str
    joined_at: datetime
    offered_places: int
    offered_at: datetime | None
    offer_expires_at: datetime | None
    accepted_at: datetime | None
    answered_at: datetime | None  # accepted, lapsed, left or removed


class PartnerCountOut(Struct, frozen=True):
    """The free-place waiting list of one referral partner: people (and the places they want) by state."""

    partner: str
    waiting: int
    waiting_places: int
    offered: int
    accepted: int


class WaitingListOut(Struct, frozen=True):
    """An event's waiting lists: whether guests can join, whether freed places go to the list first, how long an
    offer holds, each person in order (paid list, then free list), and the free list's counts per partner."""

    event: str
    open: bool
    waiting_list_first: bool
    offer_hours: int
    waiting: int  # people waiting their turn, both lists
    offered: int  # people holding an offer now
    entries: list[WaitingListEntryOut]
    partners: list[PartnerCountOut]


class ClosedOut(Struct, frozen=True):
    """The list after closing it, and how many people still waiting were taken off."""

    removed: int
    waiting_list: WaitingListOut


def _positions(rows: Iterable[Mapping[str, Any]]) -> dict[int, int]:
    """Each waiting entry's turn on its own list (paid or free): the order they joined in."""
    turns: dict[str, int] = defaultdict(int)
    positions: dict[int, int] = {}
    for row in sorted(rows, key=lambda row: row["id"]):
        if row["status"] == WaitingStatus.waiting:
            turns[row["kind"]] += 1
            positions[row["id"]] = turns[row["kind"]]
    return positions


def _entry_out(row: Mapping[str, Any], position: int | None) -> WaitingListEntryOut:
    return WaitingListEntryOut(
        id=row["id"],
        position=position,
        kind=WaitingKind(row["kind"]),
        ticket_type_id=row["ticket_type"],
        ticket_type=row["ticket_type.name"] or "",
        partner=row["partner_name"],
        quantity=row["quantity"],
        status=WaitingStatus(row["status"]),
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        language=row["locale"],
        joined_at=row["created_at"],
        offered_places=row["offered_places"],
        offered_at=row["offered_at"],
        offer_expires_at=row["offer_expires_at"],
        accepted_at=row["answered_at"] if row["status"] == WaitingStatus.accepted else None,
        answered_at=row["answered_at"],
    )


def partner_counts(rows: Iterable[Mapping[str, Any]]) -> list[PartnerCountOut]:
    """The free-place list's people per referral partner, by name."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"waiting": 0, "waiting_places": 0, "offered": 0, "accepted": 0})
    for row in rows:
        if row["kind"] != WaitingKind.free:
            continue
        partner = counts[row["partner_name"]]
        if row["status"] == WaitingStatus.waiting:
            partner["waiting"] += 1
            partner["waiting_places"] += row["quantity"]
        elif row["status"] in (WaitingStatus.offered, WaitingStatus.accepted):
            partner[row["status"]] += 1
    return [PartnerCountOut(partner=name, **numbers) for name, numbers in sorted(counts.items())]


async def waiting_list(slug: str) -> WaitingListOut:
    """The event's waiting lists in order: the paid list, then the free list, each in the order people joined."""
    event = await find_event(slug)
    rows = (
        await WaitingEntry.select(*WaitingEntry.all_columns(), WaitingEntry.ticket_type.name)
        .where(WaitingEntry.event == event.id)
        .order_by(WaitingEntry.kind, ascending=False)  # paid before free
        .order_by(WaitingEntry.id)
    )
    positions = _positions(rows)
    return WaitingListOut(
        event=event.slug,
        open=event.waiting_list_open,
        waiting_list_first=event.waiting_list_first,
        offer_hours=event.offer_hours,
        waiting=sum(1 for row in rows if row["status"] == WaitingStatus.waiting),
        offered=sum(1 for row in rows if row["status"] == WaitingStatus.offered),
        entries=[_entry_out(row, positions.get(row["id"])) for row in rows],
        partners=partner_counts(rows),
    )


async def _entry(event_id: int, entry_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The event's entry (another event's, even of the same organisation, is not found)."""
    query = WaitingEntry.select().where(WaitingEntry.id == entry_id, WaitingEntry.event == event_id)
    row = await (db.locked(query) if lock else query).first()
    if row is None:
        raise NotFound(ENTRY_NOT_FOUND, code="waiting_entry_not_found")
    return row


async def offer_by_hand(slug: str, entry_id: int, *, now: datetime) -> WaitingListOut:
    """Offer this person whatever of the places they want is free now, whatever their turn (Conflict ``no_places``
    when nothing is, ``not_waiting`` when they are not waiting). The core makes the offer under the event's locks and
    writes it to the audit log (``waiting_list.offered``, by hand)."""
    event = await find_event(slug)
    entry = await _entry(event.id, entry_id)
    if entry["status"] != WaitingStatus.waiting:
        raise Conflict(N_("This guest is not waiting for places."), code="not_waiting")
    await core.offer_to_entry(slug, entry_id, now)
    return await waiting_list(slug)


async def remove_entry(slug: str, entry_id: int, *, now: datetime) -> WaitingListOut:
    """Take a person off the list. An offer they hold is withdrawn: its order's hold ends, its places go back (a free
    place to the free places) and on to the next person. Removing someone already gone changes nothing."""
    event = await find_event(slug)
    entry = await _entry(event.id, entry_id)
    gave_back = False
    async with db.write_transaction():
        # The locks every writer takes, in the same order: the offer's order, the event's counters, the entry.
        if entry["offer_order"] is not None:
            await db.locked(Order.select(Order.id).where(Order.id == entry["offer_order"])).first()
        await catalogue.locked_event(slug)
        current = await _entry(event.id, entry_id, lock=True)
        if current["status"] not in ACTIVE:
            return await waiting_list(slug)
        if current["status"] == WaitingStatus.offered and current["offer_order"] is not None:
            # Nothing if the hold ran out already (the sweeper gave the places back).
            await orders.release_hold(current["offer_order"], now, reason="removed from the waiting list by the organiser")
            gave_back = True
        await _end(WaitingEntry.id == entry_id, now)
        await audit.record(
            "waiting_list.entry_removed",
            now=now,
            event_id=event.id,
            subject_type="waiting_entry",
            subject_id=entry_id,
            before={"status": current["status"], "offered_places": current["offered_places"]},
            after={"status": WaitingStatus.removed},
        )
    if gave_back:
        await core.offer_freed_places(event.id, now)
    return await waiting_list(slug)


async def _end(where: Any, now: datetime) -> list[dict[str, Any]]:
    return await (
        WaitingEntry.update({WaitingEntry.status: WaitingStatus.removed, WaitingEntry.answered_at: now, WaitingEntry.updated_at: now})
        .where(where)
        .returning(WaitingEntry.id)
    )


async def close(slug: str, *, remove_waiting: bool, now: datetime) -> ClosedOut:
    """Nobody new can join. Offers already made stand; those still waiting keep their turn unless
    ``remove_waiting``, when they are taken off (and freed places are no longer held back for them)."""
    async with db.write_transaction():
        event = await catalogue.locked_event(slug)
        removed: list[dict[str, Any]] = []
        if remove_waiting:
            removed = await _end((WaitingEntry.event == event.id) & (WaitingEntry.status == WaitingStatus.waiting), now)
        if event.waiting_list_open or removed:
            await Event.update({Event.waiting_list_open: False, Event.updated_at: now}).where(Event.id == event.id)
            await audit.record(
                "waiting_list.closed",
                now=now,
                event_id=event.id,
                subject_type="event",
                subject_id=slug,
                before={"waiting_list_open": event.waiting_list_open},
                after={"waiting_list_open": False, "removed_entries": sorted(row["id"] for row in removed)},
            )
    return ClosedOut(removed=len(removed), waiting_list=await waiting_list(slug))


async def reopen(slug: str, *, now: datetime) -> WaitingListOut:
    """Guests can join again (those taken off when it closed are not put back)."""
    async with db.write_transaction():
        event = await catalogue.locked_event(slug)
        if not event.waiting_list_open:
            await Event.update({Event.waiting_list_open: True, Event.updated_at: now}).where(Event.id == event.id)
            await audit.record(
                "waiting_list.opened",
                now=now,
                event_id=event.id,
                subject_type="event",
                subject_id=slug,
                before={"waiting_list_open": False},
                after={"waiting_list_open": True},
            )
    return await waiting_list(slug)
