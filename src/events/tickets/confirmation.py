"""The guest's order page, which is also the confirmation they land on after paying: the order with its tickets, its
receipt, when and where the event is, its calendar file, and where the tickets were sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events.catalogue.statuses import EventStatus
from events.orders.receipts import Receipt
from events.orders.schemas import OrderOut
from events.orders.service import ReceiptFacts, receipt_of, was_replaced
from events.orders.statuses import OrderStatus
from events.tickets import rules
from events.tickets.outbox import Contact, contact_of
from events.tickets.statuses import TicketStatus
from events.tickets.views import read_order


@dataclass(frozen=True, slots=True)
class EventPlace:
    """When and where an event is, in its own time zone, and how to get there and in."""

    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    access_information: str


@dataclass(frozen=True, slots=True)
class OrderPage:
    order: OrderOut
    receipt: Receipt
    event: EventPlace
    # Where the tickets went (the same choice as the outbox makes), once there are tickets to send, or the receipt of an
    # order without tickets (receipt.contribution_only) once it is paid; else None.
    sent_to: Contact | None
    calendar_url: str | None  # the event's calendar file, through one of the order's valid tickets
    # Until when the buyer may put other guests' names on the valid tickets (rules.name_change_open), in the event's
    # time zone; None once they cannot (or the order has no valid tickets).
    names_close_at: datetime | None = None
    # The buyer's changed order replaced this one ("Change order", or the form sent again): it did not run out of time.
    replaced: bool = False
    # The organisers called the event off: the page says so first, and leads to the refund or donation choice.
    event_cancelled: bool = False
    # The tickets their guest donated (tickets.views.OrderRead): "Donated", where a place given back says "Given back".
    donated_tickets: frozenset[int] = frozenset()
    # Until when the guest of a cancelled event may choose to donate their refund (payments.cancellation), in the
    # event's time zone; None when they were never offered the choice.
    refund_choice_until: datetime | None = None
    # The organisers' own words to the guests when they cancelled (user text), "" for none.
    cancellation_message: str = ""


async def order_page(reference: str, *, now: datetime, texts_available: bool = True, whatsapp_available: bool = True) -> OrderPage:
    """The order page's content. ``texts_available`` false (production without a text provider): a guest with only a
    phone number is not told a text went; ``whatsapp_available`` false: texts go by SMS, and the page says so."""
    read = await read_order(reference)
    order, row, details = read.order, read.row, read.details
    zone = ZoneInfo(row["event.timezone"])
    valid = [ticket for ticket in details.tickets if ticket.status == TicketStatus.valid]
    receipt = receipt_of(order, read.lines, ReceiptFacts.of(row))
    cancelled = row["event.status"] == EventStatus.cancelled
    confirmed = details.status == OrderStatus.paid and bool(valid) and not cancelled
    # An order of pay-it-forward places or a donation alone is confirmed with its receipt, sent as tickets are.
    receipt_sent = details.status == OrderStatus.paid and receipt.contribution_only
    starts_at, close_hours = row["event.starts_at"], row["event.name_changes_close_hours_before"]
    names_open = not cancelled and any(
        rules.name_change_open(order_status=details.status, ticket_status=ticket.status, starts_at=starts_at, close_hours_before=close_hours, now=now)
        for ticket in valid
    )
    return OrderPage(
        order=details,
        receipt=receipt,
        event=EventPlace(
            starts_at=starts_at.astimezone(zone),
            ends_at=row["event.ends_at"].astimezone(zone),
            venue=row["event.venue"],
            address=row["event.address"],
            access_information=row["event.access_information"],
        ),
        sent_to=contact_of(
            order.buyer_email,
            order.buyer_phone if texts_available else "",
            whatsapp=bool(row["organisation.whatsapp_enabled"]) and whatsapp_available,
        )
        if confirmed or receipt_sent
        else None,
        calendar_url=f"{valid[0].url}/calendar.ics" if confirmed else None,
        names_close_at=rules.name_changes_close_at(starts_at, close_hours).astimezone(zone) if names_open else None,
        replaced=was_replaced(details.status, row["hold_ended"]),
        event_cancelled=row["event.status"] == EventStatus.cancelled,
        donated_tickets=read.donated_tickets,
        refund_choice_until=row["refund_choice_until"].astimezone(zone) if row["refund_choice_until"] else None,
        cancellation_message=row["event.cancellation_message"] if cancelled else "",
    )
