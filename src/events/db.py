"""The database engine: built from DATABASE_URL, bound to every table, and the one write-transaction helper."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import asyncpg
from piccolo.conf.apps import Finder
from piccolo.engine.base import BaseTransaction, Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

os.environ.setdefault("PICCOLO_CONF", "events.piccolo_conf")

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL broke a lock cycle by failing this transaction: running it again is safe (nothing of it stayed).
DEADLOCK_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.DeadlockDetectedError,)
# Values a statement could not store (text with a NUL, a string too long for its column, a number out of range).
DATA_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.DataError,)
POSTGRES_LOCK_TIMEOUT = "10s"

_engine: Engine | None = None


def create_engine(database_url: str) -> Engine:
    """An engine for a sqlite:// or postgresql:// URL (the settings have already validated it)."""
    if database_url.startswith("sqlite"):
        path = Path(unquote(urlsplit(database_url).path))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return PostgresEngine(config={"dsn": dsn, "server_settings": {"lock_timeout": POSTGRES_LOCK_TIMEOUT}})


def bind(engine: Engine) -> None:
    """Point Piccolo (its conf module, every app table and its migration table) at this engine."""
    global _engine  # noqa: PLW0603 - the one engine, set when the app starts
    from piccolo.apps.migrations.tables import Migration

    from events import piccolo_conf

    _engine = engine
    piccolo_conf.DB = engine
    # Every table of the apps in Piccolo's registry (piccolo_conf.APP_REGISTRY), found the way Piccolo's CLI finds them.
    tables: list[type[Table]] = [*Finder().get_table_classes(), Migration]
    for table in tables:
        table._meta.db = engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("The database is not bound: call events.db.bind() at start-up.")
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def _keep_session(connection: Any) -> None:
    """How the pool tidies a connection it gets back: nothing beyond what asyncpg always does (roll back a
    transaction left open, drop listeners).

    asyncpg's default also runs `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` - a
    round trip every time Piccolo hands a connection back, i.e. after every query outside a transaction.
    This app never changes session state (no SET, advisory locks, LISTEN or held cursors; lock_timeout is a
    connection setting), so that query only ever resets what is already at its defaults. Code that starts
    changing session state must undo it itself, or put the default reset back here."""


async def open_engine(engine_: Engine, *, pool_size: int = 10) -> None:
    """Start-up work for an engine: a connection pool for PostgreSQL, WAL mode for SQLite."""
    if isinstance(engine_, PostgresEngine):
        await engine_.start_connection_pool(min_size=1, max_size=pool_size, reset=_keep_session)
    else:
        # WAL lets readers carry on while one writer commits; it persists in the file.
        await engine_.run_querystring(QueryString("PRAGMA journal_mode=WAL"))


async def close_engine(engine_: Engine) -> None:
    if isinstance(engine_, PostgresEngine):
        await engine_.close_connection_pool()


def write_transaction() -> contextlib.AbstractAsyncContextManager[BaseTransaction, None]:
    """The one way to start a transaction that writes.

    SQLite takes its write lock up front (IMMEDIATE), so two writers never deadlock on a lock
    upgrade; PostgreSQL runs at READ COMMITTED and callers lock the rows they change.
    """
    current = engine()
    if isinstance(current, SQLiteEngine):
        transaction: BaseTransaction = current.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = current.transaction()
    # Piccolo annotates __aexit__ `-> bool`, but it returns False whenever an exception passes: it never swallows one.
    return cast("contextlib.AbstractAsyncContextManager[BaseTransaction, None]", transaction)


async def fetch_pg(sql: str, *args: Any) -> list[Any]:
    """One PostgreSQL statement straight through asyncpg, for the few hot statements that send whole arrays
    at once or would cost more in Piccolo's query builder than in the database: on the connection of the
    transaction in progress, else on a pooled one. Rows are asyncpg Records (read them by column name)."""
    current = engine()
    if not isinstance(current, PostgresEngine):
        raise RuntimeError("db.fetch_pg() is for PostgreSQL only.")
    transaction = current.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(sql, *args)
    if current.pool is not None:
        return await current.pool.fetch(sql, *args)
    connection = await current.get_new_connection()
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


@functools.cache
def _numbered(sql: str) -> str:
    """Piccolo's {} placeholders as asyncpg's $1, $2, ..."""
    parts = sql.split("{}")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


async def run(sql: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """One hand-written statement, written with Piccolo's {} placeholders, on either engine; rows read by column
    name. On PostgreSQL outside a transaction it goes straight to the engine's asyncpg pool (as $1, $2, ...):
    for a statement run on every request, Piccolo's query-string processing of many arguments costs more CPU
    than PostgreSQL's parse of the (prepared, cached) statement. In a transaction, and on SQLite, through
    Piccolo's engine, on the transaction's connection."""
    current = engine()
    if isinstance(current, PostgresEngine) and current.pool is not None and current.current_transaction.get() is None:
        async with current.pool.acquire() as connection:
            return await connection.fetch(_numbered(sql), *args)
    results = await current.run_querystring(QueryString(sql, *args))
    return current.transform_response_to_dicts(results) if results else []


@contextlib.asynccontextmanager
async def bound(database_url: str) -> AsyncIterator[Engine]:
    """Bind and open an engine for the length of a block (CLI commands, tests)."""
    engine_ = create_engine(database_url)
    bind(engine_)
    await open_engine(engine_)
    try:
        yield engine_
    finally:
        await close_engine(engine_)


async def migrate() -> None:
    """Run every migration not yet applied, through Piccolo's own migration runner."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="events", migration_id="all")
    if not result.success:
        raise RuntimeError(f"Migrations failed: {result.message}")


async def pending_migrations() -> list[str]:
    """Ids of migrations in migrations/ that this database has not applied."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    manager = BaseMigrationManager()
    known = set(manager.get_migration_modules(Finder().get_app_config("events").resolved_migrations_folder_path))
    if not await Migration.table_exists():
        return sorted(known)
    applied = set(await Migration.get_migrations_which_ran(app_name="events"))
    return sorted(known - applied)
