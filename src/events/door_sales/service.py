"""Selling at the door: one transaction for the order, its tickets (issued and checked in), the cash or
card-terminal payment and its ledger entries, so they are all written or none of them is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from events import db
from events.audit import service as audit
from events.door_sales import rules
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ledger import service as ledger
from events.orders import service as orders
from events.orders.service import PlacedOrder
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.payments import service as payments
from events.payments.service import DOOR_PAYMENT_METHODS
from events.payments.statuses import DOOR_SALE_UNDONE_REASON
from events.payments.tables import Payment
from events.tickets import outbox
from events.tickets.issuing import issue_tickets, void_tickets
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket


async def sell_at_door(
    slug: str, items: Sequence[tuple[int, int]], *, payment_method: str, buyer_name: str, buyer_email: str, seller: str, now: datetime
) -> PlacedOrder:
    """Sell door-price tickets: places taken, order paid, tickets issued and checked in, payment booked."""
    if payment_method not in DOOR_PAYMENT_METHODS:
        raise InvalidInput("Record the payment as cash or card_terminal.", fields={"payment_method": "cash or card_terminal"})
    async with db.write_transaction():
        door = await orders.open_door_order(slug, items, buyer_name=buyer_name, buyer_email=buyer_email, payment_method=payment_method, now=now)
        placed = door.order
        await issue_tickets(placed.id, door.event_id, buyer_name.strip() or "Door guest", now)
        await Ticket.update({Ticket.checked_in_at: now, Ticket.checked_in_by: seller}).where(Ticket.order_id == placed.id)
        await orders.note(
            placed.id, "door_sale", f"{door.places} {'ticket' if door.places == 1 else 'tickets'} sold by {seller}, paid by {payment_method}", now
        )
        await audit.record(
            "door.sale",
            now=now,
            event_id=door.event_id,
            subject_type="order",
            subject_id=placed.reference,
            after={"places": door.places, "total_pence": placed.total_pence, "payment_method": payment_method},
        )
        await outbox.enqueue("order_confirmation", order_id=placed.id, now=now)
        await Payment(
            order_id=placed.id,
            provider=payment_method,
            provider_reference=f"door-{placed.reference}",
            charge_id="",
            amount_pence=placed.total_pence,
            fee_pence=0,
            currency=placed.currency,
            created_at=now,
        ).save()
        await ledger.book_order(placed.id, now=now)
    return placed


async def undo_door_sale(event_id: int, reference: str, *, undone_by: str, now: datetime) -> int:
    """Undo a door sale made by mistake (door_sales.rules): the whole payment refunded by the way it was paid (the
    money handed back), its tickets voided and their places back on sale, in one transaction under the order's lock,
    so two phones pressing Undo together undo it once. The sale and its refund both stay on the books, as they
    happened. Returns the amount to hand back."""
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        if order.event != event_id:  # another event's order is not found from this event's door
            raise NotFound(N_("We could not find that order."), code="order_not_found")
        refusal = rules.undo_refusal(
            channel=order.channel, status=order.status, refunded_pence=order.refunded_pence, sold_at=order.paid_at or order.created_at, now=now
        )
        if refusal is not None:
            raise Conflict(refusal.message, code=refusal.code)
        # Nothing was refunded of it (rules.undo_refusal) and a door sale has no donation: all it took goes back.
        if order.total_pence:
            await payments.record_refund(order, ticket_ids=None, amount_pence=None, reason=DOOR_SALE_UNDONE_REASON, requested_by=undone_by, now=now)
            await ledger.book_order(order.id, now=now)  # the statements show the money handed back at once, as the sale
        else:
            # A free door ticket: no money to give back, so no refund; its tickets are voided and their places freed.
            valid = await Ticket.select(Ticket.id).where(Ticket.order_id == order.id, Ticket.status == TicketStatus.valid)
            await void_tickets(order.id, [row["id"] for row in valid], TicketStatus.void, now)
            await Order.update({Order.status: OrderStatus.refunded}).where(Order.id == order.id)
            await orders.note(order.id, "door_sale_undone", f"undone by {undone_by}: nothing was paid", now)
        await audit.record(
            "door.sale_undone",
            now=now,
            event_id=event_id,
            subject_type="order",
            subject_id=order.reference,
            before={"status": order.status, "total_pence": order.total_pence},
            after={"refunded_pence": order.total_pence, "payment_method": order.payment_provider},
        )
    return order.total_pence
