"""Guest messages nobody asks for: who is due a reminder and when, and when the thank-you goes and to whom."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.tickets import rules

STARTS = datetime(2027, 8, 19, 18, 0, tzinfo=timezone.utc)  # 19:00 in London
BOOKED = STARTS - timedelta(days=10)
DUE = rules.ReminderFacts(
    event_status="on_sale",
    starts_at=STARTS,
    reminder_hours_before=48,
    order_status="paid",
    placed_at=BOOKED,
    has_contact=True,
    valid_tickets=2,
)


def test_the_reminder_goes_from_its_moment_until_the_event_starts() -> None:
    assert rules.reminder_at(STARTS, 48) == STARTS - timedelta(hours=48)
    assert not rules.reminder_due(DUE, STARTS - timedelta(hours=48, seconds=1))
    assert rules.reminder_due(DUE, STARTS - timedelta(hours=48))
    assert rules.reminder_due(DUE, STARTS - timedelta(minutes=1))  # a worker that was down catches up
    assert not rules.reminder_due(DUE, STARTS)  # too late once it has begun


def test_the_organiser_chooses_how_many_hours_before_or_none() -> None:
    day_before = dataclasses.replace(DUE, reminder_hours_before=24)
    assert not rules.reminder_due(day_before, STARTS - timedelta(hours=30))
    assert rules.reminder_due(day_before, STARTS - timedelta(hours=24))
    off = dataclasses.replace(DUE, reminder_hours_before=None)
    assert rules.reminder_at(STARTS, None) is None
    assert not any(rules.reminder_due(off, STARTS - timedelta(hours=hours)) for hours in (1, 24, 48, 336))


@pytest.mark.parametrize(
    "change",
    [
        {"event_status": "draft"},
        {"event_status": "cancelled"},
        {"event_status": "finished"},
        {"order_status": "pending"},
        {"order_status": "expired"},
        {"order_status": "refunded"},
        {"order_status": "refund_due"},
        {"valid_tickets": 0},  # every ticket refunded or void
        {"has_contact": False},  # a door sale without an address
    ],
)
def test_no_reminder_for_events_not_going_ahead_orders_not_paid_or_guests_without_tickets(change: dict[str, object]) -> None:
    now = STARTS - timedelta(hours=24)
    assert rules.reminder_due(DUE, now)
    assert not rules.reminder_due(dataclasses.replace(DUE, **change), now)  # type: ignore[arg-type]


def test_orders_placed_after_the_reminder_moment_need_none() -> None:
    moment = STARTS - timedelta(hours=48)
    now = STARTS - timedelta(hours=2)
    assert rules.reminder_due(dataclasses.replace(DUE, placed_at=moment), now)
    assert not rules.reminder_due(dataclasses.replace(DUE, placed_at=moment + timedelta(minutes=1)), now)  # their tickets just came


def test_a_queued_reminder_is_checked_again_when_it_goes() -> None:
    wanted = {
        "order_status": "paid",
        "event_status": "on_sale",
        "starts_at": STARTS,
        "reminder_hours_before": 48,
        "valid_tickets": 1,
        "now": STARTS - timedelta(hours=40),
    }
    assert rules.reminder_still_wanted(**wanted)  # type: ignore[arg-type]
    changes = ({"valid_tickets": 0}, {"event_status": "cancelled"}, {"reminder_hours_before": None}, {"now": STARTS}, {"order_status": "refunded"})
    for change in changes:
        assert not rules.reminder_still_wanted(**{**wanted, **change}), change  # type: ignore[arg-type]


def test_the_thank_you_goes_twelve_hours_after_the_end_and_never_before_ten_in_the_morning_at_the_venue() -> None:
    london = "Europe/London"  # summer time: UTC+1
    evening = datetime(2027, 8, 19, 21, 30, tzinfo=timezone.utc)  # 22:30 at the venue
    assert rules.thank_you_at(evening, london) == datetime(2027, 8, 20, 9, 30, tzinfo=timezone.utc)  # 10:30 the next morning
    afternoon = datetime(2027, 8, 19, 13, 0, tzinfo=timezone.utc)  # 14:00: not at 02:00, at 10:00 the next day
    assert rules.thank_you_at(afternoon, london) == datetime(2027, 8, 20, 9, 0, tzinfo=timezone.utc)
    after_midnight = datetime(2027, 8, 20, 0, 30, tzinfo=timezone.utc)  # 01:30: twelve hours later is 13:30
    assert rules.thank_you_at(after_midnight, london) == datetime(2027, 8, 20, 12, 30, tzinfo=timezone.utc)
    # The morning is the venue's: 10:00 in Paris in winter is 09:00 UTC.
    assert rules.thank_you_at(datetime(2027, 12, 1, 15, 0, tzinfo=timezone.utc), "Europe/Paris") == datetime(2027, 12, 2, 9, 0, tzinfo=timezone.utc)


@given(ends_at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(timezone.utc)))
def test_the_thank_you_waits_at_least_the_delay_and_at_most_a_day_and_a_half(ends_at: datetime) -> None:
    moment = rules.thank_you_at(ends_at, "Europe/London")
    assert ends_at + rules.THANK_YOU_DELAY <= moment <= ends_at + timedelta(hours=36)


def test_the_thank_you_goes_to_paid_givers_not_refunded_in_full() -> None:
    giver = {"order_status": "paid", "pay_it_forward_pence": 3000, "donation_pence": 0, "total_pence": 6000, "refunded_pence": 0, "has_contact": True}
    assert rules.thank_you_due(**giver)  # type: ignore[arg-type]
    assert rules.thank_you_due(**{**giver, "pay_it_forward_pence": 0, "donation_pence": 500})  # type: ignore[arg-type]
    assert rules.thank_you_due(**{**giver, "refunded_pence": 3000})  # type: ignore[arg-type]  # partly refunded: it still did good
    for change in (
        {"pay_it_forward_pence": 0},  # bought tickets only
        {"refunded_pence": 6000},
        {"order_status": "refunded"},
        {"order_status": "pending"},
        {"has_contact": False},
    ):
        assert not rules.thank_you_due(**{**giver, **change}), change  # type: ignore[arg-type]


def test_names_can_change_until_the_cut_off_on_valid_tickets_of_paid_orders() -> None:
    starts = datetime(2026, 8, 15, 18, 0, tzinfo=timezone.utc)
    facts = {"order_status": "paid", "ticket_status": "valid", "starts_at": starts, "close_hours_before": 24}
    assert rules.name_changes_close_at(starts, 24) == starts - timedelta(hours=24)
    assert rules.name_change_open(**facts, now=starts - timedelta(hours=24, seconds=1))  # type: ignore[arg-type]
    assert not rules.name_change_open(**facts, now=starts - timedelta(hours=24))  # type: ignore[arg-type]
    assert rules.name_change_open(**{**facts, "close_hours_before": 0}, now=starts - timedelta(seconds=1))  # type: ignore[arg-type]
    for changed in ({"order_status": "refunded"}, {"ticket_status": "passed_on"}, {"ticket_status": "refunded"}):
        assert not rules.name_change_open(**{**facts, **changed}, now=starts - timedelta(days=7))  # type: ignore[arg-type]
