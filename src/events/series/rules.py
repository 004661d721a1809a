"""Repeat-event rules: where a copy's sales windows fall, and the date, title and web address a copy is offered
(the same weekday of next month: the first Thursday of May becomes the first Thursday of June). Pure."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from events.catalogue import rules as catalogue_rules

MONTHS = tuple(calendar.month_name)[1:]  # English, as slugs and the back office are
MAX_SLUG = 80
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}(?:-\d{2})?$")


# A copy is for the coming years: a date further away (before or after now) is a typing mistake.
YEARS_AWAY = 10


def dates_problem(starts_at: datetime, now: datetime) -> str | None:
    """Why a copy cannot start then (None when it can): more than YEARS_AWAY years before or after now."""
    if abs(starts_at - now) > timedelta(days=365 * YEARS_AWAY):
        return f"Choose a date within {YEARS_AWAY} years of today."
    return None


def at_venue(moment: datetime, zone: ZoneInfo) -> datetime:
    """A time without an offset is a wall-clock time at the venue (as on the event form); in UTC."""
    return catalogue_rules.at_venue(moment, zone)


def shift_wall_clock(moment: datetime, *, from_start: datetime, to_start: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` moved as the event moved from ``from_start`` to ``to_start``, in wall-clock time at the venue, in
    UTC: a window closing at 09:00 on the Monday before stays 09:00 on the Monday before, across a clock change."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    offset = to_start.astimezone(zone).replace(tzinfo=None) - from_start.astimezone(zone).replace(tzinfo=None)
    return (local + offset).replace(tzinfo=zone).astimezone(timezone.utc)


def same_weekday_next_month(day: date) -> date:
    """The same weekday in the same week of next month: the first Thursday gives next month's first Thursday; a
    fifth one, where next month has none, gives its last."""
    week = (day.day - 1) // 7
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    first = date(year, month, 1)
    candidate = first + timedelta(days=(day.weekday() - first.weekday()) % 7 + 7 * week)
    while candidate.month != month:
        candidate -= timedelta(weeks=1)
    return candidate


def next_dates(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The dates a copy is offered: the same weekday of next month at the same time at the venue, lasting as long
    (local wall-clock times, no offset, as the back-office form shows them)."""
    start = starts_at.astimezone(zone).replace(tzinfo=None)
    end = ends_at.astimezone(zone).replace(tzinfo=None)
    new_start = datetime.combine(same_weekday_next_month(start.date()), start.time())
    return new_start, new_start + (end - start)


def _renamed_month(text: str, old: date, new: date, *, lower: bool) -> tuple[str, bool]:
    """``text`` with the old month's English name (a whole word) replaced by the new one's, and its year too."""
    old_month, new_month = MONTHS[old.month - 1], MONTHS[new.month - 1]
    pattern = re.compile(rf"\b{old_month}\b", re.IGNORECASE)
    if not pattern.search(text):
        return text, False

    def month(match: re.Match[str]) -> str:
        found = match.group(0)
        if lower or found.islower():
            return new_month.lower()
        return new_month.upper() if found.isupper() else new_month

    renamed = pattern.sub(month, text)
    if old.year != new.year:
        renamed = re.sub(rf"\b{old.year}\b", str(new.year), renamed)
    return renamed, True


def suggested_title(title: str, old: date, new: date) -> str:
    """The copy's title: "August Supper Club" becomes "September Supper Club"; any other title stays."""
    return _renamed_month(title, old, new, lower=False)[0]


def suggested_slug(slug: str, old: date, new: date) -> str:
    """The copy's web address: the month renamed ("august-supper-club" -> "september-supper-club"), else the new date
    in place of a date at the end, else added ("supper-club" -> "supper-club-2026-09-03")."""
    renamed, changed = _renamed_month(slug, old, new, lower=True)
    if changed and renamed != slug:
        return renamed[:MAX_SLUG].strip("-")
    stem = _DATE_SUFFIX.sub("", slug)
    suffix = f"-{new.isoformat()}"
    return stem[: MAX_SLUG - len(suffix)].strip("-") + suffix
