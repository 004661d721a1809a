"""The database engine: built from DATABASE_URL, bound to every table, and the one write-transaction helper."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

import aiosqlite
import asyncpg
from piccolo.conf.apps import Finder
from piccolo.engine.base import BaseTransaction, Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString
from piccolo.table import Table

os.environ.setdefault("PICCOLO_CONF", "events.piccolo_conf")

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL broke a lock cycle by failing this transaction: running it again is safe (nothing of it stayed).
DEADLOCK_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.DeadlockDetectedError,)
# Values a statement could not store (text with a NUL, a string too long for its column, a number out of range).
DATA_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.DataError,)
# Another transaction committed the same unique value first (e.g. a form sent twice at once): nothing of this one stayed.
UNIQUE_ERRORS: tuple[type[Exception], ...] = (asyncpg.exceptions.UniqueViolationError,)
POSTGRES_LOCK_TIMEOUT = "10s"
# How long opening a connection may take (asyncpg waits a minute by default): a database host that does not answer at
# all (a network fault, not a refusal) fails requests with 503 database_unavailable after this, not after a minute.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

_engine: Engine | None = None
_Query = TypeVar("_Query", bound=Select)


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, which on a lost connection (the server restarted, the network dropped) gives its
    connection back and forgets itself all the same.

    Piccolo's own, when its ROLLBACK or COMMIT fails (as both do on a closed connection), raises that error from
    ``__aexit__`` before releasing the connection or resetting ``current_transaction``: the task that ran it (a hold
    batch's, the worker's loop) then sends every later statement to the dead connection, as part of a transaction
    that no longer exists, until the process restarts. Here the connection is closed instead (the server rolls back
    whatever it had not committed) and the error that ended the block is the one raised (as a lost connection when
    the connection closed under the block)."""

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        token = self.context
        # A statement on a connection that closed under it fails as a misuse ("released back to the pool": asyncpg
        # gives a pool's connection back when it closes); said here for what it is.
        lost = exception is not None and _closed(self.connection)
        try:
            return await super().__aexit__(exception_type, exception, traceback)
        except Exception:
            # Each may find its work done already: the connection closed, or given back (only the reset was left).
            with contextlib.suppress(Exception):
                self.connection.terminate()
            if self.engine.pool is not None:
                with contextlib.suppress(Exception):
                    await self.engine.pool.release(self.connection)
            with contextlib.suppress(ValueError, RuntimeError):
                self.engine.current_transaction.reset(token)
            if exception is None:
                raise  # the COMMIT failed
        if lost:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("the database connection was lost during the transaction") from exception
        return False  # the block's own error, not the failed ROLLBACK's


def _closed(connection: Any) -> bool:
    try:
        return bool(connection.is_closed())
    except asyncpg.exceptions.InterfaceError:  # given back to the pool, which happens under a transaction only on closing
        return True


class _PostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _Transaction(engine=self, allow_nested=allow_nested)


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, keeping a few connections open for the next statement or transaction.

    Piccolo's own opens a connection for every statement outside a transaction and for every transaction, and closes
    it after: a thread started, the file opened and the schema (about 200 tables and indexes) read again each time,
    about 3 ms of CPU against 0.05 ms for the statement itself. A page that reads ten things paid that ten times.
    Here a connection goes back to ``_idle`` when its statement or transaction is over, unless it may still be in a
    transaction (its statement failed or was cancelled, or its ROLLBACK or COMMIT failed): that one is closed. Each
    statement outside a transaction still commits at once, so what one connection commits the next one sees."""

    IDLE_CONNECTIONS = 4  # kept open per process; more run at once when needed, and are closed after

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._idle: list[aiosqlite.Connection] = []

    async def _acquire(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection._connection is not None:  # not closed behind the pool's back (close_idle at shutdown)
                return connection
        connection = aiosqlite.connect(**self.connection_kwargs)
        # An idle connection's thread must not keep the process from exiting when nobody closed the engine (Piccolo's
        # own CLI, through piccolo_conf.DB): every statement is committed or rolled back before it goes idle.
        connection._thread.daemon = True
        try:
            await connection
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
        except BaseException:
            connection.stop()
            raise
        return connection

    def _release(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < self.IDLE_CONNECTIONS and connection._connection is not None and not connection.in_transaction:
            self._idle.append(connection)
        else:
            connection.stop()  # closes it on its own thread once what was sent to it is done

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(Exception):
                await connection.close()

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        _refuse_after_end(self.current_transaction.get())
        return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        _refuse_after_end(self.current_transaction.get())
        return await super().run_ddl(ddl, in_pool)

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: type[Table] | None = None
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: Piccolo reads the row back
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self._acquire()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                rows = await cursor.fetchall()
        except BaseException:
            # Failed, it may be inside the transaction its statement began (a failed INSERT holds the write lock until
            # then); cancelled, its statement may still run. Either way the connection is closed, never reused.
            await _close_quietly(connection)
            raise
        self._release(connection)
        return rows

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None, query_type: str = "generic", table: type[Table] | None = None
    ) -> Any:
        # Piccolo's own sends PRAGMA foreign_keys = 1 before each statement of a transaction (a thread hop each); every
        # connection here has it from the start.
        if query_type == "insert" and self.get_version_sync() < 3.35:
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True) -> SQLiteTransaction:
        return _SQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)


async def _close_quietly(connection: aiosqlite.Connection) -> None:
    """Close a connection that may be inside a transaction (SQLite rolls it back), once whatever was sent to it has
    run (as with Piccolo's own engine, so nothing a cancelled statement writes lands after its caller moved on). The
    error that brought it here is the one that counts: closing's own, or a second cancellation, is not raised."""
    with contextlib.suppress(BaseException):
        await connection.close()


def _refuse_after_end(transaction: Any) -> None:
    """A task started inside a transaction that runs a statement after the transaction ended (its context still
    names it) fails, as it did when the connection closed with the transaction: it must not run in whatever
    transaction the connection, given back, now serves."""
    if getattr(transaction, "ended", False):
        raise RuntimeError("A statement was run through a transaction that had already ended.")


class _SQLiteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a connection of the engine's, given back (not closed) when it ends."""

    engine: _SQLiteEngine
    ended = False

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.engine._acquire()
        try:
            await self.begin()  # BEGIN IMMEDIATE waits up to the busy timeout for another process's write, then fails
        except Exception:
            self.engine._release(self.connection)  # not in a transaction: BEGIN did not start one
            raise
        except BaseException:
            await _close_quietly(self.connection)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await _close_quietly(self.connection)  # the ROLLBACK or COMMIT failed or was cancelled: what is left ends with it
            raise
        else:
            self.engine._release(self.connection)
        finally:
            self.ended = True
            self.engine.current_transaction.reset(self.context)
        return exception is None


def create_engine(database_url: str) -> Engine:
    """An engine for a sqlite:// or postgresql:// URL (the settings have already validated it)."""
    if database_url.startswith("sqlite"):
        path = Path(unquote(urlsplit(database_url).path))
        path.parent.mkdir(parents=True, exist_ok=True)
        return _SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return _PostgresEngine(
        config={"dsn": dsn, "server_settings": {"lock_timeout": POSTGRES_LOCK_TIMEOUT}, "timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    )


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
    This app never changes session state (no SET, session advisory locks, LISTEN or held cursors; its advisory locks
    end with their transaction, tickets.queries; lock_timeout is a connection setting), so that query only ever resets what is already at its defaults. Code that starts
    changing session state must undo it itself, or put the default reset back here."""


class PoolRetriesWithoutTraceback(logging.Filter):
    """asyncpg's pool, while the database is away, logs each try to reconnect with the connection error's whole
    traceback: one line each here (the error's kind only: its text can name the database's address), so that an outage
    of a few seconds does not fill the log. The requests themselves are answered 503 (errors.DatabaseUnavailable)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


_POOL_LOGGER = logging.getLogger("asyncpg.pool")
if not any(isinstance(existing, PoolRetriesWithoutTraceback) for existing in _POOL_LOGGER.filters):
    _POOL_LOGGER.addFilter(PoolRetriesWithoutTraceback())


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
    elif isinstance(engine_, _SQLiteEngine):
        await engine_.close_idle()


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


def locked(query: _Query) -> _Query:
    """``query`` locking the rows it reads until the transaction ends (FOR NO KEY UPDATE), on PostgreSQL. On SQLite
    the query as it is: SQLite has no row locks (Piccolo refuses lock_rows there) and needs none, because the
    IMMEDIATE write transaction (write_transaction) already holds the database's only write lock."""
    return query if is_sqlite() else query.lock_rows("NO KEY UPDATE")


@functools.cache
def _numbered(sql: str) -> str:
    """Piccolo's {} placeholders as asyncpg's $1, $2, ..."""
    parts = sql.split("{}")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


async def run(sql: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """One hand-written statement (from a domain's queries.py) on either engine: written with Piccolo's {}
    placeholders, taking its arguments in the order of the placeholders, with no other braces; rows read by
    column name, never changed.

    On PostgreSQL straight through asyncpg (as $1, $2, ...), on the connection of the transaction in progress,
    else on a pooled one: for a statement on a hot path, Piccolo's query-string processing of many arguments
    costs more CPU than PostgreSQL's parse of the (prepared, cached) statement, and a Python list goes as one
    array argument. On SQLite (and on PostgreSQL before the pool is open) through Piccolo's engine, on the
    transaction's connection."""
    current = engine()
    if isinstance(current, PostgresEngine):
        transaction = current.current_transaction.get()
        if transaction is not None:
            return await transaction.connection.fetch(_numbered(sql), *args)
        if current.pool is not None:
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
