"""Waiting lists' core: joining, offers of freed places, accepting and leaving.

STAND-IN on branch wl-organiser only: the core (helper wl-core) writes this module; these are the contracts the
organiser's side calls (DESIGN17), replaced at merge."""

from __future__ import annotations

from datetime import datetime


async def offer_to_entry(slug: str, entry_id: int, now: datetime) -> None:
    """The organiser's offer by hand: offer what is free to this entry now (Conflict ``no_places`` if nothing is)."""
    raise NotImplementedError("wl-core writes offer_to_entry")


async def withdraw_offer(entry_id: int, now: datetime) -> None:
    """Give back the places of the entry's open offer (its order's hold ends; a free place goes back to the free
    places) and pass them on, inside the caller's transaction; the caller sets the entry's status."""
    raise NotImplementedError("wl-core gives back an open offer's places")
