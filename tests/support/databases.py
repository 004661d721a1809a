"""Test databases: a fresh SQLite file or a fresh PostgreSQL database, dropped afterwards."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_POSTGRES = os.environ.get("EVENTS_TEST_REQUIRE_POSTGRES") == "1"


def postgres_available() -> bool:
    return bool(TEST_DATABASE_URL)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def create_postgres_database() -> str:
    assert TEST_DATABASE_URL
    name = f"events_test_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
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
