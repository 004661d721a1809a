"""What is left of an order's money, part by part (payments.refunds.MoneyParts): what it paid for, less what its
refunds gave back and what the guest gave to the partner projects instead of taking it back."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Sum

from events.orders.service import OrderRow
from events.payments.refunds import MoneyParts, refund_parts
from events.payments.tables import Refund, RefundDonation


def paid_parts(order: OrderRow) -> MoneyParts:
    return MoneyParts(order.tickets_pence, order.booking_fees_pence, order.pay_it_forward_pence, order.donation_pence)


async def refunded_parts(order_id: int) -> MoneyParts:
    """Every refund of the order, whatever Stripe has said of it yet (as Order.refunded_pence counts them): one still
    pending is on its way, and one Stripe refused is still owed to the guest, who gets it another way
    (payments.service.give_back_refused_refund)."""
    row = (
        await Refund.select(
            Sum(Refund.tickets_pence, alias="tickets"),
            Sum(Refund.booking_fees_pence, alias="booking_fees"),
            Sum(Refund.contributions_pence, alias="contributions"),
            Sum(Refund.donations_pence, alias="donations"),
        )
        .where(Refund.order_id == order_id)
        .first()
    )
    return MoneyParts(*(int((row or {}).get(name) or 0) for name in ("tickets", "booking_fees", "contributions", "donations")))


async def parts_left(order: OrderRow) -> MoneyParts:
    """What is left of each part of the order's money to refund or donate. A donated refund moved its ticket income
    and booking fees to donations (payments.donations); the rest of its amount (an event's refund given whole) was the
    gifts left, which stay gifts and are no longer the guest's to have back."""
    row = (
        await RefundDonation.select(
            Sum(RefundDonation.tickets_pence, alias="tickets"),
            Sum(RefundDonation.booking_fees_pence, alias="booking_fees"),
            Sum(RefundDonation.amount_pence, alias="amount"),
        )
        .where(RefundDonation.order_id == order.id)
        .first()
    )
    tickets, fees, amount = (int((row or {}).get(name) or 0) for name in ("tickets", "booking_fees", "amount"))
    left = paid_parts(order) - await refunded_parts(order.id) - MoneyParts(tickets, fees)
    gifts_given = amount - tickets - fees
    if gifts_given > 0:
        left = left - refund_parts(
            gifts_given, first=MoneyParts(0, 0, left.contributions_pence, left.donations_pence), left=left, paid=paid_parts(order)
        )
    return left
