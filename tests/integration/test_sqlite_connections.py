"""SQLite keeps a few connections open between statements and transactions (events.db._SQLiteEngine), and never
hands out one that is still inside a transaction: what one commits the next sees, what one rolls back nobody sees,
and a statement that failed or was cancelled leaves no lock behind."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from events import db


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Any]:
    engine_ = db.create_engine(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    assert isinstance(engine_, SQLiteEngine)
    await db.open_engine(engine_)
    await engine_.run_querystring(QueryString("CREATE TABLE place (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"))
    try:
        yield engine_
    finally:
        await db.close_engine(engine_)


async def names(engine: Any) -> list[str]:
    return [row["name"] for row in await engine.run_querystring(QueryString("SELECT name FROM place ORDER BY name"))]


async def insert(engine: Any, name: str) -> None:
    await engine.run_querystring(QueryString("INSERT INTO place (name) VALUES ({})", name))


def write_lock_is_free(path: str) -> bool:
    """Whether another process could start writing now (what a second `serve` worker would try)."""
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def test_statements_one_after_another_share_one_open_connection(engine: Any) -> None:
    await insert(engine, "first")
    [connection] = engine._idle
    for name in ("second", "third"):
        await insert(engine, name)
    assert await names(engine) == ["first", "second", "third"]
    assert engine._idle == [connection]


async def test_what_a_transaction_commits_the_next_statement_sees_and_a_rollback_leaves_nothing(engine: Any) -> None:
    async with engine.transaction():
        await insert(engine, "kept")
    assert await names(engine) == ["kept"]

    seen: list[str] = []

    async def insert_then_change_mind() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await insert(engine, "dropped")
            seen.extend(await names(engine))  # the transaction sees its own write
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await insert_then_change_mind()
    assert seen == ["dropped", "kept"]
    assert await names(engine) == ["kept"]
    assert not any(connection.in_transaction for connection in engine._idle)
    assert write_lock_is_free(engine.path)


async def test_concurrent_transactions_each_get_a_connection_and_only_a_few_stay_open(engine: Any) -> None:
    started = asyncio.Event()
    inside = 0

    async def read_in_a_transaction() -> list[str]:
        nonlocal inside
        async with engine.transaction():
            inside += 1
            if inside == 8:
                started.set()
            await started.wait()  # all eight are open at once
            return await names(engine)

    await insert(engine, "one")
    assert await asyncio.gather(*(read_in_a_transaction() for _ in range(8))) == [["one"]] * 8
    assert 1 <= len(engine._idle) <= engine.IDLE_CONNECTIONS
    assert len({id(connection) for connection in engine._idle}) == len(engine._idle)


async def test_a_failed_statement_leaves_no_transaction_or_lock_behind(engine: Any) -> None:
    await insert(engine, "taken")
    with pytest.raises(sqlite3.IntegrityError):
        await insert(engine, "taken")
    assert not any(connection.in_transaction for connection in engine._idle)
    assert write_lock_is_free(engine.path)
    await insert(engine, "free")
    assert await names(engine) == ["free", "taken"]


async def test_a_cancelled_statement_is_not_handed_out_again(engine: Any) -> None:
    await insert(engine, "before")
    idle_before = list(engine._idle)
    # A statement that runs for a long time on its connection's thread, cancelled while it runs.
    slow = asyncio.create_task(
        engine.run_querystring(
            QueryString("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) AS c FROM n")
        )
    )
    await asyncio.sleep(0.02)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert not any(connection in engine._idle for connection in idle_before)  # the cancelled one was taken from there
    await insert(engine, "after")
    assert await names(engine) == ["after", "before"]
    assert write_lock_is_free(engine.path)


async def test_closing_the_engine_closes_its_connections_and_it_opens_new_ones_when_used_again(engine: Any) -> None:
    await insert(engine, "one")
    [connection] = engine._idle
    await db.close_engine(engine)
    assert engine._idle == []
    with pytest.raises(ValueError, match="no active connection"):
        connection.in_transaction  # noqa: B018 - reading it is the check
    assert await names(engine) == ["one"]


async def test_a_transaction_that_waited_too_long_for_another_process_leaves_its_connection_usable(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    engine_ = db._SQLiteEngine(path=str(path), timeout=0.1)  # gives up after 0.1 s rather than the app's 30
    await db.open_engine(engine_)
    try:
        await engine_.run_querystring(QueryString("CREATE TABLE place (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"))
        [connection] = engine_._idle
        other = sqlite3.connect(path)
        other.execute("BEGIN IMMEDIATE")  # another process is writing
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with engine_.transaction(transaction_type=TransactionType.immediate):
                pytest.fail("the transaction started while another process held the write lock")
        other.execute("ROLLBACK")
        other.close()
        assert not any(connection.in_transaction for connection in engine_._idle)
        async with engine_.transaction(transaction_type=TransactionType.immediate):
            await insert(engine_, "after")
        assert await names(engine_) == ["after"]
        assert engine_._idle == [connection]  # the one that could not begin, given back and used again
    finally:
        await db.close_engine(engine_)


async def test_a_task_that_outlives_its_transaction_cannot_write_into_the_next_one(engine: Any) -> None:
    go_on = asyncio.Event()

    async def late_insert() -> None:
        await go_on.wait()
        await insert(engine, "late")

    async with engine.transaction(transaction_type=TransactionType.immediate):
        late = asyncio.create_task(late_insert())  # inherits the transaction in its context
        await insert(engine, "on time")

    async def next_transaction() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):  # the same connection, given back
            go_on.set()
            await late

    with pytest.raises(RuntimeError, match="already ended"):
        await next_transaction()
    assert await names(engine) == ["on time"]


async def test_a_cancelled_write_has_ended_when_the_cancellation_returns(engine: Any) -> None:
    other = sqlite3.connect(engine.path, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process is writing: the insert waits for its lock
    released: list[bool] = []

    def release() -> None:
        other.execute("ROLLBACK")
        other.close()
        released.append(True)

    writing = asyncio.create_task(insert(engine, "waited"))
    await asyncio.sleep(0.1)
    asyncio.get_running_loop().call_later(0.3, release)
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    # The statement could end only once the other writer let go: the cancellation waited for it, so nothing of it
    # runs on after the caller has moved on (as with Piccolo's own engine, which closed the connection after it).
    assert released == [True]
    before = await names(engine)
    await asyncio.sleep(0.2)
    assert await names(engine) == before
    assert write_lock_is_free(engine.path)
