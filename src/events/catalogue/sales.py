"""What the catalogue shows about sales, which orders (a layer above) know: whether a ticket type has ever been
ordered (then it can only stop selling, never be removed), and how much buyers have paid forward toward an
event's free places. The catalogue never imports orders: events.orders.service registers the answers here when
it is imported (the app and the worker import it), as payments tell the ledger through payments.bookkeeping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from events.catalogue.freeplaces import FreePlaces, free_places
from events.catalogue.lookup import EventRow


@dataclass(frozen=True, slots=True)
class SalesFacts:
    # Of these ticket type ids, the ones some order (in any status) has a line for.
    ordered_ticket_types: Callable[[Collection[int]], Awaitable[set[int]]]
    # Money paid forward toward the event's free places, in pence (paid orders, plus any carried in or out).
    pay_it_forward_pence: Callable[[int], Awaitable[int]]


_facts: SalesFacts | None = None


def register(facts: SalesFacts) -> None:
    global _facts  # noqa: PLW0603 - set once, when orders is imported
    _facts = facts


def _registered() -> SalesFacts:
    if _facts is None:
        raise RuntimeError("Nothing tells the catalogue about sales: import events.orders.service first (the app and the worker do).")
    return _facts


async def ordered_ticket_types(type_ids: Collection[int]) -> set[int]:
    return await _registered().ordered_ticket_types(type_ids) if type_ids else set()


async def event_free_places(event: EventRow) -> FreePlaces:
    """An event's free places now, from its counters and the money paid forward."""
    return free_places(
        capacity=event.capacity,
        reserved=event.reserved_free_places,
        places_taken=event.places_taken,
        claimed=event.free_places_claimed,
        contributions_pence=await _registered().pay_it_forward_pence(event.id),
        place_value_pence=event.pay_it_forward_place_pence,
        converts_general=event.pay_it_forward_converts_general,
    )
