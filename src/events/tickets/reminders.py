"""Reminders before an event: the periodic job that queues one to every guest who is due one (tickets.rules decides).

Each run reads only events whose reminder moment has come and that have not started (so only those starting within
the longest reminder window) and, of their orders, only those that could be due: placed before that moment, with
a valid ticket and a way to reach the guest, and without a reminder yet (an anti-join on the outbox). A run with
nothing to do costs two small queries. A reminder is queued with the key ``reminder:<order id>``: however many
workers run the job at once, each order gets one.
"""

from __future__ import annotations

import functools
import logging
import operator
from datetime import datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Count

from events import db
from events.catalogue.rules import REMINDER_HOURS_MAX
from events.catalogue.tables import Event
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.tickets import outbox, rules
from events.tickets.statuses import MessageKind, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket

logger = logging.getLogger("events.reminders")


async def queue_due_reminders(now: datetime) -> int:
    """Queue the reminders that are due at ``now``; return how many orders were queued one."""
    events = await _events_in_reminder_window(now)
    if not events:
        return 0
    event_ids = list(events)
    # Each event's orders placed before its own reminder moment.
    placed_in_time = functools.reduce(
        operator.or_, [(Order.event == event_id) & (Order.paid_at <= event["reminder_at"]) for event_id, event in events.items()]
    )
    candidates = await (
        Order.select(Order.id, Order.event, Order.status, Order.paid_at, Order.created_at, Order.buyer_email, Order.buyer_phone)
        .where(
            placed_in_time,
            Order.status == OrderStatus.paid,
            (Order.buyer_email != "") | (Order.buyer_phone != ""),
            Order.id.is_in(Ticket.select(Ticket.order_id).where(Ticket.event.is_in(event_ids), Ticket.status == TicketStatus.valid)),
            Order.id.not_in(
                OutboxMessage.select(OutboxMessage.order_id).where(
                    OutboxMessage.kind == MessageKind.reminder, OutboxMessage.order_id.is_not_null(), OutboxMessage.order_id._.event.is_in(event_ids)
                )
            ),
        )
        .order_by(Order.id)
    )
    valid = await _valid_tickets([order["id"] for order in candidates])
    due = [
        order["id"]
        for order in candidates
        if rules.reminder_due(
            rules.ReminderFacts(
                event_status=events[order["event"]]["status"],
                starts_at=events[order["event"]]["starts_at"],
                reminder_hours_before=events[order["event"]]["reminder_hours_before"],
                order_status=order["status"],
                placed_at=order["paid_at"] or order["created_at"],
                has_contact=bool(order["buyer_email"].strip() or order["buyer_phone"].strip()),
                valid_tickets=valid.get(order["id"], 0),
            ),
            now,
        )
    ]
    if due:
        async with db.write_transaction():
            for order_id in due:
                await outbox.enqueue(MessageKind.reminder, order_id=order_id, now=now, key=f"reminder:{order_id}")
        logger.info("Queued %d reminders", len(due))
    return len(due)


async def _events_in_reminder_window(now: datetime) -> dict[int, dict[str, Any]]:
    """Events going ahead whose reminder moment has come and that have not started, by id, each with its
    ``reminder_at``. Only those starting within the longest reminder window are read, however many events there are."""
    rows = await Event.select(Event.id, Event.status, Event.starts_at, Event.reminder_hours_before).where(
        Event.status.is_in(list(rules.REMINDED_EVENT_STATUSES)),
        Event.reminder_hours_before.is_not_null(),
        Event.starts_at > now,
        Event.starts_at <= now + timedelta(hours=REMINDER_HOURS_MAX),
        Event.organisation._.suspended_at.is_null(),
    )
    return {
        row["id"]: {**row, "reminder_at": moment}
        for row in rows
        if (moment := rules.reminder_at(row["starts_at"], row["reminder_hours_before"])) is not None and moment <= now
    }


async def _valid_tickets(order_ids: list[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    rows = (
        await Ticket.select(Ticket.order_id, Count(alias="tickets"))
        .where(Ticket.order_id.is_in(order_ids), Ticket.status == TicketStatus.valid)
        .group_by(Ticket.order_id)
    )
    return {row["order_id"]: int(row["tickets"]) for row in rows}
