"""200 buyers hit a real multi-worker server at once for 20 places: exactly 20 get them, nobody else, no 5xx.

PostgreSQL only (SQLite serialises every writer, so it proves nothing about row locks). Skipped without
TEST_DATABASE_URL; fails instead of skipping when EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.server import live_server, run_cli, server_environment

pytestmark = pytest.mark.postgres_only

BUYERS = 200
PLACES = 20
WORKERS = 4
ORGANISER_EMAIL = "race-organiser@test.example"
PARTNER = "race-partner"


@dataclass(frozen=True)
class RaceServer:
    base_url: str
    database_url: str
    headers: dict[str, str]
    var_dir: Path

    def server_log(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.var_dir.glob("server-*.log")))


@pytest.fixture(scope="module")
def race_server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RaceServer]:
    """Migrated database, an organiser token and a partner, behind `events serve --workers 4`."""
    var_dir = tmp_path_factory.mktemp("race-server")
    # Every buyer here comes from 127.0.0.1: lift the per-address limit, which has its own race test
    # (test_hold_limit_race), so that this one is about capacity alone.
    env = server_environment(race_database, var_dir, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE="100000", EVENTS_HOLD_PLACES_PER_CLIENT="100000")
    run_cli(env, "migrate")
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser")
    token = run_cli(env, "token", "create", ORGANISER_EMAIL).strip()
    headers = {"Authorization": f"Bearer {token}"}
    with live_server(env, workers=WORKERS) as base_url:
        partner = httpx.post(f"{base_url}/api/partners", json={"name": "Race Partner", "slug": PARTNER}, headers=headers)
        assert partner.status_code == 201, partner.text
        yield RaceServer(base_url, race_database, headers, var_dir)


def create_event(server: RaceServer, slug: str, *, max_per_order: int) -> dict[str, Any]:
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    payload = {
        "slug": slug,
        "title": f"Race {slug}",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": PLACES,
        "reserved_free_places": 0,
        "status": "on_sale",
        "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online", "max_per_order": max_per_order}],
        "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
    }
    response = httpx.post(f"{server.base_url}/api/events", json=payload, headers=server.headers, timeout=30)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["places_left"] == PLACES
    return event


async def stampede(base_url: str, slug: str, ticket_type: int, quantity: int) -> list[httpx.Response | BaseException]:
    """BUYERS requests, each held at a barrier until every one of them is ready, then released together."""
    start = asyncio.Event()
    ready = 0
    all_ready = asyncio.Event()

    async def buy(http: httpx.AsyncClient, index: int) -> httpx.Response:
        nonlocal ready
        body = {
            "buyer": {"name": f"Buyer {index}", "email": f"buyer{index}@test.example"},
            "items": [{"ticket_type": ticket_type, "quantity": quantity}],
        }
        ready += 1
        if ready == BUYERS:
            all_ready.set()
        await start.wait()
        return await http.post(f"/api/events/{slug}/orders", json=body)

    limits = httpx.Limits(max_connections=BUYERS + 10, max_keepalive_connections=BUYERS + 10)
    timeout = httpx.Timeout(60.0, pool=60.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        tasks = [asyncio.create_task(buy(http, index)) for index in range(BUYERS)]
        await asyncio.wait_for(all_ready.wait(), timeout=30)
        start.set()
        return await asyncio.gather(*tasks, return_exceptions=True)


def outcome(result: httpx.Response | BaseException) -> str:
    if isinstance(result, BaseException):
        return f"exception {type(result).__name__}: {result}"
    if result.status_code == 201:
        return "201"
    if result.status_code == 409 and result.json().get("error") == "sold_out":
        return "409 sold_out"
    return f"{result.status_code} {result.text[:200]}"


async def database_state(database_url: str, slug: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        event = await connection.fetchrow("SELECT id, capacity, places_taken FROM event WHERE slug = $1", slug)
        types = await connection.fetch("SELECT id, places_taken FROM ticket_type WHERE event = $1", event["id"])
        orders = await connection.fetch("SELECT id, reference, status, places FROM ticket_order WHERE event = $1", event["id"])
        line_places = await connection.fetchval(
            """SELECT COALESCE(SUM(l.quantity), 0) FROM order_line l JOIN ticket_order o ON o.id = l.order_id
               WHERE o.event = $1 AND o.status = 'pending' AND l.kind = 'ticket'""",
            event["id"],
        )
    finally:
        await connection.close()
    return {
        "event_places_taken": event["places_taken"],
        "type_places_taken": sum(row["places_taken"] for row in types),
        "orders": [dict(row) for row in orders],
        "pending_places": sum(row["places"] for row in orders if row["status"] == "pending"),
        "pending_line_places": int(line_places),
    }


async def test_200_buyers_for_20_places_get_exactly_20_orders(race_server: RaceServer) -> None:
    event = create_event(race_server, "race-single", max_per_order=1)
    [ticket_type] = event["ticket_types"]

    results = await stampede(race_server.base_url, "race-single", ticket_type["id"], quantity=1)

    outcomes = Counter(outcome(result) for result in results)
    assert outcomes == {"201": PLACES, "409 sold_out": BUYERS - PLACES}, (outcomes, race_server.server_log()[-5000:])
    assert "Traceback" not in race_server.server_log()
    references = [result.json()["reference"] for result in results if isinstance(result, httpx.Response) and result.status_code == 201]
    assert len(set(references)) == PLACES

    public = httpx.get(f"{race_server.base_url}/api/events/race-single").json()
    assert public["places_left"] == 0
    assert [t["available"] for t in public["ticket_types"]] == [0]

    state = await database_state(race_server.database_url, "race-single")
    assert state["event_places_taken"] == PLACES
    assert state["type_places_taken"] == PLACES
    assert state["pending_places"] == PLACES == state["pending_line_places"]
    # Sold-out attempts rolled back completely: the only orders are the 20 that got places.
    assert len(state["orders"]) == PLACES
    assert {order["status"] for order in state["orders"]} == {"pending"}
    assert {order["reference"] for order in state["orders"]} == set(references)


async def test_buyers_of_three_tickets_never_oversell_20_places(race_server: RaceServer) -> None:
    quantity = 3
    event = create_event(race_server, "race-triple", max_per_order=quantity)
    [ticket_type] = event["ticket_types"]

    results = await stampede(race_server.base_url, "race-triple", ticket_type["id"], quantity=quantity)

    outcomes = Counter(outcome(result) for result in results)
    assert set(outcomes) <= {"201", "409 sold_out"}, (outcomes, race_server.server_log()[-5000:])
    assert "Traceback" not in race_server.server_log()
    sold_places = outcomes["201"] * quantity
    assert 18 <= sold_places <= PLACES  # six orders of three fit in twenty places; a seventh never does
    assert sold_places == 18
    assert outcomes["409 sold_out"] == BUYERS - outcomes["201"]

    state = await database_state(race_server.database_url, "race-triple")
    assert state["event_places_taken"] == sold_places
    assert state["type_places_taken"] == sold_places
    assert state["pending_places"] == sold_places == state["pending_line_places"]
    assert len(state["orders"]) == outcomes["201"]
    assert len({order["reference"] for order in state["orders"]}) == outcomes["201"]

    public = httpx.get(f"{race_server.base_url}/api/events/race-triple").json()
    assert public["places_left"] == PLACES - sold_places
