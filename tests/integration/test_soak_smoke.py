"""The soak's smoke mode (bench/soak.py --smoke): a minute of every kind of use at once on `events serve --workers 2`
and PostgreSQL, with no failed request, no traceback, and every worker's memory under the limit.

Behaviour, not speed: what is asserted is that nothing failed and memory stayed bounded, never how fast anything was.
PostgreSQL only (the soak creates and drops a database of its own through TEST_DATABASE_URL); skipped without it,
failed instead in CI (EVENTS_TEST_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import pytest

from tests.support.benchmarks import run_bench
from tests.support.server import free_port

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

RSS_LIMIT_MB = 200
# The steps each flow takes on every round (some flows also take others now and then: the order's PDF, a scan again).
EVERY_ROUND = {
    "browse": {"home", "event_page"},
    "buy": {"event_page", "buy_form", "payment_page", "test_payment", "confirmation", "ticket_page", "ticket_pdf"},
    "claim": {"claim_page", "claim_form", "ticket_pdf"},
    "door": {"scan_code", "scan_typed"},
    "statements": {"sign_in", "partner_statement", "partner_statement_pdf", "event_statement"},
}


def test_a_minute_of_mixed_use_fails_nothing_and_keeps_each_worker_under_the_memory_limit() -> None:
    report = run_bench("soak.py", "--smoke", "--port", str(free_port()))
    assert report["errors"] == 0, (report["errors_by_kind"], report["error_samples"])
    assert report["server_tracebacks"] == 0, report.get("server_exceptions")

    for flow, steps in EVERY_ROUND.items():
        ran = report["flows"][flow]
        assert ran["completed"] > 0 and ran["failed"] == 0, (flow, ran)
        assert steps <= {step for step, seen in ran["latency_ms"].items() if seen["count"] > 0}, (flow, sorted(ran["latency_ms"]))
    database = report["database"]
    assert database["paid_orders"] > 0 and database["free_orders"] > 0, database
    assert 0 < database["admitted"] == report["door_answers"]["ok"], (database, report["door_answers"])

    workers = [process for process in report["rss"]["processes"] if process["role"] == "worker"]
    assert len(workers) == 2 and report["worker_restarts"] == 0 and not report["processes_exited"], report["rss"]["processes"]
    for worker in workers:
        assert len(worker["samples"]) >= 10, worker  # sampled all along the minute, every 2 s
        assert worker["max_mb"] < RSS_LIMIT_MB, worker
    assert report["rss"]["verdict"]["under_limit"]
    # The statements' PDFs were made in a worker's PDF pool, whose processes are measured too.
    assert any(process["role"] == "cpu_pool" for process in report["rss"]["processes"]), [p["role"] for p in report["rss"]["processes"]]
    connections = report["database_connections"]
    assert 0 < connections["max_total"] <= connections["pool_limit"], connections
