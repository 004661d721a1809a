"""Every benchmark still runs (`make bench`): each script, on a small run, prints its JSON, reports itself correct
(nothing oversold, no double admission, no error, no traceback, statements that add up) and exits 0.

Behaviour, not speed: no rate or latency is asserted; a benchmark that stopped working after a schema or route
change (as bench/reconcile.py did when balance transactions became an organisation's) fails here, not in the next
benchmark sitting. The soak has its own smoke test (test_soak_smoke.py). PostgreSQL only: each script creates and drops
a database of its own through TEST_DATABASE_URL.
"""

from __future__ import annotations

import pytest

from tests.support.benchmarks import run_bench

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def test_onsale_sells_every_place_once() -> None:
    report = run_bench("onsale.py", "--buyers", "60", "--places", "40", "--concurrency", "20", "--warmup", "5")
    assert report["correct"] and report["oversold"] == 0 and report["consistent"], report
    assert report["successful_orders"] == 40 and report["errors"] == 0, report


def test_rush_walks_the_guests_whole_path() -> None:
    report = run_bench("rush.py", "--guests", "30", "--places", "20", "--concurrency", "10", "--warmup", "2")
    assert report["correct"] and report["oversold"] == 0 and report["consistent"], report
    assert report["completed_purchases"] == 20 and report["errors"] == 0, report
    assert set(report["latency_ms"]) == {"home", "event_page", "buy", "payment_page", "test_payment", "confirmation", "ticket_page"}


@pytest.mark.parametrize(
    "options",
    [
        ("--tickets", "200", "--scanners", "5"),
        ("--tickets", "200", "--scanners", "5", "--codes", "secret", "--contested", "0.2"),
        # Two phones scanning for long enough that small orders' PDFs come back meanwhile.
        ("--tickets", "600", "--scanners", "2", "--pdf-downloads", "1", "--pdf-tickets", "20", "--pdf-orders", "1"),
    ],
)
def test_checkin_admits_each_ticket_once(options: tuple[str, ...]) -> None:
    report = run_bench("checkin.py", "--warmup", "20", *options)
    assert report["correct"] and report["double_admissions"] == 0 and report["errors"] == 0, report
    assert report["server_tracebacks"] == 0, report.get("server_exceptions")
    assert report["distinct_tickets_admitted"] == int(options[1]), report
    if "--pdf-downloads" in options:
        assert report["pdf_downloads"]["errors"] == 0 and report["pdf_downloads"]["pdfs"] > 0, report["pdf_downloads"]
        # The PDFs were made in the serve workers' pool processes (EVENTS_CPU_PROCESSES=1), and their CPU is counted.
        assert report["pdf_downloads"]["server_cpu_seconds"]["pool_processes"] > 0, report["pdf_downloads"]


def test_reconcile_books_every_penny_and_every_statement_adds_up() -> None:
    report = run_bench("reconcile.py", "--orders", "500", "--free-guests", "10", "--repeats", "1")
    assert report["ledger"]["mismatches"] == {}, report["ledger"]
    assert report["booking"]["entries_booked"] > 0 and report["booking"]["again_entries_booked"] == 0, report["booking"]


def test_tickets_renders_pdfs() -> None:
    report = run_bench("tickets.py", "--renders", "3", "--order-size", "5", database=False)
    assert report["pdf_bytes"]["single_a4"] > 0 and report["pdf_bytes"]["order_5_tickets_a4"] > 0, report


def test_pages_answers_every_request() -> None:
    report = run_bench("pages.py", "--duration", "1", "--warmup", "1", "--connections", "5")
    assert report["correct"] and report["server_tracebacks"] == 0, report
    for page in report["pages"].values():
        # wrk's timeouts (no answer within 2 s) are slowness, which this test never asserts; the rest are errors.
        refused = {kind: count for kind, count in page["socket_errors"].items() if kind != "timeout" and count}
        assert page["requests"] > 0 and page["non_2xx_or_3xx"] == 0 and not refused, page
