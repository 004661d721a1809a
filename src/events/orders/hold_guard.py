"""The hold limits, and a buyer replacing their own earlier hold, as the hold batch applies them inside its
transaction (orders.service._hold_locked). The rules themselves are in orders.hold_limits.

Every hold of an event is placed under that event's counter row locks, so what an email address holds
is read and added to one batch at a time: concurrent requests from one address cannot each see room for
themselves. The client counts are added to atomically (rate_limit_bucket) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import db
from events.errors import EventsError, InvalidInput, TooManyAttempts
from events.i18n import N_
from events.orders import hold_limits, queries
from events.orders.hold_limits import Ask, Held
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderLine
from events.ratelimit import service as ratelimit

CLIENT_SCOPE = "holds-per-client"


class HoldLimitReached(TooManyAttempts):
    code = "hold_limit_reached"


class TooManyHolds(TooManyAttempts):
    code = "too_many_holds"


class ClientHoldLimitReached(TooManyAttempts):
    code = "client_hold_limit_reached"


@dataclass(frozen=True, slots=True)
class ReplacedHold:
    """A buyer's earlier, still unpaid hold that their new one replaces, and the places it gives back."""

    order_id: int
    places_by_type: Mapping[int, int]
    code: int | None = None  # the code it was placed with: its use is given back too
    changed: bool = False  # the order the buyer used "Change order" on (else the hold their browser placed before)


@dataclass(frozen=True, slots=True)
class Replacing:
    """A buyer in a batch and the earlier holds they may replace: ``changes``, the order they used "Change order" on
    (its token came with the form), and ``replaces``, the hold their browser placed before (its held-order cookie)."""

    changes: str | None
    replaces: str | None
    buyer_name: str
    buyer_email: str


async def find_replaced(event_slug: str, asked: Mapping[int, Replacing]) -> dict[int, ReplacedHold]:
    """Position in the batch -> the pending hold on this event that the buyer there replaces: the order they are
    changing, whatever name and email the form now gives (they chose to change that order, with its token); else (it
    is no longer pending: the changed form sent twice, or again from the browser's history) the hold their browser
    placed before, only for the same buyer (hold_limits.same_buyer: the same email address, or the same name with a
    corrected address), so that on a shared computer another person's purchase leaves the first person's hold alone.
    Read before the locks, so the batch can lock the ticket types it gives back too (an order's lines never change);
    confirm_replaced checks it is still pending under the locks. Two requests naming one hold (a form sent
    twice) replace it once: the first does."""
    references = sorted({reference for ask in asked.values() for reference in (ask.changes, ask.replaces) if reference})
    if not references:
        return {}
    rows = await Order.select(Order.id, Order.reference, Order.buyer_name, Order.buyer_email, Order.code).where(
        Order.reference.is_in(references), Order.event.slug == event_slug, Order.status == OrderStatus.pending
    )
    found = {row["reference"]: (row["id"], (row["buyer_name"], row["buyer_email"])) for row in rows}
    code_of = {row["id"]: row["code"] for row in rows}
    if not found:
        return {}
    ids = [order_id for order_id, _ in found.values()]
    lines = await OrderLine.select(OrderLine.order_id, OrderLine.ticket_type, OrderLine.quantity).where(
        OrderLine.order_id.is_in(ids), OrderLine.kind == "ticket"
    )
    places: dict[int, dict[int, int]] = {order_id: {} for order_id in ids}
    for line in lines:
        per_type = places[line["order_id"]]
        per_type[line["ticket_type"]] = per_type.get(line["ticket_type"], 0) + line["quantity"]
    replaced: dict[int, ReplacedHold] = {}
    claimed: set[int] = set()
    for position in sorted(asked):
        ask = asked[position]
        changed = found.get(ask.changes or "")
        held = found.get(ask.replaces or "")
        if changed is not None and changed[0] not in claimed:
            order_id, is_changed = changed[0], True
        elif held is not None and held[0] not in claimed and hold_limits.same_buyer(held[1], (ask.buyer_name, ask.buyer_email)):
            order_id, is_changed = held[0], False
        else:
            continue
        claimed.add(order_id)
        replaced[position] = ReplacedHold(order_id, places[order_id], code_of[order_id], changed=is_changed)
    return replaced


async def confirm_replaced(replaced: Mapping[int, ReplacedHold], now: datetime) -> dict[int, ReplacedHold]:
    """Those of the replaced holds still pending, locked until the transaction ends (so a payment settling
    one of them waits, and then finds it replaced). Inside the batch's transaction, before the counters are
    locked: orders, then ticket types, then the event, as the sweeper and a late payment lock them."""
    if not replaced:
        return {}
    query = Order.select(Order.id).where(
        Order.id.is_in([hold.order_id for hold in replaced.values()]), Order.status == OrderStatus.pending, Order.hold_expires_at > now
    )
    pending = {row["id"] for row in await db.locked(query)}
    return {position: hold for position, hold in replaced.items() if hold.order_id in pending}


async def refusals(event_id: int, asks: Sequence[Ask | None], replaced: Collection[int], *, now: datetime) -> list[EventsError | None]:
    """For each ask (None: refused already), the error refusing it, or None. Counts every ask against its
    client's limit. ``replaced``: order ids of holds being replaced, which do not count against the email
    address. Inside the batch's transaction, under the event's locks."""
    now_epoch = int(now.timestamp())
    window = hold_limits.CLIENT_WINDOW_SECONDS
    hits = await ratelimit.add_many(CLIENT_SCOPE, hold_limits.holds_per_client(asks), window_seconds=window, now_epoch=now_epoch)
    held = await _held_by_email(event_id, {ask.email.strip() for ask in asks if ask is not None}, replaced, now)
    from_clients = await _held_by_client(event_id, {ask.client for ask in asks if ask is not None}, replaced, now)
    decisions = hold_limits.judge(
        asks,
        held,
        hits,
        now=now,
        client_window_left_seconds=ratelimit.window_left(window_seconds=window, now_epoch=now_epoch),
        client_held=from_clients,
    )
    return [None if decision is None else _error(decision) for decision in decisions]


def _error(refusal: hold_limits.Refusal) -> EventsError:
    if isinstance(refusal, hold_limits.TooManyHoldsFromClient):
        return TooManyHolds(
            N_("Too many orders have been started from your connection in the last minute. Please wait a minute, then try again."),
            retry_after_seconds=refusal.retry_after_seconds,
        )
    if isinstance(refusal, hold_limits.TooManyPlacesHeld):
        return HoldLimitReached(
            N_(
                "This email address already has as many unpaid places held for this event as one person can hold. "
                "Please pay for those first, or try again once they are released."
            ),
            retry_after_seconds=refusal.retry_after_seconds,
        )
    if isinstance(refusal, hold_limits.TooManyPlacesFromClient):
        return ClientHoldLimitReached(
            N_(
                "So many unpaid places for this event are already held from your connection that no more can be held from it for now. "
                "Please pay for the orders already started, or try again once their places are released."
            ),
            retry_after_seconds=refusal.retry_after_seconds,
        )
    message = N_("That is more places than one person can hold at once. Please choose fewer.")
    return InvalidInput(message, code="too_many_places", fields={"items": message})


async def _held_by_email(event_id: int, emails: Collection[str], replaced: Collection[int], now: datetime) -> dict[str, Held]:
    if not emails:
        return {}
    held: dict[str, Held] = {}
    if db.is_sqlite():  # no arrays to send the addresses in: the event's pending holds, matched here
        keys = {hold_limits.email_key(email) for email in emails}
        rows = await Order.select(Order.buyer_email, Order.places, Order.hold_expires_at).where(
            Order.event == event_id, Order.status == OrderStatus.pending, Order.hold_expires_at > now, Order.id.not_in(list(replaced) or [0])
        )
        for row in rows:
            key = hold_limits.email_key(row["buyer_email"])
            if key in keys:
                before = held.get(key, Held(0, None))
                ends = row["hold_expires_at"] if before.first_ends_at is None else min(before.first_ends_at, row["hold_expires_at"])
                held[key] = Held(before.places + row["places"], ends)
        return held
    # PostgreSQL: one look-up per address in the index on lower(buyer_email) (see queries.HELD_BY_EMAIL).
    for found in await db.run(queries.HELD_BY_EMAIL, sorted(emails), event_id, now, list(replaced)):
        held[hold_limits.email_key(found["email"])] = Held(int(found["places"]), found["first_ends_at"])
    return held


async def _held_by_client(event_id: int, clients: Collection[str], replaced: Collection[int], now: datetime) -> dict[str, Held]:
    """What each asking client (its client_digest) holds unpaid on the event: a look-up in the index on
    client_key, whose pending holds are few (the limit keeps them so)."""
    if not clients:
        return {}
    rows: Sequence[Mapping[str, Any]]
    if db.is_sqlite():  # no arrays to send the addresses in
        rows = await Order.select(Order.client_key, Order.places, Order.hold_expires_at).where(
            Order.client_key.is_in(sorted(clients)),
            Order.event == event_id,
            Order.status == OrderStatus.pending,
            Order.hold_expires_at > now,
            Order.id.not_in(list(replaced) or [0]),
        )
    else:
        rows = await db.run(queries.HELD_BY_CLIENT, sorted(clients), event_id, now, list(replaced))
    held: dict[str, Held] = {}
    for row in rows:
        before = held.get(row["client_key"], Held(0, None))
        ends = row["hold_expires_at"] if before.first_ends_at is None else min(before.first_ends_at, row["hold_expires_at"])
        held[row["client_key"]] = Held(before.places + row["places"], ends)
    return held
