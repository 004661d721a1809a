"""The calendar file: the event's times and place, worded in the order's language, and no personal data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from gettext import NullTranslations

import pytest
from icalendar import Calendar

from events import i18n
from events.tickets import calendar
from tests.support.ticket_pdfs import START, ticket

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://tickets.example.org"


def entry_of(document: bytes):  # type: ignore[no-untyped-def]
    [entry] = [component for component in Calendar.from_ical(document).walk() if component.name == "VEVENT"]
    return entry


def test_an_arabic_order_gets_its_calendar_entry_in_arabic() -> None:
    view = replace(ticket(1), locale="ar")
    document = calendar.ticket_calendar(view, base_url=BASE_URL, now=NOW, locale="ar")
    entry = entry_of(document)
    gettext = i18n.translations("ar").gettext
    assert str(entry["summary"]) == gettext(calendar.SUMMARY) % {"event": "August Supper Club"}
    description = str(entry["description"]).splitlines()
    assert description == [
        gettext(calendar.YOUR_TICKET) % {"link": f"{BASE_URL}{view.url}"},
        "تنظّمه Refugee Kitchen",  # 'Run by Refugee Kitchen', from the Arabic catalogue
    ]
    assert entry["summary"].params["LANGUAGE"] == entry["description"].params["LANGUAGE"] == "ar"
    assert str(entry["location"]) == "St Margaret's Community Hall, 12 Example Road, London E8 1AA"
    assert entry.decoded("dtstart") == START and str(entry["url"]) == f"{BASE_URL}{view.url}"
    assert view.holder not in document.decode()  # people forward calendar files


def test_every_sentence_of_the_entry_comes_from_the_order_language_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the catalogue has them (translations are done in one pass), summary and description are all Arabic."""
    arabic = {
        calendar.SUMMARY: "%(event)s (تذكرتك)",
        calendar.YOUR_TICKET: "تذكرتك: %(link)s",
        calendar.RUN_BY: "تنظّمه %(organisation)s",
    }

    class Catalogue(NullTranslations):
        def gettext(self, message: str) -> str:
            return arabic.get(message, message)

    asked: list[str] = []
    monkeypatch.setattr(i18n, "translations", lambda locale: asked.append(locale) or Catalogue())
    entry = entry_of(calendar.ticket_calendar(ticket(1), base_url=BASE_URL, now=NOW, locale="ar"))
    assert asked == ["ar"]
    assert str(entry["summary"]) == "August Supper Club (تذكرتك)"
    assert str(entry["description"]).splitlines() == [f"تذكرتك: {BASE_URL}{ticket(1).url}", "تنظّمه Refugee Kitchen"]


@pytest.mark.parametrize(("locale", "expected"), [("en", "en"), ("fr", "fr"), ("de", "en")])
def test_the_entry_is_in_the_order_language_or_english(locale: str, expected: str) -> None:
    entry = entry_of(calendar.ticket_calendar(ticket(1), base_url=BASE_URL, now=NOW, locale=locale))
    assert entry["summary"].params["LANGUAGE"] == expected
    run_by = i18n.translations(expected).gettext(calendar.RUN_BY) % {"organisation": "Refugee Kitchen"}
    assert str(entry["description"]).splitlines()[1] == run_by
    if expected == "en":
        assert str(entry["summary"]) == "August Supper Club (your ticket)"


def test_the_zone_the_times_name_is_defined_in_the_file() -> None:
    """DTSTART;TZID=Europe/London needs its VTIMEZONE (RFC 5545 3.6.5): without it some calendars show another time.
    The definition must put the start at the same instant the ticket says."""
    document = calendar.ticket_calendar(ticket(1), base_url=BASE_URL, now=NOW, locale="en")
    parsed = Calendar.from_ical(document)
    entry = entry_of(document)
    zone = entry["dtstart"].params["TZID"]
    [definition] = [component for component in parsed.walk() if component.name == "VTIMEZONE"]
    assert str(definition["TZID"]) == zone == START.tzinfo.key  # type: ignore[union-attr]
    offsets = {component.decoded("TZOFFSETTO") for component in definition.walk() if component.name in ("STANDARD", "DAYLIGHT")}
    assert START.utcoffset() in offsets
