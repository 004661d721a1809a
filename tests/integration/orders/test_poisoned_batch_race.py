"""One buyer never fails another: 60 honest buyers and 5 with malformed names hit a real server at once.
Holds are batched (events.batching), so a bad order that reached the batch's transaction would fail every
buyer in it; each malformed one must get its own 422, and every honest one their places.

And inside the batch: an order the database refuses (here a NUL slipped past the checks on purpose) costs
only that buyer, the others in the same batch are held.

PostgreSQL only (SQLite serialises every writer and stores a NUL). Skipped without TEST_DATABASE_URL;
fails instead of skipping when EVENTS_TEST_REQUIRE_POSTGRES=1, as in CI.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from events.errors import InvalidInput
from events.orders import pricing, service
from events.orders.hold_limits import Asker, HoldLimits
from tests.factories import make_event
from tests.support.server import live_server, run_cli, server_environment

pytestmark = pytest.mark.postgres_only

HONEST = 60
QUANTITY = 2
CAPACITY = 500
MALFORMED_NAMES = {
    "NUL": "Eve\u0000l",
    "control": "Eve\u0007l",
    "lone surrogate": "Eve\ud800l",
    "invisible only": "\u200b\u200c",
    "line break": "Eve\r\nBcc: all@example.org",
}
ORGANISER_EMAIL = "poison-organiser@test.example"


@pytest.fixture(scope="module")
def server(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    """One worker, so every buyer goes through the same process's batches."""
    var_dir = tmp_path_factory.mktemp("poison-server")
    env = server_environment(
        race_database, var_dir, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE="100000", EVENTS_HOLD_PLACES_PER_CLIENT="100000"
    )  # 65 buyers from one loopback address
    run_cli(env, "migrate")
    run_cli(env, "user", "create", ORGANISER_EMAIL, "--role", "organiser")
    token = run_cli(env, "token", "create", ORGANISER_EMAIL).strip()
    headers = {"Authorization": f"Bearer {token}"}
    with live_server(env, workers=1) as base_url:
        partner = httpx.post(f"{base_url}/api/partners", json={"name": "Poison Partner", "slug": "poison-partner"}, headers=headers)
        assert partner.status_code == 201, partner.text
        yield base_url, headers, var_dir


def create_event(base_url: str, headers: dict[str, str], slug: str) -> dict[str, Any]:
    starts = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    payload = {
        "slug": slug, "title": f"Poison {slug}", "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": CAPACITY, "reserved_free_places": 0, "status": "on_sale",
        "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online", "max_per_order": 10}],
        "beneficiaries": [{"partner": "poison-partner", "share_bp": 10000}],
    }  # fmt: skip
    response = httpx.post(f"{base_url}/api/events", json=payload, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


async def test_five_malformed_buyers_among_sixty_fail_alone(server: tuple[str, dict[str, str], Path], race_database: str) -> None:
    base_url, headers, var_dir = server
    event = create_event(base_url, headers, "poisoned")
    type_id = event["ticket_types"][0]["id"]
    buyers = [(f"Buyer {index}", f"buyer{index}@test.example") for index in range(HONEST)]
    buyers += [(name, f"malformed{index}@test.example") for index, name in enumerate(MALFORMED_NAMES.values())]
    # Malformed buyers spread through the crowd, so they land in the middle of batches.
    order = list(range(HONEST + len(MALFORMED_NAMES)))
    order = sorted(order, key=lambda index: (index * 13) % len(order))
    start = asyncio.Event()

    async def buy(http: httpx.AsyncClient, name: str, email: str) -> httpx.Response:
        body = {"buyer": {"name": name, "email": email}, "items": [{"ticket_type": type_id, "quantity": QUANTITY}]}
        await start.wait()
        # json.dumps escapes the lone surrogate as \ud800, as any client would send it.
        return await http.post("/api/events/poisoned/orders", content=json.dumps(body), headers={"Content-Type": "application/json"})

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0, pool=60.0)) as http:
        tasks = {index: asyncio.create_task(buy(http, *buyers[index])) for index in order}
        await asyncio.sleep(0.2)
        start.set()
        results = {index: await task for index, task in tasks.items()}

    log = "\n".join(path.read_text() for path in sorted(var_dir.glob("server-*.log")))
    honest = Counter(results[index].status_code for index in range(HONEST))
    malformed = {name: results[HONEST + i] for i, name in enumerate(MALFORMED_NAMES)}
    assert honest == {201: HONEST}, (honest, log[-3000:])
    for label, response in malformed.items():
        assert response.status_code == 422, (label, response.text)
        assert "buyer.name" in response.json()["fields"], (label, response.text)
    assert "Traceback" not in log

    connection = await asyncpg.connect(race_database)
    try:
        event_row = await connection.fetchrow("SELECT id, places_taken FROM event WHERE slug = 'poisoned'")
        type_taken = await connection.fetchval("SELECT places_taken FROM ticket_type WHERE event = $1", event_row["id"])
        orders = await connection.fetch("SELECT buyer_name, places, status FROM ticket_order WHERE event = $1", event_row["id"])
    finally:
        await connection.close()
    assert event_row["places_taken"] == type_taken == HONEST * QUANTITY
    assert len(orders) == HONEST and sum(row["places"] for row in orders) == HONEST * QUANTITY
    assert {row["buyer_name"] for row in orders} == {name for name, _ in buyers[:HONEST]}
    async with httpx.AsyncClient(base_url=base_url) as http:
        public = (await http.get("/api/events/poisoned")).json()
    assert public["places_left"] == CAPACITY - HONEST * QUANTITY


async def test_an_order_the_database_refuses_costs_only_its_buyer(app: Any, client: httpx.AsyncClient, backend: str, now: datetime) -> None:
    """Past the checks on purpose (straight into the batch): PostgreSQL refuses a NUL in text, so this
    buyer's insert fails inside the batch's transaction; the batch is held again without them."""
    if backend != "postgres":
        pytest.skip("SQLite stores a NUL; only PostgreSQL refuses it")

    slug = await make_event(now)
    type_id = (await service.load_terms(slug))[1].popitem()[0]

    def wanted(name: str) -> service._Wanted:
        request = pricing.Request(items=[(type_id, 1)], buyer_name=name, buyer_email=f"{abs(hash(name))}@test.example")
        return service._Wanted(
            request, now, 15, "en", Asker(client="127.0.0.1", limits=HoldLimits(places_per_email=10, holds_per_client_per_minute=1000))
        )

    names = [f"Guest {index}" for index in range(8)]
    names.insert(4, "Poison\u0000ed")
    answers = await asyncio.gather(*(service._HOLDS.submit(slug, wanted(name)) for name in names), return_exceptions=True)

    for name, answer in zip(names, answers, strict=True):
        if "\u0000" in name:
            assert isinstance(answer, InvalidInput), answer
        else:
            assert isinstance(answer, service.PlacedOrder), (name, answer)
    from events.catalogue.tables import Event
    from events.orders.tables import Order

    assert await Order.count() == 8
    assert (await Event.select(Event.places_taken).where(Event.slug == slug).first())["places_taken"] == 8
