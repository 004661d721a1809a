"""Reading the set-up forms: amounts, percentages and local times typed by a person, and the shares rule."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.backoffice import forms


@pytest.mark.parametrize(("text", "basis_points"), [("70", 7000), ("33.33", 3333), ("33,3", 3330), ("12.5%", 1250), (" 100 ", 10000), ("0.01", 1)])
def test_percentages_become_basis_points_without_floats(text: str, basis_points: int) -> None:
    assert forms.parse_percent(text) == basis_points


@pytest.mark.parametrize("text", ["", "seventy", "70.555", "-5", "1e2"])
def test_what_is_not_a_percentage_is_refused(text: str) -> None:
    assert forms.parse_percent(text) is None


@given(st.integers(min_value=1, max_value=10_000))
def test_a_share_shown_on_the_form_reads_back_as_the_same_basis_points(share_bp: int) -> None:
    assert forms.parse_percent(forms.format_percent(share_bp)) == share_bp


def test_costs_may_be_negative_corrections() -> None:
    assert forms.parse_signed_pounds("120") == 12000
    assert forms.parse_signed_pounds("-20.50") == -2050
    assert forms.parse_signed_pounds("£-3") is None and forms.parse_signed_pounds("abc") is None


def test_shares_must_add_up_to_exactly_100_percent() -> None:
    rows, problems = forms.shares({"partner_0": "kitchen", "share_0": "70", "partner_1": "cinema", "share_1": "30"})
    assert rows == [("kitchen", 7000), ("cinema", 3000)] and problems == {}
    _, short = forms.shares(
        {"partner_0": "kitchen", "share_0": "33.33", "partner_1": "cinema", "share_1": "33.33", "partner_2": "choir", "share_2": "33.33"}
    )
    assert short == {"shares": "The shares add up to 99.99%; they must add up to exactly 100%."}
    _, twice = forms.shares({"partner_0": "kitchen", "share_0": "50", "partner_1": "kitchen", "share_1": "50"})
    assert "only once" in twice["shares"]
    _, missing = forms.shares({"share_1": "40"})
    assert set(missing) == {"partner_1"}
    assert forms.shares({})[1] == {"shares": "Give at least one partner project a share."}


def test_the_event_form_reads_wall_clock_times_and_pounds() -> None:
    event, problems = forms.event_create(
        {
            "title": "Supper",
            "starts_at": "2031-08-15T19:00",
            "ends_at": "2031-08-15T22:30",
            "capacity": "40",
            "booking_fee": "0.50",
            "cost_per_attendee": "4",
            "booking_fees_to": "costs",
            "allow_reentry": "on",
        }
    )
    assert problems == {} and event is not None
    assert event.starts_at == datetime(2031, 8, 15, 19, 0) and event.starts_at.tzinfo is None  # the service applies the zone
    assert (event.booking_fee_pence, event.cost_per_attendee_pence, event.booking_fees_to_cause, event.allow_reentry) == (50, 400, False, True)
    assert event.slug is None and event.status == "draft"


def test_every_unreadable_event_field_gets_its_own_message() -> None:
    event, problems = forms.event_create({"title": " ", "starts_at": "tomorrow", "capacity": "many", "booking_fee": "£lots"})
    assert event is None
    assert set(problems) == {"title", "starts_at", "ends_at", "capacity", "booking_fee"}
    _, too_long = forms.event_create({"title": "x" * 201, "starts_at": "2031-08-15T19:00", "ends_at": "2031-08-15T22:00", "capacity": "40"})
    assert too_long == {"title": "That is too long (at most 200 characters)."}
    _, bad_slug = forms.event_create(
        {"title": "Supper", "slug": "Supper Club!", "starts_at": "2031-08-15T19:00", "ends_at": "2031-08-15T22:00", "capacity": "40"}
    )
    assert set(bad_slug) == {"slug"}


def test_an_empty_quota_means_no_limit() -> None:
    patch, problems = forms.ticket_type_patch({"name": "Supper", "price": "0", "channel": "door", "quota": ""}, None)
    assert problems == {} and patch is not None and patch.quota is None and patch.price_pence == 0 and patch.channel == "door"
    _, no_price = forms.ticket_type_patch({"name": "Supper", "price": ""}, 3)
    assert set(no_price) == {"price"}


def test_the_event_form_reads_the_reminder_and_the_thank_you() -> None:
    base = {"title": "Supper", "starts_at": "2031-08-15T19:00", "ends_at": "2031-08-15T22:30", "capacity": "40"}
    event, problems = forms.event_create(base)
    assert problems == {} and event is not None
    assert (event.reminder_hours_before, event.thank_you_enabled) == (48, True)  # the defaults, whatever the form left out
    event, _ = forms.event_create({**base, "reminder": "on", "reminder_hours_before": " 24 ", "thank_you": "off"})
    assert event is not None and (event.reminder_hours_before, event.thank_you_enabled) == (24, False)
    patch, _ = forms.event_patch({**base, "reminder": "off", "reminder_hours_before": "24", "thank_you": "on"})
    assert patch is not None and patch.reminder_hours_before is None and patch.thank_you_enabled is True


@pytest.mark.parametrize("hours", ["0", "337", "-3", "two days", "1.5"])
def test_reminder_hours_outside_one_to_two_weeks_are_refused(hours: str) -> None:
    base = {"title": "Supper", "starts_at": "2031-08-15T19:00", "ends_at": "2031-08-15T22:30", "capacity": "40"}
    event, problems = forms.event_create({**base, "reminder": "on", "reminder_hours_before": hours})
    assert event is None
    assert problems == {"reminder_hours_before": "Enter a whole number of hours from 1 to 336 (two weeks), or choose no reminder."}
    assert forms.event_create({**base, "reminder": "off", "reminder_hours_before": hours})[1] == {}  # ignored when off
