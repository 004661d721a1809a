"""When guests hear from us unasked: whether an order is due its reminder before the event, and when (and to whom)
the thank-you goes after it; and until when the buyer may change the names on their tickets. Pure: callers pass
``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.catalogue.statuses import EventStatus
from events.orders.statuses import OrderStatus
from events.tickets.statuses import TicketStatus

# Reminders go for events that are going ahead: never for drafts, cancelled events or ones marked finished.
REMINDED_EVENT_STATUSES = frozenset({EventStatus.on_sale, EventStatus.sales_closed})
# An event that has happened, whatever the organiser has marked it since (a cancelled one never happened).
THANKED_EVENT_STATUSES = frozenset({EventStatus.on_sale, EventStatus.sales_closed, EventStatus.finished})
# The thank-you waits this long after the event ends, so that late payments, refunds and Stripe's fees are booked
# before its totals are read from the ledger ...
THANK_YOU_DELAY = timedelta(hours=12)
# ... and never arrives in the night: not before this time at the venue (an evening event's thank-you arrives the
# next morning; an afternoon's at this time the next day).
THANK_YOU_NOT_BEFORE = time(10, 0)


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What decides whether one order is due its reminder."""

    event_status: str
    starts_at: datetime
    reminder_hours_before: int | None  # None: the organiser turned reminders off
    order_status: str
    placed_at: datetime  # when it was paid or claimed: its confirmation went then
    has_contact: bool  # an email address or a mobile number
    valid_tickets: int


def reminder_at(starts_at: datetime, reminder_hours_before: int | None) -> datetime | None:
    """When an event's reminders go, or None when it sends none."""
    return None if reminder_hours_before is None else starts_at - timedelta(hours=reminder_hours_before)


def reminder_due(facts: ReminderFacts, now: datetime) -> bool:
    """A paid (or claimed) order with valid tickets and a way to reach its guest is reminded once the event's reminder
    moment has come, until the event starts. An order placed after that moment needs none: its confirmation, with
    the same links, has only just arrived."""
    moment = reminder_at(facts.starts_at, facts.reminder_hours_before)
    return (
        moment is not None
        and facts.event_status in REMINDED_EVENT_STATUSES
        and moment <= now < facts.starts_at
        and facts.order_status == OrderStatus.paid
        and facts.placed_at <= moment
        and facts.has_contact
        and facts.valid_tickets > 0
    )


def reminder_still_wanted(
    *, order_status: str, event_status: str, starts_at: datetime, reminder_hours_before: int | None, valid_tickets: int, now: datetime
) -> bool:
    """Checked again when a queued reminder is sent, by the same rules that queued it: not once the order is refunded
    (even by an amount that left its tickets valid) or its tickets are refunded or void, the event is cancelled or
    has started, or the organiser turned reminders off."""
    return (
        reminder_hours_before is not None
        and event_status in REMINDED_EVENT_STATUSES
        and now < starts_at
        and order_status == OrderStatus.paid
        and valid_tickets > 0
    )


def thank_you_at(ends_at: datetime, timezone: str) -> datetime:
    """When an event's thank-you goes: THANK_YOU_DELAY after it ends, and not before the first THANK_YOU_NOT_BEFORE
    at the venue after it ends."""
    zone = ZoneInfo(timezone)
    local_end = ends_at.astimezone(zone)
    morning = datetime.combine(local_end.date(), THANK_YOU_NOT_BEFORE, tzinfo=zone)
    if morning <= local_end:
        morning = datetime.combine(local_end.date() + timedelta(days=1), THANK_YOU_NOT_BEFORE, tzinfo=zone)
    return max(ends_at + THANK_YOU_DELAY, morning)


def thank_you_due(
    *, order_status: str, pay_it_forward_pence: int, donation_pence: int, total_pence: int, refunded_pence: int, has_contact: bool
) -> bool:
    """Whether an order's guest is thanked: they paid places forward or donated, the order is paid and not refunded
    in full (a partly refunded order's money still did good), and we can reach them."""
    gave = pay_it_forward_pence > 0 or donation_pence > 0
    return gave and order_status == OrderStatus.paid and refunded_pence < total_pence and has_contact


def name_changes_close_at(starts_at: datetime, close_hours_before: int) -> datetime:
    """When the buyer can no longer change the names on an event's tickets from their order page."""
    return starts_at - timedelta(hours=close_hours_before)


def name_change_open(*, order_status: str, ticket_status: str, starts_at: datetime, close_hours_before: int, now: datetime) -> bool:
    """Whether the buyer may put another name on a ticket now: a valid ticket of a paid order, before the cut-off.
    The ticket is re-issued (a new code), so the door's lists must have time to learn of it."""
    return order_status == OrderStatus.paid and ticket_status == TicketStatus.valid and now < name_changes_close_at(starts_at, close_hours_before)
