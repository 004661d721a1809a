"""Issuing tickets: a paid order's tickets (one per place, each with its own secret), and voiding them when
they are refunded. Re-issuing one ticket to a new holder is tickets.service.change_holder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from events import db
from events.orders import service as orders
from events.orders.service import OrderToIssue, Settlement
from events.tickets import keys, outbox, queries
from events.tickets.secrets import new_ticket_secret
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket


async def settle_paid_order(order_id: int, now: datetime) -> Settlement:
    """Turn a paid order into tickets and queue its confirmation. Call inside a write transaction, after the
    payment row is booked. Whether the order may be issued (or is refund_due) is the order's to decide
    (orders.service.settle_paid_order); issuing is ours."""
    return await orders.settle_paid_order(order_id, now, issue=issue_and_confirm)


async def issue_and_confirm(order: OrderToIssue, now: datetime) -> list[int]:
    """A settled order's tickets, and its confirmation queued (orders.service.Issuer). Inside the caller's write
    transaction. A free place gets the same confirmation as a paid order: nothing in it tells them apart."""
    ticket_ids = await issue_tickets(order.id, order.event, order.holder_name, now)
    await outbox.enqueue("order_confirmation", order_id=order.id, now=now)
    return ticket_ids


async def issue_tickets(order_id: int, event_id: int, holder_name: str, now: datetime) -> list[int]:
    """One ticket per place on the order's ticket lines, line by line in the order they were written: so a guest's
    "ticket 2" (events.questions' ticket index 1) is the second ticket the request asked for. Each carries the name
    of the guest the buyer gave for its position at checkout, else ``holder_name`` (the buyer's); the order's copy of
    those names is then forgotten. The event's first tickets make its signing key (keys.make_first_key). Inside the
    caller's write transaction."""
    lines = await db.run(queries.TICKET_LINES, order_id)
    named = await orders.guest_names(order_id)
    unit_lines = [line for line in lines for _ in range(line["quantity"])]
    issued = [
        (
            order_id,
            event_id,
            line["ticket_type"],
            new_ticket_secret(),
            new_ticket_secret(),
            named.get(position, holder_name),
            line["unit_price_pence"],
            line["booking_fee_pence"],
            now,
        )
        for position, line in enumerate(unit_lines)
    ]
    if named:
        await orders.forget_guest_names(order_id)
    if not issued:
        return []
    await keys.make_first_key(event_id, now=now)  # so that showing the tickets never writes
    # Inserted in one statement, in position order: ids rise with positions, as the order's pages list them.
    rows: Sequence[Mapping[str, Any]]
    if db.is_sqlite():  # no arrays: through the query builder
        fields = ("order_id", "event", "ticket_type", "secret", "page_secret", "holder_name", "price_pence", "booking_fee_pence", "created_at")
        rows = await Ticket.insert(*[Ticket(**dict(zip(fields, values, strict=True))) for values in issued]).returning(Ticket.id)
    else:
        rows = await db.run(queries.INSERT_TICKETS, TicketStatus.valid, *[list(column) for column in zip(*issued, strict=True)])
    return [row["id"] for row in rows]


async def void_tickets(order_id: int, ticket_ids: Sequence[int], status: TicketStatus, now: datetime) -> int:
    """Mark valid tickets refunded or void and put their places back on sale. Inside a write transaction."""
    rows = (
        await Ticket.update({Ticket.status: status})
        .where(Ticket.order_id == order_id, Ticket.id.is_in(list(ticket_ids)), Ticket.status == TicketStatus.valid)
        .returning(Ticket.ticket_type, Ticket.event)
    )
    per_type: dict[int, int] = {}
    for row in rows:
        per_type[row["ticket_type"]] = per_type.get(row["ticket_type"], 0) + 1
    if rows:
        await orders.release_places(rows[0]["event"], per_type)
    return len(rows)
