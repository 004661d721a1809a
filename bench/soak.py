"""Soak: a mixed load on `events serve --workers 2` for ten minutes, watching each server process's memory.

    .venv/bin/python bench/soak.py [--duration 600] [--workers 2]
    .venv/bin/python bench/soak.py --smoke          # 60 s, what CI runs (tests/integration/test_soak_smoke.py)
    .venv/bin/python bench/soak.py --probe          # also each process's caches and heaps (bench/soak_probe)
    .venv/bin/python bench/soak.py --probe --tracemalloc 8   # and what grew after half time, by traceback (slow)

Prints one JSON object on stdout and nothing else (progress and errors go to stderr; the server's log is kept in a
temporary directory that is removed at the end). Exit status 1 if any request failed (a 5xx, a timeout, a connection
error, any status or answer the flow did not expect), the server logged a traceback, a flow never completed once, a
server process exited, or a worker went over the RSS limit. The growth verdict is reported, not enforced (see below).

What it does, all on 127.0.0.1:

1. Creates its own PostgreSQL database (admin URL: --admin-url, else BENCH_DATABASE_URL, else TEST_DATABASE_URL,
   else postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, also on failure or Ctrl-C.
2. `events migrate`; with the `events` command, as an operator would: an organiser and a partner's treasurer
   (partner_viewer), each with a password, and one door account per door phone, each with an API token.
3. Starts `events serve --workers W` as in production (EVENTS_RUN_WORKER_IN_PROCESS=false, no Stripe key, so
   checkout uses the built-in test payment provider; no SMTP, so emails are written to the var directory) and one
   `events worker` beside it (the outbox, sweeper and other periodic jobs; --no-job-worker leaves it out).
4. Through the organiser API: a partner, three on-sale events (the main one with 100,000 places, 20,000 of them free
   places for referral partners, two ticket types and pay it forward), a claim link for a referral partner, and the
   door phones on the main event's door team.
5. The load, for --duration seconds, by virtual people each looping over their flow with a short, jittered pause:
   - `browse` (--browsers): `/` then an event page, in a random one of the site's languages, as a new visitor;
   - `buy` (--buyers): a new guest from a loopback address of their own (127.x.y.z, so the server's per-address hold
     limits see many guests, as they would): the event page, the buy form posted with its real CSRF cookie and token
     (one to three tickets, sometimes a pay-it-forward place or a donation), the payment page, Pay on the development
     test payment page, the confirmation, the ticket page and the ticket's PDF (and, for one order in five, the whole
     order's PDF), and for an order of several tickets the order's API, for the other tickets' codes;
   - `claim` (--claimers): a new guest opens the claim link, claims a free place with the form, sees the ticket and
     its page; one in three also opens the link's "places" page;
   - `door` (--doors): each phone on its own keep-alive connection and API token scans the tickets the buyers and
     claimants were given (POST /api/checkin/redeem): the signed code read from the ticket page's QR code as a camera
     would (decoded with zxing-cpp, a dev dependency; bare codes where it is missing), one in five typed as the code
     printed on the ticket page (not the page's address, whose key the door does not know), and one scan in ten a ticket scanned again, which must be refused as `already_redeemed`; with no
     ticket waiting, the door's counts;
   - `statements` (--staff, 2): the organiser and the partner's treasurer sign in with the login form and then
     download the partner's statement as a page and as a PDF (the organiser also the event's statement page); each
     signs in afresh every --sign-in-every rounds (5; 0: once), as from another device, each sign-in an Argon2 hash of
     19 MiB in a worker thread.
6. Every --sample-every seconds (5; 2 in smoke mode): each server process's RSS (VmRSS from /proc/<pid>/status: the
   uvicorn supervisor, each worker by pid, any process they start, and the job worker), and the bench database's
   connections from pg_stat_activity (by state).
7. At the end: the database's counts (paid orders, tickets, admitted tickets), the server log's tracebacks.

Main fields of the JSON:

- `flows`: per flow, `completed` and `failed` iterations, per minute, and each step's `latency_ms` (count, p50, p95,
  p99, max).
- `errors` (must be 0), `errors_by_kind` (flow, step, what happened), `error_samples` (the first few, with the path
  as a route, never a secret), `server_tracebacks` and `server_exceptions`.
- `rss`: per process its role (supervisor, worker, forkserver and cpu_pool: a worker's PDF pool, job_worker), pid,
  first/max/last MB, `slope_second_half_mb_per_min` (a least-squares line through the samples of the second half of
  the run, which leaves the first half as warm-up), `slope_last_quarter_mb_per_min` (below the second half's when the
  growth is levelling off), `growth_second_half_mb`, plus the `samples` ([seconds, MB]); `workers_max_mb`,
  `workers_max_slope_mb_per_min`, `workers_max_slope_last_quarter_mb_per_min`, and `verdict`: `under_limit` (every
  worker below --rss-limit-mb, 200), `stable` (no worker's second-half slope above --growth-limit-mb-per-min, 0.5),
  `summary`, and with --probe `caches_still_filling` (the workers' caches that grew in the second half and are not yet
  full: growth that stops). The slope is noisy over a short run (60 s in smoke mode leaves 30 s to fit); read it from
  a full run.
- `probe` (with --probe): per worker, CPU pool process and the job worker, at each tenth of the run: RSS, pymalloc's
  arenas, bytes in use and free (Python's objects up to 512 bytes), glibc malloc's heap, in use, free and mapped, and
  its number of arenas; at half time and at the end, every cache (each lru_cache, asyncpg's statements, Jinja's
  templates, events.page_cache) with its items, limit, hits and misses, and the types of object whose count grew most;
  with --tracemalloc N, what was allocated after half time and is still alive at the end, by line and by traceback.
- `database_connections`: samples ([seconds, total, active, idle, idle in transaction]), `max_total`,
  `max_idle_in_transaction`, and `pool_limit` (workers x EVENTS_DB_POOL_SIZE, plus the job worker's pool).
- `database`: paid orders, tickets, claimed places, admitted tickets, scans; `cpu_seconds` of the server, PostgreSQL
  backends and this load generator; `load_average_before` / `_after`.
- `target`: RSS < 200 MB per worker and stable after warm-up, 0 errors; `correct`.

On a busy machine the rates here mean little: the soak is about memory and errors over time, not speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
from common import (
    admin_url,
    clean_up,
    cpu_seconds,
    create_database,
    exception_lines,
    postgres_pids,
    process_tree,
    with_database,
)

HOST = "127.0.0.1"  # the only host this script sends HTTP requests to
MAIN = "soak-night"
OTHER_EVENTS = ("soak-supper", "soak-quiz")
PARTNER = "soak-partner"
CAUSE = "soak-cause"
ORGANISER = "soak-organiser@soak.example"
TREASURER = "soak-treasurer@soak.example"
LANGUAGES = ("en", "ar", "fr", "fa")
ARABIC_NAMES = ("ليلى حداد", "سارا احمدی", "مریم رضایی", "Amal حداد")
RSS_LIMIT_MB = 200.0
GROWTH_LIMIT_MB_PER_MIN = 0.5
DB_POOL_SIZE = 10  # the server's default EVENTS_DB_POOL_SIZE, for the connection limit reported
ERROR_SAMPLES = 20
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
QR_SVG = re.compile(r"<svg[^>]*viewBox=\"0 0 (\d+) \d+\".*?</svg>", re.DOTALL)
# The code printed on a ticket's page under its QR code, which door staff type when a code will not scan. The page's
# own address has another key (its page secret), which the door does not know.
PRINTED_CODE = re.compile(r'<span class="code">([a-z0-9]+)</span>')
QR_RUN = re.compile(r"M(\d+) (\d+)h(\d+)")


def log(message: str) -> None:
    print(f"[bench/soak] {message}", file=sys.stderr, flush=True)


# --- what went wrong, and how long each step took -----------------------------------------------------------------


class FlowFailed(Exception):
    """A step answered what its flow did not expect: counted once as an error, and the iteration is abandoned."""


@dataclass
class Tally:
    completed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    steps: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # door answers, by reason

    def took(self, flow: str, step: str, milliseconds: float) -> None:
        self.steps.setdefault(flow, {}).setdefault(step, []).append(milliseconds)

    def error(self, flow: str, step: str, what: str, route: str, detail: str = "") -> None:
        self.errors[f"{flow}/{step}: {what}"] += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append({"flow": flow, "step": step, "what": what, "route": route, "detail": detail[:300], "at_s": round(now_s(), 1)})


STARTED = time.monotonic()


def now_s() -> float:
    return time.monotonic() - STARTED


def route_of(path: str) -> str:
    """A path with its secrets left out (order references, tokens, ticket secrets, claim codes), for the report."""
    path = path.split("?", 1)[0]
    path = re.sub(r"/orders/[^/]+", "/orders/{reference}", path)
    path = re.sub(r"/tickets/[^/]+", "/tickets/{secret}", path)
    return re.sub(r"/claim/[^/]+(/tickets/[^/]+)?", lambda found: "/claim/{code}" + ("/tickets/{key}" if found.group(1) else ""), path)


def local(url: str) -> str:
    """A redirect's path and query: the server's links may name its configured base URL rather than this port."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def call(
    tally: Tally,
    flow: str,
    step: str,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    expect: int = 200,
    content_type: str | None = "text/html",
    **kwargs: Any,
) -> httpx.Response:
    tally.requests += 1
    began = time.perf_counter()
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        tally.error(flow, step, "timeout", route_of(path), type(exc).__name__)
        raise FlowFailed from exc
    except httpx.HTTPError as exc:
        tally.error(flow, step, f"transport {type(exc).__name__}", route_of(path), str(exc))
        raise FlowFailed from exc
    tally.took(flow, step, (time.perf_counter() - began) * 1000)
    if response.status_code != expect:
        kind = "5xx" if response.status_code >= 500 else "unexpected status"
        tally.error(flow, step, f"{kind} {response.status_code}", route_of(path), response.text[:300])
        raise FlowFailed
    if content_type and not response.headers.get("content-type", "").startswith(content_type):
        tally.error(flow, step, "unexpected content type", route_of(path), response.headers.get("content-type", ""))
        raise FlowFailed
    return response


def found(tally: Tally, flow: str, step: str, pattern: re.Pattern[str] | str, text: str, route: str) -> re.Match[str]:
    match = (pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.DOTALL)).search(text)
    if match is None:
        tally.error(flow, step, "unexpected page", route, f"no match for {getattr(pattern, 'pattern', pattern)}")
        raise FlowFailed
    return match


# --- the people -----------------------------------------------------------------------------------------------


@dataclass
class Site:
    port: int
    organiser_token: str
    door_tokens: list[str]
    password: str
    claim_code: str
    types: dict[str, int]  # the main event's ticket types, by name
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)  # one for every client: making one costs ~10 ms


class Addresses:
    """Loopback client addresses (all of 127.0.0.0/8 reaches this host), one after another, so each new guest comes from
    an address of their own, within the server's per-address hold limits, as guests on their own phones would."""

    def __init__(self, network: int) -> None:
        self.network = network
        self.used = 0

    def next(self) -> str:
        self.used += 1
        return f"127.{self.network}.{(self.used // 250) % 250}.{self.used % 250 + 1}"


def new_client(site: Site, *, address: str | None = None, language: str = "en", timeout: float = 30.0) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=site.ssl_context) if address else None
    return httpx.AsyncClient(
        base_url=f"http://{HOST}:{site.port}",
        transport=transport,
        verify=site.ssl_context,
        timeout=timeout,
        headers={"Accept-Language": language},
    )


@dataclass
class Scan:
    secret: str
    qr_svg: str | None  # the ticket page's QR code, when the guest shows it on their phone


@dataclass
class Load:
    site: Site
    tally: Tally
    deadline: float
    rng: random.Random
    think: float
    sign_in_every: int = 0  # statements rounds between a staff member's sign-ins (0: once)
    to_scan: asyncio.Queue[Scan] = field(default_factory=asyncio.Queue)
    guests: int = 0

    def next_guest(self) -> int:
        self.guests += 1
        return self.guests

    async def pause(self, scale: float) -> None:
        await asyncio.sleep(self.think * scale * self.rng.uniform(0.5, 1.5))

    def running(self) -> bool:
        return time.monotonic() < self.deadline


async def loop_flow(load: Load, flow: str, pause: float, body: Callable[[], Awaitable[None]]) -> None:
    while load.running():
        try:
            await body()
        except FlowFailed:
            load.tally.failed[flow] += 1
        except Exception as exc:  # noqa: BLE001 - a fault of this script is still an error, never silent
            load.tally.failed[flow] += 1
            load.tally.error(flow, "client", f"load generator {type(exc).__name__}", "", traceback.format_exc(limit=3))
        else:
            load.tally.completed[flow] += 1
        await load.pause(pause)


async def browse(load: Load) -> None:
    slugs = (MAIN, *OTHER_EVENTS)

    async def visit() -> None:
        async with new_client(load.site, language=load.rng.choice(LANGUAGES)) as client:
            await call(load.tally, "browse", "home", client, "GET", "/")
            await call(load.tally, "browse", "event_page", client, "GET", f"/events/{load.rng.choice(slugs)}")

    await loop_flow(load, "browse", 1.0, visit)


def guest_name(load: Load, number: int) -> str:
    return load.rng.choice(ARABIC_NAMES) if number % 4 == 0 else f"Soak Guest {number}"


async def buy(load: Load, addresses: Addresses) -> None:
    tally, flow = load.tally, "buy"

    async def purchase() -> None:
        number = load.next_guest()
        async with new_client(load.site, address=addresses.next(), language=load.rng.choice(LANGUAGES)) as client:
            page = await call(tally, flow, "event_page", client, "GET", f"/events/{MAIN}")
            general = load.site.types["General"]
            form = {
                f"quantity_{general}": str(load.rng.randint(1, 3)),
                "name": guest_name(load, number),
                "email": f"buyer{number}@soak.example",
                "_csrf_token": found(tally, flow, "event_page", CSRF, page.text, f"/events/{MAIN}").group(1),
            }
            if number % 5 == 1:
                form["pay_it_forward_places"] = "1"
            if number % 7 == 2:
                form.update({"donation": "5", "donation_partner": CAUSE})
            if number % 6 == 3:
                form[f"quantity_{load.site.types['Concession']}"] = "1"
            placed = await call(tally, flow, "buy_form", client, "POST", f"/events/{MAIN}/buy", data=form, expect=303, content_type=None)
            checkout_path = local(placed.headers["location"])
            checkout = await call(tally, flow, "payment_page", client, "GET", checkout_path)
            reference = found(tally, flow, "payment_page", r"/orders/([A-Z0-9-]+)/test-payment", checkout.text, route_of(checkout_path)).group(1)
            token = found(tally, flow, "payment_page", r'name="token" value="([^"]+)"', checkout.text, route_of(checkout_path)).group(1)
            csrf = found(tally, flow, "payment_page", CSRF, checkout.text, route_of(checkout_path)).group(1)
            paid = await call(
                tally,
                flow,
                "test_payment",
                client,
                "POST",
                f"/orders/{reference}/test-payment",
                data={"token": token, "_csrf_token": csrf},
                expect=303,
                content_type=None,
            )
            order_path = local(paid.headers["location"])
            confirmation = await call(tally, flow, "confirmation", client, "GET", order_path)
            secrets_ = list(dict.fromkeys(re.findall(r'href="/tickets/([^"/?]+)"', confirmation.text)))
            if not secrets_:
                tally.error(flow, "confirmation", "unexpected page", route_of(order_path), "no ticket links")
                raise FlowFailed
            ticket = await call(tally, flow, "ticket_page", client, "GET", f"/tickets/{secrets_[0]}")
            svg = found(tally, flow, "ticket_page", QR_SVG, ticket.text, "/tickets/{secret}").group(0)
            printed = found(tally, flow, "ticket_page", PRINTED_CODE, ticket.text, "/tickets/{secret}").group(1)
            size = "phone" if number % 2 else "a4"
            await call(tally, flow, "ticket_pdf", client, "GET", f"/tickets/{secrets_[0]}/ticket.pdf?size={size}", content_type="application/pdf")
            order_token = found(tally, flow, "confirmation", r"[?&]token=([^&]+)", order_path, route_of(order_path)).group(1)
            if number % 5 == 0:  # the whole order's PDF, as the confirmation email links it (the order's token in its address)
                await call(
                    tally, flow, "order_pdf", client, "GET", f"/orders/{reference}/tickets.pdf?token={order_token}", content_type="application/pdf"
                )
            others: list[str] = []
            if len(secrets_) > 1:  # the codes of the order's other tickets, as the buyer's app reads them (the order's API)
                bearer = {"Authorization": f"Bearer {order_token}"}
                read = await call(
                    tally, flow, "order_api", client, "GET", f"/api/orders/{reference}", headers=bearer, content_type="application/json"
                )
                others = [listed["secret"] for listed in read.json()["tickets"] if listed["secret"] != printed]
        load.to_scan.put_nowait(Scan(printed, svg))
        for other in others:
            load.to_scan.put_nowait(Scan(other, None))

    await loop_flow(load, flow, 2.0, purchase)


async def claim(load: Load, addresses: Addresses) -> None:
    tally, flow, code = load.tally, "claim", load.site.claim_code

    async def claim_a_place() -> None:
        number = load.next_guest()
        async with new_client(load.site, address=addresses.next(), language=load.rng.choice(LANGUAGES)) as client:
            page = await call(tally, flow, "claim_page", client, "GET", f"/claim/{code}")
            form = {
                "name": guest_name(load, number),
                "email": f"guest{number}@soak.example",
                "_csrf_token": found(tally, flow, "claim_page", CSRF, page.text, "/claim/{code}").group(1),
            }
            sent = await call(tally, flow, "claim_form", client, "POST", f"/claim/{code}", data=form, expect=303, content_type=None)
            # The ticket's own address (a reload never claims again), which the browser follows.
            claimed = await call(tally, flow, "claimed_ticket", client, "GET", sent.headers["location"])
            page_secret = found(tally, flow, "claimed_ticket", r'/tickets/([^"/?]+)/ticket\.pdf', claimed.text, "/claim/{code}").group(1)
            svg = found(tally, flow, "claimed_ticket", QR_SVG, claimed.text, "/claim/{code}").group(0)
            await call(tally, flow, "ticket_pdf", client, "GET", f"/tickets/{page_secret}/ticket.pdf?size=phone", content_type="application/pdf")
            ticket = await call(tally, flow, "ticket_page", client, "GET", f"/tickets/{page_secret}")
            secret = found(tally, flow, "ticket_page", PRINTED_CODE, ticket.text, "/tickets/{secret}").group(1)
            if number % 3 == 0:
                await call(tally, flow, "places_page", client, "GET", f"/claim/{code}/places")
        load.to_scan.put_nowait(Scan(secret, svg))

    await loop_flow(load, flow, 3.0, claim_a_place)


def decode_qr(svg: str) -> str | None:
    """What a door phone's camera reads from the QR code a guest shows: the SVG's modules drawn as pixels, decoded with
    zxing-cpp. None where zxing-cpp or Pillow is not installed (the door then types the ticket code)."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return None
    size_match = QR_SVG.search(svg)
    assert size_match is not None
    size = int(size_match.group(1))
    image = Image.new("L", (size, size), 255)
    for column, row, length in QR_RUN.findall(svg):
        image.paste(0, (int(column), int(row), int(column) + int(length), int(row) + 1))
    results = zxingcpp.read_barcodes(image.resize((size * 4, size * 4), Image.Resampling.NEAREST), formats=zxingcpp.BarcodeFormat.QRCode)
    return results[0].text if results else ""


async def door(load: Load, token: str) -> None:
    tally, flow = load.tally, "door"
    admitted: deque[str] = deque(maxlen=200)
    headers = {"Authorization": f"Bearer {token}"}

    async def redeem(client: httpx.AsyncClient, step: str, scanned: str, expected: str) -> None:
        body = {"event": MAIN, "secret": scanned, "nonce": uuid.uuid4().hex}
        response = await call(tally, flow, step, client, "POST", "/api/checkin/redeem", json=body, headers=headers, content_type="application/json")
        answer = response.json()
        outcome = answer["status"] if answer["status"] == "ok" else answer.get("reason") or answer["status"]
        tally.outcomes[outcome] += 1
        if outcome != expected:
            tally.error(flow, step, f"answer {outcome}, expected {expected}", "/api/checkin/redeem")
            raise FlowFailed

    async with new_client(load.site) as client:

        async def scan_one() -> None:
            if admitted and load.rng.random() < 0.1:
                await redeem(client, "scan_again", load.rng.choice(admitted), "already_redeemed")
                return
            try:
                ticket = await asyncio.wait_for(load.to_scan.get(), timeout=1.0)
            except TimeoutError:
                await call(
                    tally, flow, "counts", client, "GET", f"/api/checkin/events/{MAIN}/counts", headers=headers, content_type="application/json"
                )
                return
            code = decode_qr(ticket.qr_svg) if ticket.qr_svg and load.rng.random() >= 0.2 else None
            if code == "":
                tally.error(flow, "scan_code", "unreadable QR code", "/tickets/{secret}")
                raise FlowFailed
            if code:
                await redeem(client, "scan_code", code, "ok")
            else:
                await redeem(client, "scan_typed", ticket.secret, "ok")
            admitted.append(ticket.secret)

        await loop_flow(load, flow, 0.5, scan_one)


async def statements(load: Load, email: str, *, organiser: bool) -> None:
    tally, flow = load.tally, "statements"
    async with new_client(load.site, timeout=60) as client:
        signed_in = False
        rounds = 0

        async def read() -> None:
            nonlocal signed_in, rounds
            rounds += 1
            if load.sign_in_every and rounds % load.sign_in_every == 0:  # a new session, as on another device
                client.cookies.clear()
                signed_in = False
            if not signed_in:  # then once, as a person stays signed in; again only if that failed
                page = await call(tally, flow, "sign_in_page", client, "GET", "/login")
                csrf = found(tally, flow, "sign_in_page", CSRF, page.text, "/login").group(1)
                form = {"email": email, "password": load.site.password, "next": "", "_csrf_token": csrf}
                await call(tally, flow, "sign_in", client, "POST", "/login", data=form, expect=303, content_type=None)
                signed_in = True
            await call(tally, flow, "partner_statement", client, "GET", f"/manage/partners/{PARTNER}/statement")
            await call(
                tally, flow, "partner_statement_pdf", client, "GET", f"/manage/partners/{PARTNER}/statement.pdf", content_type="application/pdf"
            )
            if organiser:
                await call(tally, flow, "event_statement", client, "GET", f"/manage/events/{MAIN}/statement")

        await loop_flow(load, flow, 6.0, read)


# --- memory and connections over time -------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def role_of(pid: int, server_pid: int, job_worker_pid: int | None) -> str:
    if pid == server_pid:
        return "supervisor"
    if pid == job_worker_pid:
        return "job_worker"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    parent = parent_of(pid)
    if "resource_tracker" in command:
        return "resource_tracker"
    if parent == server_pid:
        return "worker"
    if "forkserver" in command and parent is not None and parent_of(parent) == server_pid:
        return "forkserver"  # started by a worker, to fork its CPU pool's processes from
    if "forkserver" in command:
        return "cpu_pool"  # forked by a worker's fork server: renders PDFs (events.cpu)
    return "helper"  # anything else a worker started


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Samples:
    rss: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    connections: list[tuple[float, int, int, int, int]] = field(default_factory=list)


async def sample(server_pid: int, job_worker_pid: int | None, database_url: str, every: float, samples: Samples, stop: asyncio.Event) -> None:
    connection = await asyncpg.connect(database_url)
    began = time.monotonic()
    try:
        while True:
            at = round(time.monotonic() - began, 1)
            pids = process_tree(server_pid) + ([job_worker_pid] if job_worker_pid else [])
            for pid in pids:
                if (mb := rss_mb(pid)) is not None:
                    samples.roles.setdefault(pid, role_of(pid, server_pid, job_worker_pid))
                    samples.rss.setdefault(pid, []).append((at, round(mb, 1)))
            row = await connection.fetchrow(
                """SELECT count(*) AS total, count(*) FILTER (WHERE state = 'active') AS active,
                          count(*) FILTER (WHERE state = 'idle') AS idle,
                          count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction
                   FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"""
            )
            samples.connections.append((at, row["total"], row["active"], row["idle"], row["idle_in_transaction"]))
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
                return
            except TimeoutError:
                pass
    finally:
        await connection.close()


def slope_per_minute(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of MB against minutes."""
    if len(points) < 3:
        return None
    xs = [t / 60 for t, _ in points]
    ys = [mb for _, mb in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    return round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread, 3)


def floor_points(points: list[tuple[float, float]], start: float, window: float = 60.0) -> list[tuple[float, float]]:
    """The lowest sample of each ``window`` seconds from ``start`` on: RSS without its passing peaks (a password hash
    holds 19 MiB for a second or two, a PDF its pages while it is built), which are not growth."""
    windows: dict[int, tuple[float, float]] = {}
    for t, mb in points:
        if t >= start:
            index = int((t - start) // window)
            if index not in windows or mb < windows[index][1]:
                windows[index] = (t, mb)
    return [windows[index] for index in sorted(windows)]


def memory_report(samples: Samples, duration: float, rss_limit: float, growth_limit: float) -> dict[str, Any]:
    """Per process: first, max and last RSS, and least-squares slopes (MB a minute) over the second half of the run
    (the first half is warm-up): through every sample, through each minute's lowest sample (the floor: what stays once
    passing peaks are gone), and through the last quarter's samples, below the second half's when growth is levelling
    off; the floor's growth over the second half in MB. The verdict is on the serve workers' floor."""
    processes = []
    for pid, points in samples.rss.items():
        second_half = [(t, mb) for t, mb in points if t >= duration / 2]
        last_quarter = [(t, mb) for t, mb in points if t >= duration * 3 / 4]
        floor = floor_points(points, duration / 2)
        floor_slope = slope_per_minute(floor)
        processes.append(
            {
                "role": samples.roles[pid],
                "pid": pid,
                "first_mb": points[0][1],
                "max_mb": max(mb for _, mb in points),
                "last_mb": points[-1][1],
                "slope_second_half_mb_per_min": slope_per_minute(second_half),
                "floor_slope_second_half_mb_per_min": floor_slope,
                "slope_last_quarter_mb_per_min": slope_per_minute(last_quarter),
                "floor_growth_second_half_mb": None if floor_slope is None else round(floor_slope * (floor[-1][0] - floor[0][0]) / 60, 1),
                "floor_mb": [mb for _, mb in floor],
                "samples": [[t, mb] for t, mb in points],
            }
        )
    workers = [p for p in processes if p["role"] == "worker"]
    slopes = [p["floor_slope_second_half_mb_per_min"] for p in workers if p["floor_slope_second_half_mb_per_min"] is not None]
    under = bool(workers) and all(p["max_mb"] < rss_limit for p in workers)
    stable = bool(slopes) and max(slopes) <= growth_limit
    last_quarter = max((p["slope_last_quarter_mb_per_min"] for p in workers if p["slope_last_quarter_mb_per_min"] is not None), default=None)
    summary = (
        f"{len(workers)} workers, at most {max((p['max_mb'] for p in workers), default=0)} MB "
        f"({'under' if under else 'NOT under'} {rss_limit:g} MB); floor's second-half slope at most {max(slopes, default=float('nan'))} "
        f"MB/min ({'stable' if stable else 'GROWING or unknown'}, limit {growth_limit:g} MB/min); all samples' slope in the last quarter "
        f"at most {last_quarter} MB/min"
    )
    return {
        "limit_mb": rss_limit,
        "growth_limit_mb_per_min": growth_limit,
        "processes": sorted(processes, key=lambda p: (p["role"], p["pid"])),
        "workers_max_mb": max((p["max_mb"] for p in workers), default=None),
        "workers_max_slope_mb_per_min": max((p["slope_second_half_mb_per_min"] or 0.0 for p in workers), default=None),
        "workers_max_floor_slope_mb_per_min": max(slopes, default=None),
        "workers_max_slope_last_quarter_mb_per_min": last_quarter,
        "verdict": {"under_limit": under, "stable": stable, "summary": summary},
    }


def caches_still_filling(probe: dict[str, Any]) -> dict[str, str]:
    """The serve workers' caches that gained items in the second half and are below their limit, as 'items/limit' at
    the end: growth that stops when they are full (a cache without a limit is named with '/none')."""
    filling: dict[str, str] = {}
    for process in probe["processes"]:
        if process["role"] != "worker":
            continue
        for name, cache in process.get("caches", {}).items():
            if name.startswith("largest "):  # a figure, not a cache
                continue
            if cache["items_at_end"] > cache["items_at_half_time"] and (not cache["limit"] or cache["items_at_end"] < cache["limit"]):
                filling[f"{name} (worker {process['pid']})"] = f"{cache['items_at_end']}/{cache['limit'] or 'none'}"
    return filling


# --- what each process holds (--probe, --tracemalloc) -------------------------------------------------------------

PROBE = Path(__file__).resolve().parent / "soak_probe"  # its sitecustomize answers SIGUSR1 in every server process
# Probes at each tenth of the run and once more when the load has stopped; with --tracemalloc, tracing starts at the
# first and each later probe writes a snapshot. Growth is read from the first probe at half time (after warm-up) to
# the last.
PROBE_AT = tuple(tenth / 10 for tenth in range(1, 10))
PROBED_ROLES = ("worker", "cpu_pool", "job_worker")
MB = 1024 * 1024


def probe_env(env: dict[str, str], var_dir: Path, probe: bool, frames: int) -> tuple[dict[str, str], Path | None]:
    """The server's and job worker's environment: with ``probe`` (or tracemalloc ``frames``), the probe on their path."""
    if not probe and frames <= 0:
        return env, None
    directory = var_dir / "probe"
    directory.mkdir()
    probed = {
        **env,
        "EVENTS_BENCH_PROBE_DIR": str(directory),
        "EVENTS_BENCH_TRACEMALLOC_FRAMES": str(max(frames, 0)),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROBE), env.get("PYTHONPATH")])),
    }
    return probed, directory


def signal_probed(server_pid: int, job_worker_pid: int | None, roles: dict[int, str]) -> list[int]:
    """SIGUSR1 to every worker, CPU pool process and the job worker (the probe answers it); the pids signalled."""
    signalled = []
    for pid in [*process_tree(server_pid), *([job_worker_pid] if job_worker_pid else [])]:
        role = roles.setdefault(pid, role_of(pid, server_pid, job_worker_pid))
        if role in PROBED_ROLES:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)
                signalled.append(pid)
    return signalled


async def probes_during(server_pid: int, job_worker_pid: int | None, began: float, duration: float, roles: dict[int, str]) -> None:
    for fraction in PROBE_AT:
        await asyncio.sleep(max(0.0, began + fraction * duration - time.monotonic()))
        signal_probed(server_pid, job_worker_pid, roles)


def _lines_written(directory: Path, pid: int) -> int:
    path = directory / f"{pid}.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


async def last_probe(server_pid: int, job_worker_pid: int | None, roles: dict[int, str], directory: Path) -> None:
    """One more probe of each process once the load has stopped, waiting (up to two minutes) until each answered."""
    await asyncio.sleep(5)  # the previous one answered, on a busy machine
    before = {pid: _lines_written(directory, pid) for pid in [*process_tree(server_pid), *([job_worker_pid] if job_worker_pid else [])]}
    signalled = signal_probed(server_pid, job_worker_pid, roles)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(_lines_written(directory, pid) > before.get(pid, 0) for pid in signalled):
            return
        await asyncio.sleep(1)
    log("probe: not every process answered the last probe")


def _frame(filename: str, lineno: int) -> str:
    """A frame as path:line, the path from the package (site-packages/, src/ or the standard library's folder) on."""
    return f"{re.sub(r'^.*?(site-packages/|/src/|/lib/python3[.0-9]*/)', '', filename)}:{lineno}"


def _mb(value: float) -> float:
    return round(value / MB, 1)


def probe_report(directory: Path, roles: dict[int, str], began_wall: float, duration: float, top: int = 12) -> dict[str, Any]:
    """Per probed process: its memory at each probe (RSS, glibc's heap, pymalloc's blocks, what tracemalloc traced);
    each cache's items at half time and at the end against its limit; the types whose live objects grew most; and,
    with tracemalloc, what grew from half time to the end by allocating line and by traceback."""
    import tracemalloc

    processes = []
    for jsonl in sorted(directory.glob("*.jsonl")):
        pid = int(jsonl.stem)
        lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
        series = []
        for line in lines:
            entry: dict[str, Any] = {"at_s": round(line["at"] - began_wall, 1), "rss_mb": round(line["rss_kb"] / 1024, 1)}
            if "pymalloc_arenas" in line:
                entry.update(
                    {
                        "pymalloc_arenas_mb": _mb(line["pymalloc_arenas"] * 1024 * 1024),  # 1 MiB arenas in Python 3.11
                        "pymalloc_in_use_mb": _mb(line["pymalloc_allocated"]),
                        "pymalloc_free_mb": _mb(line["pymalloc_available"] + line["pymalloc_unused_pools"]),
                    }
                )
            if "malloc_heap" in line:
                entry.update({f"{key}_mb": _mb(line[key]) for key in ("malloc_heap", "malloc_in_use", "malloc_free", "malloc_mapped")})
                entry["malloc_arenas"] = line.get("malloc_arenas")
            if "traced" in line:  # from the second probe on: tracing starts at the first
                entry.update({"traced_mb": _mb(line["traced"]), "tracemalloc_own_mb": _mb(line["tracemalloc_overhead"])})
            series.append(entry)
        process: dict[str, Any] = {"role": roles.get(pid, "?"), "pid": pid, "probes": series}
        if errors := [line["error"] for line in lines if "error" in line]:
            process["probe_errors"] = errors
        later = [index for index, entry in enumerate(series) if entry["at_s"] >= duration / 2 - 1]
        if len(later) >= 2:
            half, last = lines[later[0]], lines[later[-1]]
            process["from_s"], process["to_s"] = series[later[0]]["at_s"], series[later[-1]]["at_s"]
            half_caches, last_caches = half.get("caches", {}), last.get("caches", {})
            empty = [0, 0, 0, 0]
            process["caches"] = {
                name: {
                    "items_at_half_time": half_caches.get(name, empty)[0],
                    "items_at_end": last_caches.get(name, empty)[0],
                    "limit": max(half_caches.get(name, empty)[1], last_caches.get(name, empty)[1]),  # 0: none
                    "hits": last_caches.get(name, empty)[2],
                    "misses": last_caches.get(name, empty)[3],
                }
                for name in sorted(set(half_caches) | set(last_caches))
            }
            grown = Counter(last.get("types", {}))
            grown.subtract(half.get("types", {}))
            process["objects_grown_by_type"] = dict(grown.most_common(top))
            first_k, last_k = half["k"], last["k"]
            before_path, after_path = directory / f"{pid}-{first_k}.snapshot", directory / f"{pid}-{last_k}.snapshot"
            if before_path.exists() and after_path.exists():
                before, after = tracemalloc.Snapshot.load(str(before_path)), tracemalloc.Snapshot.load(str(after_path))
                process["traced_growth"] = {
                    "kb": round((sum(t.size for t in after.traces) - sum(t.size for t in before.traces)) / 1024, 1),
                    "blocks": len(after.traces) - len(before.traces),
                    "by_line": [
                        {
                            "kb": round(stat.size_diff / 1024, 1),
                            "blocks": stat.count_diff,
                            "at": _frame(stat.traceback[-1].filename, stat.traceback[-1].lineno),
                        }
                        for stat in after.compare_to(before, "lineno")[:top]
                    ],
                    "by_traceback": [
                        {
                            "kb": round(stat.size_diff / 1024, 1),
                            "blocks": stat.count_diff,
                            "frames": [_frame(frame.filename, frame.lineno) for frame in reversed(stat.traceback)],  # innermost first
                        }
                        for stat in after.compare_to(before, "traceback")[:top]
                    ],
                }
        processes.append(process)
    return {
        "processes": sorted(processes, key=lambda p: (p["role"], p["pid"])),
        "note": "Probes at each tenth of the run and at the end (bench/soak_probe). pymalloc_* is Python's allocator for "
        "objects up to 512 bytes: arenas = in_use + free + overhead. malloc_* is glibc's, for everything else (larger "
        "objects, C libraries): heap = in_use + free over all its arenas, mapped = large blocks outside them. RSS also "
        "counts code, shared libraries and stacks. Caches: items, limit (0: none), hits and misses since the process "
        "started. With --tracemalloc, tracing starts at the first probe: traced_mb is what "
        "was allocated since and is still alive; tracing slows the server several times and adds its own memory "
        "(tracemalloc_own_mb), so such a run's RSS figures are not the soak's.",
    }


# --- the server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "STRIPE_", "SMTP_", "TWILIO_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",  # production insists on Stripe and SMTP settings; the test payment needs development
            "EVENTS_SECRET_KEY": secrets.token_hex(32),
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"events {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def run_all(env: dict[str, str], commands: list[tuple[tuple[str, ...], str | None]]) -> list[str]:
    """Several `events` commands at once (each is a Python start-up of a second or two on a busy machine)."""

    async def each(args: tuple[str, ...], stdin: str | None) -> str:
        return await asyncio.to_thread(run_cli, env, *args, stdin=stdin)

    async def everything() -> list[str]:
        return list(await asyncio.gather(*(each(args, stdin) for args, stdin in commands)))

    return asyncio.run(everything())


def start(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    with log_path.open("w") as server_log:
        return subprocess.Popen(
            [sys.executable, "-m", "events", *args],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it stops its workers too, and nothing else
        )


async def wait_until_healthy(port: int, process: subprocess.Popen[bytes], log_path: Path, workers: int) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Server exited early:\n{log_path.read_text()}")
            try:
                healthy = (await client.get("/healthz")).status_code == 200
                # uvicorn logs each worker's start-up; wait for all of them.
                if healthy and log_path.read_text().count("Application startup complete") >= workers:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")


async def set_up_site(port: int, organiser_token: str, duration: float) -> tuple[str, dict[str, int]]:
    """The partners, events and claim link, through the organiser API as an organiser's tools would."""
    headers = {"Authorization": f"Bearer {organiser_token}"}
    starts = (datetime.now(timezone.utc) + timedelta(seconds=duration) + timedelta(hours=2)).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", headers=headers, timeout=60) as api:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await api.post(path, json=body)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
            return dict(response.json())

        await post("/api/partners", {"name": "Soak Partner", "slug": PARTNER})
        await post("/api/partners", {"name": "Soak Cause", "slug": CAUSE})
        shares = [{"partner": PARTNER, "share_bp": 7000}, {"partner": CAUSE, "share_bp": 3000}]
        main = await post(
            "/api/events",
            {
                "slug": MAIN,
                "title": "Soak Night",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=4)).isoformat(),
                "venue": "St Margaret's Community Hall",
                "address": "12 Example Road, London E8 1AA",
                "capacity": 100_000,
                "reserved_free_places": 20_000,
                "pay_it_forward_place_pence": 1500,
                "booking_fee_pence": 50,
                "status": "on_sale",
                "ticket_types": [
                    {"name": "General", "price_pence": 1500, "max_per_order": 4},
                    {"name": "Concession", "price_pence": 500, "max_per_order": 2},
                ],
                "beneficiaries": shares,
            },
        )
        for index, slug in enumerate(OTHER_EVENTS):
            await post(
                "/api/events",
                {
                    "slug": slug,
                    "title": f"Soak {slug.rsplit('-', 1)[1].title()}",
                    "starts_at": (starts + timedelta(days=7 * (index + 1))).isoformat(),
                    "ends_at": (starts + timedelta(days=7 * (index + 1), hours=3)).isoformat(),
                    "capacity": 200,
                    "reserved_free_places": 20,
                    "status": "on_sale",
                    "ticket_types": [{"name": "General", "price_pence": 1000, "max_per_order": 4}],
                    "beneficiaries": shares,
                },
            )
        claim = await post(f"/api/events/{MAIN}/claim-codes", {"partner_name": "Refugee Women's Group", "places": 10_000})
    types = {ticket_type["name"]: ticket_type["id"] for ticket_type in main["ticket_types"]}
    return claim["code"], types


async def add_door_team(port: int, organiser_token: str, emails: list[str]) -> None:
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", headers={"Authorization": f"Bearer {organiser_token}"}, timeout=60) as api:
        for email in emails:
            response = await api.post(f"/api/events/{MAIN}/door-team", json={"email": email})
            if response.status_code != 200:
                raise RuntimeError(f"door team: {response.status_code} {response.text}")


# --- the run ----------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    rank = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return round(sorted_values[rank], 1)


def latency(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 0.5),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": percentile(ordered, 1.0),
    }


def cpu_seconds_of(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


async def run_load(
    args: argparse.Namespace, site: Site, server_pid: int, job_worker_pid: int | None, database_url: str, probe_dir: Path | None
) -> dict[str, Any]:
    tally = Tally()
    samples = Samples()
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(server_pid, job_worker_pid, database_url, args.sample_every, samples, stop))
    await asyncio.sleep(0.1)  # the first sample before any load
    server_cpu = dict.fromkeys(process_tree(server_pid), 0.0)
    server_cpu_before = cpu_seconds_of(list(server_cpu))
    postgres_before = cpu_seconds_of(await postgres_pids(database_url))
    own_before = sum(os.times()[:2])
    began = time.monotonic()
    load = Load(site, tally, began + args.duration, random.Random(args.seed), args.think, args.sign_in_every)
    people = [
        *(browse(load) for _ in range(args.browsers)),
        *(buy(load, Addresses(10 + index)) for index in range(args.buyers)),
        *(claim(load, Addresses(60 + index)) for index in range(args.claimers)),
        *(door(load, token) for token in site.door_tokens),
    ]
    if args.staff:
        people.append(statements(load, ORGANISER, organiser=True))
    if args.staff > 1:
        people.append(statements(load, TREASURER, organiser=False))
    log(f"load: {len(people)} people for {args.duration:g} s")
    progress = asyncio.create_task(report_progress(load, began))
    probed_roles: dict[int, str] = {}
    began_wall = time.time()
    probes = asyncio.create_task(probes_during(server_pid, job_worker_pid, began, args.duration, probed_roles)) if probe_dir else None
    await asyncio.gather(*people)
    progress.cancel()
    elapsed = time.monotonic() - began
    if probes is not None and probe_dir is not None:
        await probes
        await last_probe(server_pid, job_worker_pid, probed_roles, probe_dir)
    server_cpu_after = cpu_seconds_of(process_tree(server_pid))
    postgres_after = cpu_seconds_of(await postgres_pids(database_url))
    own_after = sum(os.times()[:2])
    stop.set()
    await sampler
    probed = probe_report(probe_dir, probed_roles, began_wall, args.duration) if probe_dir is not None else None
    flows = {}
    for flow in ("browse", "buy", "claim", "door", "statements"):
        done = tally.completed[flow]
        flows[flow] = {
            "completed": done,
            "failed": tally.failed[flow],
            "per_minute": round(done / elapsed * 60, 1),
            "latency_ms": {step: latency(values) for step, values in tally.steps.get(flow, {}).items()},
        }
    return {
        "elapsed_s": round(elapsed, 1),
        "requests": tally.requests,
        "requests_per_second": round(tally.requests / elapsed, 1),
        "flows": flows,
        "door_answers": dict(tally.outcomes),
        "tickets_left_unscanned": load.to_scan.qsize(),
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "error_samples": tally.error_samples,
        "samples": samples,
        **({"probe": probed} if probed is not None else {}),
        "cpu_seconds": {
            "server": round(server_cpu_after - server_cpu_before, 1),  # processes that ended during the run are not counted
            "postgres": round(postgres_after - postgres_before, 1),  # backends that ended during the run are not counted
            "load_generator": round(own_after - own_before, 1),
        },
    }


async def report_progress(load: Load, began: float) -> None:
    while True:
        await asyncio.sleep(30)
        tally = load.tally
        log(
            f"{time.monotonic() - began:.0f}s: {tally.requests} requests, completed {dict(tally.completed)}, "
            f"errors {sum(tally.errors.values())}, tickets waiting for the door {load.to_scan.qsize()}"
        )


async def database_counts(database_url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            """SELECT (SELECT count(*) FROM ticket_order WHERE status = 'paid' AND total_pence > 0) AS paid_orders,
                      (SELECT count(*) FROM ticket_order WHERE status = 'paid' AND total_pence = 0) AS free_orders,
                      (SELECT count(*) FROM ticket_order WHERE status = 'pending') AS pending_orders,
                      (SELECT count(*) FROM ticket) AS tickets,
                      (SELECT count(*) FROM ticket WHERE checked_in_at IS NOT NULL) AS admitted,
                      (SELECT count(*) FROM scan) AS scans,
                      (SELECT count(*) FROM web_session) AS web_sessions"""
        )
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return {**{key: int(value) for key, value in dict(row).items()}, "postgres": str(version)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    parser.add_argument("--smoke", action="store_true", help="60 s, samples every 2 s (what CI runs)")
    parser.add_argument("--workers", type=int, default=2, help="`events serve --workers` (default 2)")
    parser.add_argument("--browsers", type=int, default=4, help="visitors browsing at once (default 4)")
    parser.add_argument("--buyers", type=int, default=3, help="guests buying at once (default 3)")
    parser.add_argument("--claimers", type=int, default=1, help="guests claiming free places at once (default 1)")
    parser.add_argument("--doors", type=int, default=2, help="door phones scanning (default 2)")
    parser.add_argument("--staff", type=int, default=2, choices=(0, 1, 2), help="organiser (1) and treasurer (2) reading statements")
    parser.add_argument(
        "--sign-in-every",
        type=int,
        default=5,
        metavar="ROUNDS",
        help="staff sign in afresh every ROUNDS statement rounds, each an Argon2 hash in a worker (default 5; 0: once)",
    )
    parser.add_argument("--think", type=float, default=0.25, help="base pause between one person's flows, in seconds (default 0.25)")
    parser.add_argument("--sample-every", type=float, default=None, help="seconds between memory samples (default 5; 2 with --smoke)")
    parser.add_argument("--rss-limit-mb", type=float, default=RSS_LIMIT_MB, help="RSS limit per worker (default 200)")
    parser.add_argument("--growth-limit-mb-per-min", type=float, default=GROWTH_LIMIT_MB_PER_MIN, help="largest second-half slope called stable")
    parser.add_argument("--no-job-worker", action="store_true", help="do not run `events worker` beside the server")
    parser.add_argument("--probe", action="store_true", help="report each server process's caches and heap at each tenth of the run")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="with --probe: trace allocations (FRAMES frames each) and report what grew after half time (slows the server)",
    )
    parser.add_argument("--port", type=int, default=None, help="the server's port (default: one the kernel says is free)")
    parser.add_argument("--seed", type=int, default=7, help="the load's random choices")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL URL to create and drop the bench database through")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration = 60.0
    if args.sample_every is None:
        args.sample_every = 2.0 if args.smoke else 5.0
    if args.duration <= 0 or args.workers < 1 or args.sample_every <= 0 or args.think < 0:
        parser.error("--duration, --workers and --sample-every must be positive, --think not negative")
    if min(args.browsers, args.buyers, args.claimers, args.doors) < 1:
        parser.error("every flow needs at least one person (--browsers, --buyers, --claimers, --doors)")
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
    name = f"events_bench_soak_{secrets.token_hex(4)}"
    database_url = with_database(admin, name)
    var_dir = Path(tempfile.mkdtemp(prefix="events-bench-soak-"))
    env = server_env(database_url, var_dir)
    password = secrets.token_urlsafe(18)
    result: dict[str, Any] = {
        "benchmark": "soak",
        "smoke": args.smoke,
        "duration_s": args.duration,
        "workers": args.workers,
        "people": {"browsers": args.browsers, "buyers": args.buyers, "claimers": args.claimers, "doors": args.doors, "staff": args.staff},
        "think_s": args.think,
        "sign_in_every_rounds": args.sign_in_every,
        "sample_every_s": args.sample_every,
        "job_worker": not args.no_job_worker,
        "tracemalloc_frames": args.tracemalloc,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    server: subprocess.Popen[bytes] | None = None
    job_worker: subprocess.Popen[bytes] | None = None
    created = False
    status = 1
    try:
        asyncio.run(create_database(admin, name))
        created = True
        log(f"database {name}: migrating")
        run_cli(env, "migrate")
        doors = [f"soak-door{index + 1}@soak.example" for index in range(args.doors)]
        run_all(
            env,
            [(("user", "create", ORGANISER, "--role", "organiser", "--name", "Soak Organiser", "--password-stdin"), password)]
            + [(("user", "create", email, "--role", "door", "--name", f"Door {index + 1}"), None) for index, email in enumerate(doors)],
        )
        organiser_token, *door_tokens = (
            out.strip() for out in run_all(env, [(("token", "create", email, "--label", "soak"), None) for email in (ORGANISER, *doors)])
        )
        port = args.port or free_port()
        server_log = var_dir / "server.log"
        server_environment, probe_dir = probe_env(env, var_dir, args.probe, args.tracemalloc)
        server = start(server_environment, server_log, "serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers))
        log(f"server on {HOST}:{port} with {args.workers} workers")
        asyncio.run(wait_until_healthy(port, server, server_log, args.workers))
        claim_code, types = asyncio.run(set_up_site(port, organiser_token, args.duration))
        asyncio.run(add_door_team(port, organiser_token, doors))
        run_cli(
            env,
            "user",
            "create",
            TREASURER,
            "--role",
            "partner_viewer",
            "--partner",
            PARTNER,
            "--name",
            "Soak Treasurer",
            "--password-stdin",
            stdin=password,
        )
        worker_log = var_dir / "worker.log"
        if not args.no_job_worker:
            job_worker = start(server_environment, worker_log, "worker")
        site = Site(port, organiser_token, door_tokens, password, claim_code, types)
        result["load_average_before"] = [round(value, 2) for value in os.getloadavg()]
        measured = asyncio.run(run_load(args, site, server.pid, job_worker.pid if job_worker else None, database_url, probe_dir))
        result["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
        samples: Samples = measured.pop("samples")
        result.update(measured)
        result["rss"] = memory_report(samples, args.duration, args.rss_limit_mb, args.growth_limit_mb_per_min)
        if "probe" in result:
            result["rss"]["verdict"]["caches_still_filling"] = caches_still_filling(result["probe"])
        workers_seen = [pid for pid, role in samples.roles.items() if role == "worker"]
        result["worker_restarts"] = max(0, len(workers_seen) - args.workers)
        connections = samples.connections
        result["database_connections"] = {
            "samples": [list(row) for row in connections],
            "max_total": max(row[1] for row in connections),
            "max_active": max(row[2] for row in connections),
            "max_idle_in_transaction": max(row[4] for row in connections),
            "last_total": connections[-1][1],
            "pool_limit": args.workers * DB_POOL_SIZE + (0 if args.no_job_worker else DB_POOL_SIZE),
        }
        counts = asyncio.run(database_counts(database_url))
        result["postgres"] = counts.pop("postgres")
        result["database"] = counts
        logs = server_log.read_text() + (worker_log.read_text() if worker_log.exists() else "")
        result["server_tracebacks"] = logs.count("Traceback")
        if result["server_tracebacks"]:
            result["server_exceptions"] = dict(Counter(exception_lines(logs)).most_common(10))
        exited = [what for what, process in (("server", server), ("job worker", job_worker)) if process is not None and process.poll() is not None]
        result["processes_exited"] = exited
        flows_ran = all(flow["completed"] > 0 for flow in result["flows"].values())
        verdict = result["rss"]["verdict"]
        result["target"] = {
            "rss_limit_mb_per_worker": args.rss_limit_mb,
            "growth_limit_mb_per_min": args.growth_limit_mb_per_min,
            "errors": 0,
            "met": verdict["under_limit"] and verdict["stable"] and result["errors"] == 0,
        }
        correct = (
            result["errors"] == 0
            and result["server_tracebacks"] == 0
            and flows_ran
            and not exited
            and result["worker_restarts"] == 0
            and verdict["under_limit"]
            and result["database_connections"]["max_total"] <= result["database_connections"]["pool_limit"]
        )
        result["every_flow_ran"] = flows_ran
        result["correct"] = correct
        status = 0 if correct else 1
    except BaseException as exc:  # noqa: BLE001 - report, then clean up; Ctrl-C and SIGTERM included
        traceback.print_exc(file=sys.stderr)
        result["error"] = f"{type(exc).__name__}: {exc}"
        status = 1
    finally:
        clean_up([job_worker, server], admin=admin, name=name, created=created, var_dir=var_dir, result=result, log=log)
    print(json.dumps(result, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
