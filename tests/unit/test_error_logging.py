"""What the one error handler writes to the log: a traceback for a fault nobody expected, one line for an outage the
service explained to the person (a payment provider out of reach), so a minute of an outage does not bury the log."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from litestar import get
from litestar.testing import create_test_client

from events.errors import handle_error
from events.payments.service import PaymentUnavailable


@get("/api/explained", sync_to_thread=False)
def explained() -> None:
    raise PaymentUnavailable("Payments are not available right now. Please try again in a moment.")


@get("/api/unexpected", sync_to_thread=False)
def unexpected() -> None:
    raise RuntimeError("a bug")


def test_an_explained_outage_is_one_line_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with (
        create_test_client([explained], exception_handlers={Exception: handle_error}, logging_config=None) as client,
        caplog.at_level(logging.WARNING, "events.errors"),
    ):
        response = client.get("/api/explained")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    records = [record for record in caplog.records if record.name == "events.errors"]
    assert [(record.levelno, record.exc_info) for record in records] == [(logging.WARNING, None)]
    assert "payment_unavailable" in records[0].getMessage()


def test_an_unexpected_fault_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with (
        create_test_client([unexpected], exception_handlers={Exception: handle_error}, logging_config=None) as client,
        caplog.at_level(logging.WARNING, "events.errors"),
    ):
        response = client.get("/api/unexpected")
    assert response.status_code == 500
    records = [record for record in caplog.records if record.name == "events.errors"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None


@get("/api/lock-waited-too-long", sync_to_thread=False)
def lock_waited_too_long() -> None:
    raise asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout")


def test_a_lock_timeout_under_overload_is_a_503_to_retry_not_a_500(caplog: pytest.LogCaptureFixture) -> None:
    """A statement that waited longer than the lock timeout (a server far behind its load) rolled its transaction back:
    the guest is told to try again in a few seconds, and the log gets one line, not a traceback."""
    with (
        create_test_client([lock_waited_too_long], exception_handlers={Exception: handle_error}, logging_config=None) as client,
        caplog.at_level(logging.WARNING, "events.errors"),
    ):
        response = client.get("/api/lock-waited-too-long")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "database_busy"
    records = [record for record in caplog.records if record.name == "events.errors"]
    assert [(record.levelno, record.exc_info) for record in records] == [(logging.WARNING, None)]
