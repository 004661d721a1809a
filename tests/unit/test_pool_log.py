"""While the database is away, asyncpg's pool logs each try to reconnect: one line each, without the traceback."""

from __future__ import annotations

import logging

import pytest

import events.db  # noqa: F401 - installs the filter on asyncpg's pool logger


def test_a_pool_retry_is_one_line_naming_the_error_without_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    pool_logger = logging.getLogger("asyncpg.pool")
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")
    except ConnectionRefusedError:
        with caplog.at_level(logging.WARNING, "asyncpg.pool"):
            pool_logger.warning("Failed to restore the pool connection floor; retrying", exc_info=True)
    [record] = caplog.records
    assert record.exc_info is None
    assert caplog.text.strip().endswith("Failed to restore the pool connection floor; retrying (ConnectionRefusedError)")
    assert "Traceback" not in caplog.text
    assert "10.0.0.5" not in caplog.text
