"""What a guest's code opens on the event page: the hidden ticket types it unlocks and the prices after its discount."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from events.catalogue import service as catalogue
from events.catalogue.schemas import EventDetailOut
from events.codes import rules
from events.codes.service import Guesser, find_for_buyer, refused
from events.errors import EventsError


@dataclass(frozen=True, slots=True)
class Offer:
    """A code that works now, as the event page shows it. ``prices``: one ticket's price after a percentage off, by
    ticket type id (a fixed amount is off the whole order's tickets, so no single ticket has a price of its own)."""

    code: str
    discount_percent: int | None
    discount_pence: int | None
    unlocks: frozenset[int]
    prices: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventWithCode:
    """The event as a guest with ``typed`` sees it: with the code's offer, or what is wrong with the code (nothing
    unlocked then)."""

    event: EventDetailOut
    typed: str
    offer: Offer | None = None
    error: EventsError | None = None
    # The code itself, when it works now (the buy form quotes the order with it before asking questions).
    found: rules.Code | None = None


async def event_with_code(slug: str, typed: str, guesser: Guesser, *, now: datetime, yours: Mapping[int, int] | None = None) -> EventWithCode:
    """The event page's event, with what the code the guest typed opens. A wrong code counts against the guest's
    budgets of wrong codes (codes.service.find_for_buyer); it, or one outside its validity window, is the page's
    error. ``yours``: the places of the order the guest is changing (catalogue.service.get_event_detail)."""
    typed = typed.strip()
    if not typed:
        return EventWithCode(await catalogue.get_event_detail(slug, now, yours=yours), "")
    try:
        found = await find_for_buyer(slug, typed, guesser, now=now)
    except EventsError as error:
        # Known events only: an unknown event is the page's 404 whatever the code.
        return EventWithCode(await catalogue.get_event_detail(slug, now, yours=yours), typed, error=error)
    # Its uses are not judged here: they are counted with the places when an order is placed (a buyer whose own hold
    # holds the last use may still replace that hold with a new one).
    refusal = rules.refusal(found, now)
    if refusal is not None:
        return EventWithCode(await catalogue.get_event_detail(slug, now, yours=yours), typed, error=refused(refusal))
    event = await catalogue.get_event_detail(slug, now, unlocked=found.unlocks, yours=yours)
    prices = {t.id: rules.paid_prices([t.price_pence], found)[0][0] for t in event.ticket_types} if found.discount_percent else {}
    offer = Offer(found.code, found.discount_percent, found.discount_pence, found.unlocks, prices)
    return EventWithCode(event, found.code, offer, found=found)
