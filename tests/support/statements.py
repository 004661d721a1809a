"""Counting the statements the app sends to PostgreSQL: every round trip through asyncpg (queries, and the BEGIN,
COMMIT and SAVEPOINT of transactions), whichever way it was built (Piccolo's query builder, events.db.run)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from asyncpg.connection import Connection


@contextlib.contextmanager
def statements_sent() -> Iterator[list[str]]:
    """The statements sent while the block runs, in order, each as one line (its text with the whitespace folded)."""
    sent: list[str] = []
    execute, execute_with_arguments = Connection.execute, Connection._execute

    async def counted_execute(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # with arguments it goes through _execute, counted there
            sent.append(" ".join(query.split()))
        return await execute(self, query, *args, **kwargs)

    async def counted_execute_with_arguments(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(" ".join(query.split()))
        return await execute_with_arguments(self, query, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Connection, "execute", counted_execute)
        patch.setattr(Connection, "_execute", counted_execute_with_arguments)
        yield sent
