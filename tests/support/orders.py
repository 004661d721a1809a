"""Helpers for buying through the HTTP API, as a guest's browser or app would."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar


async def ticket_type_id(client: httpx.AsyncClient, slug: str, name: str | None = None) -> int:
    types = (await client.get(f"/api/events/{slug}")).json()["ticket_types"]
    return next(t["id"] for t in types if name is None or t["name"] == name)


async def place_order(client: httpx.AsyncClient, slug: str, quantity: int = 1, type_name: str | None = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
        "items": [{"ticket_type": await ticket_type_id(client, slug, type_name), "quantity": quantity}],
    }
    body.update(extra)
    return await client.post(f"/api/events/{slug}/orders", json=body)


async def pay_with_test_page(client: httpx.AsyncClient, created: dict[str, Any]) -> httpx.Response:
    """What the 'Pay (test)' button does: post the checkout page's form with its CSRF token.

    A page left open after the hold ran out can still be submitted, so when the checkout page has moved
    on (the order is no longer pending) the form is posted with a token from another page."""
    page = await client.get(created["payment"]["url"])
    if page.status_code != 200:
        page = await client.get("/login")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf, "the test payment form carries a CSRF token"
    return await client.post(f"/orders/{created['reference']}/test-payment", data={"token": created["access_token"], "_csrf_token": csrf.group(1)})


async def get_order(client: httpx.AsyncClient, created: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/api/orders/{created['reference']}", headers={"Authorization": f"Bearer {created['access_token']}"})
    assert response.status_code == 200, response.text
    return response.json()


@asynccontextmanager
async def another_browser(app: Litestar, client_address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookies), on the app of the `client` fixture, from ``client_address``."""
    transport = httpx.ASGITransport(app=app, client=(client_address, 123))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def refund_refused_by_stripe(http: httpx.AsyncClient, reference: str, *, token: str, database: Path, amount_pence: int = 500) -> int:
    """Part of a paid order refunded through the organiser API on a live demo server (the test payment provider takes
    it), then marked refused in the server's SQLite file, as Stripe refuses a refund to a closed card: the order's
    back-office page shows the form that records how the money was given back instead. Returns the refund's id."""
    refund = await http.post(
        f"/api/orders/{reference}/refunds",
        json={"amount_pence": amount_pence, "reason": "Arrived late"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refund.status_code == 201, refund.text
    refund_id = int(refund.json()["id"])
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE refund SET status = 'failed' WHERE id = ?", (refund_id,))
    connection.close()
    return refund_id
