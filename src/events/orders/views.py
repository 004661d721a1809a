"""Reading an order back for its buyer, the API and the door: lines, totals, tickets and notices."""

from __future__ import annotations

from typing import Any

from events.catalogue.tables import Event
from events.i18n import N_
from events.orders.schemas import OrderLineOut, OrderOut, TicketOut
from events.orders.service import find_order
from events.orders.tables import OrderHistory, OrderLine
from events.tickets.tables import Ticket

NOTICES = {
    "late_payment_issued": N_("Your payment arrived after your places were released, but places were still free: your tickets are below."),
    "late_payment_refunded": N_("Your payment arrived after your places were released and the event is now full. We have refunded you in full."),
    "payment_failed": N_("Your card payment did not go through. You can try again with another card."),
}


def ticket_url(secret: str) -> str:
    return f"/tickets/{secret}"


def ticket_out(row: dict[str, Any]) -> TicketOut:
    """A ticket as the API shows it, from a row with id, holder_name, secret, status and ticket_type.name."""
    return TicketOut(
        id=row["id"],
        holder=row["holder_name"],
        type=row["ticket_type.name"],
        secret=row["secret"],
        status=row["status"],
        url=ticket_url(row["secret"]),
        pdf_url=ticket_url(row["secret"]) + "/ticket.pdf",
    )


async def order_details(reference: str) -> OrderOut:
    order = await find_order(reference)
    event = await Event.select(Event.slug, Event.title).where(Event.id == order["event"]).first()
    assert event is not None
    lines = (
        await OrderLine.select(
            OrderLine.kind,
            OrderLine.description,
            OrderLine.quantity,
            OrderLine.unit_price_pence,
            OrderLine.booking_fee_pence,
            OrderLine.total_pence,
            OrderLine.partner.slug,
        )
        .where(OrderLine.order_id == order["id"])
        .order_by(OrderLine.id)
    )
    tickets = (
        await Ticket.select(Ticket.id, Ticket.holder_name, Ticket.secret, Ticket.status, Ticket.ticket_type.name)
        .where(Ticket.order_id == order["id"])
        .order_by(Ticket.id)
    )
    history = await OrderHistory.select(OrderHistory.kind).where(OrderHistory.order_id == order["id"]).order_by(OrderHistory.id)
    kinds = [row["kind"] for row in history]
    notices = [NOTICES[kind] for kind in dict.fromkeys(kinds) if kind in NOTICES]
    if order["status"] == "paid" and "payment_failed" in kinds:
        notices.remove(NOTICES["payment_failed"])
    return OrderOut(
        reference=order["reference"],
        status=order["status"],
        event=event["slug"],
        event_title=event["title"],
        currency=order["currency"],
        buyer_name=order["buyer_name"],
        lines=[
            OrderLineOut(
                kind=line["kind"],
                description=line["description"],
                quantity=line["quantity"],
                unit_price_pence=line["unit_price_pence"],
                booking_fee_pence=line["booking_fee_pence"],
                total_pence=line["total_pence"],
                partner=line["partner.slug"],
            )
            for line in lines
        ],
        tickets_pence=order["tickets_pence"],
        booking_fees_pence=order["booking_fees_pence"],
        pay_it_forward_pence=order["pay_it_forward_pence"],
        donation_pence=order["donation_pence"],
        total_pence=order["total_pence"],
        refunded_pence=order["refunded_pence"],
        hold_expires_at=order["hold_expires_at"],
        paid_at=order["paid_at"],
        tickets=[ticket_out(t) for t in tickets],
        notices=notices,
    )


async def checkout_details(reference: str) -> tuple[OrderOut, str]:
    """The order and its PaymentIntent client secret, for the buyer's own checkout page."""
    order = await order_details(reference)
    row = await find_order(reference)
    return order, row["client_secret"]
