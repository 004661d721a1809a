"""Guest pages under load: wrk (Debian's) against `/`, an event page and `GET /api/events/{slug}` on
`events serve --workers W`, on PostgreSQL.

    .venv/bin/python bench/pages.py [--workers 2] [--duration 10] [--connections 50] [--threads 1]

1. Creates a PostgreSQL database of its own (see bench/README.md) and drops it at the end.
2. `events migrate` and `events demo` (the demo's organisations and events, its sold-out screening and waiting list).
3. Starts `events serve --workers W` as in production (no worker in process, no Stripe).
4. For each page: a short unmeasured warm-up, then `wrk -tT -cC -dDs --latency` against it, one page at a time; the
   server's processes', the bench database's PostgreSQL backends' and wrk's CPU seconds are read from /proc around
   each run.

JSON on stdout: per page, requests/s, latency percentiles, non-2xx answers and socket errors (timeouts apart), and CPU ms per request
for the server, PostgreSQL and wrk; the load average before; the target (event page >= 2,000 requests/s with
`wrk -t1 -c50` on 2 workers, on the 2-core reference machine). The exit status is 1 when any answer was not a 2xx or a
connection failed (a wrk timeout is only slow); missing the speed target alone does not fail the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from common import admin_url, clean_up, cpu_snapshot, create_database, exception_lines, with_database

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
EVENT = "august-supper-club"  # the demo's event on general sale
PAGES = {"home": "/", "event_page": f"/events/{EVENT}", "event_api": f"/api/events/{EVENT}"}
TARGET_EVENT_PAGE_PER_SECOND = 2000


def log(message: str) -> None:
    print(f"[bench/pages] {message}", file=sys.stderr, flush=True)


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "STRIPE_", "SMTP_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",
            "EVENTS_SECRET_KEY": secrets.token_hex(32),
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"events {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("w") as server_log:
        return subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it stops its workers too, and nothing else
        )


def wait_until_healthy(port: int, process: subprocess.Popen[bytes], log_path: Path, workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Server exited early:\n{log_path.read_text()}")
        try:
            healthy = httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and log_path.read_text().count("Application startup complete") >= workers:
            return
        time.sleep(0.3)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS_MS[unit], 2)


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures of wrk's --latency report."""
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if requests is None or rate is None:
        raise RuntimeError(f"wrk's report could not be read:\n{output}")
    latency = {f"p{percent}": _ms(value) for percent, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(requests.group(1)),
        "requests_per_second": round(float(rate.group(1)), 1),
        "latency_ms": latency,
        "non_2xx_or_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)) if errors else {},
    }


def wrk(url: str, *, threads: int, connections: int, seconds: int) -> tuple[str, float]:
    """wrk's report, and the CPU seconds wrk used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {group: sum(value - before[group].get(pid, 0.0) for pid, value in after[group].items()) for group in ("server", "postgres")}


def measure_page(path: str, args: argparse.Namespace, port: int, server_pid: int, database_url: str) -> dict[str, Any]:
    url = f"http://{HOST}:{port}{path}"
    response = httpx.get(url, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    wrk(url, threads=args.threads, connections=args.connections, seconds=args.warmup)
    before = asyncio.run(cpu_snapshot(server_pid, database_url))
    report, wrk_cpu = wrk(url, threads=args.threads, connections=args.connections, seconds=args.duration)
    used = cpu_used(before, asyncio.run(cpu_snapshot(server_pid, database_url)))
    figures = parse_wrk(report)
    used["wrk"] = wrk_cpu
    count = max(1, figures["requests"])
    return {
        "path": path,
        "bytes": len(response.content),
        **figures,
        "cpu_seconds": {group: round(seconds, 2) for group, seconds in used.items()},
        "cpu_ms_per_request": {group: round(1000 * seconds / count, 3) for group, seconds in used.items()},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="events serve --workers (2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page (10)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds of wrk per page first (2)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (50)")
    parser.add_argument("--threads", type=int, default=1, help="wrk -t (1)")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"which of {', '.join(PAGES)} (all)")
    parser.add_argument("--admin-url", help="PostgreSQL URL to create the bench database through")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupted(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    if shutil.which("wrk") is None:
        print(json.dumps({"benchmark": "pages", "error": "wrk is not installed (apt-get install wrk)"}, indent=2))
        return 1
    admin = admin_url(args.admin_url)
    name = f"events_bench_pages_{secrets.token_hex(4)}"
    database_url = with_database(admin, name)
    var_dir = Path(tempfile.mkdtemp(prefix="events-bench-pages-"))
    env = server_env(database_url, var_dir)
    result: dict[str, Any] = {
        "benchmark": "pages",
        "workers": args.workers,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
    }
    server: subprocess.Popen[bytes] | None = None
    created = False
    status = 1
    try:
        asyncio.run(create_database(admin, name))
        created = True
        log(f"database {name}: migrating and seeding the demo")
        run_cli(env, "migrate")
        run_cli(env, "demo")
        port = free_port()
        log_path = var_dir / "server.log"
        server = start_server(env, port, args.workers, log_path)
        wait_until_healthy(port, server, log_path, args.workers)
        log(f"server on {HOST}:{port} with {args.workers} workers")
        pages: dict[str, Any] = {}
        for page in args.pages.split(","):
            log(f"{page}: wrk {result['wrk']} against {PAGES[page]}")
            pages[page] = measure_page(PAGES[page], args, port, server.pid, database_url)
            log(f"{page}: {pages[page]['requests_per_second']} requests/s, server {pages[page]['cpu_ms_per_request']['server']} ms CPU each")
        result["pages"] = pages
        server_log = log_path.read_text()
        result["server_tracebacks"] = server_log.count("Traceback")
        if result["server_tracebacks"]:
            result["server_exceptions"] = dict(Counter(exception_lines(server_log)).most_common(10))
        event_rate = pages.get("event_page", {}).get("requests_per_second")
        result["target"] = {
            "event_page_requests_per_second": TARGET_EVENT_PAGE_PER_SECOND,
            "met": event_rate is not None and event_rate >= TARGET_EVENT_PAGE_PER_SECOND,
        }
        result["note"] = (
            f"wrk, {args.workers} server workers and PostgreSQL share {os.cpu_count()} CPUs; compare cpu_ms_per_request "
            "between runs made under the same load (load_average_before)."
        )
        # wrk's timeouts (no answer within 2 s) are slowness, reported; a refused, broken or non-2xx answer is an error.
        correct = result["server_tracebacks"] == 0 and all(
            p["non_2xx_or_3xx"] == 0 and not any(count for kind, count in p["socket_errors"].items() if kind != "timeout") for p in pages.values()
        )
        result["correct"] = correct
        status = 0 if correct else 1
    except BaseException as exc:  # noqa: BLE001 - report, then clean up; Ctrl-C and SIGTERM included
        traceback.print_exc(file=sys.stderr)
        result["error"] = f"{type(exc).__name__}: {exc}"
        status = 1
    finally:
        clean_up([server], admin=admin, name=name, created=created, var_dir=var_dir, result=result, log=log)
    print(json.dumps(result, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
