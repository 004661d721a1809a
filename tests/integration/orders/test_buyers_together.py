"""Buyers who arrive together are held in one transaction, and each still gets their own answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest

from events.catalogue.tables import Event, TicketType
from events.orders import service
from events.orders.tables import Order, OrderLine
from tests.factories import make_event
from tests.support.orders import ticket_type_id


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many buyers each hold transaction took."""
    sizes: list[int] = []
    work = service._HOLDS._work

    async def recording(key: Hashable, batch: Sequence[Any]) -> Any:
        sizes.append(len(batch))
        return await work(key, batch)

    monkeypatch.setattr(service._HOLDS, "_work", recording)
    return sizes


async def test_buyers_in_one_batch_get_a_hold_a_refusal_or_sold_out_each(client: httpx.AsyncClient, now: datetime, batch_sizes: list[int]) -> None:
    slug = await make_event(now, capacity=23, reserved_free_places=20)  # three places for sale
    supper = await ticket_type_id(client, slug)

    def body(index: int, items: list[dict[str, int]], **extra: Any) -> dict[str, Any]:
        return {"buyer": {"name": f"Buyer {index}", "email": f"buyer{index}@example.org"}, "items": items, **extra}

    bodies = {
        "two": body(1, [{"ticket_type": supper, "quantity": 2}]),
        "two again": body(2, [{"ticket_type": supper, "quantity": 2}]),
        "one": body(3, [{"ticket_type": supper, "quantity": 1}]),
        "unknown type": body(4, [{"ticket_type": supper + 1000, "quantity": 1}]),
        "over the maximum": body(5, [{"ticket_type": supper, "quantity": 60}]),
        "donation only": body(6, [], donation_pence=500),
    }
    responses = dict(zip(bodies, await asyncio.gather(*[client.post(f"/api/events/{slug}/orders", json=b) for b in bodies.values()]), strict=True))

    assert max(batch_sizes) > 1, batch_sizes  # they really were held together
    assert responses["unknown type"].status_code == 422
    assert responses["unknown type"].json()["fields"] == {"items[0].ticket_type": "This event has no such ticket type."}
    assert responses["over the maximum"].status_code == 422
    assert responses["donation only"].status_code == 201  # takes no place, so fits in a full event
    tickets = {name: responses[name] for name in ("two", "two again", "one")}
    outcomes = Counter(r.status_code for r in tickets.values())
    assert outcomes == {201: 2, 409: 1}  # whatever the arrival order, 3 places make two of these orders
    assert all(r.json()["error"] == "sold_out" for r in tickets.values() if r.status_code == 409)

    created = [r.json() for r in responses.values() if r.status_code == 201]
    orders = {o["reference"]: o for o in await Order.select().where(Order.event.slug == slug)}
    assert set(orders) == {c["reference"] for c in created}
    for order in created:
        row = orders[order["reference"]]
        assert row["status"] == "pending" and row["total_pence"] == order["total_pence"]
        assert row["payment_provider"] == "test" and row["payment_intent_id"] == f"test_{order['reference']}"
    sold = sum(row["places"] for row in orders.values())
    assert sold == 3
    event = await Event.select(Event.places_taken).where(Event.slug == slug).first()
    [type_row] = await TicketType.select(TicketType.places_taken).where(TicketType.event.slug == slug)
    lines = await OrderLine.select(OrderLine.quantity).where(OrderLine.order_id.event.slug == slug, OrderLine.kind == "ticket")
    assert event["places_taken"] == type_row["places_taken"] == sum(line["quantity"] for line in lines) == 3
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 0


async def test_a_batch_for_an_event_that_does_not_exist_is_refused_for_everyone_in_it(client: httpx.AsyncClient) -> None:
    body = {"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": 1, "quantity": 1}]}
    responses = await asyncio.gather(*[client.post("/api/events/no-such-night/orders", json=body) for _ in range(3)])
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["error"] for r in responses} == {"event_not_found"}


async def test_a_batch_broken_off_by_a_deadlock_is_held_again_rather_than_failing_its_buyers(
    client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    hold_locked = service._hold_locked
    attempts = 0

    async def deadlocked_once(*args: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            # What PostgreSQL raises when it breaks a lock cycle (the transaction was rolled back).
            raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
        return await hold_locked(*args)

    monkeypatch.setattr(service, "_hold_locked", deadlocked_once)
    slug = await make_event(now, capacity=21, reserved_free_places=20)
    body = {"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": await ticket_type_id(client, slug), "quantity": 1}]}
    response = await client.post(f"/api/events/{slug}/orders", json=body)
    assert response.status_code == 201, response.text
    assert attempts == 2
    assert await Order.count().where(Order.event.slug == slug) == 1
