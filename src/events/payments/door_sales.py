"""Selling at the door: one transaction for the order, its tickets (issued and checked in), the cash or
card-terminal payment and its ledger entries, so they are all written or none of them is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from events import db
from events.errors import InvalidInput
from events.ledger import service as ledger
from events.orders import service as orders
from events.orders.service import PlacedOrder
from events.payments.service import DOOR_PAYMENT_METHODS
from events.payments.tables import Payment


async def sell_at_door(
    slug: str, items: Sequence[tuple[int, int]], *, payment_method: str, buyer_name: str, buyer_email: str, seller: str, now: datetime
) -> PlacedOrder:
    if payment_method not in DOOR_PAYMENT_METHODS:
        raise InvalidInput("Record the payment as cash or card_terminal.", fields={"payment_method": "cash or card_terminal"})
    async with db.write_transaction():
        # The order's own transaction joins this one (Piccolo nests), so a failure below undoes the sale too.
        placed, _ = await orders.sell_at_door(
            slug, items, buyer_name=buyer_name, buyer_email=buyer_email, payment_method=payment_method, seller=seller, now=now
        )
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
