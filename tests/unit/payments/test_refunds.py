import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.payments.refunds import RefundableTicket, RefundPlan, RefundRefused, plan_refund

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
