"""100 guests claim at once for 20 free places on a real multi-worker server: exactly 20 tickets.

PostgreSQL only (SQLite serialises writers). Skipped without TEST_DATABASE_URL; fails instead when
EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.server import organiser_on_postgres

pytestmark = pytest.mark.postgres_only

GUESTS = 100
FREE_PLACES = 20


@pytest.fixture
async def claim_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with organiser_on_postgres(tmp_path, purpose="The claim race tests", organiser="claims@test.example", workers=4) as served:
        yield served


async def test_a_hundred_guests_racing_for_twenty_free_places(claim_server) -> None:  # type: ignore[no-untyped-def]
    base_url, organiser, database_url = claim_server
    starts = datetime.now(timezone.utc) + timedelta(days=20)
    limits = httpx.Limits(max_connections=GUESTS, max_keepalive_connections=GUESTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        assert (await http.post("/api/partners", json={"name": "Welcome Kitchen"}, headers=organiser)).status_code == 201
        event = await http.post(
            "/api/events",
            headers=organiser,
            json={
                "slug": "claim-race",
                "title": "Claim race",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=3)).isoformat(),
                "capacity": 40,
                "reserved_free_places": FREE_PLACES,
                "status": "on_sale",
                "ticket_types": [{"name": "Supper", "price_pence": 3000}],
                "beneficiaries": [{"partner": "welcome-kitchen", "share_bp": 10000}],
            },
        )
        assert event.status_code == 201, event.text
        link = (await http.post("/api/events/claim-race/claim-codes", json={"partner_name": "Drop-in", "places": GUESTS}, headers=organiser)).json()
        start = asyncio.Event()

        async def guest(n: int) -> httpx.Response:
            await start.wait()
            return await http.post("/api/claims", json={"code": link["code"], "name": f"Guest {n}"})

        tasks = [asyncio.create_task(guest(n)) for n in range(GUESTS)]
        await asyncio.sleep(0.2)
        start.set()
        responses = await asyncio.gather(*tasks)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {201: FREE_PLACES, 409: GUESTS - FREE_PLACES}, statuses
        assert all(r.json()["error"] == "no_places_left" for r in responses if r.status_code == 409)
        free = (await http.get("/api/events/claim-race")).json()["free_places"]
        assert free["claimed"] == FREE_PLACES and free["available"] == 0
    connection = await asyncpg.connect(database_url)
    try:
        tickets = await connection.fetchval("SELECT COUNT(*) FROM ticket t JOIN ticket_order o ON o.id = t.order_id WHERE o.channel = 'claim'")
        claimed = await connection.fetchval("SELECT claimed FROM claim_code")
        counter = await connection.fetchval("SELECT free_places_claimed FROM event WHERE slug = 'claim-race'")
    finally:
        await connection.close()
    assert tickets == claimed == counter == FREE_PLACES
