"""Helpers for the waiting-list tests: a sold-out event, joining through the API, and what the database holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from events.catalogue.tables import Event, TicketType
from events.tickets.tables import OutboxMessage
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.support.orders import pay_with_test_page, place_order


async def sold_out_event(client: httpx.AsyncClient, now: datetime, *, capacity: int = 2, max_per_order: int = 6, **changes: Any) -> str:
    """An on-sale supper club whose general places are all bought (paid)."""
    slug = await make_event(
        now,
        capacity=capacity,
        reserved_free_places=changes.pop("reserved_free_places", 0),
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": max_per_order}],
        **changes,
    )
    for index in range(capacity - (await event_row(slug))["reserved_free_places"]):
        created = await place_order(client, slug, quantity=1, buyer={"name": f"Diner {index}", "email": f"diner{index}@example.org"})
        assert created.status_code == 201, created.text
        await pay_with_test_page(client, created.json())
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 0
    return slug


async def event_row(slug: str) -> dict[str, Any]:
    row = await Event.select().where(Event.slug == slug).first()
    assert row is not None
    return row


async def type_row(slug: str) -> dict[str, Any]:
    event = await event_row(slug)
    row = await TicketType.select().where(TicketType.event == event["id"]).first()
    assert row is not None
    return row


async def join(client: httpx.AsyncClient, slug: str, name: str, *, quantity: int = 1, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"name": name, "quantity": quantity}
    if "email" not in extra and "phone" not in extra:
        body["email"] = f"{name.lower()}@example.org"
    body.update(extra)
    return await client.post(f"/api/events/{slug}/waiting-list", json=body)


async def joined(client: httpx.AsyncClient, slug: str, name: str, **extra: Any) -> str:
    response = await join(client, slug, name, **extra)
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


async def status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get(f"/api/waiting-list/{token}")
    assert response.status_code == 200, response.text
    return response.json()


async def entries() -> list[dict[str, Any]]:
    return await WaitingEntry.select().order_by(WaitingEntry.id)


async def offer_messages() -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.kind == "waiting_list_offer").order_by(OutboxMessage.id)
