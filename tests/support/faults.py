"""What the fault tests share: an event on sale through a real server, buyers who keep buying, what each of them was
answered, the server processes to kill, and the check that the counters agree with the orders."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.support.server import run_cli

ORGANISER_EMAIL = "faults-organiser@test.example"
PARTNER = "faults-partner"
# Every buyer comes from 127.0.0.1: the per-address hold limits (which have tests of their own) are lifted.
UNLIMITED_HOLDS = {"EVENTS_HOLDS_PER_CLIENT_PER_MINUTE": "1000000", "EVENTS_HOLD_PLACES_PER_CLIENT": "1000000"}


def organiser_headers(env: dict[str, str], email: str = ORGANISER_EMAIL) -> dict[str, str]:
    """An organiser and their API token, made with the CLI on ``env``'s (migrated) database."""
    run_cli(env, "user", "create", email, "--role", "organiser")
    token = run_cli(env, "token", "create", email).strip()
    return {"Authorization": f"Bearer {token}"}


def create_event(
    base_url: str, headers: dict[str, str], slug: str, *, capacity: int, starts_in: timedelta = timedelta(days=30), **extra: Any
) -> dict[str, Any]:
    """An event on sale with one ticket type (one place per order), through the API, its partner made if need be."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        partner = http.post("/api/partners", json={"name": "Faults Partner", "slug": PARTNER})
        assert partner.status_code in (201, 409), partner.text
        starts = (datetime.now(timezone.utc) + starts_in).replace(microsecond=0)
        payload = {
            "slug": slug,
            "title": f"Faults {slug}",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": capacity,
            "reserved_free_places": 0,
            "status": "on_sale",
            "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online", "max_per_order": 1}],
            "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
            **extra,
        }
        response = http.post("/api/events", json=payload)
        assert response.status_code == 201, response.text
        return response.json()


@dataclass
class Answer:
    """What one buyer got: a status and the API's error code, or the connection error instead of an answer."""

    status: int | None
    error: str | None = None
    reference: str | None = None
    retry_after: str | None = None
    took: float = 0.0  # seconds from asking to the answer
    at: float = field(default_factory=time.monotonic)  # when it came

    @property
    def kind(self) -> str:
        if self.status is None:
            return f"connection error ({self.error})"
        return "201" if self.status == 201 else f"{self.status} {self.error}"


async def buy(http: httpx.AsyncClient, slug: str, ticket_type: int, index: int) -> Answer:
    body = {"buyer": {"name": f"Buyer {index}", "email": f"buyer{index}@test.example"}, "items": [{"ticket_type": ticket_type, "quantity": 1}]}
    started = time.monotonic()
    try:
        response = await http.post(f"/api/events/{slug}/orders", json=body)
    except httpx.TransportError as exc:
        return Answer(None, type(exc).__name__, took=time.monotonic() - started)
    took = time.monotonic() - started
    try:
        data = response.json()
    except ValueError:
        return Answer(response.status_code, f"not JSON: {response.text[:300]!r}", took=took)
    if response.status_code == 201:
        return Answer(201, reference=data["reference"], took=took)
    return Answer(response.status_code, str(data.get("error")), retry_after=response.headers.get("retry-after"), took=took)


async def buy_until(http: httpx.AsyncClient, slug: str, ticket_type: int, answers: list[Answer], stop: asyncio.Event, *, first: int) -> None:
    """One buyer after another, until ``stop`` is set or the event is sold out; each answer is kept."""
    index = first
    while not stop.is_set():
        answer = await buy(http, slug, ticket_type, index)
        answers.append(answer)
        index += 1000
        if answer.kind == "409 sold_out":
            return
        if answer.status is None or answer.status >= 500:
            await asyncio.sleep(0.05)  # as a browser's user would, not at once


def rush_client(base_url: str, buyers: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=buyers + 10, max_keepalive_connections=buyers + 10)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=httpx.Timeout(60.0, pool=60.0))


async def counters_and_orders(database_url: str, slug: str) -> dict[str, Any]:
    """The event's and its ticket types' counters, and the places its live orders hold, from the database."""
    connection = await asyncpg.connect(database_url)
    try:
        event = await connection.fetchrow("SELECT id, capacity, places_taken FROM event WHERE slug = $1", slug)
        types = await connection.fetchval("SELECT COALESCE(SUM(places_taken), 0) FROM ticket_type WHERE event = $1", event["id"])
        orders = await connection.fetch("SELECT reference, status, places FROM ticket_order WHERE event = $1", event["id"])
        line_places = await connection.fetchval(
            """SELECT COALESCE(SUM(l.quantity), 0) FROM order_line l JOIN ticket_order o ON o.id = l.order_id
               WHERE o.event = $1 AND o.status IN ('pending', 'paid') AND l.kind = 'ticket'""",
            event["id"],
        )
    finally:
        await connection.close()
    live = [row for row in orders if row["status"] in ("pending", "paid")]
    return {
        "capacity": event["capacity"],
        "event_places_taken": event["places_taken"],
        "type_places_taken": int(types),
        "order_places": sum(row["places"] for row in live),
        "line_places": int(line_places),
        "references": {row["reference"] for row in live},
        "statuses": {row["status"] for row in orders},
    }


def assert_counters_agree(state: dict[str, Any], answers: Iterable[Answer]) -> None:
    """No place double sold or lost: every counter equals the places the live orders hold, within capacity, and every
    buyer told 201 has their order."""
    assert state["event_places_taken"] == state["type_places_taken"] == state["order_places"] == state["line_places"], state
    assert state["order_places"] <= state["capacity"], state
    confirmed = {answer.reference for answer in answers if answer.status == 201}
    assert confirmed <= state["references"], confirmed - state["references"]


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (uvicorn's workers, for `events serve --workers N`), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        path = task / "children"
        if path.exists():
            found += [int(child) for child in path.read_text().split()]
    return found


def serving_workers(supervisor: int) -> list[int]:
    """uvicorn's worker processes under ``supervisor``: its children that run the app (not multiprocessing's
    resource tracker)."""
    workers = []
    for child in children(supervisor):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in command and _running(child):
            workers.append(child)
    return workers


def _running(pid: int) -> bool:
    """Whether ``pid`` is there and has not exited (an exited one its parent has not reaped yet is a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def process_of_client_port(pids: Iterable[int], port: int) -> int | None:
    """Which of ``pids`` owns the loopback TCP socket bound to local ``port`` (the client end of a database
    connection, as pg_stat_activity.client_port names it), found through /proc's socket inodes."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def wait_until_gone(pid: int, timeout: float = 30) -> None:
    """Until ``pid`` has exited (its parent reaps it; a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(pid):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not exit")
