"""What the catalogue shows about sales, which layers above it know: whether a ticket type has ever been ordered
(then it can only stop selling, never be removed), which events.orders.service registers; and how much buyers have
paid forward toward an event's free places, which events.ledger.service registers (it is what the orders paid, less
what refunds gave back of it, plus what the ledger carried in or out). The catalogue never imports either: they
register their answers here when imported (the app and the worker import both), as payments tell the ledger through
payments.bookkeeping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from events.catalogue.freeplaces import FreePlaces, free_places
from events.catalogue.lookup import EventRow

# Of these ticket type ids, the ones some order (in any status) has a line for.
OrderedTicketTypes = Callable[[Collection[int]], Awaitable[set[int]]]
# Money paid forward toward the event's free places, in pence.
PayItForwardPence = Callable[[int], Awaitable[int]]
_ordered: OrderedTicketTypes | None = None
_paid_forward: PayItForwardPence | None = None


def register_orders(ordered: OrderedTicketTypes) -> None:
    global _ordered  # noqa: PLW0603 - set once, when orders is imported
    _ordered = ordered


def register_pay_it_forward(paid_forward: PayItForwardPence) -> None:
    global _paid_forward  # noqa: PLW0603 - set once, when the ledger is imported
    _paid_forward = paid_forward


async def ordered_ticket_types(type_ids: Collection[int]) -> set[int]:
    if not type_ids:
        return set()
    if _ordered is None:
        raise RuntimeError("Nothing tells the catalogue about orders: import events.orders.service first (the app and the worker do).")
    return await _ordered(type_ids)


async def event_free_places(event: EventRow) -> FreePlaces:
    """An event's free places now, from its counters and the money paid forward."""
    return free_places(
        capacity=event.capacity,
        reserved=event.reserved_free_places,
        places_taken=event.places_taken,
        claimed=event.free_places_claimed,
        contributions_pence=await _pay_it_forward_pence(event.id),
        place_value_pence=event.pay_it_forward_place_pence,
        converts_general=event.pay_it_forward_converts_general,
    )


async def _pay_it_forward_pence(event_id: int) -> int:
    if _paid_forward is None:
        raise RuntimeError("Nothing tells the catalogue what was paid forward: import events.ledger.service first (the app and the worker do).")
    return await _paid_forward(event_id)


@dataclass(frozen=True, slots=True)
class HeldBack:
    """Places kept from general sale (and from the organiser's free places) for the guests on an event's waiting
    lists: the places the waiting list would offer them now (events.waitlist plans it). Freed places wait for the
    list's offers instead of going to the fastest buyer. The free-place list is offered only free places beyond those
    live claim links still have to give, so a claim through a link with places left is never held back."""

    places: int = 0  # general places of the event
    by_type: Mapping[int, int] = field(default_factory=dict)  # of those, per ticket type
    free: int = 0  # free places, for the free-place waiting list (none of those a claim link still has to give)


# The waiting lists sit above the catalogue and orders: events.waitlist registers what it holds back when imported.
WaitingListHold = Callable[[int, datetime], Awaitable[HeldBack]]
_waiting_list: WaitingListHold | None = None


def register_waiting_list(hold: WaitingListHold) -> None:
    global _waiting_list  # noqa: PLW0603 - set once, when the waiting lists are imported
    _waiting_list = hold


async def held_for_waiting_list(event_id: int, now: datetime) -> HeldBack:
    """What the event's waiting lists hold back now (nothing when no waiting list is registered). Read under the
    event's counter locks by those who take places, so it cannot change under them (the lists' offers take the same
    locks)."""
    return await _waiting_list(event_id, now) if _waiting_list is not None else HeldBack()
