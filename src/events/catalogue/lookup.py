"""Finding an event, or a partner, by its slug, for any service (kept apart from catalogue.service to avoid import cycles)."""

from __future__ import annotations

from typing import Any

from events.catalogue.tables import Event, Partner
from events.errors import InvalidInput, NotFound
from events.i18n import N_


async def find_event(slug: str) -> dict[str, Any]:
    """The event row (drafts included: callers are organisers or check their own rules), or a 404."""
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return event


async def partner_id(slug: str) -> int:
    """The id of the partner project with this slug (for a partner viewer's account), or bad input."""
    partner = await Partner.select(Partner.id).where(Partner.slug == slug).first()
    if partner is None:
        raise InvalidInput(f"Unknown partner project {slug!r}.", fields={"partner": "Unknown partner."})
    return partner["id"]
