"""How much to refund, and which tickets a refund voids. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from events.money import split_pence
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


@dataclass(frozen=True, slots=True)
class MoneyParts:
    """An amount of an order's money by what it paid for, the ledger's components: ticket income, booking fees,
    pay-it-forward contributions and donations. A refund records its parts (payments.tables.Refund), so the ledger
    reverses exactly what went back, and what is left of each is known."""

    tickets_pence: int = 0
    booking_fees_pence: int = 0
    contributions_pence: int = 0
    donations_pence: int = 0

    @property
    def total_pence(self) -> int:
        return self.tickets_pence + self.booking_fees_pence + self.contributions_pence + self.donations_pence

    def as_list(self) -> list[int]:
        return [self.tickets_pence, self.booking_fees_pence, self.contributions_pence, self.donations_pence]

    def columns(self) -> dict[str, Any]:
        """The parts by the name of the refund's column that records each (payments.tables.Refund), as its keyword
        arguments (typed Any, as Piccolo's row constructor takes them)."""
        return {
            "tickets_pence": self.tickets_pence,
            "booking_fees_pence": self.booking_fees_pence,
            "contributions_pence": self.contributions_pence,
            "donations_pence": self.donations_pence,
        }

    def __add__(self, other: MoneyParts) -> MoneyParts:
        return MoneyParts(*(a + b for a, b in zip(self.as_list(), other.as_list(), strict=True)))

    def __sub__(self, other: MoneyParts) -> MoneyParts:
        return MoneyParts(*(a - b for a, b in zip(self.as_list(), other.as_list(), strict=True)))


def refund_parts(amount_pence: int, *, first: MoneyParts, left: MoneyParts, paid: MoneyParts) -> MoneyParts:
    """What a refund of ``amount_pence`` gives back of each part. ``left`` is what is left of each part of the
    order's payment (less earlier refunds and money donated instead); ``first`` is what this refund is for.

    It takes ``first`` (each part no more than is left of it) in proportion, then, for anything more, what is left
    of ticket income and booking fees, then what is left of the gifts (pay-it-forward and donations), each in
    proportion (largest remainder, money.split_pence): an amount typed in the back office, or refunded in Stripe's
    dashboard, is taken off the ticket before anyone's gift. A refund of chosen tickets gives back their price and
    booking fee exactly; a refund of everything left gives back exactly what is left. Only money no part has left
    (Stripe refunding money the guest donated instead) is spread over what the order paid, which the ledger then shows
    as more going back than came in. Always sums to ``amount_pence``; a negative amount is the mirror."""
    if amount_pence < 0:
        return MoneyParts() - refund_parts(-amount_pence, first=first, left=left, paid=paid)
    cap = [max(0, part) for part in left.as_list()]
    taken = [0, 0, 0, 0]
    rest = amount_pence
    tiers = (
        [min(a, b) for a, b in zip(first.as_list(), cap, strict=True)],
        [cap[0], cap[1], 0, 0],
        [0, 0, cap[2], cap[3]],
    )
    for tier in tiers:
        weights = [max(0, weight - done) for weight, done in zip(tier, taken, strict=True)]
        take = min(rest, sum(weights))
        if take > 0:
            taken = [a + b for a, b in zip(taken, split_pence(take, weights), strict=True)]
            rest -= take
    if rest > 0:
        weights = [max(0, part) for part in paid.as_list()]
        extra = split_pence(rest, weights) if sum(weights) > 0 else [rest, 0, 0, 0]
        taken = [a + b for a, b in zip(taken, extra, strict=True)]
    return MoneyParts(*taken)


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


def refundable_parts(left: MoneyParts, tickets: Sequence[RefundableTicket], *, event_cancelled: bool = False) -> MoneyParts:
    """What is left of each part of the order's money that the buyer may have back: all that is left (``left``:
    payments.money_left) but the price and booking fee of tickets passed on to a friend while the event goes on
    (passed_on_pence). Whatever a refund is for, it takes only from these (refund_parts' ``left``)."""
    passed_on = [] if event_cancelled else [t for t in tickets if t.status == TicketStatus.passed_on]
    return left - MoneyParts(sum(t.price_pence for t in passed_on), sum(t.booking_fee_pence for t in passed_on))


def what_is_refunded_first(
    *, tickets: Sequence[RefundableTicket], ticket_ids: Sequence[int] | None, amount_pence: int | None, refundable: MoneyParts
) -> MoneyParts:
    """What a refund planned by plan_refund is for (refund_parts' ``first``): chosen tickets, their price and booking
    fee; everything left (neither tickets nor amount), all that is ``refundable`` (refundable_parts); an amount alone,
    nothing in particular (ticket income first, then gifts)."""
    if ticket_ids:
        chosen = [ticket for ticket in tickets if ticket.id in set(ticket_ids)]
        return MoneyParts(sum(t.price_pence for t in chosen), sum(t.booking_fee_pence for t in chosen))
    if amount_pence is not None:
        return MoneyParts()
    return refundable


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
