"""Today's migrations go backwards and forwards again, through Piccolo's runner, on SQLite and PostgreSQL: the
scan table's per-device nonce key and the buyer-email index come back, and a database where two devices reused
a nonce refuses to go back (the old schema cannot hold it) without changing anything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases

FIRST_OF_TODAY = "2026-12-05T07:17:04:088428"

STEP = """
import asyncio, json, sys
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

async def main(action, argument):
    engine = engine_finder()
    if action == "forwards":
        result = await run_forwards(app_name="events", migration_id=argument)
        sys.exit(0 if result.success else f"forwards failed: {result.message}")
    if action == "backwards":
        result = await run_backwards(app_name="events", migration_id=argument, auto_agree=True)
        sys.exit(0 if result.success else f"backwards failed: {result.message}")
    if action == "sql":
        await engine.run_ddl(argument)
        return
    if isinstance(engine, SQLiteEngine):
        indexes = [row["name"] for row in await engine.run_ddl("SELECT name FROM sqlite_master WHERE type = 'index'")]
        columns = [row["name"] for row in await engine.run_ddl("SELECT name FROM pragma_table_info('scan')")]
    else:
        indexes = [row["indexname"] for row in await engine.run_ddl("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")]
        columns = [row["column_name"] for row in await engine.run_ddl(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'scan'")]
    print(json.dumps({"indexes": sorted(indexes), "scan_columns": sorted(columns)}))

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own: the session's shared one must not be migrated backwards under other tests."""
    if backend == "sqlite":
        yield databases.sqlite_url(tmp_path)
        return
    url = asyncio.run(databases.create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_postgres_database(url))


def step(url: str, action: str, argument: str = "") -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "DATABASE_"))}
    env.update({"DATABASE_URL": url, "PICCOLO_CONF": "events.piccolo_conf", "PYTHONPATH": os.pathsep.join(sys.path)})
    return subprocess.run([sys.executable, "-c", STEP, action, argument], env=env, capture_output=True, text=True, timeout=120, check=False)


def migrate(url: str, action: str, argument: str) -> None:
    result = step(url, action, argument)
    assert result.returncode == 0, result.stdout + result.stderr


def schema(url: str) -> dict[str, list[str]]:
    result = step(url, "schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_todays_migrations_go_backwards_and_forwards_again(backend: str, fresh_database: str) -> None:
    migrate(fresh_database, "forwards", "all")
    latest = schema(fresh_database)
    assert "scan_nonce_key" in latest["indexes"] and "scanner" in latest["scan_columns"]
    if backend == "postgres":
        assert "ticket_order_buyer_email_lower_idx" in latest["indexes"]

    # The accounts' tables (sign-ins, password resets, account emails) come and go with their indexes.
    account_indexes = {"sign_in_key_hash", "password_reset_token_hash", "account_message_status"}
    assert account_indexes <= set(latest["indexes"])

    migrate(fresh_database, "backwards", FIRST_OF_TODAY)
    before = schema(fresh_database)
    assert "scanner" not in before["scan_columns"] and "ticket_order_buyer_email_lower_idx" not in before["indexes"]
    assert not account_indexes & set(before["indexes"])
    # The nonce is unique on its own again: on PostgreSQL its constraint's index has the name the key took.
    assert ("scan_nonce_key" in before["indexes"]) == (backend == "postgres")
    if backend == "sqlite":
        assert any(name.startswith("sqlite_autoindex_scan") for name in before["indexes"])

    migrate(fresh_database, "forwards", "all")
    assert schema(fresh_database) == latest
    migrate(fresh_database, "forwards", "all")  # nothing left to do: a re-run is harmless
    assert schema(fresh_database) == latest


def test_going_back_is_refused_once_two_devices_reused_a_nonce(fresh_database: str) -> None:
    migrate(fresh_database, "forwards", "all")
    latest = schema(fresh_database)
    for device in ("front door", "side door"):
        migrate(fresh_database, "sql", f"INSERT INTO scan (nonce, device) VALUES ('n-1', '{device}')")
    refused = step(fresh_database, "backwards", FIRST_OF_TODAY)
    assert "irreversible" in refused.stdout + refused.stderr
    after = schema(fresh_database)  # the key and the scanner column are still there
    assert "scan_nonce_key" in after["indexes"] and after["scan_columns"] == latest["scan_columns"]
