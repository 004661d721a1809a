"""Copying an event's set-up into a new draft (events.series.copying drives it): the event's settings, its ticket
types, its partner shares and the organisers limited to it. In the caller's transaction; never a guest, an order or
money (every counter starts at zero).

Every column is named below as copied or as starting fresh, so a new column has to be put on one side (a unit test
checks the lists cover the tables)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, EventAccess, TicketType

# The event's set-up: venue, capacity, free-place allocation, prices and fees, pay it forward, allocation rules,
# messages, waiting lists, release policy, answers' cut-off, series, time zone.
COPIED_EVENT_FIELDS = (
    "organisation",
    "description",
    "venue",
    "address",
    "access_information",
    "timezone",
    "capacity",
    "reserved_free_places",
    "currency",
    "booking_fee_pence",
    "allow_reentry",
    "pay_it_forward_place_pence",
    "pay_it_forward_converts_general",
    "cost_per_attendee_pence",
    "booking_fees_to_cause",
    "reminder_hours_before",
    "thank_you_enabled",
    "waiting_list_open",
    "waiting_list_first",
    "offer_hours",
    "refund_days_before",
    "answers_close_hours_before",
    "name_changes_close_hours_before",
    "series",
)
# Given by the copy (slug, title, dates), or this event's own from the start: a draft with nothing sold, claimed or
# decided (what becomes of unused pay-it-forward money is decided per event, when it closes).
FRESH_EVENT_FIELDS = (
    "id",
    "slug",
    "title",
    "starts_at",
    "ends_at",
    "status",
    "places_taken",
    "free_places_claimed",
    "unused_contributions",
    "cancelled_at",
    "cancellation_message",
    "created_at",
    "updated_at",
)
COPIED_TYPE_FIELDS = ("name", "description", "price_pence", "channel", "quota", "max_per_order", "waiting_list", "hidden", "position")
# Moved with the event's dates by the caller's rule (``sales_window``).
MOVED_TYPE_FIELDS = ("sales_start", "sales_end")
FRESH_TYPE_FIELDS = ("id", "event", "places_taken")


@dataclass(frozen=True, slots=True)
class CopiedSetUp:
    """The new draft, and which of its ticket types is a copy of which (source id -> new id)."""

    event_id: int
    ticket_types: dict[int, int]
    shares: int
    managers: int


async def copy_event_setup(
    source: Mapping[str, Any],
    *,
    slug: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    sales_window: Callable[[datetime], datetime | None],
    now: datetime,
) -> CopiedSetUp:
    """A new draft event with ``source``'s set-up (a row of ``Event.select()``), its ticket types (each sales window
    time through ``sales_window``), its partner shares and the organisers limited to it (catalogue.EventAccess).
    Call it inside the caller's write transaction, after checking the slug is free."""
    event = Event(
        **{name: source[name] for name in COPIED_EVENT_FIELDS},
        slug=slug,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        status=EventStatus.draft,
        places_taken=0,
        free_places_claimed=0,
        unused_contributions="held",
        created_at=now,
        updated_at=now,
    )
    await event.save()
    type_ids: dict[int, int] = {}
    for row in await TicketType.select().where(TicketType.event == source["id"]).order_by(TicketType.position).order_by(TicketType.id):
        values: dict[str, Any] = {name: row[name] for name in COPIED_TYPE_FIELDS}
        values |= {name: sales_window(row[name]) if row[name] is not None else None for name in MOVED_TYPE_FIELDS}
        copy = TicketType(**values, event=event.id, places_taken=0)
        await copy.save()
        type_ids[row["id"]] = copy.id
    shares = await BeneficiaryShare.select().where(BeneficiaryShare.event == source["id"]).order_by(BeneficiaryShare.id)
    for share in shares:
        await BeneficiaryShare(event=event.id, partner=share["partner"], share_bp=share["share_bp"]).save()
    managers = await EventAccess.select(EventAccess.membership).where(EventAccess.event == source["id"]).order_by(EventAccess.id)
    for manager in managers:
        await EventAccess(membership=manager["membership"], event=event.id).save()
    return CopiedSetUp(event_id=event.id, ticket_types=type_ids, shares=len(shares), managers=len(managers))
