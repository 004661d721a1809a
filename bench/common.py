"""What the benchmarks share: their own PostgreSQL database, stopping the server, and CPU accounting
from /proc (server processes and the PostgreSQL backends serving the bench database)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def admin_url(explicit: str | None) -> str:
    return explicit or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def create_database(admin: str, name: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin: str, name: str) -> None:
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def postgres_pids(database_url: str) -> list[int]:
    """The PostgreSQL backends serving the bench database (other databases on the server are not counted)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        queue.extend(int(child) for child in children)
    return found


async def cpu_snapshot(server_pid: int, database_url: str) -> dict[str, dict[int, float]]:
    return {
        "server": {pid: cpu_seconds(pid) for pid in process_tree(server_pid)},
        "postgres": {pid: cpu_seconds(pid) for pid in await postgres_pids(database_url)},
        "load_generator": {os.getpid(): sum(os.times()[:2])},
    }


def clean_up(
    processes: Iterable[subprocess.Popen[bytes] | None],
    *,
    admin: str,
    name: str,
    created: bool,
    var_dir: Path,
    result: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """What every bench does at its end, also on a failure or Ctrl-C: stop its processes, drop its database (a failure
    to is noted in ``result["drop_error"]``) and remove its folder."""
    for process in processes:
        if process is not None:
            stop_server(process)
    if created:
        try:
            asyncio.run(drop_database(admin, name))
        except Exception as exc:  # noqa: BLE001 - reported, the rest of the clean-up still runs
            log(f"could not drop {name}: {exc}")
            result["drop_error"] = str(exc)
    shutil.rmtree(var_dir, ignore_errors=True)


def exception_lines(server_log: str) -> list[str]:
    """The last line of each traceback in a server's log (the exception type and message), shortened."""
    lines = server_log.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = index + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            if end < len(lines):
                found.append(lines[end][:200])
    return found
