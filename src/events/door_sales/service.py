"""Selling at the door: one transaction for the order, its tickets (issued and checked in), the cash or
card-terminal payment and its ledger entries, so they are all written or none of them is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from events import db
from events.audit import service as audit
from events.errors import InvalidInput
from events.ledger import service as ledger
from events.orders import service as orders
from events.orders.service import PlacedOrder
from events.payments.service import DOOR_PAYMENT_METHODS
from events.payments.tables import Payment
from events.tickets import outbox
from events.tickets.issuing import issue_tickets
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
