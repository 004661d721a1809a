"""Door check-in throughput: 20 door phones redeeming distinct tickets against `events serve --workers N`.

    .venv/bin/python bench/checkin.py [--workers 2] [--tickets 5000] [--scanners 20] [--codes signed|secret]
    .venv/bin/python bench/checkin.py --pdf-downloads 4 [--cpu-processes 0|1]
    .venv/bin/python bench/checkin.py --profile [--profile-dir DIR]

Prints one JSON object on stdout and nothing else (progress and errors go to stderr; the server's log is
kept in a temporary directory that is removed at the end).

What it does, all on 127.0.0.1:

1. Creates its own PostgreSQL database (admin URL: --admin-url, else BENCH_DATABASE_URL, else
   TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, also when
   anything fails or the run is interrupted.
2. `events migrate`, then seeds in this process through the app's own code (events.db bound to the new
   database): a partner and an on-sale event (catalogue.create_event), paid orders of five tickets each
   (Order and OrderLine rows inserted in batches, then tickets.issuing.issue_tickets for each order, a few
   at a time, so the ticket rows and secrets are made exactly as a purchase makes them), one door account
   per scanner with its own API token (accounts.create_user / create_api_token) on the event's door team
   (checkin.door_team.assign_door_staff). The QR text of every ticket comes from events.tickets.views.tickets_of_order,
   i.e. signed with the event's Ed25519 key exactly as on the guest's ticket page, so the server verifies a
   signature per scan (--codes secret sends the bare secrets instead). About 10 s for 5,200 tickets.
3. Starts `events serve --workers N` as in production (EVENTS_RUN_WORKER_IN_PROCESS=false, access log off).
4. Warms up (--warmup scans, not measured), then --scanners concurrent door phones, each on its own
   keep-alive connection, POST /api/checkin/redeem for their own slice of the tickets (one request at a
   time per phone, as a phone does) until the slice is done or --duration seconds pass. The load
   generator is a minimal HTTP/1.1 client on uvloop in this process, so it takes as little of the shared
   CPU as possible; its CPU time is reported.
5. Checks the database: no ticket has more than one `ok` scan (double admissions), no scan is left
   pending, and every admitted ticket has exactly one `ok` scan. With --contested F a fraction F of each
   phone's scans are of another phone's tickets (a guest trying a second door), so the check is not vacuous.

Output (the main fields): redeems_per_second (ok scans over the measured phase), requests_per_second,
latency_ms p50/p95/p99/max/mean (per request, over all measured requests), ok, rejected (by reason), errors
(transport errors and non-200 answers; must be 0), double_admissions (from the database; must be 0),
workers, cpu_count, and cpu_seconds / cpu_ms_per_request for the server processes, the bench database's
PostgreSQL backends and the load generator. On a shared machine (see load_average_before) throughput is
lower and noisier than the code allows; cpu_ms_per_request is the steadier figure for comparing changes, and
cpu_bound_redeems_per_second_estimate turns it into a rough ceiling for an otherwise idle machine.
Exit status 1 if any check fails.

Target on a 2-core machine: >= 1,000 redeems/s with p99 < 50 ms.

--profile runs cProfile, on the CPU clock, in every server process while the phones scan (switched on and off by
signals: common.PROFILER) and adds "profile" to the JSON: the share of the server's CPU per part of a redeem (PARTS:
uvicorn, Litestar, our middleware, auth, JSON, the Ed25519 check, the database, batching, logging, ...; what the
standard library and builtins do counts for the part that called them) and the functions with the most own time per
request. cProfile slows Python several times and C code much less, so the shares lean towards Python; read them
against an unprofiled run's cpu_ms_per_request. --profile-dir DIR keeps the raw cProfile files.

--pdf-downloads N (issue #20 §2: no request waits behind a CPU-heavy one): N more clients, each on its own
connection, download big orders' ticket PDFs (--pdf-orders of --pdf-tickets each, default 5 of 500, seeded as
paid orders that are never scanned) one after another for as long as the phones scan; each client's first PDF is
a warm-up. The output gains "pdf_downloads": PDFs per second and their latency, check-in p50/p99 under that load
(the same as latency_ms), the server's CPU split between its serve processes and its PDF pool processes, cores
busy, and the target check-in p99 < 50 ms. --cpu-processes sets the server's EVENTS_CPU_PROCESSES (0: PDFs in a
thread of the serve process, as before the pool), so one code base measures before and after. cpu_ms_per_request
then counts the PDFs' CPU too, so it is not the figure for a redeem's cost in this mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
from common import admin_url, clean_up, cpu_snapshot, create_database, profiled_env, read_profiles, signal_workers, with_database

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench-door-night"
TICKETS_PER_ORDER = 5
SEED_BATCH = 500
TARGET_REDEEMS_PER_SECOND = 1000
TARGET_P99_MS = 50.0


def log(message: str) -> None:
    print(f"[bench/checkin] {message}", file=sys.stderr, flush=True)


# --- the database --------------------------------------------------------------------------------------


# --- seeding through the app's own code --------------------------------------------------------------


@dataclass
class Seeded:
    codes: list[str]  # what each phone scans: signed QR texts or bare secrets, one per ticket
    tokens: list[str]  # one API token per phone
    seconds: float
    pdf_paths: list[str] = field(default_factory=list)  # --pdf-downloads: each big order's PDF, with its access token


async def seed(database_url: str, secret_key: str, *, tickets: int, scanners: int, codes: str, pdf_orders: int = 0, pdf_tickets: int = 0) -> Seeded:
    started = time.perf_counter()
    from events import db
    from events.accounts import service as accounts
    from events.catalogue import service as catalogue
    from events.catalogue.schemas import EventCreate, PartnerIn, ShareIn, TicketTypeIn
    from events.catalogue.tables import Event, TicketType
    from events.checkin.door_team import assign_door_staff
    from events.ledger import service as _ledger  # noqa: F401 - tells the catalogue what was paid forward (catalogue.sales)
    from events.orders import codes as order_codes
    from events.orders.tables import Order, OrderLine
    from events.tickets import keys
    from events.tickets.issuing import issue_tickets
    from events.tickets.views import tickets_of_order

    now = datetime.now(timezone.utc)
    async with db.bound(database_url):
        from events.organisations import service as organisations

        # The organisation a new database starts with (a single-organisation installation).
        organisation_id = (await organisations.resolve(None)).id
        await catalogue.create_partner(PartnerIn(slug="bench-partner", name="Bench Partner"), organisation_id=organisation_id)
        starts = (now + timedelta(hours=1)).replace(microsecond=0)
        event_out = await catalogue.create_event(
            EventCreate(
                slug=SLUG,
                title="Bench Door Night",
                starts_at=starts,
                ends_at=starts + timedelta(hours=5),
                capacity=tickets + pdf_orders * pdf_tickets,
                status="on_sale",
                ticket_types=[TicketTypeIn(name="General", price_pence=1000, channel="both", max_per_order=TICKETS_PER_ORDER)],
                beneficiaries=[ShareIn(partner="bench-partner", share_bp=10_000)],
            ),
            now,
            organisation_id=organisation_id,
        )
        event = await Event.select(Event.id).where(Event.slug == SLUG).first()
        [ticket_type] = await TicketType.select(TicketType.id).where(TicketType.event == event["id"])

        sizes = [TICKETS_PER_ORDER] * (tickets // TICKETS_PER_ORDER) + ([tickets % TICKETS_PER_ORDER] if tickets % TICKETS_PER_ORDER else [])
        references: set[str] = set()
        while len(references) < len(sizes):
            references.add(order_codes.new_order_reference())
        ordered = sorted(references)
        order_ids: list[int] = []
        for first in range(0, len(sizes), SEED_BATCH):  # batches keep each INSERT under PostgreSQL's 32,767 parameters
            batch = list(enumerate(zip(ordered, sizes, strict=False)))[first : first + SEED_BATCH]
            orders = [
                Order(
                    reference=reference,
                    event=event["id"],
                    status="paid",
                    channel="online",
                    buyer_name=f"Guest {index}",
                    buyer_email=f"guest{index}@bench.example",
                    currency="GBP",
                    tickets_pence=1000 * size,
                    total_pence=1000 * size,
                    places=size,
                    payment_provider="test",
                    created_at=now,
                    paid_at=now,
                )
                for index, (reference, size) in batch
            ]
            ids = [row["id"] for row in await Order.insert(*orders).returning(Order.id)]
            await OrderLine.insert(
                *[
                    OrderLine(
                        order_id=order_id,
                        kind="ticket",
                        ticket_type=ticket_type["id"],
                        description="General",
                        quantity=size,
                        unit_price_pence=1000,
                        total_pence=1000 * size,
                    )
                    for order_id, (_, (_, size)) in zip(ids, batch, strict=False)
                ]
            )
            order_ids += ids
        log(f"seed: {len(order_ids)} paid orders in {time.perf_counter() - started:.1f}s")
        # The tickets, as a purchase issues them, and their QR texts, as the ticket page signs them: several
        # orders at a time over the connection pool.
        limit = asyncio.Semaphore(8)

        async def issue(index: int, order_id: int) -> None:
            async with limit:
                await issue_tickets(order_id, event["id"], f"Guest {index}", now)

        await asyncio.gather(*(issue(index, order_id) for index, order_id in enumerate(order_ids)))
        pdf_paths = await seed_pdf_orders(event["id"], ticket_type["id"], secret_key, now, orders=pdf_orders, size=pdf_tickets)
        taken = tickets + pdf_orders * pdf_tickets
        await Event.update({Event.places_taken: taken}).where(Event.id == event["id"])
        await TicketType.update({TicketType.places_taken: taken}).where(TicketType.id == ticket_type["id"])
        log(f"seed: {tickets} tickets issued in {time.perf_counter() - started:.1f}s")
        await keys.current_signing_key(event["id"], secret_key=secret_key, now=now)  # made once, before the rush

        async def codes_of(reference: str) -> list[str]:
            async with limit:
                views = await tickets_of_order(reference, secret_key=secret_key, now=now)
            return [view.code if codes == "signed" else view.secret for view in views]

        scanned = [code for batch_codes in await asyncio.gather(*(codes_of(r) for r in ordered)) for code in batch_codes]
        log(f"seed: {len(scanned)} codes in {time.perf_counter() - started:.1f}s")

        tokens = []
        for index in range(scanners):
            email = f"door{index + 1}@bench.example"
            user = await accounts.create_user(email, role="door", password=None, display_name=f"Door {index + 1}")
            await assign_door_staff(event["id"], user.id)
            tokens.append(await accounts.create_api_token(email, label=f"Door {index + 1} phone", now=now))
    assert event_out.slug == SLUG and len(scanned) == tickets, (event_out.slug, len(scanned))
    return Seeded(scanned, tokens, time.perf_counter() - started, pdf_paths)


async def seed_pdf_orders(event_id: int, ticket_type_id: int, secret_key: str, now: datetime, *, orders: int, size: int) -> list[str]:
    """--pdf-downloads: ``orders`` paid orders of ``size`` tickets each (a school's or a company's block booking),
    never scanned; returns the path of each one's PDF as the guest's order page links it (with its access token)."""
    from events.orders import codes as order_codes
    from events.orders.tables import Order, OrderLine
    from events.tickets.issuing import issue_tickets

    paths = []
    for index in range(orders):
        reference = order_codes.new_order_reference()
        [row] = await Order.insert(
            Order(
                reference=reference,
                event=event_id,
                status="paid",
                channel="online",
                buyer_name=f"Block booker {index}",
                buyer_email=f"block{index}@bench.example",
                currency="GBP",
                tickets_pence=1000 * size,
                total_pence=1000 * size,
                places=size,
                payment_provider="test",
                created_at=now,
                paid_at=now,
            )
        ).returning(Order.id)
        await OrderLine.insert(
            OrderLine(
                order_id=row["id"],
                kind="ticket",
                ticket_type=ticket_type_id,
                description="General",
                quantity=size,
                unit_price_pence=1000,
                total_pence=1000 * size,
            )
        )
        await issue_tickets(row["id"], event_id, f"Block booker {index}", now)
        paths.append(f"/orders/{reference}/tickets.pdf?token={order_codes.order_access_token(secret_key, reference)}")
    if orders:
        log(f"seed: {orders} orders of {size} tickets for --pdf-downloads")
    return paths


# --- the server ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, var_dir: Path, secret_key: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "STRIPE_", "SMTP_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",
            "EVENTS_SECRET_KEY": secret_key,
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"events {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def start_server(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("w") as server_log:
        return subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
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
            status, _ = await one_request(port, "GET", "/healthz", None, None)
            # uvicorn logs each worker's start-up; wait for all of them so the first scans do not race start-up.
            if status == 200 and log_path.read_text().count("Application startup complete") >= workers:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")


# --- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None, token: str | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
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


async def one_request(port: int, method: str, path: str, body: bytes | None, token: str | None) -> tuple[int, bytes]:
    connection = Connection(port)
    try:
        return await connection.request(method, path, body, token)
    finally:
        connection.close()


# --- the load ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    admitted: list[int] = field(default_factory=list)  # indexes of tickets that got `ok`


async def scan_all(port: int, tokens: list[str], slices: list[list[int]], codes: list[str], deadline: float, tally: Tally) -> None:
    async def phone(token: str, indexes: list[int]) -> None:
        connection = Connection(port)
        try:
            for index in indexes:
                if time.perf_counter() > deadline:
                    return
                body = json.dumps({"event": SLUG, "secret": codes[index], "nonce": uuid.uuid4().hex}).encode()
                started = time.perf_counter()
                try:
                    status, payload = await connection.request("POST", "/api/checkin/redeem", body, token)
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    tally.errors[f"{type(exc).__name__}"] += 1
                    continue
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    tally.errors[f"http {status}"] += 1
                    continue
                result = json.loads(payload)
                if result["status"] == "ok":
                    tally.outcomes["ok"] += 1
                    tally.admitted.append(index)
                else:
                    tally.outcomes[result["reason"]] += 1
        finally:
            connection.close()

    await asyncio.gather(*(phone(token, indexes) for token, indexes in zip(tokens, slices, strict=False)))


@dataclass
class Downloads:
    """--pdf-downloads: what the PDF clients got."""

    latencies_ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def download_pdfs(
    port: int, paths: list[str], clients: int, downloads: Downloads, *, rounds: int | None = None, stop: asyncio.Event | None = None
) -> None:
    """``clients`` guests each downloading the big orders' PDFs one after another, on their own keep-alive connection,
    until ``stop`` is set (each finishes the PDF it is downloading, and starts no other), or ``rounds`` downloads each.
    Client i starts at order i, so the PDFs are of different orders:
    with the default 5 orders of 500 tickets, more distinct QR codes than events.tickets.qr caches, so every PDF pays
    for encoding its codes, as a new order's PDF does."""

    async def client(number: int) -> None:
        connection = Connection(port)
        turn = number
        try:
            while (rounds is None or turn < number + rounds * clients) and not (stop is not None and stop.is_set()):
                path = paths[turn % len(paths)]
                turn += clients
                started = time.perf_counter()
                try:
                    status, payload = await connection.request("GET", path, None, None)
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    downloads.errors[type(exc).__name__] += 1
                    continue
                if status != 200 or not payload.startswith(b"%PDF"):
                    downloads.errors[f"http {status}"] += 1
                    continue
                downloads.latencies_ms.append((time.perf_counter() - started) * 1000)
                downloads.sizes.append(len(payload))
        finally:
            connection.close()

    await asyncio.gather(*(client(number) for number in range(clients)))


def pool_processes(pids: list[int]) -> set[int]:
    """Which of the server's processes are events.cpu's pool (its fork server and the processes it forks)."""
    found = set()
    for pid in pids:
        try:
            # uvicorn's workers are multiprocessing's spawned processes too; the pool's fork from its fork server.
            if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def pdf_report(
    args: argparse.Namespace,
    downloads: Downloads,
    elapsed: float,
    checkins: list[float],
    before: dict[str, dict[int, float]],
    after: dict[str, dict[int, float]],
) -> dict[str, Any]:
    latencies = sorted(downloads.latencies_ms)
    pool = pool_processes(list(after["server"]))
    spent = {pid: value - before["server"].get(pid, 0.0) for pid, value in after["server"].items()}
    pool_seconds = sum(value for pid, value in spent.items() if pid in pool)
    serve_seconds = sum(value for pid, value in spent.items() if pid not in pool)
    p99 = round(percentile(checkins, 0.99), 2)
    return {
        "clients": args.pdf_downloads,
        "orders": args.pdf_orders,
        "tickets_per_pdf": args.pdf_tickets,
        "cpu_processes": "server default" if args.cpu_processes is None else args.cpu_processes,
        "pdfs": len(latencies),
        "pdfs_per_second": round(len(latencies) / elapsed, 2),
        # None when no PDF came back within the measured phase (a short run: more --tickets makes it longer).
        "pdf_latency_ms": {
            "p50": round(percentile(latencies, 0.50)) if latencies else None,
            "p99": round(percentile(latencies, 0.99)) if latencies else None,
            "max": round(latencies[-1]) if latencies else None,
        },
        "pdf_mean_bytes": round(sum(downloads.sizes) / len(downloads.sizes)) if downloads.sizes else None,
        "errors": sum(downloads.errors.values()),
        "errors_by_kind": dict(downloads.errors),
        "checkin_latency_ms": {"p50": round(percentile(checkins, 0.50), 2), "p99": p99},
        # The server's CPU while both ran: its serve processes (the event loops, check-ins included) and its pool
        # processes (the PDFs, when EVENTS_CPU_PROCESSES > 0); cores_busy is both over the elapsed time.
        "server_cpu_seconds": {"serve_processes": round(serve_seconds, 2), "pool_processes": round(pool_seconds, 2)},
        "server_cores_busy": round((serve_seconds + pool_seconds) / elapsed, 2),
        "target": {"checkin_p99_ms": TARGET_P99_MS, "met": p99 < TARGET_P99_MS},
    }


def slices_for(indexes: list[int], scanners: int, contested: float, rng_seed: int = 7) -> list[list[int]]:
    """Each phone its own tickets; with ``contested`` > 0 some scans are of the next phone's tickets."""
    import random

    rng = random.Random(rng_seed)
    own = [indexes[i::scanners] for i in range(scanners)]
    if contested <= 0:
        return own
    result = []
    for phone, tickets in enumerate(own):
        neighbour = own[(phone + 1) % scanners]
        mixed = list(tickets)
        for position in range(len(mixed)):
            if rng.random() < contested and position < len(neighbour):
                mixed.insert(position, neighbour[position])
        result.append(mixed)
    return result


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


# --- CPU accounting from /proc -----------------------------------------------------------------------


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {group: round(sum(value - before[group].get(pid, 0.0) for pid, value in after[group].items()), 2) for group in after}


# --- checks in the database ----------------------------------------------------------------------------


async def database_checks(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        double = await connection.fetchval(
            "SELECT count(*) FROM (SELECT ticket FROM scan WHERE status = 'ok' AND direction = 'in' GROUP BY ticket HAVING count(*) > 1) t"
        )
        ok_scans = await connection.fetchval("SELECT count(*) FROM scan WHERE status = 'ok'")
        pending = await connection.fetchval("SELECT count(*) FROM scan WHERE status = 'pending'")
        checked_in = await connection.fetchval("SELECT count(*) FROM ticket WHERE checked_in_at IS NOT NULL")
        admitted_without_ok = await connection.fetchval(
            """SELECT count(*) FROM ticket t WHERE t.checked_in_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM scan s WHERE s.ticket = t.id AND s.status = 'ok')"""
        )
        scans = await connection.fetchval("SELECT count(*) FROM scan")
    finally:
        await connection.close()
    return {
        "double_admissions": int(double),
        "ok_scans": int(ok_scans),
        "pending_scans": int(pending),
        "tickets_checked_in": int(checked_in),
        "admitted_without_ok_scan": int(admitted_without_ok),
        "scans": int(scans),
    }


async def server_version(database_url: str) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


# --- the profile (--profile) ---------------------------------------------------------------------------

# The parts of a redeem, by where a function's own CPU time counts: the first rule that matches its file (or, for
# a function written in C, its name) wins. Functions of no part (the standard library, builtins such as dict.get or
# copy.copy, dataclasses' generated __init__) count for the part of whoever called them, in proportion.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ed25519 signature check (and parsing the code)", ("tickets/signing.py", "Ed25519PublicKey")),
    ("JSON (msgspec)", ("msgspec", "litestar/serialization/", "/json/")),
    ("logging", ("/logging/",)),
    ("database (asyncpg, Piccolo, events.db)", ("asyncpg", "/piccolo/", "events/db.py")),
    ("auth (API token lookup, role guard)", ("events/accounts/",)),
    ("batching (events.batching)", ("events/batching.py",)),
    ("check-in (controller, scanning, rules)", ("events/checkin/",)),
    ("event loop in C (uvloop: sockets, epoll, asyncpg's protocol, task steps)", ("run_until_complete",)),
    ("HTTP server (uvicorn, httptools, uvloop's transport)", ("uvicorn/", "httptools", "uvloop")),
    ("asyncio (Python parts)", ("/asyncio/",)),
    ("Litestar (routing, middleware, DI, guards, request, response)", ("litestar/",)),
    ("our middleware and hooks (malformed, content type, locale, security headers)", ("events/",)),
)
OTHER = "other (no caller known)"


def _part(filename: str, name: str) -> str | None:
    where = name if filename == "~" else filename
    return next((part for part, marks in PARTS if any(mark in where for mark in marks)), None)


def profile_summary(profile_dir: Path, requests: int) -> dict[str, Any]:
    profiles = read_profiles(profile_dir)
    if profiles is None:
        return {"error": "no profile written"}
    processes, raw = profiles
    shares: dict[Any, dict[str, float]] = {}

    def parts_of(function: Any, seen: frozenset[Any] = frozenset()) -> dict[str, float]:
        """How a function's own time divides between the parts: all its own part's, or its callers' in proportion to
        what each call cost (remembered: the standard library is called from everywhere). Empty when every caller is
        already on the way (a cycle)."""
        part = _part(function[0], function[2])
        if part is not None:
            return {part: 1.0}
        if function in shares:
            return shares[function]
        callers = raw[function][4] if function in raw else {}
        result: dict[str, float] = {}
        counted = 0.0
        cut = False
        for caller, timing in callers.items():
            if caller == function or caller in seen:
                cut = True
                continue
            caller_parts = parts_of(caller, seen | {function})
            if caller_parts and timing[2] > 0:
                counted += timing[2]
                for caller_part, fraction in caller_parts.items():
                    result[caller_part] = result.get(caller_part, 0.0) + fraction * timing[2]
        result = {caller_part: weight / counted for caller_part, weight in result.items()} if counted > 0 else {}
        if not cut:
            shares[function] = result
        return result

    parts: Counter[str] = Counter()
    for function, entry in raw.items():
        for part, fraction in (parts_of(function) or {OTHER: 1.0}).items():
            parts[part] += entry[2] * fraction
    total = sum(parts.values())
    top = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:30]
    return {
        "processes": processes,
        "profiled_cpu_s": round(total, 2),
        "profiled_cpu_ms_per_request": round(1000 * total / max(requests, 1), 3),
        "share_by_part": {part: round(seconds / total, 3) for part, seconds in parts.most_common()},
        "top_own_time": [
            {
                "function": f"{Path(filename).name}:{line}({name})",
                "own_ms_per_request": round(1000 * entry[2] / max(requests, 1), 4),
                "calls": entry[1],
            }
            for (filename, line, name), entry in top
        ],
        "note": "cProfile on the CPU clock (time.thread_time) in each server process's main thread, during the measured "
        "phase only; a function's own time counts for its part (PARTS), that of the standard library and builtins for "
        "their callers' parts. Profiling slows Python code several times (C code much less): read shares against an "
        "unprofiled run's cpu_ms_per_request, not rates.",
    }


# --- the run -------------------------------------------------------------------------------------------


async def load(args: argparse.Namespace, port: int, seeded: Seeded, server_pid: int, database_url: str, profile_dir: Path | None) -> dict[str, Any]:
    warmup_indexes = list(range(args.warmup))
    measured_indexes = list(range(args.warmup, len(seeded.codes)))
    warm = Tally()
    await scan_all(port, seeded.tokens, slices_for(warmup_indexes, args.scanners, 0), seeded.codes, time.perf_counter() + 60, warm)
    if warm.errors:
        raise RuntimeError(f"warm-up failed: {dict(warm.errors)}")
    if args.pdf_downloads:  # each client's first PDF starts the server's pool processes, not measured
        warm_pdfs = Downloads()
        await download_pdfs(port, seeded.pdf_paths, args.pdf_downloads, warm_pdfs, rounds=1)
        if warm_pdfs.errors:
            raise RuntimeError(f"PDF warm-up failed: {dict(warm_pdfs.errors)}")
        log(f"PDF warm-up: {len(warm_pdfs.latencies_ms)} PDFs, {max(warm_pdfs.latencies_ms):.0f} ms the slowest")

    tally = Tally()
    slices = slices_for(measured_indexes, args.scanners, args.contested)
    load_average = os.getloadavg()
    if profile_dir is not None:
        signal_workers(server_pid, signal.SIGUSR1)
        await asyncio.sleep(0.5)
    before = await cpu_snapshot(server_pid, database_url)
    started = time.perf_counter()
    downloads = Downloads()
    no_more_pdfs = asyncio.Event()
    downloading = (
        asyncio.ensure_future(download_pdfs(port, seeded.pdf_paths, args.pdf_downloads, downloads, stop=no_more_pdfs)) if args.pdf_downloads else None
    )
    await scan_all(port, seeded.tokens, slices, seeded.codes, started + args.duration, tally)
    elapsed = time.perf_counter() - started
    after = await cpu_snapshot(server_pid, database_url)
    used = cpu_used(before, after)
    if profile_dir is not None:
        signal_workers(server_pid, signal.SIGUSR2)
        await asyncio.sleep(2)
        if args.profile_dir is not None:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
            for written in profile_dir.glob("*.prof"):
                shutil.copy(written, args.profile_dir / written.name)
    if downloading is not None:  # each PDF under way (started while the phones scanned) is finished; no other starts
        no_more_pdfs.set()
        await asyncio.wait_for(downloading, timeout=120)

    latencies = sorted(tally.latencies_ms)
    requests = len(latencies) + sum(tally.errors.values())
    redeemed = tally.outcomes["ok"]
    pdfs = {"pdf_downloads": pdf_report(args, downloads, elapsed, latencies, before, after)} if args.pdf_downloads else {}
    return {
        **pdfs,
        "elapsed_s": round(elapsed, 3),
        "requests": requests,
        "ok": redeemed,
        "rejected": {reason: count for reason, count in sorted(tally.outcomes.items()) if reason != "ok"},
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "redeems_per_second": round(redeemed / elapsed, 1),
        "requests_per_second": round(requests / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "max": round(latencies[-1], 2) if latencies else None,
            "mean": round(sum(latencies) / len(latencies), 2) if latencies else None,
        },
        # CPU time of the server's processes, of the PostgreSQL backends of the bench database, and of this
        # load generator during the measured phase; per request it is less sensitive to a busy machine.
        "cpu_seconds": used,
        "cpu_ms_per_request": {group: round(1000 * value / max(requests, 1), 3) for group, value in used.items()},
        # What the machine could do if the server, PostgreSQL and the load generator had every core to
        # themselves at this CPU cost per scan: a rough ceiling for a shared or busy machine, not a measurement.
        "cpu_bound_redeems_per_second_estimate": round(
            1000 * (os.cpu_count() or 1) / max(sum(used.values()) * 1000 / max(requests, 1), 1e-9) * (redeemed / max(requests, 1))
        ),
        "load_average_before": [round(value, 2) for value in load_average],
        "warmup_scans": len(warm.latencies_ms),
        "distinct_tickets_admitted": len(set(tally.admitted)),
        "admitted_twice_in_responses": len(tally.admitted) - len(set(tally.admitted)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="`events serve --workers` (default 2)")
    parser.add_argument("--tickets", type=int, default=5000, help="tickets scanned in the measured phase")
    parser.add_argument("--warmup", type=int, default=200, help="extra tickets scanned first, not measured")
    parser.add_argument("--scanners", type=int, default=20, help="concurrent door phones")
    parser.add_argument("--duration", type=float, default=30.0, help="stop the measured phase after this many seconds")
    parser.add_argument("--codes", choices=["signed", "secret"], default="signed", help="QR texts (signed) or bare secrets")
    parser.add_argument("--contested", type=float, default=0.0, help="fraction of scans of another phone's tickets")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL URL to create and drop the bench database through")
    parser.add_argument("--pdf-downloads", type=int, default=0, help="clients downloading big orders' PDFs while the phones scan")
    parser.add_argument("--pdf-orders", type=int, default=5, help="--pdf-downloads: how many big orders (default 5)")
    parser.add_argument("--pdf-tickets", type=int, default=500, help="--pdf-downloads: tickets per big order (default 500)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the server's workers while the phones scan (slows them: rates not comparable)"
    )
    parser.add_argument("--profile-dir", type=Path, default=None, help="with --profile: also keep each process's cProfile file here")
    parser.add_argument("--cpu-processes", type=int, default=None, help="the server's EVENTS_CPU_PROCESSES (default: its own default)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    def interrupted(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)

    admin = admin_url(args.admin_url)
    name = f"events_bench_{secrets.token_hex(5)}"
    database_url = with_database(admin, name)
    var_dir = Path(tempfile.mkdtemp(prefix="events-bench-checkin-"))
    secret_key = secrets.token_hex(32)
    env = server_env(database_url, var_dir, secret_key)
    if args.cpu_processes is not None:
        env["EVENTS_CPU_PROCESSES"] = str(args.cpu_processes)
    profile_dir = profiled_env(env, var_dir / "profile", cpu_clock=True) if args.profile else None
    result: dict[str, Any] = {
        "benchmark": "checkin",
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "scanners": args.scanners,
        "codes": args.codes,
        "tickets": args.tickets,
        "contested": args.contested,
        "profiled": args.profile,
    }
    server: subprocess.Popen[bytes] | None = None
    created = False
    status = 1
    try:
        asyncio.run(create_database(admin, name))
        created = True
        log(f"database {name}: migrating")
        run_cli(env, "migrate")
        log(f"seeding {args.tickets + args.warmup} tickets")
        seeded = asyncio.run(
            seed(
                database_url,
                secret_key,
                tickets=args.tickets + args.warmup,
                scanners=args.scanners,
                codes=args.codes,
                pdf_orders=args.pdf_orders if args.pdf_downloads else 0,
                pdf_tickets=args.pdf_tickets,
            )
        )
        result["seed_seconds"] = round(seeded.seconds, 2)
        port = free_port()
        log_path = var_dir / "server.log"
        server = start_server(env, port, args.workers, log_path)
        log(f"server on port {port} with {args.workers} workers")

        async def measure() -> dict[str, Any]:
            await wait_until_healthy(port, server, log_path, args.workers)
            log("scanning")
            return await load(args, port, seeded, server.pid, database_url, profile_dir)

        result.update(asyncio.run(measure()))
        if profile_dir is not None:
            result["profile"] = profile_summary(profile_dir, result["requests"])
        checks = asyncio.run(database_checks(database_url))
        result["database"] = checks
        result["double_admissions"] = checks["double_admissions"]
        result["postgres"] = asyncio.run(server_version(database_url))
        server_log = log_path.read_text()
        result["server_tracebacks"] = server_log.count("Traceback")
        result["python"] = platform.python_version()
        result["target"] = {
            "redeems_per_second": TARGET_REDEEMS_PER_SECOND,
            "p99_ms": TARGET_P99_MS,
            "met": result["redeems_per_second"] >= TARGET_REDEEMS_PER_SECOND and result["latency_ms"]["p99"] < TARGET_P99_MS,
        }
        correct = (
            checks["double_admissions"] == 0
            and checks["pending_scans"] == 0
            and checks["admitted_without_ok_scan"] == 0
            and checks["ok_scans"] == checks["tickets_checked_in"]
            and result["admitted_twice_in_responses"] == 0
            and result["errors"] == 0
            and result.get("pdf_downloads", {}).get("errors", 0) == 0
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
