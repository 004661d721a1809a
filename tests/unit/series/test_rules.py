"""Where a copy's dates fall and what it is called: the same weekday of next month, sales windows moved in wall-clock
time at the venue, the month renamed in its title and address."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.series import rules

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), date(2026, 2, 5)),  # first Thursday -> first Thursday
        (date(2026, 8, 20), date(2026, 9, 17)),  # third Thursday -> third Thursday
        (date(2026, 1, 29), date(2026, 2, 26)),  # a fifth Thursday, and February has four: its last
        (date(2026, 12, 3), date(2027, 1, 7)),  # December -> January of the next year
        (date(2026, 1, 31), date(2026, 2, 28)),  # the fifth Saturday -> February's last
    ],
)
def test_the_same_weekday_of_next_month(day: date, expected: date) -> None:
    assert rules.same_weekday_next_month(day) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 11, 30)))
def test_next_months_date_is_the_same_weekday_in_the_same_or_last_week(day: date) -> None:
    found = rules.same_weekday_next_month(day)
    next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert (found.year, found.month) == (next_month.year, next_month.month)
    assert found.weekday() == day.weekday()
    week, found_week = (day.day - 1) // 7, (found.day - 1) // 7
    # The same week of the month, or (a fifth one next month lacks) the last of that weekday.
    assert found_week == week or (found_week < week and (found + timedelta(weeks=1)).month != found.month)


def test_a_copy_is_offered_next_months_date_at_the_same_local_time_and_length() -> None:
    # The third Thursday of October 2026 at 19:00 BST, to 22:30; November's is in GMT.
    starts = datetime(2026, 10, 15, 19, 0, tzinfo=LONDON)
    start, end = rules.next_dates(starts, starts + timedelta(hours=3, minutes=30), LONDON)
    assert (start, end) == (datetime(2026, 11, 19, 19, 0), datetime(2026, 11, 19, 22, 30))


def test_sales_windows_move_in_wall_clock_time_across_a_clock_change() -> None:
    old_start = datetime(2026, 10, 15, 19, 0, tzinfo=LONDON)  # BST
    new_start = datetime(2026, 11, 19, 19, 0, tzinfo=LONDON)  # GMT
    closes = datetime(2026, 10, 12, 9, 0, tzinfo=LONDON)  # 09:00 on the Monday before
    moved = rules.shift_wall_clock(closes, from_start=old_start, to_start=new_start, zone=LONDON)
    assert moved == datetime(2026, 11, 16, 9, 0, tzinfo=timezone.utc)  # still 09:00 at the venue, now GMT
    assert moved.tzinfo == timezone.utc


def test_a_time_without_an_offset_is_at_the_venue() -> None:
    assert rules.at_venue(datetime(2026, 7, 1, 19, 0), LONDON) == datetime(2026, 7, 1, 18, 0, tzinfo=timezone.utc)
    assert rules.at_venue(datetime(2026, 7, 1, 19, 0, tzinfo=timezone.utc), LONDON) == datetime(2026, 7, 1, 19, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("August Supper Club", "September Supper Club"),
        ("Supper club: august", "Supper club: september"),
        ("AUGUST NIGHTS", "SEPTEMBER NIGHTS"),
        ("First Thursday supper club", "First Thursday supper club"),
        ("Augustine's lecture", "Augustine's lecture"),  # a whole word only
    ],
)
def test_the_title_has_next_months_name(title: str, expected: str) -> None:
    assert rules.suggested_title(title, date(2026, 8, 20), date(2026, 9, 17)) == expected


def test_the_year_changes_with_the_month_in_december() -> None:
    assert rules.suggested_title("December Supper 2026", date(2026, 12, 3), date(2027, 1, 7)) == "January Supper 2027"
    assert rules.suggested_slug("december-supper-2026", date(2026, 12, 3), date(2027, 1, 7)) == "january-supper-2027"


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("august-supper-club", "september-supper-club"),
        ("supper-club", "supper-club-2026-09-17"),
        ("supper-club-2026-08-20", "supper-club-2026-09-17"),
        ("supper-club-2026-08", "supper-club-2026-09-17"),
        ("a" * 80, "a" * 69 + "-2026-09-17"),
    ],
)
def test_the_web_address_has_next_months_name_or_date(slug: str, expected: str) -> None:
    suggested = rules.suggested_slug(slug, date(2026, 8, 20), date(2026, 9, 17))
    assert suggested == expected and len(suggested) <= rules.MAX_SLUG


def test_a_copy_is_for_the_coming_years() -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert rules.dates_problem(datetime(2027, 6, 1, tzinfo=timezone.utc), now) is None
    assert rules.dates_problem(datetime(2026, 5, 1, tzinfo=timezone.utc), now) is None  # a date just passed: the organiser's choice
    assert rules.dates_problem(datetime(2062, 6, 1, tzinfo=timezone.utc), now) == "Choose a date within 10 years of today."
    assert rules.dates_problem(datetime(2006, 6, 1, tzinfo=timezone.utc), now) is not None
