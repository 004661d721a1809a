"""Card payments against localstripe, a stateful fake Stripe, through the official Stripe SDK.

Two ways to run the app:

- `stripe_server` / `stripe_pg_server`: a real server process (`events serve`, seeded with the demo) whose
  Stripe settings point at localstripe, with localstripe's signed webhooks registered to
  <server>/webhooks/stripe. The test reads the server's database with plain SQL (`ServerDatabase`).
- `stripe_app`: the in-process app of tests/conftest.py (SQLite and PostgreSQL, tables emptied per test)
  with a real `StripeGateway` pointing at localstripe swapped in for the test. Webhooks cannot reach it from
  localstripe, so tests post signed events themselves; jobs such as the hold sweeper run in-process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg
import httpx
import pytest
from litestar import Litestar

from events.config import Settings, StripeSettings
from events.payments.gateway import StripeGateway
from events.payments.gateways import Gateways
from tests.support import databases
from tests.support.localstripe import WEBHOOK_SECRET, LocalStripe, event_payload, run_localstripe, sign
from tests.support.server import demo_environment, live_server

BUYER = {"name": "Amal Haddad", "email": "amal@example.org"}


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    with run_localstripe(tmp_path_factory.mktemp("localstripe")) as handle:
        yield handle


# --- a real server process ------------------------------------------------------------------------------


@dataclass
class ServerDatabase:
    """Plain SQL on a live server's database (the test process's Piccolo engine belongs to the `app` fixture)."""

    url: str

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """`sql` uses ? placeholders; they become $1, $2... on PostgreSQL."""
        if self.url.startswith("sqlite"):
            path = unquote(urlsplit(self.url).path)

            def query() -> list[dict[str, Any]]:
                connection = sqlite3.connect(path, timeout=30)
                connection.row_factory = sqlite3.Row
                try:
                    return [dict(row) for row in connection.execute(sql, args).fetchall()]
                finally:
                    connection.close()

            return await asyncio.to_thread(query)
        counter = iter(range(1, 1000))
        connection = await asyncpg.connect(self.url)
        try:
            records = await connection.fetch(re.sub(r"\?", lambda _: f"${next(counter)}", sql), *args)
        finally:
            await connection.close()
        return [dict(record) for record in records]

    async def value(self, sql: str, *args: Any) -> Any:
        rows = await self.rows(sql, *args)
        assert len(rows) == 1, rows
        return next(iter(rows[0].values()))


@dataclass
class StripeServer:
    backend: str
    base_url: str
    env: dict[str, str]
    db: ServerDatabase
    localstripe: LocalStripe
    webhook_id: str

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=20)

    def register_webhook(self, secret: str = WEBHOOK_SECRET) -> None:
        self.localstripe.register_webhook(self.webhook_id, f"{self.base_url}/webhooks/stripe", secret)


@dataclass
class GuestOrder:
    """An order placed through POST /api/events/{slug}/orders, and how its guest reads it back."""

    reference: str
    access_token: str
    intent_id: str
    client_secret: str
    total_pence: int
    created: dict[str, Any]

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def page(self) -> str:
        return f"/orders/{self.reference}?token={self.access_token}"


async def ticket_type_id(http: httpx.AsyncClient, slug: str, name: str | None = None) -> int:
    response = await http.get(f"/api/events/{slug}")
    assert response.status_code == 200, response.text
    return next(t["id"] for t in response.json()["ticket_types"] if name is None or t["name"] == name)


async def places_left(http: httpx.AsyncClient, slug: str) -> int:
    return (await http.get(f"/api/events/{slug}")).json()["places_left"]


async def place_order(
    http: httpx.AsyncClient, slug: str, quantity: int = 2, type_name: str | None = None, buyer: dict[str, str] = BUYER
) -> GuestOrder:
    """POST /api/events/{slug}/orders for one ticket type: places held, a PaymentIntent created at Stripe."""
    body = {"buyer": buyer, "items": [{"ticket_type": await ticket_type_id(http, slug, type_name), "quantity": quantity}]}
    response = await http.post(f"/api/events/{slug}/orders", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["payment"]["provider"] == "stripe", created
    return GuestOrder(
        reference=created["reference"],
        access_token=created["access_token"],
        intent_id=created["payment"]["payment_intent"],
        client_secret=created["payment"]["client_secret"],
        total_pence=created["total_pence"],
        created=created,
    )


async def read_order(http: httpx.AsyncClient, order: GuestOrder) -> dict[str, Any]:
    """GET /api/orders/{ref}: only reads our database (unlike the order page, it never asks Stripe)."""
    response = await http.get(f"/api/orders/{order.reference}", headers=order.bearer)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for(check: Any, *, timeout: float = 10.0, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def post_event(
    http: httpx.AsyncClient, event_type: str, obj: dict[str, Any], *, event_id: str | None = None, secret: str = WEBHOOK_SECRET
) -> httpx.Response:
    """Deliver a webhook the way Stripe does: a JSON Event body with a Stripe-Signature header."""
    payload = event_payload(event_type, obj, event_id=event_id)
    return await http.post(
        "/webhooks/stripe", content=payload, headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)}
    )


def _start_server(localstripe: LocalStripe, database_url: str, var_dir: Path, backend: str, workers: int) -> Iterator[StripeServer]:
    env = demo_environment(var_dir, database_url, **localstripe.environment())
    with live_server(env, workers=workers) as base_url:
        server = StripeServer(backend, base_url, env, ServerDatabase(database_url), localstripe, webhook_id=f"events-{backend}")
        server.register_webhook()
        yield server


@pytest.fixture(scope="session")
def stripe_server(localstripe: LocalStripe, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StripeServer]:
    """`events serve` on a fresh SQLite database, demo seeded, paying through localstripe."""
    var_dir = tmp_path_factory.mktemp("stripe-server")
    yield from _start_server(localstripe, databases.sqlite_url(var_dir), var_dir, "sqlite", workers=1)


@pytest.fixture(scope="session")
async def stripe_pg_server(localstripe: LocalStripe, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StripeServer]:
    """The same on a fresh PostgreSQL database, with two server processes so requests race for real."""
    if not databases.postgres_available():
        if databases.REQUIRE_POSTGRES:
            pytest.fail("EVENTS_TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = await databases.create_postgres_database()
    try:
        for server in _start_server(localstripe, url, tmp_path_factory.mktemp("stripe-pg-server"), "postgres", workers=2):
            yield server
    finally:
        await databases.drop_postgres_database(url)


# --- the in-process app, paying through localstripe ----------------------------------------------------------


@dataclass
class StripeApp:
    http: httpx.AsyncClient
    gateway: StripeGateway
    localstripe: LocalStripe
    gateways: Gateways
    settings: Settings


@pytest.fixture
async def stripe_app(app: Litestar, client: httpx.AsyncClient, localstripe: LocalStripe) -> AsyncIterator[StripeApp]:
    """The `client` app (both backends, empty tables) with its payment gateway pointed at localstripe."""
    original_settings, original_gateways = app.state.settings, app.state.gateways
    stripe_settings = StripeSettings(
        secret_key=localstripe.secret_key,
        publishable_key=localstripe.publishable_key,
        webhook_secret=WEBHOOK_SECRET,
        api_base=localstripe.url,
        js_url=localstripe.js_url,
    )
    gateway = StripeGateway(stripe_settings)
    app.state.settings = dataclasses.replace(original_settings, stripe=stripe_settings)
    # The environment's account: the first (here the only) organisation's, as in a single-organisation installation.
    app.state.gateways = Gateways(gateway, app.state.settings)
    try:
        yield StripeApp(client, gateway, localstripe, app.state.gateways, app.state.settings)
    finally:
        app.state.settings, app.state.gateways = original_settings, original_gateways
