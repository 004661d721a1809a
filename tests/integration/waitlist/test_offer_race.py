"""One place frees up with 50 people waiting, while 50 other buyers rush a real two-worker server and two sweeps run
at once in other processes: exactly one offer, to the first person who joined, exactly one order for it, one message,
and no buyer gets the place; then the offer is taken up.

PostgreSQL only (SQLite serialises every writer, so it proves nothing about row locks). Skipped without
TEST_DATABASE_URL; fails instead of skipping when EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
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

WAITING = 50
BUYERS = 50
PLACES = 5
SWEEPS = 2
ORGANISER_EMAIL = "wait-race@test.example"

# A worker's sweep in a process of its own: it binds the database, says it is ready, and offers the freed places when
# told to go (a line on stdin), printing how many offers it made.
SWEEP = """
import asyncio, json, sys
from datetime import datetime, timezone
from events import db
from events.waitlist import service

async def main():
    async with db.bound(sys.argv[1]):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        made = await service.offer_freed_places(int(sys.argv[2]), datetime.now(timezone.utc))
        print(json.dumps(made), flush=True)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def race_server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    var_dir = tmp_path_factory.mktemp("waitlist-race")
    # Everyone here comes from 127.0.0.1: lift the per-address hold limits (they have their own race test).
    env = server_environment(race_database, var_dir, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE="100000", EVENTS_HOLD_PLACES_PER_CLIENT="100000")
    run_cli(env, "migrate")
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser")
    token = run_cli(env, "token", "create", ORGANISER_EMAIL).strip()
    with live_server(env, workers=2) as base_url:
        yield base_url, {"Authorization": f"Bearer {token}"}, var_dir


def server_log(var_dir: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(var_dir.glob("server-*.log")))


async def start_sweep(database_url: str, event_id: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SWEEP,
        database_url,
        str(event_id),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={key: value for key, value in os.environ.items() if not key.startswith("EVENTS_")},
    )
    assert process.stdout is not None
    ready = await asyncio.wait_for(process.stdout.readline(), timeout=120)
    assert ready.strip() == b"ready", (ready, await process.stderr.read() if process.stderr else b"")
    return process


async def finish_sweep(process: asyncio.subprocess.Process) -> int:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    return int(json.loads(stdout.decode().strip().splitlines()[-1]))


async def database_state(database_url: str, slug: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        event = await connection.fetchrow("SELECT id, places_taken FROM event WHERE slug = $1", slug)
        entries = await connection.fetch("SELECT id, name, status, offer_order FROM waiting_entry WHERE event = $1 ORDER BY id", event["id"])
        orders = await connection.fetch("SELECT id, channel, status, places, buyer_email FROM ticket_order WHERE event = $1", event["id"])
        messages = await connection.fetch("SELECT order_id, dedupe_key FROM outbox_message WHERE kind = 'waiting_list_offer'")
    finally:
        await connection.close()
    return {"event": dict(event), "entries": [dict(row) for row in entries], "orders": [dict(row) for row in orders], "messages": messages}


async def test_one_freed_place_fifty_waiting_fifty_buyers_and_two_sweeps(race_server: tuple[str, dict[str, str], Path], race_database: str) -> None:
    base_url, organiser, var_dir = race_server
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    limits = httpx.Limits(max_connections=BUYERS + 10, max_keepalive_connections=BUYERS + 10)
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60.0, pool=60.0), limits=limits) as http:
        assert (await http.post("/api/partners", json={"name": "Race Partner", "slug": "race-partner"}, headers=organiser)).status_code == 201
        created = await http.post(
            "/api/events",
            headers=organiser,
            json={
                "slug": "wait-race",
                "title": "Waiting race",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=3)).isoformat(),
                "capacity": PLACES,
                "reserved_free_places": 0,
                "status": "on_sale",
                "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online", "max_per_order": 2}],
                "beneficiaries": [{"partner": "race-partner", "share_bp": 10000}],
            },
        )
        assert created.status_code == 201, created.text
        [ticket_type] = created.json()["ticket_types"]

        def order(index: int, who: str) -> dict[str, Any]:
            return {
                "buyer": {"name": f"{who} {index}", "email": f"{who}{index}@test.example"},
                "items": [{"ticket_type": ticket_type["id"], "quantity": 1}],
            }

        for index in range(PLACES):
            assert (await http.post("/api/events/wait-race/orders", json=order(index, "early"))).status_code == 201
        tokens = []
        for index in range(WAITING):
            joined = await http.post("/api/events/wait-race/waiting-list", json={"name": f"Waiting {index}", "email": f"waiting{index}@test.example"})
            assert joined.status_code == 201, joined.text
            assert joined.json()["position"] == index + 1
            tokens.append(joined.json()["access_token"])

        state = await database_state(race_database, "wait-race")
        sweeps = [await start_sweep(race_database, state["event"]["id"]) for _ in range(SWEEPS)]
        # One place frees up (the organiser raises the capacity); nothing is offered until a sweep runs.
        raised = await http.patch("/api/events/wait-race", json={"capacity": PLACES + 1}, headers=organiser)
        assert raised.status_code == 200, raised.text

        start = asyncio.Event()

        async def buy(index: int) -> httpx.Response:
            await start.wait()
            return await http.post("/api/events/wait-race/orders", json=order(index, "rush"))

        buyers = [asyncio.create_task(buy(index)) for index in range(BUYERS)]
        await asyncio.sleep(0.2)
        start.set()
        # The sweeps go once the rush has reached the server (its first answer is back), so buyers meet the freed
        # place both before it is offered and while the offer is being made.
        await asyncio.wait(buyers, return_when=asyncio.FIRST_COMPLETED)
        for process in sweeps:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        results = await asyncio.gather(*buyers)
        made = [await finish_sweep(process) for process in sweeps]

        outcomes = Counter(f"{r.status_code} {r.json().get('error', '')}" for r in results)
        assert outcomes == {"409 sold_out": BUYERS}, (outcomes, server_log(var_dir)[-3000:])
        assert sorted(made) == [0, 1]
        assert "Traceback" not in server_log(var_dir)

        state = await database_state(race_database, "wait-race")
        statuses = [entry["status"] for entry in state["entries"]]
        assert statuses == ["offered"] + ["waiting"] * (WAITING - 1)
        offer_orders = [row for row in state["orders"] if row["channel"] == "waitlist"]
        assert len(offer_orders) == 1
        [offer_order] = offer_orders
        assert offer_order["status"] == "pending" and offer_order["places"] == 1 and offer_order["buyer_email"] == "waiting0@test.example"
        assert state["entries"][0]["offer_order"] == offer_order["id"]
        assert [(m["order_id"], m["dedupe_key"]) for m in state["messages"]] == [
            (offer_order["id"], f"offer:{state['entries'][0]['id']}:{offer_order['id']}")
        ]
        assert state["event"]["places_taken"] == PLACES + 1
        assert not any(row["buyer_email"].startswith("rush") for row in state["orders"])
        public = (await http.get("/api/events/wait-race")).json()
        assert public["places_left"] == 0

        # The first person takes the offer up: a normal order with a hold and its payment to complete.
        taken = await http.post(f"/api/waiting-list/{tokens[0]}/accept", json={})
        assert taken.status_code == 201, taken.text
        assert taken.json()["status"] == "pending" and taken.json()["total_pence"] > 0 and taken.json()["payment"]["url"]
        assert (await http.get(f"/api/waiting-list/{tokens[0]}")).json()["status"] == "accepted"
        assert (await http.get(f"/api/waiting-list/{tokens[1]}")).json()["position"] == 1
        again = await http.post(f"/api/waiting-list/{tokens[0]}/accept", json={})
        assert again.status_code == 409
