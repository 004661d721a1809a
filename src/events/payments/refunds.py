"""How much to refund, and which tickets a refund voids. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from events.orders.statuses import OrderStatus
from events.tickets.statuses import TicketStatus


@dataclass(frozen=True, slots=True)
class RefundableTicket:
    id: int
    price_pence: int
    booking_fee_pence: int
    status: str  # a TicketStatus


@dataclass(frozen=True, slots=True)
class RefundPlan:
    amount_pence: int
    ticket_ids: tuple[int, ...]


class RefundRefused(Exception):
    def __init__(self, message: str, field: str = "amount_pence") -> None:
        super().__init__(message)
        self.field = field


def passed_on_pence(tickets: Sequence[RefundableTicket], *, event_cancelled: bool) -> int:
    """The price and booking fee of the tickets passed on to a friend: the friend's places now (their new tickets
    work), so not the buyer's to have back while the event goes on, as money donated instead of refunded is not
    (payments.donations: the caller leaves it out of ``paid_pence``). Once the event is cancelled the friend's ticket
    is void with every other, and the buyer who paid is owed it like the rest."""
    if event_cancelled:
        return 0
    return sum(t.price_pence + t.booking_fee_pence for t in tickets if t.status == TicketStatus.passed_on)


def refundable_pence(*, paid_pence: int, refunded_pence: int, tickets: Sequence[RefundableTicket], event_cancelled: bool = False) -> int:
    """What is left to refund of ``paid_pence`` (the payment less any money donated instead of refunded)."""
    return paid_pence - refunded_pence - passed_on_pence(tickets, event_cancelled=event_cancelled)


def plan_refund(
    *,
    paid_pence: int,
    refunded_pence: int,
    tickets: Sequence[RefundableTicket],
    ticket_ids: Sequence[int] | None,
    amount_pence: int | None,
    event_cancelled: bool = False,
) -> RefundPlan:
    """Three ways to refund: chosen tickets (their price and booking fee), an amount (tickets stay valid),
    or, with neither, everything still refundable (every valid ticket is voided). Never more than was paid, nor the
    money of tickets passed on to a friend while the event goes on (passed_on_pence)."""
    remaining = refundable_pence(paid_pence=paid_pence, refunded_pence=refunded_pence, tickets=tickets, event_cancelled=event_cancelled)
    if remaining <= 0:
        raise RefundRefused("This order has nothing left to refund.")
    if ticket_ids:
        by_id = {ticket.id: ticket for ticket in tickets}
        chosen = [by_id.get(ticket_id) for ticket_id in dict.fromkeys(ticket_ids)]
        if any(ticket is None for ticket in chosen):
            raise RefundRefused("Some of those tickets are not part of this order.", field="tickets")
        if any(ticket.status != TicketStatus.valid for ticket in chosen if ticket):
            raise RefundRefused("Some of those tickets are already refunded or void.", field="tickets")
        amount = sum(t.price_pence + t.booking_fee_pence for t in chosen if t)
        if amount_pence is not None:
            if amount_pence > amount:
                raise RefundRefused("That is more than those tickets cost.")
            amount = amount_pence
        if amount > remaining:
            amount = remaining  # e.g. after an earlier partial refund of money only
        return RefundPlan(amount, tuple(t.id for t in chosen if t))
    if amount_pence is not None:
        if amount_pence <= 0:
            raise RefundRefused("Refund a positive amount.")
        if amount_pence > remaining:
            raise RefundRefused(f"A refund cannot be more than what is left of the payment ({remaining} pence).")
        return RefundPlan(amount_pence, ())
    return RefundPlan(remaining, tuple(t.id for t in tickets if t.status == TicketStatus.valid))


@dataclass(frozen=True, slots=True)
class CancellationSteps:
    """What cancelling an event still has to do for one order. Each step is recorded as it is done, so a
    retry after a crash (or a second click) does only what is left."""

    notify: bool  # void free tickets, note the cancellation and queue the guest's email
    refund: bool  # give back what is left of the payment


def cancellation_steps(
    *, order_status: str, notified: bool, paid_pence: int | None, refunded_pence: int, donated_pence: int = 0
) -> CancellationSteps:
    """``paid_pence`` is the booked payment (None for free places). Orders that were never paid, or were
    refunded before the cancellation, need nothing; one refunded by an earlier attempt may still need its email.
    Money the guest donated instead of taking it back (``donated_pence``) is not owed."""
    has_tickets = order_status in (OrderStatus.paid, OrderStatus.refund_due)
    owed = paid_pence is not None and paid_pence - refunded_pence - donated_pence > 0
    return CancellationSteps(notify=has_tickets and not notified, refund=has_tickets and owed)
