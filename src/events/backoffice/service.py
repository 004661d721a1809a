"""The organiser's events, and an event at a glance: sales, holds, free places, the door, door conflicts, its money
(the statement's own figures, ledger.statements.event_figures), funds per partner and sales over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Sum

from events.accounts.roles import CurrentUser
from events.catalogue import access
from events.catalogue.freeplaces import FreePlaces
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.sales import event_free_places
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, TicketType
from events.checkin.scan_log import DoorConflict, conflicts
from events.errors import Conflict
from events.ledger import service as ledger
from events.ledger import statements
from events.ledger.schemas import EventFigures
from events.ledger.statements import ticket_sales_by_day
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket


@dataclass(frozen=True, slots=True)
class OrganiserEvent:
    """A line of the organiser's list of events (times in the event's zone)."""

    id: int
    slug: str
    title: str
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    reserved_free_places: int
    places_taken: int
    free_places_claimed: int
    tickets: int  # valid tickets of paid orders, free places included


async def list_events_for_organisers(user: CurrentUser) -> list[OrganiserEvent]:
    """Every event of the person's organisation (an organiser limited to chosen events: those), drafts and past
    ones too, newest first, with its valid tickets (paid and free) counted."""
    query = (
        Event.select(
            Event.id,
            Event.slug,
            Event.title,
            Event.status,
            Event.starts_at,
            Event.ends_at,
            Event.timezone,
            Event.capacity,
            Event.reserved_free_places,
            Event.places_taken,
            Event.free_places_claimed,
        )
        .where(Event.organisation == user.organisation)
        .order_by(Event.starts_at, Event.id, ascending=False)
    )
    if (chosen := await access.chosen_event_ids(user)) is not None:
        query = query.where(Event.id.is_in(chosen or [-1]))
    rows = await query
    counted = (
        await Ticket.select(Ticket.event, Count(alias="tickets"))
        .where(
            Ticket.status == TicketStatus.valid, Ticket.order_id.status == OrderStatus.paid, Ticket.event.is_in([row["id"] for row in rows] or [-1])
        )
        .group_by(Ticket.event)
    )
    tickets = {row["event"]: row["tickets"] for row in counted}
    return [
        OrganiserEvent(
            id=row["id"],
            slug=row["slug"],
            title=row["title"],
            status=EventStatus(row["status"]),
            starts_at=row["starts_at"].astimezone(ZoneInfo(row["timezone"])),
            ends_at=row["ends_at"].astimezone(ZoneInfo(row["timezone"])),
            timezone=row["timezone"],
            capacity=row["capacity"],
            reserved_free_places=row["reserved_free_places"],
            places_taken=row["places_taken"],
            free_places_claimed=row["free_places_claimed"],
            tickets=tickets.get(row["id"], 0),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class PartnerFunds:
    """What one partner project is due from the event."""

    slug: str
    name: str
    net_pence: int


@dataclass(frozen=True, slots=True)
class EventOverview:
    """An event at a glance, for its organiser's dashboard."""

    event: EventRow
    sold: int
    held: int
    checked_in: int
    expected: int
    free_places: FreePlaces
    conflicts: list[DoorConflict]
    figures: EventFigures  # the same figures, under the same words, as the event's statement
    partners: list[PartnerFunds]
    sales_by_day: list[tuple[date, int]]
    # A draft's way to going on sale: what it has of what publishing needs (catalogue.rules.status_change_problem).
    ticket_types: int = 0
    partner_shares: int = 0


async def partner_funds(event_id: int) -> list[PartnerFunds]:
    """What each partner project is due from the event, as the statement allocates it (empty without partners)."""
    try:
        allocation, _ = await ledger.event_allocation(event_id)
    except Conflict:
        return []
    names = await ledger.partner_names([p.partner_id for p in allocation.partners])
    return [PartnerFunds(names[p.partner_id]["slug"], names[p.partner_id]["name"], p.net_pence) for p in allocation.partners]


async def event_overview(slug: str, *, now: datetime) -> EventOverview:
    event = await find_event(slug)
    await ledger.book_event(event.id, now=now)
    # Valid tickets of paid orders: all of them are expected; those not claimed or given free were sold.
    expected = (Ticket.event == event.id) & (Ticket.status == TicketStatus.valid) & (Ticket.order_id.status == OrderStatus.paid)
    [held] = await Order.select(Sum(Order.places, alias="held")).where(Order.event == event.id, Order.status == OrderStatus.pending)
    return EventOverview(
        event=event,
        sold=await Ticket.count().where(expected, Ticket.order_id.channel.not_in(["claim", "gift"])),
        held=int(held["held"] or 0),
        checked_in=await Ticket.count().where(expected, Ticket.checked_in_at.is_not_null()),
        expected=await Ticket.count().where(expected),
        free_places=await event_free_places(event),
        conflicts=await conflicts(event.id),
        figures=await statements.event_figures(event.id),
        partners=await partner_funds(event.id),
        sales_by_day=await ticket_sales_by_day(event),
        ticket_types=await TicketType.count().where(TicketType.event == event.id),
        partner_shares=await BeneficiaryShare.count().where(BeneficiaryShare.event == event.id),
    )
