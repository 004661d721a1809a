"""PostgreSQL restarted in the middle of an on-sale rush, under a real `events serve --workers 2`.

While the database is away every request gets a clear 503 with Retry-After (the API's JSON error, the friendly page
for people), never a traceback or a wait without end; once it is back the same server processes sell again within
seconds, by themselves; and nothing was half-written: the counters agree with the orders, and the event sells out
to exactly its capacity.

The database is a cluster of the test's own (tests/support/private_postgres.py): the machine's shared server, which
other tests use at the same time, is never stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from events import db
from events.errors import is_database_unavailable
from tests.support import databases
from tests.support.faults import (
    UNLIMITED_HOLDS,
    Answer,
    assert_counters_agree,
    buy_until,
    counters_and_orders,
    create_event,
    organiser_headers,
    rush_client,
)
from tests.support.private_postgres import PrivateCluster, private_cluster
from tests.support.server import free_port, live_server, run_cli, server_environment

pytestmark = [pytest.mark.postgres_only, pytest.mark.xdist_group("faults-database-restart")]

CAPACITY = 120
BUYERS = 16
SOLD_BEFORE_RESTART = 15
DOWN_SECONDS = 2.0
# "Within seconds": the pool reconnects on the first request after the server is back. Generous for a busy machine.
RECOVERY_SECONDS = 20.0
SLUG = "restart-rush"
HANG_SECONDS = 15.0


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    databases.require_postgres("The database restart test")
    with private_cluster() as started:
        yield started


async def _create_database(cluster: PrivateCluster) -> str:
    connection = await asyncpg.connect(cluster.admin_url)
    try:
        await connection.execute("CREATE DATABASE events")
    finally:
        await connection.close()
    return cluster.url("events")


async def _probe(http: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """What a guest's app, a guest's browser and a load balancer's health check are answered."""
    return {
        "api": await http.get(f"/api/events/{SLUG}"),
        "page": await http.get(f"/events/{SLUG}", headers={"Accept": "text/html"}),
        "health": await http.get("/healthz", headers={"Accept": "application/json"}),
    }


async def test_a_database_restart_in_a_rush_answers_503_then_recovers_and_loses_nothing(cluster: PrivateCluster, tmp_path: Path) -> None:
    database_url = await _create_database(cluster)
    env = server_environment(database_url, tmp_path, **UNLIMITED_HOLDS)
    run_cli(env, "migrate")
    headers = organiser_headers(env)
    with live_server(env, workers=2) as base_url:
        event = create_event(base_url, headers, SLUG, capacity=CAPACITY)
        [ticket_type] = event["ticket_types"]
        answers: list[Answer] = []
        stop = asyncio.Event()
        async with rush_client(base_url, BUYERS) as http:
            rush = [asyncio.create_task(buy_until(http, SLUG, ticket_type["id"], answers, stop, first=index)) for index in range(BUYERS)]
            try:
                deadline = time.monotonic() + 120
                while sum(answer.status == 201 for answer in answers) < SOLD_BEFORE_RESTART:
                    assert time.monotonic() < deadline, Counter(answer.kind for answer in answers)
                    await asyncio.sleep(0.02)

                await asyncio.to_thread(cluster.stop)
                down_at = time.monotonic()
                await asyncio.sleep(DOWN_SECONDS / 2)  # the rush goes on against the stopped database
                while_down = await _probe(http)
                await asyncio.sleep(max(0.0, down_at + DOWN_SECONDS - time.monotonic()))
                await asyncio.to_thread(cluster.start)
                up_at = time.monotonic()

                await asyncio.wait_for(asyncio.gather(*rush), timeout=180)
            finally:
                stop.set()
                for task in rush:
                    task.cancel()
            after = await _probe(http)

    kinds = Counter(answer.kind for answer in answers)
    # Each buyer heard something clear: an order, sold out, or "the service is briefly unavailable, try again".
    assert set(kinds) <= {"201", "409 sold_out", "503 database_unavailable"}, kinds
    refused = [answer for answer in answers if answer.status == 503]
    assert refused, f"no buyer was turned away while the database was down: {kinds}"
    assert all(answer.retry_after and int(answer.retry_after) > 0 for answer in refused)
    assert all(answer.at >= down_at - 1 for answer in refused), "a 503 before the database stopped"
    # Answered at once, not left waiting for the database: a busy machine's seconds at most, never the client's timeout.
    assert max(answer.took for answer in refused) < HANG_SECONDS, sorted(answer.took for answer in refused)[-5:]

    api, page, health = while_down["api"], while_down["page"], while_down["health"]
    assert api.status_code == 503, api.text
    assert api.json()["error"] == "database_unavailable"
    assert int(api.headers["retry-after"]) > 0
    assert page.status_code == 503, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) > 0
    assert "Please try again in a few seconds." in page.text
    assert "Traceback" not in page.text and "asyncpg" not in page.text
    assert health.status_code == 503
    assert health.json()["error"] == "database_unavailable"

    # Back by itself, in the same server processes: buyers are sold places again within seconds of the restart.
    sold_after = [answer.at for answer in answers if answer.status == 201 and answer.at > up_at]
    assert sold_after, kinds
    assert min(sold_after) - up_at < RECOVERY_SECONDS
    assert after["api"].status_code == 200
    assert after["page"].status_code == 200
    assert after["health"].status_code == 200

    # Nothing half-written: the counters agree with the orders, and every place was sold once (the rush ran on to
    # sold out, so a place lost to the restart would show as fewer places sold than the capacity).
    assert kinds["409 sold_out"] >= 1, kinds
    state = await counters_and_orders(database_url, SLUG)
    assert_counters_agree(state, answers)
    assert state["order_places"] == CAPACITY
    assert kinds["201"] <= CAPACITY


async def test_a_task_whose_transaction_the_restart_broke_goes_on_with_new_ones(cluster: PrivateCluster) -> None:
    """One long-lived task (a hold batch's, which takes batch after batch in a rush; the worker's loop) whose
    transaction dies with the connection: once the database is back, its next transaction is a new one on a new
    connection, not the dead one's."""
    engine = db.create_engine(await _create_database(cluster))
    bound_before = db._engine  # the session app's, when this process has one: given back afterwards
    db.bind(engine)
    await db.open_engine(engine, pool_size=2)
    try:

        async def stopped_between_statements() -> None:
            async with db.write_transaction():
                await db.run("SELECT 1")
                await asyncio.to_thread(cluster.stop)
                await db.run("SELECT 1")

        with pytest.raises(Exception) as broken:  # whichever of asyncpg's connection errors comes first
            await stopped_between_statements()
        assert is_database_unavailable(broken.value), repr(broken.value)
        assert engine.current_transaction.get() is None

        with pytest.raises(Exception) as refused:
            async with db.write_transaction():
                await db.run("SELECT 1")
        assert is_database_unavailable(refused.value), repr(refused.value)

        await asyncio.to_thread(cluster.start)
        async with db.write_transaction() as transaction:
            [row] = await db.run("SELECT txid_current() AS txid, pg_backend_pid() AS pid")
            assert transaction.connection.is_closed() is False
        assert row["txid"] > 0
        assert engine.current_transaction.get() is None
    finally:
        await db.close_engine(engine)
        if bound_before is not None:
            db.bind(bound_before)


async def test_only_the_database_s_own_socket_errors_count_as_it_being_unavailable() -> None:
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", timeout=10)
    assert is_database_unavailable(refused.value)
    assert not is_database_unavailable(ConnectionRefusedError(111, "Connection refused"))  # e.g. from another service
    assert not is_database_unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not is_database_unavailable(asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"))
