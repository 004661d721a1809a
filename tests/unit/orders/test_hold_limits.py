"""The hold limit rules: unpaid places per email address, holds per client address a minute."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from events.orders.hold_limits import (
    Ask,
    Held,
    HoldLimits,
    MorePlacesThanAllowed,
    TooManyHoldsFromClient,
    TooManyPlacesHeld,
    holds_per_client,
    judge,
)

NOW = datetime(2026, 12, 5, 19, 0, 30, tzinfo=timezone.utc)
LIMITS = HoldLimits(places_per_email=10, holds_per_client_per_minute=3)
HOLD = 15 * 60


def ask(email: str = "amal@example.org", places: int = 1, client: str = "198.51.100.1") -> Ask:
    return Ask(email, client, places, HOLD, LIMITS)


def test_places_already_held_and_asked_for_earlier_in_the_batch_count_against_the_email() -> None:
    held = {"amal@example.org": Held(6, NOW + timedelta(minutes=4))}
    asks = [ask(places=3), ask("AMAL@example.org", places=2), ask("layla@example.org", places=6), ask(places=1)]
    answers = judge(asks, held, {"198.51.100.1": 0 + 0}, now=NOW, client_window_left_seconds=30)
    # 6 held + 3 = 9 fits; the same person (capitals aside) asking 2 more would make 11; 1 more makes 10.
    assert answers == [None, TooManyPlacesHeld(4 * 60), None, None]


def test_when_the_places_in_the_way_are_this_batchs_own_the_wait_is_a_whole_hold() -> None:
    answers = judge([ask(places=8), ask(places=8)], {}, {}, now=NOW, client_window_left_seconds=30)
    assert answers == [None, TooManyPlacesHeld(HOLD)]


def test_an_order_bigger_than_the_limit_is_refused_outright_and_an_empty_one_always_fits() -> None:
    held = {"amal@example.org": Held(10, NOW + timedelta(minutes=1))}
    answers = judge([ask(places=11), ask(places=0)], held, {}, now=NOW, client_window_left_seconds=30)
    assert answers == [MorePlacesThanAllowed(), None]


def test_a_client_gets_its_first_holds_of_the_minute_and_then_waits_for_the_next() -> None:
    asks = [ask(f"buyer{n}@example.org") for n in range(3)] + [None, ask("other@example.org", client="203.0.113.9")]
    counted = holds_per_client(asks)
    assert counted == {"198.51.100.1": 3, "203.0.113.9": 1}
    # One hold already this minute: two more of the three fit the limit of three.
    hits = {"198.51.100.1": 1 + counted["198.51.100.1"], "203.0.113.9": counted["203.0.113.9"]}
    answers = judge(asks, {}, hits, now=NOW, client_window_left_seconds=30)
    assert answers == [None, None, TooManyHoldsFromClient(30), None, None]


def test_refused_requests_are_left_alone() -> None:
    assert judge([None, None], {}, {}, now=NOW, client_window_left_seconds=30) == [None, None]
