"""On-sale rush: N buyers racing for P places on `events serve --workers W`, over real HTTP, on PostgreSQL.

    .venv/bin/python bench/onsale.py [--buyers 2000] [--places 1000] [--workers 2] [--concurrency 200]

Prints one JSON object on stdout and nothing else (progress and errors go to stderr; the server's log is
kept in a temporary directory that is removed at the end). Exit status 1 if anything was oversold, a
request failed (anything but 201 or 409 sold_out), or the database disagrees with the responses.

What it does, all on 127.0.0.1:

1. Creates its own PostgreSQL database (admin URL: --admin-url, else BENCH_DATABASE_URL, else
   TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, also
   when anything fails or the run is interrupted (Ctrl-C, SIGTERM).
2. `events migrate`, `events user create` (an organiser) and `events token create`, as an operator would.
3. Starts `events serve --workers W` as in production: EVENTS_RUN_WORKER_IN_PROCESS=false (the sweeper
   would run in a separate `events worker`), no STRIPE_* settings, so checkout uses the built-in "test"
   payment provider and no outbound call is made or timed. EVENTS_ENV stays development only because
   production insists on Stripe and SMTP settings; nothing on the order path depends on it.
4. Through the organiser API: a partner, then an on-sale event with P general places (capacity P, no
   reserved free places, one online ticket type at 15.00, max_per_order = --quantity), plus a separate
   warm-up event.
5. Warm-up (not measured): --warmup orders on the warm-up event, so every worker has imported its code,
   compiled its templates and opened its database pool before the clock starts.
6. The rush: N buyers, each POST /api/events/{slug}/orders for --quantity tickets, at most --concurrency
   in flight (each in-flight slot is one keep-alive connection, like a browser), all starting together.
   Honest buyers within the hold limits: each buyer has an email address of their own, and each
   connection comes from its own loopback address (127.x.y.z) for at most --holds-per-address orders,
   and for at most 40 unpaid places (the server's EVENTS_HOLD_PLACES_PER_CLIENT by default).
   It stops by itself after N requests or --duration seconds, whichever comes first (requests still in
   flight then finish, each bounded by --request-timeout).
7. Reads the database directly (asyncpg): event and ticket-type counters, orders and order lines, and
   computes `oversold` from them.

Why these defaults: 2000 buyers for 1000 places is the shape of a real on-sale (demand beyond supply), so
both the success path (order rows, lines, history, counters, payment start) and the sold-out path (the
same transaction rolled back) are exercised under the same lock contention. Because the sold-out half
is cheaper than a sale, dividing sales by the whole run would understate how fast places sell, so the
headline `successful_orders_per_second` is sales over the *selling window*: from the start of the rush
to the last 201 response (after which nothing is left to sell). `successful_orders_per_second_overall`
(sales over the whole run) and `requests_per_second` are reported too. With --places >= --buyers every
buyer succeeds and the two rates coincide. --workers defaults to 2, one per core of the reference
machine: with 4 workers (4 x 10 pooled connections queueing on the same counter rows) PostgreSQL spent
about twice the CPU per order and the rate dropped, in interleaved runs on the 2-core machine.

Load generator: a minimal HTTP/1.1 keep-alive client on uvloop, in this process (which is otherwise idle
during the rush), so it takes as little of the shared CPU as possible. On a 2-core machine it still
competes with the server workers and PostgreSQL for the same cores; the CPU seconds used by each (server
processes, the bench database's PostgreSQL backends, this load generator) are reported, so the numbers
can be read honestly.

Target on the 2-core machine: >= 500 successful orders/s with p99 < 250 ms (latency over all requests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
from common import admin_url, clean_up, cpu_snapshot, create_database, exception_lines, with_database

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # the only host this script ever sends HTTP requests to
PLACES_PER_ADDRESS = 40  # the server's default EVENTS_HOLD_PLACES_PER_CLIENT: unpaid places one address may hold on an event
SLUG = "bench-on-sale"
WARMUP_SLUG = "bench-warm-up"
PARTNER = "bench-partner"
ORGANISER = "bench-organiser@bench.example"
PRICE_PENCE = 1500
TARGET_ORDERS_PER_SECOND = 500
TARGET_P99_MS = 250.0


def log(message: str) -> None:
    print(f"[bench/onsale] {message}", file=sys.stderr, flush=True)


# --- the database --------------------------------------------------------------------------------------


async def database_state(database_url: str, slug: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        event = await connection.fetchrow("SELECT id, capacity, reserved_free_places, places_taken FROM event WHERE slug = $1", slug)
        type_taken = await connection.fetchval("SELECT COALESCE(SUM(places_taken), 0) FROM ticket_type WHERE event = $1", event["id"])
        orders = await connection.fetchrow(
            """SELECT count(*) AS orders, count(DISTINCT reference) AS references_, COALESCE(SUM(places), 0) AS places,
                      count(*) FILTER (WHERE status NOT IN ('pending', 'paid')) AS not_holding
               FROM ticket_order WHERE event = $1""",
            event["id"],
        )
        line_places = await connection.fetchval(
            """SELECT COALESCE(SUM(l.quantity), 0) FROM order_line l JOIN ticket_order o ON o.id = l.order_id
               WHERE o.event = $1 AND o.status IN ('pending', 'paid') AND l.kind = 'ticket'""",
            event["id"],
        )
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return {
        "capacity": event["capacity"] - event["reserved_free_places"],
        "event_places_taken": int(event["places_taken"]),
        "ticket_type_places_taken": int(type_taken),
        "orders": int(orders["orders"]),
        "distinct_references": int(orders["references_"]),
        "order_places": int(orders["places"]),
        "order_line_places": int(line_places),
        "orders_not_holding_places": int(orders["not_holding"]),
        "postgres": str(version),
    }


# --- the server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


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


def start_server(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("w") as server_log:
        return subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it stops its workers too, and nothing else
        )


async def wait_until_healthy(port: int, process: subprocess.Popen[bytes], log_path: Path, workers: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Server exited early:\n{log_path.read_text()}")
        try:
            status, _ = await one_request(port, "GET", "/healthz")
            # uvicorn logs each worker's start-up; wait for all of them so the rush does not race start-up.
            if status == 200 and log_path.read_text().count("Application startup complete") >= workers:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")


# --- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------------------


class Connection:
    def __init__(self, port: int, local_address: str | None = None) -> None:
        self.port = port
        self.local_address = local_address
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None, token: str | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            local = (self.local_address, 0) if self.local_address else None
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port, local_addr=local)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            status = int(status_line.split()[1])
            length, chunked, closing = 0, False, False
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
                elif name == "connection" and "close" in value.lower():
                    closing = True
            if chunked:
                parts = []
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size + 2))
                await self.reader.readline()
                payload = b"".join(part[:-2] for part in parts)
            else:
                payload = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if closing:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def one_request(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, bytes]:
    connection = Connection(port)
    try:
        return await connection.request(method, path, None if body is None else json.dumps(body).encode(), token)
    finally:
        connection.close()


async def api(port: int, method: str, path: str, body: Any = None, token: str | None = None, expect: int = 200) -> Any:
    status, payload = await one_request(port, method, path, body, token)
    if status != expect:
        raise RuntimeError(f"{method} {path}: expected {expect}, got {status}: {payload[:500]!r}")
    return json.loads(payload)


# --- setting up through the organiser API ----------------------------------------------------------------


async def create_event(port: int, token: str, slug: str, places: int, quantity: int) -> int:
    starts = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    event = await api(
        port,
        "POST",
        "/api/events",
        {
            "slug": slug,
            "title": f"Bench {slug}",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": places,
            "reserved_free_places": 0,
            "status": "on_sale",
            "ticket_types": [{"name": "General", "price_pence": PRICE_PENCE, "channel": "online", "max_per_order": quantity}],
            "beneficiaries": [{"partner": PARTNER, "share_bp": 10_000}],
        },
        token,
        expect=201,
    )
    assert event["places_left"] == places, event
    [ticket_type] = event["ticket_types"]
    return int(ticket_type["id"])


# --- the rush ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    all_ms: list[float] = field(default_factory=list)
    sold_ms: list[float] = field(default_factory=list)
    sold_out_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    references: list[str] = field(default_factory=list)
    first_start: float = 0.0
    last_end: float = 0.0
    last_sale_end: float = 0.0
    sent: int = 0


class Addresses:
    """Loopback client addresses (all of 127.0.0.0/8 reaches this host), handed out one after another, so
    the buyers of a rush come from many addresses as they would, each within the server's per-address hold
    limits (EVENTS_HOLDS_PER_CLIENT_PER_MINUTE, 20 by default; EVENTS_HOLD_PLACES_PER_CLIENT, 40 by default)."""

    def __init__(self, network: int) -> None:
        self.network = network
        self.used = 0

    def next(self) -> str:
        self.used += 1
        return f"127.{self.network}.{self.used // 250}.{self.used % 250 + 1}"


async def rush(
    port: int,
    slug: str,
    ticket_type: int,
    *,
    buyers: int,
    quantity: int,
    concurrency: int,
    duration: float,
    request_timeout: float,
    prefix: str,
    addresses: Addresses,
    holds_per_address: int,
) -> Tally:
    tally = Tally()
    path = f"/api/events/{slug}/orders"
    next_buyer = 0
    start = asyncio.Event()
    deadline = 0.0

    async def slot() -> None:
        nonlocal next_buyer
        connection = Connection(port, addresses.next())
        sent_here = 0
        try:
            await start.wait()
            while next_buyer < buyers and time.perf_counter() < deadline:
                index = next_buyer
                next_buyer += 1
                # Like another browser: a new connection from a new address, within the per-address limits.
                if sent_here and (sent_here == holds_per_address or (sent_here + 1) * quantity > PLACES_PER_ADDRESS):
                    connection.close()
                    connection = Connection(port, addresses.next())
                    sent_here = 0
                sent_here += 1
                body = json.dumps(
                    {
                        "buyer": {"name": f"Buyer {prefix}{index}", "email": f"buyer{prefix}{index}@bench.example"},
                        "items": [{"ticket_type": ticket_type, "quantity": quantity}],
                    }
                ).encode()
                tally.sent += 1
                began = time.perf_counter()
                try:
                    status, payload = await asyncio.wait_for(connection.request("POST", path, body), request_timeout)
                except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    connection.close()
                    tally.errors[type(exc).__name__] += 1
                    tally.last_end = time.perf_counter()
                    continue
                ended = time.perf_counter()
                tally.last_end = max(tally.last_end, ended)
                elapsed_ms = (ended - began) * 1000
                tally.all_ms.append(elapsed_ms)
                if status == 201:
                    tally.sold_ms.append(elapsed_ms)
                    tally.references.append(json.loads(payload)["reference"])
                    tally.last_sale_end = ended
                elif status == 409 and json.loads(payload).get("error") == "sold_out":
                    tally.sold_out_ms.append(elapsed_ms)
                else:
                    try:
                        code = json.loads(payload).get("error", "")
                    except ValueError:
                        code = ""
                    tally.errors[f"http {status} {code}".strip()] += 1
        finally:
            connection.close()

    tasks = [asyncio.create_task(slot()) for _ in range(min(concurrency, buyers))]
    await asyncio.sleep(0)  # every slot is waiting at the barrier
    tally.first_start = time.perf_counter()
    deadline = tally.first_start + duration
    start.set()
    await asyncio.gather(*tasks)
    return tally


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[rank], 2)


def summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": round(ordered[-1], 2) if ordered else None,
        "mean": round(sum(ordered) / len(ordered), 2) if ordered else None,
    }


# --- CPU accounting from /proc -----------------------------------------------------------------------


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {group: round(sum(value - before[group].get(pid, 0.0) for pid, value in after[group].items()), 2) for group in after}


# --- the run -------------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, port: int, token: str, server_pid: int, database_url: str) -> dict[str, Any]:
    await api(port, "POST", "/api/partners", {"name": "Bench Partner", "slug": PARTNER}, token, expect=201)
    warm_type = await create_event(port, token, WARMUP_SLUG, max(args.warmup * args.quantity, 1), args.quantity)
    ticket_type = await create_event(port, token, SLUG, args.places, args.quantity)

    if args.warmup:
        log(f"warm-up: {args.warmup} orders on {WARMUP_SLUG}")
        warm = await rush(
            port,
            WARMUP_SLUG,
            warm_type,
            buyers=args.warmup,
            quantity=args.quantity,
            concurrency=min(args.concurrency, 50),
            duration=60,
            request_timeout=args.request_timeout,
            prefix="w",
            addresses=Addresses(1),
            holds_per_address=args.holds_per_address,
        )
        if warm.errors or len(warm.references) != args.warmup:
            raise RuntimeError(f"warm-up failed: {len(warm.references)} orders, errors {dict(warm.errors)}")

    log(f"rush: {args.buyers} buyers, {args.concurrency} in flight, for {args.places} places")
    load_average = os.getloadavg()
    before = await cpu_snapshot(server_pid, database_url)
    tally = await rush(
        port,
        SLUG,
        ticket_type,
        buyers=args.buyers,
        quantity=args.quantity,
        concurrency=args.concurrency,
        duration=args.duration,
        request_timeout=args.request_timeout,
        prefix="",
        addresses=Addresses(2),
        holds_per_address=args.holds_per_address,
    )
    used = cpu_used(before, await cpu_snapshot(server_pid, database_url))

    duration = max(tally.last_end - tally.first_start, 1e-9)
    selling_window = (tally.last_sale_end - tally.first_start) if tally.references else duration
    sold = len(tally.references)
    requests = tally.sent
    public = await api(port, "GET", f"/api/events/{SLUG}")
    return {
        "tally": tally,
        "requests": requests,
        "successful_orders": sold,
        "sold_out": len(tally.sold_out_ms),
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "unsent_buyers": args.buyers - requests,
        "duration_s": round(duration, 3),
        "selling_window_s": round(selling_window, 3),
        "successful_orders_per_second": round(sold / selling_window, 1) if sold else 0.0,
        "successful_orders_per_second_overall": round(sold / duration, 1),
        "requests_per_second": round(requests / duration, 1),
        "latency_ms": {"all": summary(tally.all_ms), "successful": summary(tally.sold_ms), "sold_out": summary(tally.sold_out_ms)},
        "places_left_after": public["places_left"],
        "cpu_seconds": used,
        "cpu_ms_per_request": {group: round(1000 * value / max(requests, 1), 3) for group, value in used.items()},
        "load_average_before": [round(value, 2) for value in load_average],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=2000, help="buyers in the rush, one order each (default 2000)")
    parser.add_argument("--places", type=int, default=1000, help="general places on sale (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="`events serve --workers` (default 2, one per core of the reference machine)")
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight at once (default 200)")
    parser.add_argument("--quantity", type=int, default=1, help="tickets per order (default 1)")
    parser.add_argument("--duration", type=float, default=60.0, help="send no new request after this many seconds (default 60)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="give up on one request after this (default 30 s)")
    parser.add_argument(
        "--holds-per-address",
        type=int,
        default=10,
        help="orders sent from one loopback address before moving to the next (default 10; the server allows 20 a minute)",
    )
    parser.add_argument("--warmup", type=int, default=200, help="orders on a separate event first, not measured (default 200)")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL URL to create and drop the bench database through")
    args = parser.parse_args(argv)
    for name in ("buyers", "places", "workers", "concurrency", "quantity", "holds_per_address"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not 1 <= args.quantity <= 100:
        parser.error("--quantity must be between 1 and 100 (the API's max_per_order)")
    if args.duration <= 0 or args.request_timeout <= 0 or args.warmup < 0:
        parser.error("--duration and --request-timeout must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    def interrupted(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)

    admin = admin_url(args.admin_url)
    name = f"events_bench_onsale_{secrets.token_hex(4)}"
    database_url = with_database(admin, name)
    var_dir = Path(tempfile.mkdtemp(prefix="events-bench-onsale-"))
    env = server_env(database_url, var_dir)
    result: dict[str, Any] = {
        "benchmark": "onsale",
        "buyers": args.buyers,
        "holds_per_address": args.holds_per_address,
        "places": args.places,
        "quantity": args.quantity,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    server: subprocess.Popen[bytes] | None = None
    created = False
    status = 1
    try:
        asyncio.run(create_database(admin, name))
        created = True
        log(f"database {name}: migrating")
        run_cli(env, "migrate")
        run_cli(env, "user", "create", ORGANISER, "--role", "organiser")
        token = run_cli(env, "token", "create", ORGANISER).strip()
        port = free_port()
        log_path = var_dir / "server.log"
        server = start_server(env, port, args.workers, log_path)
        log(f"server on {HOST}:{port} with {args.workers} workers")

        async def run() -> dict[str, Any]:
            await wait_until_healthy(port, server, log_path, args.workers)
            return await measure(args, port, token, server.pid, database_url)

        measured = asyncio.run(run())
        tally: Tally = measured.pop("tally")
        result.update(measured)

        state = asyncio.run(database_state(database_url, SLUG))
        result["postgres"] = state.pop("postgres")
        result["database"] = state
        sold_places = len(tally.references) * args.quantity
        result["oversold"] = max(0, state["event_places_taken"] - args.places, state["order_places"] - args.places, sold_places - args.places)
        result["consistent"] = (
            state["event_places_taken"] == state["ticket_type_places_taken"] == state["order_places"] == state["order_line_places"] == sold_places
            and state["orders"] == state["distinct_references"] == len(tally.references) == len(set(tally.references))
            and state["orders_not_holding_places"] == 0
            and result["places_left_after"] == args.places - sold_places
        )
        server_log = log_path.read_text()
        result["server_tracebacks"] = server_log.count("Traceback")
        if result["server_tracebacks"]:
            result["server_exceptions"] = dict(Counter(exception_lines(server_log)).most_common(10))
        p99 = result["latency_ms"]["all"]["p99"]
        result["target"] = {
            "successful_orders_per_second": TARGET_ORDERS_PER_SECOND,
            "p99_ms": TARGET_P99_MS,
            "met": result["successful_orders_per_second"] >= TARGET_ORDERS_PER_SECOND and p99 is not None and p99 < TARGET_P99_MS,
        }
        result["note"] = (
            f"Load generator, {args.workers} server workers and PostgreSQL share {os.cpu_count()} CPUs; "
            f"CPU seconds during the rush: {result['cpu_seconds']}. The client is a minimal keep-alive HTTP/1.1 "
            "client on uvloop to keep its share small, but it is not zero; on a dedicated server host the "
            "server would have all of the CPUs."
        )
        correct = result["oversold"] == 0 and result["consistent"] and result["errors"] == 0 and result["server_tracebacks"] == 0
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
