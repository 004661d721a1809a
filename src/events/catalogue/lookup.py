"""Finding an event, or a partner, by its slug, for any service (kept apart from catalogue.service to avoid import cycles)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from events.catalogue.rules import NAME_CHANGES_CLOSE_HOURS_DEFAULT
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event, Partner
from events.errors import InvalidInput, NotFound
from events.i18n import N_


@dataclass(frozen=True, slots=True)
class EventRow:
    """An event as stored (times in UTC)."""

    id: int
    organisation: int
    slug: str
    title: str
    description: str
    venue: str
    address: str
    access_information: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    reserved_free_places: int
    status: EventStatus
    currency: str
    booking_fee_pence: int
    allow_reentry: bool
    pay_it_forward_place_pence: int
    pay_it_forward_converts_general: bool
    free_places_claimed: int
    cost_per_attendee_pence: int
    booking_fees_to_cause: bool
    unused_contributions: str
    places_taken: int
    reminder_hours_before: int | None
    thank_you_enabled: bool
    waiting_list_open: bool
    waiting_list_first: bool
    offer_hours: int
    refund_days_before: int | None
    created_at: datetime
    updated_at: datetime
    # The series it belongs to (catalogue.tables.Series), if any.
    series: int | None = None
    # Until how many hours before the start the buyer may change the names on their tickets (events.tickets.rules).
    name_changes_close_hours_before: int = NAME_CHANGES_CLOSE_HOURS_DEFAULT

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> EventRow:
        """From a row of ``Event.select()``."""
        return cls(**{column.name: row[column.name] for column in fields(cls)} | {"status": EventStatus(row["status"])})


async def find_event(slug: str) -> EventRow:
    """The event (drafts included: callers are organisers or check their own rules), or a 404."""
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return EventRow.of(event)


async def partner_id(slug: str) -> int:
    """The id of the partner project with this slug (for a partner viewer's account), or bad input."""
    partner = await Partner.select(Partner.id).where(Partner.slug == slug).first()
    if partner is None:
        raise InvalidInput(f"Unknown partner project {slug!r}.", fields={"partner": "Unknown partner."})
    return partner["id"]
