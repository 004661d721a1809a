"""The hold limit rules: unpaid places per email address and per client address, holds per client address a minute."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from events.orders.hold_limits import (
    Ask,
    Held,
    HoldLimits,
    MorePlacesThanAllowed,
    TooManyHoldsFromClient,
    TooManyPlacesFromClient,
    TooManyPlacesHeld,
    client_digest,
    client_key,
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


def client_ask(email: str, places: int, client: str = "198.51.100.1", limit: int = 12) -> Ask:
    return Ask(email, client, places, HOLD, HoldLimits(places_per_email=10, holds_per_client_per_minute=1000, places_per_client=limit))


def test_places_held_from_one_client_count_whatever_the_emails() -> None:
    client_held = {"198.51.100.1": Held(7, NOW + timedelta(minutes=9))}
    asks = [
        client_ask("a@example.org", 3),
        client_ask("b@example.org", 3),  # 7 held + 3 + 3 = 13: over the 12 per client
        client_ask("c@example.org", 2),  # 7 + 3 + 2 = 12 fits
        client_ask("d@example.org", 2, client="203.0.113.9"),  # another client is not counted with them
    ]
    answers = judge(asks, {}, {}, now=NOW, client_window_left_seconds=30, client_held=client_held)
    assert answers == [None, TooManyPlacesFromClient(9 * 60), None, None]


def test_a_client_whose_places_are_all_this_batchs_own_waits_a_whole_hold() -> None:
    answers = judge([client_ask("a@example.org", 8), client_ask("b@example.org", 8)], {}, {}, now=NOW, client_window_left_seconds=30)
    assert answers == [None, TooManyPlacesFromClient(HOLD)]


def test_an_order_bigger_than_the_client_limit_is_refused_outright() -> None:
    assert judge([client_ask("a@example.org", 6, limit=5)], {}, {}, now=NOW, client_window_left_seconds=30) == [MorePlacesThanAllowed()]


def test_ipv6_addresses_count_by_their_64_and_ipv4_addresses_as_they_are() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:DB8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("198.51.100.7") == "198.51.100.7" != client_key("198.51.100.8")
    assert client_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_key("testclient") == "testclient"


def test_what_is_kept_of_a_client_address_is_a_keyed_hash_of_its_group() -> None:
    kept = client_digest("secret-one", "2001:db8:1:2::5")
    assert kept == client_digest("secret-one", "2001:db8:1:2:9::9")
    assert kept != client_digest("secret-two", "2001:db8:1:2::5")
    assert "2001" not in kept and len(kept) == 64
    assert client_digest("secret-one", "198.51.100.7") != client_digest("secret-one", "198.51.100.8")


def test_the_same_buyer_is_the_same_email_or_the_same_name() -> None:
    from events.orders.hold_limits import same_buyer

    assert same_buyer(("Amal Haddad", "amal@example.org"), ("Amal Haddad", " AMAL@example.org "))
    assert same_buyer(("Amal Haddad", "amal@exmaple.org"), ("amal  haddad", "amal@example.org"))  # a typo corrected
    assert not same_buyer(("Amal Haddad", "amal@example.org"), ("Layla Ahmed", "layla@example.org"))  # a shared computer
    assert not same_buyer(("", "amal@example.org"), ("", "layla@example.org"))
