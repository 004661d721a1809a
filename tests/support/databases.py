"""Test databases: a fresh SQLite file or a fresh PostgreSQL database, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_POSTGRES = os.environ.get("EVENTS_TEST_REQUIRE_POSTGRES") == "1"


def postgres_available() -> bool:
    return bool(TEST_DATABASE_URL)


def require_postgres(what: str) -> str:
    """The admin URL for PostgreSQL-only tests: skip without TEST_DATABASE_URL, but fail in CI
    (EVENTS_TEST_REQUIRE_POSTGRES=1), where a skipped race test would prove nothing."""
    if not TEST_DATABASE_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("EVENTS_TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip(f"{what} need PostgreSQL: set TEST_DATABASE_URL")
    return TEST_DATABASE_URL


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_postgres_database() -> str:
    assert TEST_DATABASE_URL
    # Named after the pytest-xdist worker (each has databases of its own) and unique, so a database left behind by
    # an interrupted run says where it came from and never meets another run's.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"events_test_{worker}_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        # Commits need not wait for the disk: a test database is never recovered after a crash.
        await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    finally:
        await connection.close()
    return _with_database(TEST_DATABASE_URL, name)


async def drop_postgres_database(url: str) -> None:
    assert TEST_DATABASE_URL
    name = urlsplit(url).path.lstrip("/")
    connection = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'events.sqlite3'}"
