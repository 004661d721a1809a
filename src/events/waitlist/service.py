"""Waiting lists' core: joining, offers of freed places, accepting and leaving.

STAND-IN on branch wl-organiser only: the core (helper wl-core) writes this module; these are the two contracts the
organiser's side calls (DESIGN17), replaced at merge by wl-core's service."""

from __future__ import annotations

from datetime import datetime


async def offer_freed_places(event_id: int, now: datetime) -> int:
    """Offer the event's free places to the next people on its waiting lists; how many offers were made. The stand-in
    offers nothing (the periodic sweep of wl-core's service would, a moment later)."""
    return 0


async def offer_to_entry(slug: str, entry_id: int, now: datetime) -> None:
    """The organiser's offer by hand: offer what is free to this entry now (Conflict ``no_places`` if nothing is)."""
    raise NotImplementedError("wl-core writes offer_to_entry")
