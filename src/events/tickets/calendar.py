"""'Add to calendar': an iCalendar file for a ticket's event (no personal data in it)."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from events.tickets.views import TicketView


def ticket_calendar(ticket: TicketView, *, base_url: str, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//events//tickets//EN")
    calendar.add("version", "2.0")
    entry = Event()
    entry.add("uid", f"ticket-{ticket.id}@{base_url.split('://')[-1]}")
    entry.add("dtstamp", now)
    entry.add("dtstart", ticket.starts_at)
    entry.add("dtend", ticket.ends_at)
    entry.add("summary", ticket.event_title)
    entry.add("location", ", ".join(part for part in (ticket.venue, ticket.address) if part))
    entry.add("url", f"{base_url}{ticket.url}")
    calendar.add_component(entry)
    return calendar.to_ical()
