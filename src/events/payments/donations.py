"""Money a guest could have had back and gives to the event's partner projects instead: a released ticket donated,
or an event's cancellation refund donated. Each is recorded (payments.tables.RefundDonation) and booked in the ledger
(ticket income and booking fees down, donations up) in the transaction that records the choice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from piccolo.query.functions.aggregate import Sum

from events.audit import service as audit
from events.errors import Conflict, InvalidInput
from events.i18n import N_
from events.orders.gift_aid import CONFIRMATION_STATEMENT, Declaration, declaration_problems, normalised
from events.orders.service import OrderRow
from events.orders.statuses import OrderStatus
from events.payments import money_left
from events.payments.bookkeeping import money_moved
from events.payments.tables import Payment, RefundDonation
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket

# The declaration a guest may add when they donate money they were offered back: the same fields, wording and
# checks as the declaration made with an order (orders/gift_aid.py).
GiftAidChoice = Declaration

RELEASED = "released"  # a ticket given back and its price donated ("Can't come?")
CANCELLED = "cancelled"  # the refund of a cancelled event donated
# Tickets a guest may still donate: valid ones, or ones the caller has just marked released in the same transaction.
DONATABLE = (TicketStatus.valid, TicketStatus.released)


class AlreadyDonated(Conflict):
    code = "already_donated"


@dataclass(frozen=True, slots=True)
class DonatedMoney:
    """What an order's donations took of the money it could have had back: in all, and of each component."""

    amount_pence: int = 0
    tickets_pence: int = 0
    booking_fees_pence: int = 0
    ticket_ids: frozenset[int] = frozenset()


async def donated_money(order_id: int) -> DonatedMoney:
    """The order's donated refunds so far (payments subtract them from what is left to refund)."""
    rows = await RefundDonation.select(
        RefundDonation.amount_pence, RefundDonation.tickets_pence, RefundDonation.booking_fees_pence, RefundDonation.ticket_ids
    ).where(RefundDonation.order_id == order_id)
    return DonatedMoney(
        amount_pence=sum(row["amount_pence"] for row in rows),
        tickets_pence=sum(row["tickets_pence"] for row in rows),
        booking_fees_pence=sum(row["booking_fees_pence"] for row in rows),
        ticket_ids=frozenset(int(ticket_id) for row in rows for ticket_id in json.loads(row["ticket_ids"] or "[]")),
    )


async def donated_pence(order_id: int) -> int:
    row = await RefundDonation.select(Sum(RefundDonation.amount_pence, alias="pence")).where(RefundDonation.order_id == order_id).first()
    return int(row["pence"] or 0) if row else 0


async def donate_tickets(
    order: OrderRow,
    ticket_ids: Sequence[int],
    *,
    declaration: GiftAidChoice | None,
    now: datetime,
    refund_offered: bool = False,
    request_key: str | None = None,
) -> int:
    """Inside the caller's write transaction, with ``order`` locked (orders.lock_order): the tickets' price and booking
    fee become a donation to the event's partner projects, recorded and booked in the ledger. Voids nothing: the caller
    marks the tickets released. ``refund_offered``: the guest could have had this money back instead (a release in the
    refund window); only then may they add a Gift Aid ``declaration`` (HMRC's condition). ``request_key`` makes a
    repeated request a no-op (answering the first one's donation). Returns the RefundDonation's id, or 0 when the
    tickets cost nothing (nothing is recorded)."""
    earlier = await _earlier(order.id, request_key)
    if earlier is not None:
        return earlier
    if order.status != OrderStatus.paid:
        raise Conflict(N_("Only tickets of a paid order can be donated."), code="not_donatable")
    wanted = list(dict.fromkeys(int(ticket_id) for ticket_id in ticket_ids))
    if not wanted:
        raise InvalidInput(N_("Choose the tickets to donate."), fields={"tickets": "Choose at least one ticket."})
    rows = {
        row["id"]: row
        for row in await Ticket.select(Ticket.id, Ticket.price_pence, Ticket.booking_fee_pence, Ticket.status).where(
            Ticket.order_id == order.id, Ticket.id.is_in(wanted)
        )
    }
    if len(rows) != len(wanted):
        raise InvalidInput(N_("Some of those tickets are not part of this order."), fields={"tickets": "Not this order's tickets."})
    done = await donated_money(order.id)
    if any(rows[ticket_id]["status"] not in DONATABLE or ticket_id in done.ticket_ids for ticket_id in wanted):
        raise AlreadyDonated(N_("Some of those tickets are already refunded, donated or void."))
    tickets = sum(rows[ticket_id]["price_pence"] for ticket_id in wanted)
    fees = sum(rows[ticket_id]["booking_fee_pence"] for ticket_id in wanted)
    # Never more than is left of the payment, nor of its ticket income or booking fees (an earlier refund of an
    # amount may have given some of them back).
    left = max(0, await _paid_pence(order.id) - order.refunded_pence - done.amount_pence)
    parts = await money_left.parts_left(order)
    tickets = max(0, min(tickets, left, parts.tickets_pence))
    fees = max(0, min(fees, left - tickets, parts.booking_fees_pence))
    if tickets + fees == 0:
        return 0
    return await _record(
        order,
        cause=RELEASED,
        tickets_pence=tickets,
        booking_fees_pence=fees,
        amount_pence=tickets + fees,
        ticket_ids=wanted,
        declaration=declaration,
        refund_offered=refund_offered,
        request_key=request_key,
        now=now,
    )


async def donate_refund(order: OrderRow, *, declaration: GiftAidChoice | None, now: datetime, request_key: str | None = None) -> int:
    """Inside the caller's write transaction, with ``order`` locked: everything left of the order's payment, which the
    guest was offered back (an event's cancellation), is donated instead. The ticket and booking-fee part of it moves
    to donations in the ledger (what is left of each: payments.money_left); what was already a donation or
    pay-it-forward money stays as it was. Gift Aid, with a declaration, covers the part that moved. Returns the
    RefundDonation's id, or 0 when nothing was left."""
    earlier = await _earlier(order.id, request_key)
    if earlier is not None:
        return earlier
    done = await donated_money(order.id)
    left = await _paid_pence(order.id) - order.refunded_pence - done.amount_pence
    if left <= 0:
        return 0
    # Each part as much as is left of it (what earlier refunds and donations did not take), within what is left.
    parts = await money_left.parts_left(order)
    tickets = max(0, min(parts.tickets_pence, left))
    fees = max(0, min(parts.booking_fees_pence, left - tickets))
    return await _record(
        order,
        cause=CANCELLED,
        tickets_pence=tickets,
        booking_fees_pence=fees,
        amount_pence=left,
        ticket_ids=[],
        declaration=declaration,
        refund_offered=True,
        request_key=request_key,
        now=now,
    )


async def _record(
    order: OrderRow,
    *,
    cause: str,
    tickets_pence: int,
    booking_fees_pence: int,
    amount_pence: int,
    ticket_ids: Sequence[int],
    declaration: GiftAidChoice | None,
    refund_offered: bool,
    request_key: str | None,
    now: datetime,
) -> int:
    declared = _checked_declaration(declaration, gift_aided_pence=tickets_pence + booking_fees_pence, order=order, refund_offered=refund_offered)
    donation = RefundDonation(
        order_id=order.id,
        cause=cause,
        tickets_pence=tickets_pence,
        booking_fees_pence=booking_fees_pence,
        amount_pence=amount_pence,
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
    await money_moved(order.id, now=now)
    await audit.record(
        "order.refund_donated",
        now=now,
        event_id=order.event,
        subject_type="order",
        subject_id=order.reference,
        after={
            "cause": cause,
            "amount_pence": amount_pence,
            "tickets_pence": tickets_pence,
            "booking_fees_pence": booking_fees_pence,
            "tickets": list(ticket_ids),
            "refund_offered": refund_offered,
            "gift_aid": declared is not None,  # whether there is one; never the donor's name or address
        },
    )
    return int(donation.id)


def _checked_declaration(declaration: GiftAidChoice | None, *, gift_aided_pence: int, order: OrderRow, refund_offered: bool) -> Declaration | None:
    """The declaration as recorded, or InvalidInput naming each problem. HMRC: a donated refund is a gift only
    where the donor was genuinely offered the money back and chose to give it instead."""
    if declaration is None:
        return None
    if not refund_offered:
        message = N_("Gift Aid can only be added to money you could have had back.")
        raise InvalidInput(message, fields={"gift_aid": message})
    problems = declaration_problems(declaration, eligible_pence=gift_aided_pence, currency=order.currency)
    if problems:
        raise InvalidInput(N_("Please check your Gift Aid declaration."), fields=problems)
    return normalised(declaration)


async def _earlier(order_id: int, request_key: str | None) -> int | None:
    """The donation an earlier request with this key made, for this order; another order's key is refused."""
    if not request_key:
        return None
    row = await RefundDonation.select(RefundDonation.id, RefundDonation.order_id).where(RefundDonation.request_key == request_key).first()
    if row is None:
        return None
    if row["order_id"] != order_id:
        raise Conflict(N_("That request key was used for another order."), code="request_key_reused")
    return int(row["id"])


async def _paid_pence(order_id: int) -> int:
    payment = await Payment.select(Payment.amount_pence).where(Payment.order_id == order_id).order_by(Payment.id).first()
    if payment is None:
        raise Conflict(N_("This order has no payment: there is nothing to donate."), code="not_donatable")
    return int(payment["amount_pence"])
