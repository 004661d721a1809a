"""50 buyers send the same code at once to a real multi-worker server: a code with 5 uses gives exactly 5 orders, the
others are told it is used up, and nothing is oversold or left half-done. Its uses are counted like places.

PostgreSQL only (SQLite serialises every writer, so it proves nothing about row locks). Skipped without
TEST_DATABASE_URL; fails instead of skipping when EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.
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

BUYERS = 50
USES = 5
WORKERS = 4
ORGANISER_EMAIL = "code-race-organiser@test.example"
PARTNER = "code-race-partner"


@pytest.fixture(scope="module")
def race_server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """Migrated database, an organiser token and a partner, behind `events serve --workers 4`."""
    var_dir = tmp_path_factory.mktemp("code-race-server")
    # Every buyer comes from 127.0.0.1: the per-address hold limits have their own race test.
    env = server_environment(race_database, var_dir, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE="100000", EVENTS_HOLD_PLACES_PER_CLIENT="100000")
    run_cli(env, "migrate")
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser")
    token = run_cli(env, "token", "create", ORGANISER_EMAIL).strip()
    headers = {"Authorization": f"Bearer {token}"}
    with live_server(env, workers=WORKERS) as base_url:
        partner = httpx.post(f"{base_url}/api/partners", json={"name": "Code Race Partner", "slug": PARTNER}, headers=headers)
        assert partner.status_code == 201, partner.text
        yield base_url, headers, var_dir


def make_event(base_url: str, headers: dict[str, str], slug: str) -> dict[str, int]:
    """An event with room for everyone (the code's uses are the only limit): a public Supper type and a hidden Crew
    type; returns the ticket type ids by name."""
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    payload = {
        "slug": slug,
        "title": f"Race {slug}",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": 500,
        "reserved_free_places": 0,
        "status": "on_sale",
        "ticket_types": [
            {"name": "Supper", "price_pence": 2000, "channel": "online", "max_per_order": 2},
            {"name": "Crew", "price_pence": 1000, "channel": "online", "max_per_order": 2, "hidden": True},
        ],
        "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
    }
    response = httpx.post(f"{base_url}/api/events", json=payload, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return {t["name"]: t["id"] for t in response.json()["ticket_types"]}


async def stampede(base_url: str, slug: str, bodies: list[dict[str, Any]]) -> list[httpx.Response | BaseException]:
    """One request per body, each held at a barrier until every one is ready, then released together."""
    start = asyncio.Event()
    ready = 0
    all_ready = asyncio.Event()

    async def buy(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
        nonlocal ready
        ready += 1
        if ready == len(bodies):
            all_ready.set()
        await start.wait()
        return await http.post(f"/api/events/{slug}/orders", json=body)

    limits = httpx.Limits(max_connections=len(bodies) + 10, max_keepalive_connections=len(bodies) + 10)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0, pool=60.0)) as http:
        tasks = [asyncio.create_task(buy(http, body)) for body in bodies]
        await asyncio.wait_for(all_ready.wait(), timeout=30)
        start.set()
        return await asyncio.gather(*tasks, return_exceptions=True)


def outcome(result: httpx.Response | BaseException) -> str:
    if isinstance(result, BaseException):
        return f"exception {type(result).__name__}: {result}"
    if result.status_code == 201:
        return "201"
    if result.status_code == 409 and result.json().get("error") == "code_used_up":
        return "409 code_used_up"
    return f"{result.status_code} {result.text[:200]}"


async def database_state(database_url: str, slug: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        event = await connection.fetchrow("SELECT id, places_taken FROM event WHERE slug = $1", slug)
        code = await connection.fetchrow("SELECT id, uses, max_uses FROM sale_code WHERE event = $1", event["id"])
        orders = await connection.fetch(
            "SELECT reference, status, code, discount_pence, tickets_pence, places FROM ticket_order WHERE event = $1", event["id"]
        )
        types = await connection.fetch("SELECT name, places_taken FROM ticket_type WHERE event = $1", event["id"])
    finally:
        await connection.close()
    return {
        "event": dict(event),
        "code": dict(code),
        "orders": [dict(row) for row in orders],
        "types": {row["name"]: row["places_taken"] for row in types},
    }


async def test_50_buyers_with_a_code_of_5_uses_get_exactly_5_orders(race_server: tuple[str, dict[str, str], Path], race_database: str) -> None:
    base_url, headers, var_dir = race_server
    slug = "code-race"
    types = make_event(base_url, headers, slug)
    made = httpx.post(
        f"{base_url}/api/events/{slug}/codes",
        json={"code": "CREW-RACE", "unlocks": [types["Crew"]], "discount_percent": 50, "max_uses": USES},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    bodies = [
        {
            "buyer": {"name": f"Buyer {index}", "email": f"buyer{index}@test.example"},
            "items": [{"ticket_type": types["Crew"] if index % 2 else types["Supper"], "quantity": 2}],
            "code": "crew-race",
        }
        for index in range(BUYERS)
    ]

    results = await stampede(base_url, slug, bodies)

    log = "\n".join(path.read_text() for path in sorted(var_dir.glob("server-*.log")))
    outcomes = Counter(outcome(result) for result in results)
    assert outcomes == {"201": USES, "409 code_used_up": BUYERS - USES}, (outcomes, log[-5000:])
    assert "Traceback" not in log
    winners = {result.json()["reference"] for result in results if isinstance(result, httpx.Response) and result.status_code == 201}
    for result in results:
        if isinstance(result, httpx.Response) and result.status_code == 201:
            assert result.json()["total_pence"] in (2 * 1000, 2 * 500)  # half price, Supper or Crew

    state = await database_state(race_database, slug)
    assert state["code"]["uses"] == USES == state["code"]["max_uses"]
    # The losers' attempts rolled back completely: the only orders are the winners', each holding the code's use.
    assert {order["reference"] for order in state["orders"]} == winners
    assert all(order["status"] == "pending" and order["code"] == state["code"]["id"] for order in state["orders"])
    assert all(order["discount_pence"] == order["tickets_pence"] for order in state["orders"])  # 50% off
    assert state["event"]["places_taken"] == 2 * USES == sum(state["types"].values())

    # Without the code the hidden type is nobody's; the public type still sells at full price.
    plain = httpx.post(
        f"{base_url}/api/events/{slug}/orders",
        json={"buyer": {"name": "Late", "email": "late@test.example"}, "items": [{"ticket_type": types["Supper"], "quantity": 1}]},
    )
    assert plain.status_code == 201 and plain.json()["total_pence"] == 2000
