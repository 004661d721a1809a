""" "Can't come?": which choices a ticket has, when, and what passing it on needs."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from events.releases import rules
from events.releases.rules import Choice, TicketFacts

STARTS = datetime(2031, 8, 16, 18, 0, tzinfo=timezone.utc)
PAID = TicketFacts(
    status="valid",
    checked_in=False,
    price_pence=3000,
    booking_fee_pence=150,
    order_status="paid",
    order_channel="online",
    payment_provider="stripe",
    event_status="on_sale",
    starts_at=STARTS,
    refund_days_before=7,
    order_tickets=1,
    timezone="Europe/London",
)
CLAIMED = dataclasses.replace(PAID, price_pence=0, booking_fee_pence=0, order_channel="claim", payment_provider="none")
WINDOW_ENDS = STARTS - timedelta(days=7)


def test_a_paid_place_is_refunded_or_donated_until_the_window_closes() -> None:
    for now in (STARTS - timedelta(days=60), WINDOW_ENDS):
        offered = rules.options(PAID, now)
        assert offered.choices == (Choice.refund, Choice.donate) and offered.refund_until == WINDOW_ENDS
        assert rules.gift_aid_allowed(PAID, now)


def test_the_refund_window_closes_by_the_venues_clock_when_the_clocks_change_in_between() -> None:
    """An event at 19:00 on Friday 2 April 2027 (summer time in London), refunds until 7 days before: until 19:00 on
    Friday 26 March, winter time, by the venue's clock, not an hour earlier (7 times 24 hours back in UTC is 18:00)."""
    london = ZoneInfo("Europe/London")
    starts = datetime(2027, 4, 2, 19, 0, tzinfo=london)
    spring = dataclasses.replace(PAID, starts_at=starts.astimezone(timezone.utc))
    assert rules.refund_until(spring) == datetime(2027, 3, 26, 19, 0, tzinfo=london)
    assert rules.options(spring, datetime(2027, 3, 26, 18, 30, tzinfo=london)).choices == (Choice.refund, Choice.donate)
    autumn = dataclasses.replace(PAID, starts_at=datetime(2027, 11, 2, 19, 0, tzinfo=london).astimezone(timezone.utc))
    assert rules.refund_until(autumn) == datetime(2027, 10, 26, 19, 0, tzinfo=london)  # summer time then, winter time at the event


def test_after_the_window_a_paid_place_is_donated_or_passed_on_without_gift_aid() -> None:
    now = WINDOW_ENDS + timedelta(seconds=1)
    assert rules.options(PAID, now).choices == (Choice.donate, Choice.transfer)
    assert rules.options(PAID, now).refund_until is None
    assert not rules.gift_aid_allowed(PAID, now)
    assert rules.refusal(PAID, Choice.refund, now) == rules.NOT_OFFERED[Choice.refund]
    assert rules.refusal(PAID, Choice.transfer, WINDOW_ENDS) == rules.NOT_OFFERED[Choice.transfer]


def test_where_the_organiser_offers_no_refunds_there_is_never_one_nor_gift_aid() -> None:
    no_refunds = dataclasses.replace(PAID, refund_days_before=None)
    early = STARTS - timedelta(days=300)
    assert rules.options(no_refunds, early).choices == (Choice.donate, Choice.transfer)
    assert not rules.gift_aid_allowed(no_refunds, early)


@pytest.mark.parametrize("provider", ["cash", "card_terminal"])
def test_a_ticket_paid_at_the_door_is_not_refunded_online(provider: str) -> None:
    door = dataclasses.replace(PAID, payment_provider=provider, order_channel="door")
    assert rules.options(door, STARTS - timedelta(days=30)).choices == (Choice.donate, Choice.transfer)


@pytest.mark.parametrize(
    "facts",
    [
        CLAIMED,
        dataclasses.replace(CLAIMED, order_channel="gift"),
    ],
    ids=["claimed (a free-place offer taken up is one)", "given"],
)
def test_a_free_place_can_only_be_given_back_to_the_free_places(facts: TicketFacts) -> None:
    assert rules.place_kind(facts) == rules.PlaceKind.free
    assert rules.options(facts, STARTS - timedelta(days=30)).choices == (Choice.free_place,)
    assert rules.refusal(facts, Choice.refund, STARTS - timedelta(days=30)) == rules.NOT_OFFERED[Choice.refund]
    assert rules.refusal(facts, Choice.transfer, STARTS - timedelta(hours=1)) == rules.NOT_OFFERED[Choice.transfer]


def test_a_paid_waitlist_offer_is_a_paid_place() -> None:
    assert rules.place_kind(dataclasses.replace(PAID, order_channel="waitlist")) == rules.PlaceKind.paid


def test_a_free_offer_of_the_paid_list_is_a_general_place_not_a_free_one() -> None:
    """A £0 ticket type's offer taken up stays of channel waitlist (a free-place offer becomes a claim): its place was a
    general one, so it goes back to general sale, never to the free places."""
    nothing_to_pay = dataclasses.replace(PAID, order_channel="waitlist", price_pence=0, booking_fee_pence=0, payment_provider="none")
    assert rules.place_kind(nothing_to_pay) == rules.PlaceKind.unpaid
    assert rules.options(nothing_to_pay, STARTS - timedelta(days=30)).choices == (Choice.free_place, Choice.transfer)


def test_a_ticket_passed_on_can_be_passed_on_again_or_given_back_but_never_refunded() -> None:
    passed = dataclasses.replace(PAID, order_channel="transfer", price_pence=0, booking_fee_pence=0, payment_provider="none")
    assert rules.place_kind(passed) == rules.PlaceKind.unpaid
    assert rules.options(passed, STARTS - timedelta(days=30)).choices == (Choice.free_place, Choice.transfer)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"checked_in": True}, "ticket_checked_in"),
        ({"status": "refunded"}, "ticket_not_valid"),
        ({"status": "void"}, "ticket_not_valid"),
        ({"status": "released"}, "ticket_not_valid"),
        ({"status": "passed_on"}, "ticket_not_valid"),
        ({"order_status": "refunded"}, "order_not_paid"),
        ({"event_status": "cancelled"}, "event_cancelled"),
        ({"event_status": "finished"}, "event_started"),
    ],
)
def test_nothing_is_offered_for_a_used_or_given_up_ticket(changes: dict[str, object], code: str) -> None:
    facts = dataclasses.replace(PAID, **changes)  # type: ignore[arg-type]
    offered = rules.options(facts, STARTS - timedelta(days=30))
    assert offered.choices == () and offered.refusal is not None and offered.refusal.code == code
    for choice in Choice:
        refused = rules.refusal(facts, choice, STARTS - timedelta(days=30))
        assert refused is not None and refused.code == code


def test_nothing_is_offered_once_the_event_has_started() -> None:
    for facts in (PAID, CLAIMED):
        assert rules.options(facts, STARTS).refusal == rules.EVENT_OVER
        assert rules.options(facts, STARTS - timedelta(seconds=1)).choices


def test_a_friend_needs_a_name_and_an_email_or_a_mobile() -> None:
    friend, problems = rules.friend_problems(" Sam ", "sam@example.org", "")
    assert friend == rules.Friend("Sam", "sam@example.org", "") and problems == {}
    friend, problems = rules.friend_problems("Sam", "", "07911 123456")
    assert friend is not None and friend.phone == "+447911123456"
    assert rules.friend_problems("Sam", "", "")[1].keys() == {"email"}
    assert rules.friend_problems("", "", "")[1].keys() == {"holder", "email"}
    assert rules.friend_problems("Sam", "not an email", "")[1].keys() == {"email"}
    assert rules.friend_problems("Sam", "", "020 7946 0000")[1].keys() == {"phone"}  # a landline cannot take texts
    assert rules.friend_problems("Sam\x00", "sam@example.org", "")[1].keys() == {"holder"}
    assert rules.friend_problems("S" * 101, "sam@example.org", "")[1].keys() == {"holder"}
    assert rules.friend_problems("Sam", "", "07911 123456", texts_available=False)[1].keys() == {"phone"}


def test_a_ticket_link_of_a_group_order_leaves_the_money_choices_to_the_buyer() -> None:
    group = dataclasses.replace(PAID, order_tickets=3)
    early, late = STARTS - timedelta(days=30), WINDOW_ENDS + timedelta(seconds=1)
    # The buyer (the order's token) has every choice; the ticket's link has none of the money ones, but may pass the
    # place to a friend (no money moves), where the buyer would be offered a refund instead.
    assert rules.options(group, early, rules.Authority.order).choices == (Choice.refund, Choice.donate)
    by_link = rules.options(group, early, rules.Authority.ticket)
    assert by_link.choices == (Choice.transfer,) and by_link.refusal is None and by_link.buyer_only == (Choice.refund, Choice.donate)
    assert rules.refusal(group, Choice.donate, early, rules.Authority.ticket) == rules.BUYER_ONLY
    assert rules.refusal(group, Choice.refund, early, rules.Authority.ticket) == rules.BUYER_ONLY
    assert rules.refusal(group, Choice.transfer, early, rules.Authority.ticket) is None
    assert rules.refusal(group, Choice.transfer, early, rules.Authority.order) == rules.NOT_OFFERED[Choice.transfer]
    after = rules.options(group, late, rules.Authority.ticket)
    assert after.choices == (Choice.transfer,) and after.refusal is None and after.buyer_only == (Choice.donate,)
    assert rules.refusal(group, Choice.transfer, late, rules.Authority.ticket) is None
    # The only ticket of its order: its holder is the buyer.
    assert rules.options(PAID, early, rules.Authority.ticket).choices == (Choice.refund, Choice.donate)
    # Nothing of the buyer's money in a free place: its link gives it back.
    assert rules.options(dataclasses.replace(CLAIMED, order_tickets=2), early, rules.Authority.ticket).choices == (Choice.free_place,)


def test_where_a_friends_ticket_went_is_shown_masked() -> None:
    assert rules.masked_contact("sam.okoro@example.org", "") == "s•••@example.org"
    assert rules.masked_contact("", "+447911123456") == "+44•••456"
    assert rules.masked_contact("", "") == ""
    assert "okoro" not in rules.masked_contact("sam.okoro@example.org", "+447911123456")  # email first, masked
