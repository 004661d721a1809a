"""A server process killed (SIGKILL) in the middle of a batch of holds, in an on-sale rush through a real
`events serve --workers 2` on PostgreSQL.

The kill lands at a moment the test chooses, not by luck: a trigger the test adds to its own database makes each
batch's INSERT of orders wait on an advisory lock while the test holds it. The batch that waits has locked the
counters and written its orders, uncommitted; the test finds which uvicorn worker's connection that is
(pg_stat_activity's client port, matched in /proc) and kills that worker.

Every buyer hears something: an order (201), a clear error, or a connection error (the killed worker's). uvicorn
starts a new worker; the rush goes on to sold out; no place is lost or sold twice, and the counters agree with the
orders.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from tests.support.faults import (
    UNLIMITED_HOLDS,
    Answer,
    assert_counters_agree,
    buy_until,
    counters_and_orders,
    create_event,
    kill,
    organiser_headers,
    process_of_client_port,
    rush_client,
    serving_workers,
    wait_until_gone,
)
from tests.support.server import live_server_process, run_cli, server_environment

pytestmark = [pytest.mark.postgres_only, pytest.mark.xdist_group("faults-serve-killed")]

CAPACITY = 60
BUYERS = 40
SOLD_BEFORE_KILL = 8
SLUG = "killed-rush"
PAUSE_LOCK = 2020  # the advisory lock key the trigger waits on

# The batch's INSERT of its orders waits (inside its transaction, after the counters' row locks) while the test holds
# PAUSE_LOCK; taken shared, so batches never wait on one another, only on the test.
PAUSE_BATCHES = f"""
CREATE FUNCTION faults_pause_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({PAUSE_LOCK});
    RETURN NULL;
END $$;
CREATE TRIGGER faults_pause_batch AFTER INSERT ON ticket_order FOR EACH STATEMENT EXECUTE FUNCTION faults_pause_batch();
"""
WAITING_BATCH = """
SELECT a.client_port, a.backend_xid IS NOT NULL AS wrote FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = $1 AND a.datname = current_database()
"""


async def _paused_batch(connection: asyncpg.Connection, workers: list[int]) -> int:
    """The uvicorn worker whose batch is waiting, mid-transaction, on the pause."""
    deadline = time.monotonic() + 120
    while True:
        for row in await connection.fetch(WAITING_BATCH, PAUSE_LOCK):
            if (worker := process_of_client_port(workers, row["client_port"])) is not None:
                assert row["wrote"], "the paused batch has written its orders (it has a transaction id)"
                return worker
        assert time.monotonic() < deadline, "no batch of holds reached the pause"
        await asyncio.sleep(0.02)


async def test_a_server_process_killed_mid_batch_loses_no_place_and_sells_none_twice(race_database: str, tmp_path: Path) -> None:
    env = server_environment(race_database, tmp_path, **UNLIMITED_HOLDS)
    run_cli(env, "migrate")
    headers = organiser_headers(env)
    control = await asyncpg.connect(race_database)
    try:
        await control.execute(PAUSE_BATCHES)
        with live_server_process(env, workers=2) as (base_url, supervisor):
            event = create_event(base_url, headers, SLUG, capacity=CAPACITY)
            [ticket_type] = event["ticket_types"]
            workers_before = serving_workers(supervisor)
            assert len(workers_before) == 2, workers_before
            answers: list[Answer] = []
            stop = asyncio.Event()
            async with rush_client(base_url, BUYERS) as http:
                rush = [asyncio.create_task(buy_until(http, SLUG, ticket_type["id"], answers, stop, first=index)) for index in range(BUYERS)]
                try:
                    deadline = time.monotonic() + 120
                    while sum(answer.status == 201 for answer in answers) < SOLD_BEFORE_KILL:
                        assert time.monotonic() < deadline, Counter(answer.kind for answer in answers)
                        await asyncio.sleep(0.02)

                    await control.execute("SELECT pg_advisory_lock($1)", PAUSE_LOCK)
                    victim = await _paused_batch(control, workers_before)
                    sold_before_kill = await control.fetchval("SELECT places_taken FROM event WHERE slug = $1", SLUG)
                    kill(victim)
                    await asyncio.to_thread(wait_until_gone, victim)
                    await control.execute("SELECT pg_advisory_unlock($1)", PAUSE_LOCK)

                    await asyncio.wait_for(asyncio.gather(*rush), timeout=180)
                finally:
                    stop.set()
                    for task in rush:
                        task.cancel()
            # uvicorn put a new worker in the killed one's place.
            deadline = time.monotonic() + 60
            while len(workers_after := serving_workers(supervisor)) < 2:
                assert time.monotonic() < deadline, workers_after
                await asyncio.sleep(0.2)
            assert victim not in workers_after
            log = "\n".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    finally:
        await control.close()

    kinds = Counter(answer.kind for answer in answers)
    # Every buyer heard something clear: their order, sold out, or the connection the killed worker dropped.
    unclear = {kind for kind in kinds if kind not in ("201", "409 sold_out") and not kind.startswith("connection error")}
    assert not unclear, (kinds, log[-5000:])
    assert any(kind.startswith("connection error") for kind in kinds), f"the killed worker's buyers were answered anyway: {kinds}"
    assert "Traceback" not in log, log[-5000:]

    # The killed batch's orders and places went with it (rolled back); every place was sold once: the rush ran on to
    # sold out, so a place lost to the kill would show as fewer places sold than the capacity.
    assert kinds["409 sold_out"] >= 1, kinds
    state = await counters_and_orders(race_database, SLUG)
    assert_counters_agree(state, answers)
    assert state["order_places"] == CAPACITY
    assert sold_before_kill < CAPACITY
    assert state["statuses"] == {"pending"}
