"""Running a benchmark script (bench/*.py) from a test: its JSON report, or a failure that shows what it printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import databases

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 600


def run_bench(script: str, *options: str, database: bool = True) -> dict[str, Any]:
    """``bench/<script>`` run with ``options`` (and its own PostgreSQL database through TEST_DATABASE_URL, unless
    ``database`` is false): its report, once it has exited 0 with no ``error`` in it."""
    admin = ["--admin-url", databases.require_postgres(f"bench/{script}")] if database else []
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), *options, *admin], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.terminate()  # a bench stops its server and drops its database on SIGTERM
        stdout, stderr = process.communicate(timeout=60)
        raise AssertionError(f"bench/{script} ran over {TIMEOUT_SECONDS} s: {stderr[-3000:]}") from None
    try:
        report: dict[str, Any] = json.loads(stdout)
    except ValueError:
        raise AssertionError(f"bench/{script} printed no JSON (exit status {process.returncode}): {stderr[-3000:]}") from None
    assert "error" not in report, (report["error"], stderr[-3000:])
    # The report's short fields (its counts, verdicts and error samples) say why it failed better than its progress log.
    assert process.returncode == 0, (stderr[-2000:], {name: value for name, value in report.items() if len(str(value)) < 500})
    return report
