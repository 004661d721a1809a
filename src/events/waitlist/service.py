"""Waiting lists' service. STAND-IN (releases branch): the waitlist core (helper "wl-core") writes the real one; this
only lets "Can't come?" call it. Replace at merge."""

from __future__ import annotations

from datetime import datetime


async def offer_freed_places(event_id: int, now: datetime) -> int:
    """Offer whatever places are free to the next people waiting (stand-in: offers nothing)."""
    return 0
