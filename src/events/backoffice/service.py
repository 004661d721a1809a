"""An event at a glance for its organiser: sales, holds, free places, the door, and door conflicts."""

from __future__ import annotations

import dataclasses
from typing import Any

from events.catalogue.tables import Event
from events.checkin.service import conflicts
from events.errors import NotFound
from events.i18n import N_
from events.orders.claims import event_free_places
from events.orders.tables import Order

_COUNTS_SQL = """
SELECT
  COALESCE(SUM(CASE WHEN o.channel NOT IN ('claim', 'gift') THEN 1 ELSE 0 END), 0) AS sold,
  COALESCE(SUM(CASE WHEN t.checked_in_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS checked_in,
  COUNT(*) AS expected
FROM ticket t JOIN ticket_order o ON o.id = t.order_id
WHERE t.event = {} AND t.status = 'valid' AND o.status = 'paid'
"""
_HELD_SQL = "SELECT COALESCE(SUM(places), 0) AS held FROM ticket_order WHERE event = {} AND status = 'pending'"


async def event_overview(slug: str) -> dict[str, Any]:
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    counts = (await Order.raw(_COUNTS_SQL, event["id"]))[0]
    held = (await Order.raw(_HELD_SQL, event["id"]))[0]["held"]
    return {
        "event": event,
        "sold": int(counts["sold"]),
        "held": int(held),
        "checked_in": int(counts["checked_in"]),
        "expected": int(counts["expected"]),
        "free_places": dataclasses.asdict(await event_free_places(event)),
        "conflicts": await conflicts(event["id"]),
    }
