"""'Add to calendar': an iCalendar file for a ticket's event, in the order's language (no personal data in it)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from events import i18n
from events.i18n import N_
from events.tickets.views import TicketView

SUMMARY = N_("%(event)s (your ticket)")
YOUR_TICKET = N_("Your ticket: %(link)s")
RUN_BY = N_("Run by %(organisation)s")


def ticket_calendar(ticket: TicketView, *, base_url: str, now: datetime, locale: str) -> bytes:
    """The event as a calendar entry: its title, times and place, and a link back to the ticket, worded in ``locale``
    (the order's language, Order.locale)."""
    locale = locale if locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    gettext = i18n.translations(locale).gettext
    link = f"{base_url}{ticket.url}"
    # LANGUAGE tells a calendar which language the words are in (RFC 5545 3.2.10); the place is the organiser's own words.
    language = {"LANGUAGE": locale}
    calendar = Calendar()
    calendar.add("prodid", "-//events//tickets//EN")
    calendar.add("version", "2.0")
    entry = Event()
    entry.add("uid", f"ticket-{ticket.id}@{base_url.split('://')[-1]}")
    entry.add("dtstamp", now)
    entry.add("dtstart", ticket.starts_at)
    entry.add("dtend", ticket.ends_at)
    entry.add("summary", gettext(SUMMARY) % {"event": ticket.event_title}, parameters=language)
    description = [gettext(YOUR_TICKET) % {"link": link}, gettext(RUN_BY) % {"organisation": ticket.organisation.name}]
    entry.add("description", "\n".join(description), parameters=language)
    entry.add("location", ", ".join(part for part in (ticket.venue, ticket.address) if part))
    entry.add("url", link)
    calendar.add_component(entry)
    # DTSTART names the event's zone (TZID=Europe/London): RFC 5545 wants its VTIMEZONE in the file too, without which
    # some calendars (Outlook) guess the time wrong. icalendar writes it from the zone's own rules.
    calendar.add_missing_timezones()
    return calendar.to_ical()
