"""Deciding which orders of a batch fit: first come first served, quotas respected, nothing over capacity."""

from hypothesis import given
from hypothesis import strategies as st

from events.orders.holds import Fit, PlacesLeft, fit_each_in_turn, fit_in_turn, totals


def test_orders_fit_in_arrival_order_until_the_places_run_out() -> None:
    assert fit_in_turn(PlacesLeft(event=5, by_type={1: None}), [{1: 2}, {1: 2}, {1: 2}, {1: 1}]) == [True, True, False, True]


def test_an_order_too_big_for_what_is_left_takes_nothing_and_a_smaller_one_behind_it_still_fits() -> None:
    assert fit_in_turn(PlacesLeft(event=3, by_type={1: None}), [{1: 4}, {1: 3}]) == [False, True]


def test_a_ticket_type_quota_limits_that_type_only() -> None:
    left = PlacesLeft(event=10, by_type={1: 2, 2: None})
    assert fit_in_turn(left, [{1: 2}, {1: 1}, {2: 3}, {1: 1, 2: 1}]) == [True, False, True, False]


def test_an_order_for_a_type_that_was_not_read_never_fits() -> None:
    assert fit_in_turn(PlacesLeft(event=10, by_type={1: None}), [{2: 1}]) == [False]


def test_an_order_without_places_always_fits_even_when_the_event_is_full() -> None:
    assert fit_in_turn(PlacesLeft(event=0, by_type={1: None}), [{1: 1}, {}]) == [False, True]


def test_totals_add_up_places_per_type() -> None:
    assert totals([{1: 2}, {1: 1, 2: 3}, {}]) == {1: 3, 2: 3}


@given(
    event=st.integers(0, 30),
    quota=st.none() | st.integers(0, 30),
    orders=st.lists(st.dictionaries(st.sampled_from([1, 2]), st.integers(1, 6), max_size=2), max_size=30),
)
def test_what_fits_never_exceeds_the_event_or_a_quota_and_nothing_that_fits_is_refused(
    event: int, quota: int | None, orders: list[dict[int, int]]
) -> None:
    fits = fit_in_turn(PlacesLeft(event=event, by_type={1: quota, 2: None}), orders)
    taken = totals([order for order, fit in zip(orders, fits, strict=True) if fit])
    assert sum(taken.values()) <= event
    assert quota is None or taken.get(1, 0) <= quota
    # First come first served: each refused order really did not fit in what the earlier ones left.
    for index, (order, fit) in enumerate(zip(orders, fits, strict=True)):
        if not fit:
            before = totals([o for o, f in zip(orders[:index], fits[:index], strict=True) if f])
            too_many = sum(before.values()) + sum(order.values()) > event
            over_quota = quota is not None and before.get(1, 0) + order.get(1, 0) > quota
            assert too_many or over_quota


def test_a_codes_uses_are_counted_in_turn_like_places() -> None:
    left = PlacesLeft(event=10, by_type={1: None}, code_uses={7: 2})
    wanted = [{1: 1}] * 5
    codes = [{7: 1}, {}, {7: 1}, {7: 1}, {7: 1}]
    assert fit_each_in_turn(left, wanted, codes) == [Fit.fits, Fit.fits, Fit.fits, Fit.code_used_up, Fit.code_used_up]
    # An order that does not fit its places takes none of the code's uses, so one behind it may still have one.
    tight = PlacesLeft(event=2, by_type={1: None}, code_uses={7: 1})
    assert fit_each_in_turn(tight, [{1: 3}, {1: 1}], [{7: 1}, {7: 1}]) == [Fit.no_places, Fit.fits]
    # A buyer replacing their own hold gives its use back as the new hold takes it (a net need of none).
    assert fit_each_in_turn(PlacesLeft(event=5, by_type={1: None}, code_uses={7: 0}), [{1: 1}], [{7: 0}]) == [Fit.fits]


def test_the_time_left_on_a_hold_rounds_up_and_stops_at_nothing() -> None:
    from datetime import datetime, timedelta, timezone

    from events.orders.holds import minutes_left, seconds_left

    ends = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    assert (minutes_left(ends, ends - timedelta(minutes=15)), seconds_left(ends, ends - timedelta(minutes=15))) == (15, 900)
    assert (minutes_left(ends, ends - timedelta(seconds=61)), seconds_left(ends, ends - timedelta(seconds=0.5))) == (2, 1)
    assert (minutes_left(ends, ends), minutes_left(ends, ends + timedelta(minutes=3)), seconds_left(ends, ends + timedelta(hours=1))) == (0, 0, 0)
