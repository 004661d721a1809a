"""The hold limits hold under concurrency, across server processes: one email address firing 20 holds at
once gets exactly its 10 places, one client address firing 30 gets exactly its 20 holds, and one client
address firing 20 holds of 3 places with 20 emails gets exactly the 13 holds within its 40 places.

PostgreSQL only, through a real `events serve --workers 2` (SQLite runs one writer at a time, so it proves
nothing about locks). Skipped without TEST_DATABASE_URL; fails instead when EVENTS_TEST_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.server import live_server, run_cli, server_environment

pytestmark = pytest.mark.postgres_only

ORGANISER_EMAIL = "limits-organiser@test.example"
PARTNER = "limits-partner"
PLACES_PER_EMAIL = 10  # the defaults, EVENTS_HOLD_PLACES_PER_EMAIL
HOLDS_PER_CLIENT = 20  # and EVENTS_HOLDS_PER_CLIENT_PER_MINUTE
PLACES_PER_CLIENT = 40  # and EVENTS_HOLD_PLACES_PER_CLIENT


@pytest.fixture(scope="module")
def limits_server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    var_dir: Path = tmp_path_factory.mktemp("limits-server")
    env = server_environment(race_database, var_dir)
    run_cli(env, "migrate")
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser")
    headers = {"Authorization": f"Bearer {run_cli(env, 'token', 'create', ORGANISER_EMAIL).strip()}"}
    with live_server(env, workers=2) as base_url:
        partner = httpx.post(f"{base_url}/api/partners", json={"name": "Limits Partner", "slug": PARTNER}, headers=headers)
        assert partner.status_code == 201, partner.text
        yield base_url, headers


def create_event(base_url: str, headers: dict[str, str], slug: str) -> int:
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    payload = {
        "slug": slug,
        "title": slug,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": 200,
        "reserved_free_places": 0,
        "status": "on_sale",
        "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online"}],
        "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
    }
    response = httpx.post(f"{base_url}/api/events", json=payload, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["ticket_types"][0]["id"]


async def all_at_once(base_url: str, slug: str, requests: list[tuple[str, str]], ticket_type: int, quantity: int = 1) -> list[httpx.Response]:
    """One hold of ``quantity`` places per (client address, email), each on its own connection from that
    address, all released together once every one is ready."""
    start = asyncio.Event()

    async def hold(address: str, email: str) -> httpx.Response:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=60) as http:
            await http.get("/healthz")  # connected before the start
            await start.wait()
            body = {"buyer": {"name": "Buyer", "email": email}, "items": [{"ticket_type": ticket_type, "quantity": quantity}]}
            return await http.post(f"/api/events/{slug}/orders", json=body)

    tasks = [asyncio.create_task(hold(address, email)) for address, email in requests]
    await asyncio.sleep(1)
    start.set()
    return await asyncio.gather(*tasks)


def outcomes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(f"{r.status_code} {r.json().get('error', '')}".strip() for r in responses)


async def held(database_url: str, slug: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        return dict(
            await connection.fetchrow(
                """SELECT e.places_taken, COALESCE(SUM(o.places) FILTER (WHERE o.status = 'pending'), 0) AS pending
               FROM event e LEFT JOIN ticket_order o ON o.event = e.id WHERE e.slug = $1 GROUP BY e.places_taken""",
                slug,
            )
        )
    finally:
        await connection.close()


async def test_one_email_firing_20_holds_at_once_gets_exactly_its_10_places(limits_server: tuple[str, dict[str, str]], race_database: str) -> None:
    base_url, headers = limits_server
    ticket_type = create_event(base_url, headers, "one-email")
    # From 20 addresses, so the per-address limit is not what stops them.
    requests = [(f"127.0.1.{index + 1}", "hoarder@example.org") for index in range(20)]
    responses = await all_at_once(base_url, "one-email", requests, ticket_type)
    assert outcomes(responses) == {"201": PLACES_PER_EMAIL, "429 hold_limit_reached": 20 - PLACES_PER_EMAIL}
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
    assert await held(race_database, "one-email") == {"places_taken": PLACES_PER_EMAIL, "pending": PLACES_PER_EMAIL}


async def test_one_address_firing_30_holds_at_once_gets_exactly_20(limits_server: tuple[str, dict[str, str]], race_database: str) -> None:
    base_url, headers = limits_server
    ticket_type = create_event(base_url, headers, "one-address")
    second = datetime.now(timezone.utc).second
    if second > 30:  # the count is per clock minute: keep the burst inside one
        await asyncio.sleep(61 - second)
    requests = [("127.0.2.1", f"buyer{index}@example.org") for index in range(30)]
    responses = await all_at_once(base_url, "one-address", requests, ticket_type)
    assert outcomes(responses) == {"201": HOLDS_PER_CLIENT, "429 too_many_holds": 30 - HOLDS_PER_CLIENT}
    assert all(0 < int(r.headers["retry-after"]) <= 60 for r in responses if r.status_code == 429)
    assert await held(race_database, "one-address") == {"places_taken": HOLDS_PER_CLIENT, "pending": HOLDS_PER_CLIENT}


async def test_one_address_with_20_emails_firing_holds_of_3_at_once_gets_exactly_its_40_places(
    limits_server: tuple[str, dict[str, str]], race_database: str
) -> None:
    base_url, headers = limits_server
    ticket_type = create_event(base_url, headers, "one-address-places")
    second = datetime.now(timezone.utc).second
    if second > 30:  # 20 holds, all within the holds-a-minute limit: keep the burst inside one clock minute
        await asyncio.sleep(61 - second)
    requests = [("127.0.3.1", f"throwaway{index}@example.org") for index in range(HOLDS_PER_CLIENT)]
    responses = await all_at_once(base_url, "one-address-places", requests, ticket_type, quantity=3)
    fit = PLACES_PER_CLIENT // 3
    assert outcomes(responses) == {"201": fit, "429 client_hold_limit_reached": HOLDS_PER_CLIENT - fit}
    assert all(0 < int(r.headers["retry-after"]) <= 15 * 60 for r in responses if r.status_code == 429)
    assert await held(race_database, "one-address-places") == {"places_taken": 3 * fit, "pending": 3 * fit}
