"""Waiting-list rules: who is offered what, in which order, for how long, and what a join request must hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.waitlist import rules
from events.waitlist.rules import JoinRequest, PlannedOffer, Waiting
from events.waitlist.statuses import WaitingKind

NOW = datetime(2031, 8, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("before_start", "hours", "held_for"),
    [
        (timedelta(days=30), 12, timedelta(hours=12)),  # the event's setting, far from the event
        (timedelta(days=30), 48, timedelta(hours=48)),
        (timedelta(days=1), 12, timedelta(hours=6)),  # a quarter of the time left
        (timedelta(hours=4), 12, timedelta(hours=1)),
        (timedelta(hours=1), 12, timedelta(minutes=30)),  # never less than half an hour...
        (timedelta(minutes=20), 12, timedelta(minutes=20)),  # ...unless the start comes first
        (timedelta(days=30), 0, timedelta(hours=12)),  # no setting: the default
    ],
)
def test_an_offer_holds_places_shorter_near_the_event(before_start: timedelta, hours: int, held_for: timedelta) -> None:
    assert rules.offer_expiry(NOW, starts_at=NOW + before_start, offer_hours=hours) == NOW + held_for


def test_no_offer_too_close_to_the_start_or_the_end_of_sales() -> None:
    assert rules.offer_expiry(NOW, starts_at=NOW + timedelta(minutes=9), offer_hours=12) is None
    assert rules.offer_expiry(NOW, starts_at=NOW - timedelta(hours=1), offer_hours=12) is None
    starts = NOW + timedelta(days=30)
    assert rules.offer_expiry(NOW, starts_at=starts, offer_hours=12, sales_end=NOW + timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert rules.offer_expiry(NOW, starts_at=starts, offer_hours=12, sales_end=NOW + timedelta(minutes=5)) is None


@given(
    minutes_left=st.integers(min_value=-60, max_value=60 * 24 * 60),
    hours=st.integers(min_value=0, max_value=168),
    sales_minutes=st.none() | st.integers(min_value=-60, max_value=60 * 24 * 60),
)
def test_an_offer_never_runs_past_the_start_or_the_end_of_sales(minutes_left: int, hours: int, sales_minutes: int | None) -> None:
    starts = NOW + timedelta(minutes=minutes_left)
    sales_end = None if sales_minutes is None else NOW + timedelta(minutes=sales_minutes)
    expiry = rules.offer_expiry(NOW, starts_at=starts, offer_hours=hours, sales_end=sales_end)
    if expiry is not None:
        assert NOW + rules.TOO_SHORT_TO_OFFER <= expiry <= starts
        assert sales_end is None or expiry <= sales_end
        assert expiry - NOW <= timedelta(hours=hours or rules.DEFAULT_OFFER_HOURS)


def test_places_go_in_join_order_and_the_next_person_gets_what_is_free() -> None:
    waiting = [Waiting(7, 1, 2), Waiting(3, 1, 4), Waiting(9, 1, 1)]
    # Entry 3 joined first: it gets all three free places it can (of the four it wants), nobody else any.
    assert rules.plan_paid_offers(waiting, event_left=3, type_left={1: None}, offerable={1}) == [PlannedOffer(3, 3)]
    assert rules.plan_paid_offers(waiting, event_left=7, type_left={1: None}, offerable={1}) == [
        PlannedOffer(3, 4),
        PlannedOffer(7, 2),
        PlannedOffer(9, 1),
    ]
    assert rules.plan_paid_offers(waiting, event_left=0, type_left={1: None}, offerable={1}) == []


def test_an_entry_whose_type_cannot_be_offered_does_not_hold_up_the_others() -> None:
    waiting = [Waiting(1, 10, 1), Waiting(2, 20, 1), Waiting(3, 30, 2)]
    # Type 10 is not offerable now; type 20's quota is full; type 30 has one place of its own left.
    plan = rules.plan_paid_offers(waiting, event_left=5, type_left={10: None, 20: 0, 30: 1}, offerable={20, 30})
    assert plan == [PlannedOffer(3, 1)]
    assert rules.held_back(plan, {1: 10, 2: 20, 3: 30}) == (1, {30: 1})


@given(
    wanted=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 6)), max_size=20),
    event_left=st.integers(0, 30),
    quotas=st.dictionaries(st.integers(1, 3), st.none() | st.integers(0, 10)),
)
def test_offers_never_take_more_places_than_are_free(wanted: list[tuple[int, int]], event_left: int, quotas: dict[int, int | None]) -> None:
    waiting = [Waiting(index, type_id, quantity) for index, (type_id, quantity) in enumerate(wanted)]
    type_left = {type_id: quotas.get(type_id) for type_id in (1, 2, 3)}
    plan = rules.plan_paid_offers(waiting, event_left=event_left, type_left=type_left, offerable={1, 2, 3})
    assert sum(offer.places for offer in plan) <= event_left
    by_entry = {entry.id: entry for entry in waiting}
    for type_id, left in type_left.items():
        if left is not None:
            assert sum(offer.places for offer in plan if by_entry[offer.entry_id].ticket_type == type_id) <= left
    assert all(1 <= offer.places <= by_entry[offer.entry_id].quantity for offer in plan)
    assert [offer.entry_id for offer in plan] == sorted(offer.entry_id for offer in plan)  # join order
    # Nobody later in the queue is offered a place that someone earlier of the same type could have had.
    for offer in plan:
        earlier = [e for e in waiting if e.id < offer.entry_id and e.ticket_type == by_entry[offer.entry_id].ticket_type]
        planned = {o.entry_id for o in plan}
        assert all(e.id in planned for e in earlier)


def test_free_places_go_one_each_in_join_order() -> None:
    waiting = [Waiting(5, None, 1), Waiting(2, None, 1), Waiting(8, None, 1)]
    assert rules.plan_free_offers(waiting, available=2) == [PlannedOffer(2, 1), PlannedOffer(5, 1)]
    assert rules.plan_free_offers(waiting, available=0) == []


def test_a_place_given_back_through_a_link_goes_to_that_links_first_guest_then_join_order() -> None:
    waiting = [Waiting(5, None, 1, link=20), Waiting(2, None, 1, link=10), Waiting(8, None, 1, link=20), Waiting(9, None, 1, link=None)]
    assert rules.plan_free_offers(waiting, available=1, given_back_by=20) == [PlannedOffer(5, 1)]
    assert rules.plan_free_offers(waiting, available=2, given_back_by=20) == [PlannedOffer(5, 1), PlannedOffer(2, 1)]
    # Nobody from that link is waiting, or nothing is free: join order, as ever.
    assert rules.plan_free_offers(waiting, available=1, given_back_by=30) == [PlannedOffer(2, 1)]
    assert rules.plan_free_offers(waiting, available=0, given_back_by=20) == []


def test_the_free_list_gets_only_the_free_places_beyond_what_links_still_have_to_give() -> None:
    assert rules.free_places_for_list(available=3, unclaimed_by_links=1) == 2
    assert rules.free_places_for_list(available=1, unclaimed_by_links=1) == 0
    assert rules.free_places_for_list(available=1, unclaimed_by_links=5) == 0  # links given more than there is
    assert rules.free_places_for_list(available=2, unclaimed_by_links=0) == 2
    assert rules.free_places_for_list(available=0, unclaimed_by_links=0) == 0


def test_a_position_counts_those_who_joined_before() -> None:
    assert rules.position(12, [3, 12, 15]) == 2
    assert rules.position(3, [3, 12, 15]) == 1


def request(**changes: object) -> JoinRequest:
    values: dict[str, object] = {"name": "Amira", "email": "amira@example.org", "phone": "", "quantity": 2, "locale": "ar"}
    return JoinRequest(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "kind", "field"),
    [
        ({}, WaitingKind.paid, None),
        ({"email": "", "phone": "07911 123456"}, WaitingKind.paid, None),
        ({"name": " "}, WaitingKind.paid, "name"),
        ({"name": "A" * 101}, WaitingKind.paid, "name"),
        ({"name": "Am\x00ira"}, WaitingKind.paid, "name"),
        ({"name": "Am\u202eira"}, WaitingKind.paid, None),  # a bidi mark inside a name is allowed, as elsewhere
        ({"email": "amira@"}, WaitingKind.paid, "email"),
        ({"email": ""}, WaitingKind.paid, "email"),  # neither email nor phone
        ({"email": "", "phone": "01632 960000"}, WaitingKind.paid, "phone"),  # not a mobile
        ({"email": "", "phone": "+44 7911\n123456"}, WaitingKind.paid, "phone"),
        ({"quantity": 0}, WaitingKind.paid, "quantity"),
        ({"quantity": 7}, WaitingKind.paid, "quantity"),  # above the type's maximum (6)
        ({"quantity": 1}, WaitingKind.free, None),
        ({"quantity": 2}, WaitingKind.free, "quantity"),  # one free place per guest
        ({"locale": "de"}, WaitingKind.paid, "locale"),
    ],
)
def test_join_requests_are_checked(changes: dict[str, object], kind: WaitingKind, field: str | None) -> None:
    problems = rules.join_problems(request(**changes), kind=kind, max_per_order=6)
    assert (field in problems) if field else problems == {}, problems


def test_a_phone_number_is_refused_where_no_text_can_be_sent() -> None:
    assert "phone" in rules.join_problems(request(email="", phone="07911 123456"), kind=WaitingKind.paid, max_per_order=6, texts_available=False)


def test_contact_details_are_kept_tidy_and_one_guest_is_one_email_or_number() -> None:
    contact = rules.contact_of(request(name="  Amira   Haddad ", email=" Amira@Example.org ", phone="07911 123456"))
    assert (contact.name, contact.email, contact.phone) == ("Amira Haddad", "Amira@Example.org", "+447911123456")
    assert contact.key == "email:amira@example.org"
    assert rules.contact_of(request(email="", phone="+44 7911 123456")).key == "phone:+447911123456"


def test_taking_up_an_offer_takes_between_one_and_the_offered_places() -> None:
    assert rules.quantity_problem(2, 3) is None
    assert rules.quantity_problem(3, 3) is None
    assert rules.quantity_problem(4, 3) is not None
    assert rules.quantity_problem(0, 3) is not None
