"""Money a guest could have had back and gives to the event's partner projects instead. STAND-IN (releases branch):
the helper "donations" writes the real module (ledger booking, cancellations); this one only records the row, with
the same signature. Replace at merge."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from events.orders.gift_aid import CONFIRMATION_STATEMENT, Declaration, normalised
from events.orders.service import OrderRow
from events.payments.tables import RefundDonation
from events.tickets.tables import Ticket

GiftAidChoice = Declaration
RELEASED = "released"


async def donate_tickets(
    order: OrderRow,
    ticket_ids: Sequence[int],
    *,
    declaration: GiftAidChoice | None,
    now: datetime,
    refund_offered: bool = False,
    request_key: str | None = None,
) -> int:
    """Inside the caller's write transaction, with ``order`` locked: record the tickets' price and booking fee as a
    donation (stand-in: no ledger booking). Returns the RefundDonation's id, or 0 when the tickets cost nothing."""
    rows = await Ticket.select(Ticket.price_pence, Ticket.booking_fee_pence).where(Ticket.order_id == order.id, Ticket.id.is_in(list(ticket_ids)))
    tickets = sum(row["price_pence"] for row in rows)
    fees = sum(row["booking_fee_pence"] for row in rows)
    if tickets + fees == 0:
        return 0
    declared = normalised(declaration) if declaration is not None and refund_offered else None
    donation = RefundDonation(
        order_id=order.id,
        cause=RELEASED,
        tickets_pence=tickets,
        booking_fees_pence=fees,
        amount_pence=tickets + fees,
        currency=order.currency,
        ticket_ids=json.dumps(list(ticket_ids)),
        refund_offered=refund_offered,
        gift_aid_title=declared.title if declared else "",
        gift_aid_first_name=declared.first_name if declared else "",
        gift_aid_last_name=declared.last_name if declared else "",
        gift_aid_house=declared.house if declared else "",
        gift_aid_postcode=declared.postcode if declared else "",
        gift_aid_statement=CONFIRMATION_STATEMENT if declared else "",
        request_key=request_key,
        created_at=now,
    )
    await donation.save()
    return int(donation.id)
