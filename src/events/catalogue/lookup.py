"""Finding an event by its slug, for any service (kept apart from catalogue.service to avoid import cycles)."""

from __future__ import annotations

from typing import Any

from events.catalogue.tables import Event
from events.errors import NotFound
from events.i18n import N_


async def find_event(slug: str) -> dict[str, Any]:
    """The event row (drafts included: callers are organisers or check their own rules), or a 404."""
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return event
