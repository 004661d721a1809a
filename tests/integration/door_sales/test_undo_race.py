"""Two phones at the door pressing Undo on the same sale at once, on a real multi-worker server: it is undone once
(one refund, the places back once), and every other press is told it was undone already.

PostgreSQL only (SQLite serialises writers). Skipped without TEST_DATABASE_URL; fails instead when
EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.factories import event_payload
from tests.support.server import organiser_on_postgres

pytestmark = pytest.mark.postgres_only

PRESSES = 20


@pytest.fixture
async def door_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with organiser_on_postgres(tmp_path, purpose="The door sale undo race tests", organiser="door-race@test.example", workers=2) as served:
        yield served


async def test_twenty_presses_of_undo_on_one_sale_undo_it_once(door_server) -> None:  # type: ignore[no-untyped-def]
    base_url, organiser, database_url = door_server
    payload = event_payload(
        datetime.now(timezone.utc),
        slug="undo-race",
        title="Undo race",
        capacity=10,
        reserved_free_places=0,
        ticket_types=[{"name": "Door", "price_pence": 900, "channel": "door"}],
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 10000}],
    )
    limits = httpx.Limits(max_connections=PRESSES, max_keepalive_connections=PRESSES)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        assert (await http.post("/api/partners", json={"name": "Welcome Kitchen"}, headers=organiser)).status_code == 201
        event = await http.post("/api/events", headers=organiser, json=payload)
        assert event.status_code == 201, event.text
        door_type = event.json()["ticket_types"][0]["id"]
        sold = await http.post(
            "/api/events/undo-race/door-sales",
            json={"items": [{"ticket_type": door_type, "quantity": 3}], "payment_method": "cash"},
            headers=organiser,
        )
        assert sold.status_code == 201, sold.text
        reference = sold.json()["reference"]
        start = asyncio.Event()

        async def press() -> httpx.Response:
            await start.wait()
            return await http.post(f"/api/events/undo-race/door-sales/{reference}/undo", headers=organiser)

        tasks = [asyncio.create_task(press()) for _ in range(PRESSES)]
        await asyncio.sleep(0.2)
        start.set()
        responses = await asyncio.gather(*tasks)
        assert Counter(r.status_code for r in responses) == {200: 1, 409: PRESSES - 1}
        assert {r.json()["error"] for r in responses if r.status_code == 409} == {"door_sale_undone"}
        assert (await http.get("/api/events/undo-race")).json()["places_left"] == 10
    connection = await asyncpg.connect(database_url)
    try:
        refunds = await connection.fetch("SELECT amount_pence, status FROM refund")
        assert [(row["amount_pence"], row["status"]) for row in refunds] == [(2700, "succeeded")]
        counters = await connection.fetchrow("SELECT places_taken FROM event WHERE slug = 'undo-race'")
        assert counters["places_taken"] == 0
        booked = await connection.fetchval("SELECT SUM(amount_pence) FROM ledger_entry WHERE kind IN ('payment', 'refund')")
        assert booked == 0
    finally:
        await connection.close()
