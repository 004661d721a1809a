import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.payments.refunds import (
    MoneyParts,
    RefundableTicket,
    RefundPlan,
    RefundRefused,
    plan_refund,
    refund_parts,
    refundable_parts,
    what_is_refunded_first,
)

TICKETS = [RefundableTicket(1, 600, 50, "valid"), RefundableTicket(2, 600, 50, "valid"), RefundableTicket(3, 600, 50, "refunded")]


def test_chosen_tickets_refund_their_price_and_booking_fee() -> None:
    plan = plan_refund(paid_pence=2300, refunded_pence=650, tickets=TICKETS, ticket_ids=[1], amount_pence=None)
    assert plan.amount_pence == 650 and plan.ticket_ids == (1,)


def test_an_amount_alone_leaves_tickets_valid() -> None:
    plan = plan_refund(paid_pence=2300, refunded_pence=0, tickets=TICKETS, ticket_ids=None, amount_pence=500)
    assert plan.amount_pence == 500 and plan.ticket_ids == ()


def test_with_neither_everything_left_is_refunded_and_valid_tickets_voided() -> None:
    plan = plan_refund(paid_pence=2300, refunded_pence=650, tickets=TICKETS, ticket_ids=None, amount_pence=None)
    assert plan.amount_pence == 1650 and plan.ticket_ids == (1, 2)


@pytest.mark.parametrize(
    ("ticket_ids", "amount", "refunded"),
    [(None, 1700, 650), ([3], None, 0), ([9], None, 0), ([1], 700, 0), (None, None, 2300), (None, 0, 0)],
)
def test_refunds_never_exceed_what_was_paid_or_touch_other_tickets(ticket_ids: list[int] | None, amount: int | None, refunded: int) -> None:
    with pytest.raises(RefundRefused):
        plan_refund(paid_pence=2300, refunded_pence=refunded, tickets=TICKETS, ticket_ids=ticket_ids, amount_pence=amount)


@given(st.integers(min_value=1, max_value=10_000), st.lists(st.integers(min_value=1, max_value=10_000), max_size=10))
def test_a_series_of_refunds_never_adds_up_to_more_than_the_payment(paid: int, asks: list[int]) -> None:
    refunded = 0
    for ask in asks:
        with contextlib.suppress(RefundRefused):
            refunded += plan_refund(paid_pence=paid, refunded_pence=refunded, tickets=[], ticket_ids=None, amount_pence=ask).amount_pence
    assert refunded <= paid


def test_cancelling_tells_each_guest_once_and_refunds_only_what_is_still_owed() -> None:
    from events.payments.refunds import cancellation_steps

    paid = cancellation_steps(order_status="paid", notified=False, paid_pence=3000, refunded_pence=0)
    assert paid.notify and paid.refund
    # A retry after the email went but before the refund: refund only.
    retry = cancellation_steps(order_status="paid", notified=True, paid_pence=3000, refunded_pence=0)
    assert not retry.notify and retry.refund
    # Partly refunded earlier: the rest is still owed.
    assert cancellation_steps(order_status="paid", notified=True, paid_pence=3000, refunded_pence=1000).refund
    # Donated instead of refunded (all of it, or the rest after a refund): nothing owed.
    assert not cancellation_steps(order_status="paid", notified=True, paid_pence=3000, refunded_pence=0, donated_pence=3000).refund
    assert not cancellation_steps(order_status="paid", notified=True, paid_pence=3000, refunded_pence=1000, donated_pence=2000).refund
    assert cancellation_steps(order_status="paid", notified=True, paid_pence=3000, refunded_pence=1000, donated_pence=1000).refund
    # A free place: an email, nothing to refund.
    free = cancellation_steps(order_status="paid", notified=False, paid_pence=None, refunded_pence=0)
    assert free.notify and not free.refund
    # Refunded in full before the cancellation, or never paid: nothing to do.
    for status in ("refunded", "expired", "pending"):
        steps = cancellation_steps(order_status=status, notified=False, paid_pence=3000, refunded_pence=3000 if status == "refunded" else 0)
        assert not steps.notify and not steps.refund


def test_a_ticket_passed_on_is_not_refunded_until_the_event_is_cancelled() -> None:
    tickets = [RefundableTicket(1, 3000, 150, "passed_on"), RefundableTicket(2, 3000, 150, "valid")]
    everything = plan_refund(paid_pence=6300, refunded_pence=0, tickets=tickets, ticket_ids=None, amount_pence=None)
    assert everything == RefundPlan(3150, (2,))
    with pytest.raises(RefundRefused):
        plan_refund(paid_pence=6300, refunded_pence=0, tickets=tickets, ticket_ids=None, amount_pence=3151)
    with pytest.raises(RefundRefused):
        plan_refund(paid_pence=6300, refunded_pence=3150, tickets=tickets, ticket_ids=None, amount_pence=None)
    cancelled = plan_refund(paid_pence=6300, refunded_pence=3150, tickets=tickets, ticket_ids=None, amount_pence=None, event_cancelled=True)
    assert cancelled == RefundPlan(3150, (2,))


# A supper club order: two £30 seats with a £1.50 booking fee each, a £30 pay-it-forward place and a £10 donation.
SUPPER = MoneyParts(tickets_pence=6000, booking_fees_pence=300, contributions_pence=3000, donations_pence=1000)
SEATS = [RefundableTicket(1, 3000, 150, "valid"), RefundableTicket(2, 3000, 150, "valid")]


def parts_of(
    ticket_ids: list[int] | None, amount: int | None, *, left: MoneyParts = SUPPER, tickets: list[RefundableTicket] = SEATS, paid: MoneyParts = SUPPER
) -> MoneyParts:
    """A refund planned and split as payments.service.record_refund does it."""
    plan = plan_refund(
        paid_pence=paid.total_pence, refunded_pence=paid.total_pence - left.total_pence, tickets=tickets, ticket_ids=ticket_ids, amount_pence=amount
    )
    refundable = refundable_parts(left, tickets)
    first = what_is_refunded_first(tickets=tickets, ticket_ids=ticket_ids, amount_pence=amount, refundable=refundable)
    return refund_parts(plan.amount_pence, first=first, left=refundable, paid=paid)


def test_a_refunded_ticket_gives_back_its_price_and_booking_fee_and_no_ones_gift() -> None:
    assert parts_of([1], None) == MoneyParts(3000, 150, 0, 0)


def test_a_whole_refund_gives_back_everything_left_of_each_part() -> None:
    assert parts_of(None, None) == SUPPER
    after_one_ticket = SUPPER - MoneyParts(3000, 150)
    assert parts_of(None, None, left=after_one_ticket, tickets=[SEATS[0], RefundableTicket(2, 3000, 150, "refunded")]) == after_one_ticket


def test_an_amount_comes_off_the_tickets_first_and_the_gifts_only_for_more() -> None:
    # £31.50 of £63 ticket money: in proportion between the ticket income and the booking fees, no gift touched.
    assert parts_of(None, 3150) == MoneyParts(3000, 150, 0, 0)
    # £73 is all the ticket money and £10 of the gifts, in proportion (£30 : £10).
    assert parts_of(None, 7300) == MoneyParts(6000, 300, 750, 250)


def test_a_ticket_passed_on_keeps_its_money_in_a_whole_refund_until_the_event_is_cancelled() -> None:
    tickets = [RefundableTicket(1, 3000, 150, "passed_on"), RefundableTicket(2, 3000, 150, "valid")]
    assert parts_of(None, None, tickets=tickets) == MoneyParts(3000, 150, 3000, 1000)
    assert refundable_parts(SUPPER, tickets, event_cancelled=True) == SUPPER


def test_an_amount_never_takes_the_money_of_a_ticket_passed_on() -> None:
    # Two £10 tickets, the second passed on to a friend, and a £6 donation: £16 is the buyer's to have back. £15 of it
    # is the first ticket's £10 and £5 of the donation, so the £1 left is the donation's last pound, and the friend's
    # ticket stays ticket income.
    paid = MoneyParts(2000, 0, 0, 600)
    tickets = [RefundableTicket(1, 1000, 0, "valid"), RefundableTicket(2, 1000, 0, "passed_on")]
    first = parts_of(None, 1500, left=paid, tickets=tickets, paid=paid)
    assert first == MoneyParts(1000, 0, 0, 500)
    assert parts_of(None, None, left=paid - first, tickets=tickets, paid=paid) == MoneyParts(0, 0, 0, 100)


def test_money_no_part_has_left_is_spread_over_what_was_paid() -> None:
    # Stripe's dashboard can refund money the guest donated instead: nothing is left, so it is spread over the order.
    nothing = MoneyParts()
    assert refund_parts(1030, first=MoneyParts(), left=nothing, paid=SUPPER) == MoneyParts(600, 30, 300, 100)


amounts = st.integers(min_value=0, max_value=50_000)
any_parts = st.builds(MoneyParts, amounts, amounts, amounts, amounts)


@given(any_parts, any_parts, any_parts, st.integers(min_value=-60_000, max_value=210_000))
def test_a_refunds_parts_add_up_to_it_and_take_no_part_past_what_is_left(paid: MoneyParts, left: MoneyParts, first: MoneyParts, amount: int) -> None:
    parts = refund_parts(amount, first=first, left=left, paid=paid)
    assert parts.total_pence == amount
    if 0 <= amount <= left.total_pence:
        assert all(0 <= part <= most for part, most in zip(parts.as_list(), left.as_list(), strict=True))
        # A refund for no gift (chosen tickets, or an amount alone) takes gifts only once the ticket money is all back.
        for_no_gift = refund_parts(amount, first=MoneyParts(first.tickets_pence, first.booking_fees_pence), left=left, paid=paid)
        if amount <= left.tickets_pence + left.booking_fees_pence:
            assert for_no_gift.contributions_pence == for_no_gift.donations_pence == 0
        else:
            assert (for_no_gift.tickets_pence, for_no_gift.booking_fees_pence) == (left.tickets_pence, left.booking_fees_pence)
    if amount < 0:
        assert parts == MoneyParts() - refund_parts(-amount, first=first, left=left, paid=paid)
    within = MoneyParts(*(min(a, b) for a, b in zip(first.as_list(), left.as_list(), strict=True)))
    assert refund_parts(within.total_pence, first=first, left=left, paid=paid) == within  # what it is for, exactly
