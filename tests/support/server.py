"""A real server process (uvicorn through `events serve`) on loopback, for browser and race tests."""

from __future__ import annotations

import atexit
import functools
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.support import databases

# Ports for the servers tests start come from below the kernel's ephemeral range: no outgoing connection (a race
# test's hundreds of clients, a database connection, on this or another xdist worker) is ever given one of them, so
# none can hold a port between free_port() choosing it and the server binding it.
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10000


def _worker_ports() -> range:
    """This process's own slice of the ports below the ephemeral range: one slice per pytest-xdist worker (make test
    runs several), so that no two workers ever choose the same port."""
    try:
        ephemeral_low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (ephemeral_low - _LOWEST_PORT) // max(workers, 1)
    start = _LOWEST_PORT + worker * size
    return range(start, start + size)


class _PortRound:
    """Goes round this worker's slice from a random place (another test run may be going on on the same machine),
    so that this process never hands out a port again while a test may still be about to use it."""

    def __init__(self) -> None:
        self.ports = _worker_ports()
        self.next = random.choice(self.ports) if self.ports else 0

    def take(self) -> int | None:
        for _ in self.ports:
            port, self.next = self.next, self.next + 1 if self.next + 1 < self.ports.stop else self.ports.start
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
        return None


_ROUND = _PortRound()


def free_port() -> int:
    """A loopback port nobody listens on, for a server a test starts on it: from this worker's slice (see _worker_ports
    and _PortRound), checked by binding it."""
    if len(_ROUND.ports) >= 100 and (port := _ROUND.take()) is not None:
        return port
    with socket.socket() as sock:  # an unusual ip_local_port_range, or a full slice: leave the choice to the kernel
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "STRIPE_", "SMTP_"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"events {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def demo_environment(var_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """A server environment whose database (SQLite in ``var_dir`` unless given) is migrated and seeded with the
    demo: what every test that runs its own server starts from. SQLite in ``var_dir`` gets a copy of this process's
    seeded demo (seeded_demo_copy); any other database is migrated and seeded itself."""
    in_var_dir = databases.sqlite_url(var_dir)
    env = server_environment(database_url or in_var_dir, var_dir, **extra)
    if env["DATABASE_URL"] == in_var_dir:
        seeded_demo_copy(var_dir)
    else:
        run_cli(env, "migrate")
        run_cli(env, "demo")
    return env


def seeded_demo_copy(var_dir: Path) -> None:
    """Put into ``var_dir`` what `events migrate` and `events demo` leave in a new SQLite installation's: its database
    and its secret key (which signs what the database holds), copied from a directory this process seeded once today.

    `migrate` and `demo` cost about 5 s of CPU, for each of the 25 or so servers the suite starts; the copy costs
    nothing. What the demo seeds does not depend on the server's other settings (Stripe, SMTP, texts): its emails are
    queued by kind and order, and written when sent. It depends on the date (its events are dated from today): a new
    day seeds a new copy."""
    seeded = _seeded_demo(datetime.now(ZoneInfo("Europe/London")).date())
    var_dir.mkdir(parents=True, exist_ok=True)
    for path in seeded.iterdir():  # the database (and its write-ahead log, should one be left) and secret_key
        if not path.name.endswith("-shm"):  # the log's index, which SQLite builds again from the log
            shutil.copy2(path, var_dir / path.name)


@functools.cache
def _seeded_demo(day: date) -> Path:
    """A directory `events migrate` and `events demo` ran in on ``day`` (removed when this process exits)."""
    seeded = Path(tempfile.mkdtemp(prefix=f"events-seeded-demo-{day.isoformat()}-"))
    atexit.register(shutil.rmtree, seeded, ignore_errors=True)
    env = server_environment(databases.sqlite_url(seeded), seeded)
    run_cli(env, "migrate")
    run_cli(env, "demo")
    return seeded


@contextmanager
def live_server(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    with live_server_process(env, workers=workers) as (base_url, _):
        yield base_url


@contextmanager
def live_server_process(env: dict[str, str], *, workers: int = 1) -> Iterator[tuple[str, int]]:
    """As live_server, with the server's process id too (uvicorn's supervisor when ``workers`` > 1), for tests
    that kill its workers."""
    process, base_url = _start_server(env, workers)
    try:
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`events serve` on a free port, healthy; on another free port if something else took the first meanwhile (another
    test run on the same machine: see free_port)."""
    for attempt in range(3):
        port = free_port()
        log_path = Path(env["EVENTS_VAR_DIR"]) / f"server-{port}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "events", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base_url, process, log_path)
        except PortTaken:
            if attempt == 2:
                raise
            continue
        except BaseException:
            process.kill()
            process.wait()
            raise
        return process, base_url
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    """The server could not bind its port: something else took it after free_port() chose it."""


def port_taken(log: str) -> bool:
    return "address already in use" in log.lower()


# Generous: each worker spends a few CPU seconds starting, and a busy CI machine can take minutes for several.
START_UP_SECONDS = 240


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_UP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text()
            raise (PortTaken if port_taken(log) else RuntimeError)(f"Server exited early:\n{log}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")


@asynccontextmanager
async def organiser_on_postgres(tmp_path: Path, *, purpose: str, organiser: str, workers: int) -> AsyncIterator[tuple[str, dict[str, str], str]]:
    """A fresh PostgreSQL database, migrated, with ``organiser`` and an API token of theirs, served by ``workers``
    workers (a race needs real concurrency): the server's address, the organiser's Authorization header, and the
    database's URL (to count what was written). Skipped (or failed, in CI) without PostgreSQL, naming ``purpose``."""
    databases.require_postgres(purpose)
    url = await databases.create_postgres_database()
    try:
        env = server_environment(url, tmp_path)
        run_cli(env, "migrate")
        run_cli(env, "user", "create", organiser, "--role", "organiser")
        token = run_cli(env, "token", "create", organiser).strip()
        with live_server(env, workers=workers) as base_url:
            yield base_url, {"Authorization": f"Bearer {token}"}, url
    finally:
        await databases.drop_postgres_database(url)
