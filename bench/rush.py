"""The guest's whole path under a rush: N virtual guests buy through the HTML pages of `events serve --workers W`,
with real CSRF cookies and tokens, paying on the development test payment page; on PostgreSQL, over real HTTP.

    .venv/bin/python bench/rush.py [--guests 2000] [--places 1000] [--workers 2] [--concurrency 200] [--profile]

Prints one JSON object on stdout and nothing else (progress and errors go to stderr; the server's log is kept in a
temporary directory that is removed at the end). Exit status 1 if anything was oversold, a guest met an error
(anything but a page or a clear 409 "sold out"), or the database disagrees with what the guests were told.

Each guest, as a browser would (one keep-alive connection, a cookie jar, following the 303s):

1. `GET /` (the home page lists the event; its CSRF cookie is set here, as on any first page);
2. `GET /events/{slug}`, the event page, and reads its buy form (the `_csrf_token` field, the quantity field);
3. `POST /events/{slug}/buy`, the form (CSRF cookie and token, one ticket, name and email): 303 to the payment page,
   or the event page again with 409 when the places are gone;
4. `GET /orders/{ref}/pay?token=...`, the payment page, and reads its test payment form;
5. `POST /orders/{ref}/test-payment` (CSRF cookie and token, the order's token): the development test payment
   provider, used whenever no Stripe key is set; it books the payment and issues the tickets in one transaction,
   as a card payment's webhook would; 303 to the confirmation;
6. `GET /orders/{ref}?token=...`, the confirmation (the order page with its tickets);
7. `GET /tickets/{secret}`, the first ticket's page (with its QR code), from the confirmation's "Show ticket" link.

A guest who finds the event page with nothing to choose in its buy form (sold out) or whose form comes back with 409
stops there, as a person would. Static files (CSS, scripts, fonts) are not fetched: a browser caches them for a year
after its first page (static_assets), and they are not the application's work.

Set-up as bench/onsale.py: its own database (admin URL: --admin-url, else BENCH_DATABASE_URL, else
TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres), dropped at the end, also on failure or
Ctrl-C; `events migrate`, `events user create`, `events token create`; `events serve --workers W` as in production
(EVENTS_RUN_WORKER_IN_PROCESS=false, no STRIPE_* settings: the test payment page); a partner, the rush's event with P
places and a warm-up event through the organiser API; --warmup guests walk the whole path on the warm-up event
first (not measured), so every worker has imported its code, compiled its templates and opened its pool.

The per-address limits on holds (EVENTS_HOLDS_PER_CLIENT_PER_MINUTE, EVENTS_HOLD_PLACES_PER_CLIENT,
EVENTS_HOLD_PLACES_PER_EMAIL) are rules for one real client. A rush sent from one loopback address would be one
client to them, so the server's limits are set explicitly (`server_limits` in the JSON, the production defaults) and
every guest connects from a loopback address of its own (127.3.x.y; all of 127.0.0.0/8 reaches this host), with an
email of its own, buying one order: no limit binds, and the checks still run as in production.

Load generator: a lean HTTP/1.1 keep-alive client on uvloop in this process (bench/onsale.py's approach, plus a
cookie jar and form bodies); its CPU is reported beside the server's and PostgreSQL's, per purchase.

--profile runs cProfile in every server worker during the rush only (switched on and off by signals; see
`common.PROFILER`) and adds `profile` to the JSON: per step, the handler's own CPU and its template's rendering per
request, and the whole rush's CPU by where it went (templates, database driver, ORM, framework, the app's code).
cProfile slows the workers down several times: rates and latencies of a profiled run are not comparable.

Targets on the 2-core reference machine: >= 200 completed purchases/s, every page's p99 < 300 ms, 0 oversold.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import asyncpg
from common import admin_url, clean_up, cpu_snapshot, create_database, exception_lines, profiled_env, read_profiles, signal_workers, with_database
from onsale import (
    HOST,
    ORGANISER,
    PARTNER,
    api,
    cpu_used,
    create_event,
    database_state,
    free_port,
    run_cli,
    server_env,
    start_server,
    summary,
    wait_until_healthy,
)

SLUG = "bench-rush"
WARMUP_SLUG = "bench-rush-warm-up"
TARGET_PURCHASES_PER_SECOND = 200
TARGET_P99_MS = 300.0
STEPS = ("home", "event_page", "buy", "payment_page", "test_payment", "confirmation", "ticket_page")
# The production defaults, set explicitly: one guest (one address, one email, one order) never reaches them.
SERVER_LIMITS = {"EVENTS_HOLDS_PER_CLIENT_PER_MINUTE": "20", "EVENTS_HOLD_PLACES_PER_CLIENT": "40", "EVENTS_HOLD_PLACES_PER_EMAIL": "10"}

CSRF_FIELD = re.compile(rb'name="_csrf_token" value="([^"]+)"')
BUY_FORM = re.compile(rb'<form method="post" action="([^"]*/buy)"')
QUANTITY_FIELD = re.compile(rb'<select id="(quantity_\d+)"')
TEST_PAYMENT_FORM = re.compile(rb'<form method="post" action="([^"]*/test-payment)">(.*?)</form>', re.DOTALL)
HIDDEN_TOKEN = re.compile(rb'name="token" value="([^"]+)"')
TICKET_LINK = re.compile(rb'href="(/tickets/[a-z0-9]+)"')


def log(message: str) -> None:
    print(f"[bench/rush] {message}", file=sys.stderr, flush=True)


# --- a browser: one keep-alive connection and a cookie jar ---------------------------------------------------


class PageError(Exception):
    """A page that was not what a guest expects (wrong status, a form or link missing)."""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


class Browser:
    """One guest's browser: a keep-alive HTTP/1.1 connection from its own loopback address, and its cookies (by
    name and path; Max-Age=0 removes one)."""

    def __init__(self, port: int, local_address: str) -> None:
        self.port = port
        self.local_address = local_address
        self.cookies: dict[str, tuple[str, str]] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def cookie(self, name: str) -> str | None:
        found = self.cookies.get(name)
        return found[0] if found else None

    async def request(self, method: str, target: str, form: dict[str, str] | None = None) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port, local_addr=(self.local_address, 0))
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        path = urlsplit(target).path
        head = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{self.port}", "Accept: text/html", "Accept-Language: en"]
        cookies = "; ".join(f"{name}={value}" for name, (value, scope) in self.cookies.items() if path.startswith(scope))
        if cookies:
            head.append(f"Cookie: {cookies}")
        body = urlencode(form).encode() if form is not None else b""
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}", f"Origin: http://{HOST}:{self.port}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("server closed the connection")
            status = int(status_line.split()[1])
            headers: list[tuple[str, str]] = []
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name.strip().lower(), value.strip()))
            reply = Reply(status, headers, b"")
            if "chunked" in (reply.header("transfer-encoding") or "").lower():
                parts = []
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size + 2))
                await self.reader.readline()
                reply.body = b"".join(part[:-2] for part in parts)
            else:
                reply.body = await self.reader.readexactly(int(reply.header("content-length") or 0))
        except BaseException:
            self.close()
            raise
        if "close" in (reply.header("connection") or "").lower():
            self.close()
        for name, value in headers:
            if name == "set-cookie":
                self._keep(value)
        return reply

    def _keep(self, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        scope, removed = "/", False
        for attribute in attributes:
            key, _, setting = attribute.strip().partition("=")
            if key.lower() == "path":
                scope = setting or "/"
            elif key.lower() == "max-age" and setting.strip() in ("0", "-1"):
                removed = True
        if removed:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = (value.strip('"'), scope)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def found(pattern: re.Pattern[bytes], reply: Reply, what: str) -> re.Match[bytes]:
    match = pattern.search(reply.body)
    if match is None:
        raise PageError(f"{what} missing (HTTP {reply.status})")
    return match


def expect(reply: Reply, status: int, step: str) -> None:
    if reply.status != status:
        raise PageError(f"{step}: HTTP {reply.status}")


def location(reply: Reply, step: str) -> str:
    target = reply.header("location")
    if reply.status != 303 or not target:
        raise PageError(f"{step}: HTTP {reply.status}, not a 303")
    return target


# --- the rush ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    step_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    purchases: list[str] = field(default_factory=list)
    sold_out_on_page: int = 0
    sold_out_on_buy: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    first_start: float = 0.0
    last_end: float = 0.0
    last_purchase_end: float = 0.0
    started_guests: int = 0


class Addresses:
    """A loopback address of its own for each guest (127.<network>.x.y), as a crowd comes from many addresses."""

    def __init__(self, network: int) -> None:
        self.network = network
        self.used = 0

    def next(self) -> str:
        self.used += 1
        return f"127.{self.network}.{self.used // 250}.{self.used % 250 + 1}"


async def guest(browser: Browser, slug: str, index: int, tally: Tally, request_timeout: float) -> None:
    """One guest's seven steps; each step's time is the request's round trip (the redirects are the next step)."""

    async def step(name: str, method: str, target: str, form: dict[str, str] | None = None) -> Reply:
        began = time.perf_counter()
        tally.requests += 1
        reply = await asyncio.wait_for(browser.request(method, target, form), request_timeout)
        ended = time.perf_counter()
        tally.step_ms[name].append((ended - began) * 1000)
        tally.last_end = max(tally.last_end, ended)
        return reply

    home = await step("home", "GET", "/")
    expect(home, 200, "home")
    if f"/events/{slug}".encode() not in home.body:
        raise PageError("home: no link to the event")
    page = await step("event_page", "GET", f"/events/{slug}")
    expect(page, 200, "event_page")
    form, field = BUY_FORM.search(page.body), QUANTITY_FIELD.search(page.body)
    if form is None or field is None:  # sold out: the form asks for nothing, and has no button
        tally.sold_out_on_page += 1
        return
    quantity = field.group(1).decode()
    csrf = html.unescape(found(CSRF_FIELD, page, "event page: CSRF token").group(1).decode())
    if browser.cookie("csrftoken") is None:
        raise PageError("no CSRF cookie after two pages")
    fields = {"_csrf_token": csrf, quantity: "1", "name": f"Guest {index}", "email": f"guest{index}@bench.example"}
    bought = await step("buy", "POST", html.unescape(form.group(1).decode()), fields)
    if bought.status == 409:  # the form again, saying the places are gone
        tally.sold_out_on_buy += 1
        return
    pay = await step("payment_page", "GET", location(bought, "buy"))
    expect(pay, 200, "payment_page")
    action, inside = found(TEST_PAYMENT_FORM, pay, "payment page: test payment form").groups()
    payment = {
        "_csrf_token": html.unescape(found(CSRF_FIELD, pay, "payment page: CSRF token").group(1).decode()),
        "token": html.unescape(found(HIDDEN_TOKEN, Reply(200, [], inside), "payment page: order token").group(1).decode()),
    }
    paid = await step("test_payment", "POST", html.unescape(action.decode()), payment)
    confirmation = await step("confirmation", "GET", location(paid, "test_payment"))
    expect(confirmation, 200, "confirmation")
    ticket = found(TICKET_LINK, confirmation, "confirmation: ticket link").group(1).decode()
    shown = await step("ticket_page", "GET", ticket)
    expect(shown, 200, "ticket_page")
    if b"<svg" not in shown.body:
        raise PageError("ticket page: no QR code")
    tally.purchases.append(urlsplit(location(paid, "test_payment")).path.rsplit("/", 1)[1])
    tally.last_purchase_end = time.perf_counter()


async def rush(port: int, slug: str, *, guests: int, concurrency: int, duration: float, request_timeout: float, addresses: Addresses) -> Tally:
    tally = Tally()
    next_guest = 0
    start = asyncio.Event()
    deadline = 0.0

    async def slot() -> None:
        nonlocal next_guest
        await start.wait()
        while next_guest < guests and time.perf_counter() < deadline:
            index = next_guest
            next_guest += 1
            tally.started_guests += 1
            browser = Browser(port, addresses.next())
            try:
                await guest(browser, slug, index, tally, request_timeout)
            except PageError as exc:
                tally.errors[str(exc)] += 1
            except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                tally.errors[type(exc).__name__] += 1
            finally:
                browser.close()

    tasks = [asyncio.create_task(slot()) for _ in range(min(concurrency, guests))]
    await asyncio.sleep(0)
    tally.first_start = time.perf_counter()
    deadline = tally.first_start + duration
    start.set()
    await asyncio.gather(*tasks)
    return tally


# --- the database --------------------------------------------------------------------------------------


async def purchase_state(database_url: str, slug: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            """SELECT count(*) FILTER (WHERE o.status = 'paid') AS paid_orders,
                      COALESCE(SUM(o.places) FILTER (WHERE o.status = 'paid'), 0) AS paid_places,
                      count(*) FILTER (WHERE o.status = 'pending') AS pending_orders,
                      (SELECT count(*) FROM ticket t WHERE t.event = e.id AND t.status = 'valid') AS valid_tickets,
                      (SELECT count(*) FROM payment p JOIN ticket_order q ON q.id = p.order_id WHERE q.event = e.id) AS payments
               FROM event e LEFT JOIN ticket_order o ON o.event = e.id WHERE e.slug = $1 GROUP BY e.id""",
            slug,
        )
    finally:
        await connection.close()
    return {key: int(value) for key, value in row.items()}


# --- the profile ---------------------------------------------------------------------------------------

# Each step's handler (the controller method) and the template its page renders.
HANDLERS = {
    "home": ("catalogue/controllers.py", "event_list"),
    "event_page": ("storefront/event_pages.py", "show"),
    "buy": ("storefront/order_controllers.py", "buy"),
    "payment_page": ("storefront/order_controllers.py", "pay"),
    "test_payment": ("storefront/order_controllers.py", "test_payment"),
    "confirmation": ("storefront/order_controllers.py", "order_page"),
    "ticket_page": ("tickets/controllers.py", "ticket_page"),
}
TEMPLATES = {
    "home": "catalogue/event_list.html",
    "event_page": "catalogue/event_detail.html",
    "payment_page": "orders/checkout.html",
    "confirmation": "orders/order.html",
    "ticket_page": "tickets/ticket.html",
}
# Where a function's own time counts, by the path of its file (first match wins).
PLACES = (
    ("templates (Jinja2)", ("/templates/", "jinja2/", "markupsafe/", "babel/")),
    ("database driver (asyncpg)", ("asyncpg/",)),
    ("ORM (Piccolo)", ("piccolo/",)),
    ("framework (Litestar, uvicorn, msgspec)", ("litestar/", "uvicorn/", "msgspec/", "httptools", "h11/", "multipart", "starlette/")),
    ("asyncio and event loop", ("asyncio/", "uvloop/", "<built-in method select", "selectors.py")),
    ("the app's code", ("/src/events/", "events/")),
)


def profile_summary(profile_dir: Path, purchases: int, step_counts: dict[str, int]) -> dict[str, Any]:
    profiles = read_profiles(profile_dir)
    if profiles is None:
        return {"error": "no profile written"}
    processes, raw = profiles
    total = sum(entry[2] for entry in raw.values())
    places: Counter[str] = Counter()
    for (filename, _line, name), entry in raw.items():
        where = filename if filename != "~" else name
        place = next((label for label, marks in PLACES if any(mark in where for mark in marks)), "other (stdlib, builtins)")
        places[place] += entry[2]
    per_step: dict[str, Any] = {}
    for step in STEPS:
        handler_file, handler_name = HANDLERS[step]
        handler = sum(entry[3] for (filename, _l, name), entry in raw.items() if filename.endswith(handler_file) and name == handler_name)
        template = TEMPLATES.get(step)
        rendering = sum(entry[3] for (filename, _l, name), entry in raw.items() if template and filename.endswith(template) and name == "root")
        count = max(step_counts.get(step, 0), 1)
        per_step[step] = {
            "requests": step_counts.get(step, 0),
            "handler_cpu_ms": round(1000 * handler / count, 3),
            "template_cpu_ms": round(1000 * rendering / count, 3) if template else None,
        }
    top = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:25]
    return {
        "processes": processes,
        "profiled_cpu_s": round(total, 2),
        "cpu_ms_per_purchase_profiled": round(1000 * total / max(purchases, 1), 2),
        "share_by_place": {place: round(seconds / total, 3) for place, seconds in places.most_common()},
        "per_step": per_step,
        "top_own_time": [
            {"function": f"{Path(filename).name}:{line}({name})", "own_s": round(entry[2], 3), "calls": entry[1]}
            for (filename, line, name), entry in top
        ],
        "note": "cProfile, in each server process's main thread during the rush only; handler_cpu_ms is the handler's own "
        "work and its calls while it runs (waits excluded), per request; template_cpu_ms the page's template rendering "
        "(its Jinja2 root function), outside the handler. The rest of a request (routing, middleware, sending, "
        "the database's round trips) is in share_by_place. Profiling slows the code several times; read shares, not rates.",
    }


# --- the run -------------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, port: int, token: str, server_pid: int, database_url: str, profile_dir: Path | None) -> dict[str, Any]:
    await api(port, "POST", "/api/partners", {"name": "Bench Partner", "slug": PARTNER}, token, expect=201)
    await create_event(port, token, WARMUP_SLUG, max(args.warmup, 1), 1)
    await create_event(port, token, SLUG, args.places, 1)

    if args.warmup:
        log(f"warm-up: {args.warmup} guests on {WARMUP_SLUG}")
        warm = await rush(
            port,
            WARMUP_SLUG,
            guests=args.warmup,
            concurrency=min(args.concurrency, 25),
            duration=120,
            request_timeout=args.request_timeout,
            addresses=Addresses(1),
        )
        if warm.errors or len(warm.purchases) != args.warmup:
            raise RuntimeError(f"warm-up failed: {len(warm.purchases)} purchases, errors {dict(warm.errors)}")

    log(f"rush: {args.guests} guests, {args.concurrency} at once, for {args.places} places")
    load_average = os.getloadavg()
    if profile_dir is not None:
        signal_workers(server_pid, signal.SIGUSR1)
        await asyncio.sleep(0.5)
    before = await cpu_snapshot(server_pid, database_url)
    tally = await rush(
        port,
        SLUG,
        guests=args.guests,
        concurrency=args.concurrency,
        duration=args.duration,
        request_timeout=args.request_timeout,
        addresses=Addresses(3),
    )
    used = cpu_used(before, await cpu_snapshot(server_pid, database_url))
    if profile_dir is not None:
        signal_workers(server_pid, signal.SIGUSR2)
        await asyncio.sleep(2)
        if args.profile_dir is not None:
            args.profile_dir.mkdir(parents=True, exist_ok=True)
            for written in profile_dir.glob("*.prof"):
                shutil.copy(written, args.profile_dir / written.name)

    duration = max(tally.last_end - tally.first_start, 1e-9)
    purchases = len(tally.purchases)
    selling_window = (tally.last_purchase_end - tally.first_start) if purchases else duration
    result: dict[str, Any] = {
        "tally": tally,
        "guests_started": tally.started_guests,
        "completed_purchases": purchases,
        "sold_out_on_event_page": tally.sold_out_on_page,
        "sold_out_on_buy": tally.sold_out_on_buy,
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors.most_common(20)),
        "requests": tally.requests,
        "duration_s": round(duration, 3),
        "selling_window_s": round(selling_window, 3),
        "purchases_per_second": round(purchases / selling_window, 1) if purchases else 0.0,
        "purchases_per_second_overall": round(purchases / duration, 1),
        "requests_per_second": round(tally.requests / duration, 1),
        "latency_ms": {step: summary(tally.step_ms.get(step, [])) for step in STEPS},
        "cpu_seconds": used,
        "cpu_ms_per_purchase": {group: round(1000 * value / max(purchases, 1), 2) for group, value in used.items()},
        "cpu_ms_per_request": {group: round(1000 * value / max(tally.requests, 1), 3) for group, value in used.items()},
        "load_average_before": [round(value, 2) for value in load_average],
    }
    if profile_dir is not None:
        result["profile"] = profile_summary(profile_dir, purchases, {step: len(tally.step_ms.get(step, [])) for step in STEPS})
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", type=int, default=2000, help="guests in the rush, one purchase each at most (default 2000)")
    parser.add_argument("--places", type=int, default=1000, help="places on sale (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="`events serve --workers` (default 2, one per core of the reference machine)")
    parser.add_argument("--concurrency", type=int, default=200, help="guests on their way at once, one connection each (default 200)")
    parser.add_argument("--duration", type=float, default=120.0, help="start no new guest after this many seconds (default 120)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="give up on one request after this (default 30 s)")
    parser.add_argument("--warmup", type=int, default=50, help="guests walking the whole path on a separate event first, not measured (default 50)")
    parser.add_argument("--profile", action="store_true", help="cProfile the server's workers during the rush (slows them: rates not comparable)")
    parser.add_argument("--profile-dir", type=Path, default=None, help="with --profile: also keep each process's cProfile file here")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL URL to create and drop the bench database through")
    args = parser.parse_args(argv)
    for name in ("guests", "places", "workers", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.duration <= 0 or args.request_timeout <= 0 or args.warmup < 0:
        parser.error("--duration and --request-timeout must be positive, --warmup not negative")
    if args.guests + args.warmup > 60_000:
        parser.error("at most 60,000 guests with the warm-up (one loopback address each)")
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
    name = f"events_bench_rush_{secrets.token_hex(4)}"
    database_url = with_database(admin, name)
    var_dir = Path(tempfile.mkdtemp(prefix="events-bench-rush-"))
    env = server_env(database_url, var_dir)
    env.update(SERVER_LIMITS)
    profile_dir: Path | None = None
    if args.profile:
        profile_dir = profiled_env(env, var_dir / "profile")
    result: dict[str, Any] = {
        "benchmark": "rush",
        "guests": args.guests,
        "places": args.places,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "profiled": args.profile,
        "server_limits": SERVER_LIMITS,
        "client_addresses": "one loopback address per guest (127.3.x.y), one order and one email each: no per-client limit binds",
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
            return await measure(args, port, token, server.pid, database_url, profile_dir)

        measured = asyncio.run(run())
        tally: Tally = measured.pop("tally")
        result.update(measured)

        state = asyncio.run(database_state(database_url, SLUG))
        bought = asyncio.run(purchase_state(database_url, SLUG))
        result["postgres"] = state.pop("postgres")
        result["database"] = state | bought
        result["sold"] = state["event_places_taken"]
        result["capacity"] = state["capacity"]
        result["oversold"] = max(
            0, state["event_places_taken"] - args.places, state["order_places"] - args.places, bought["paid_places"] - args.places
        )
        purchases = len(tally.purchases)
        result["consistent"] = (
            state["event_places_taken"] == state["ticket_type_places_taken"] == state["order_places"] == state["order_line_places"]
            and bought["paid_orders"] == bought["paid_places"] == bought["valid_tickets"] == bought["payments"] == purchases
            and len(set(tally.purchases)) == purchases
            and state["orders_not_holding_places"] == 0
        )
        server_log = log_path.read_text()
        result["server_tracebacks"] = server_log.count("Traceback")
        if result["server_tracebacks"]:
            result["server_exceptions"] = dict(Counter(exception_lines(server_log)).most_common(10))
        worst = max((result["latency_ms"][step]["p99"] or 0.0) for step in STEPS)
        result["worst_step_p99_ms"] = worst
        result["target"] = {
            "purchases_per_second": TARGET_PURCHASES_PER_SECOND,
            "p99_ms_every_step": TARGET_P99_MS,
            "met": not args.profile and result["purchases_per_second"] >= TARGET_PURCHASES_PER_SECOND and worst < TARGET_P99_MS,
        }
        result["note"] = (
            f"Load generator, {args.workers} server workers and PostgreSQL share {os.cpu_count()} CPUs; CPU seconds during "
            f"the rush: {result['cpu_seconds']}. purchases_per_second counts guests who finished all seven steps, over the "
            "time from the start to the last such guest."
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
