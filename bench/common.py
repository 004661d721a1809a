"""What the benchmarks share: their own PostgreSQL database, stopping the server, CPU accounting from /proc
(server processes and the PostgreSQL backends serving the bench database), and cProfile in the server's
processes (--profile)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pstats
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
    """``pid`` and every process below it. A process's children are listed per thread that started them: a serve
    worker starts its PDF pool's fork server from a worker thread (events.cpu), so every thread's list is read."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:  # the process has gone
            tasks = []
        for task in tasks:
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:  # that thread has ended
                continue
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


# A sitecustomize module put on the server's PYTHONPATH by profiled_env: every Python process of the server (the
# supervisor and each worker) can then be told by SIGUSR1 to start cProfile on its main thread (where the event loop
# runs) and by SIGUSR2 to stop and write its figures to EVENTS_BENCH_PROFILE_DIR/<pid>.prof. With
# EVENTS_BENCH_PROFILE_CLOCK=cpu the profile counts the thread's CPU time, not wall time: on a shared machine a
# process waiting for a core would otherwise charge that wait to wherever it was preempted (often a socket write
# that woke the client).
PROFILER = """
import os
if os.environ.get("EVENTS_BENCH_PROFILE_DIR"):
    import cProfile, signal, time
    _profile = cProfile.Profile(time.thread_time) if os.environ.get("EVENTS_BENCH_PROFILE_CLOCK") == "cpu" else cProfile.Profile()
    def _start(signum, frame):
        _profile.enable()
    def _stop(signum, frame):
        _profile.disable()
        _profile.dump_stats(os.path.join(os.environ["EVENTS_BENCH_PROFILE_DIR"], f"{os.getpid()}.prof"))
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
"""


def profiled_env(env: dict[str, str], profile_dir: Path, *, cpu_clock: bool = False) -> Path:
    """Set ``env`` up for a server whose processes can be profiled (PROFILER, signal_workers); returns the folder
    their profiles are written to."""
    (profile_dir / "site").mkdir(parents=True)
    (profile_dir / "site" / "sitecustomize.py").write_text(PROFILER)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(profile_dir / "site"), env.get("PYTHONPATH")]))
    env["EVENTS_BENCH_PROFILE_DIR"] = str(profile_dir)
    if cpu_clock:
        env["EVENTS_BENCH_PROFILE_CLOCK"] = "cpu"
    return profile_dir


def read_profiles(profile_dir: Path) -> tuple[int, dict[Any, Any]] | None:
    """The profiles PROFILER wrote in ``profile_dir``, merged: how many processes wrote one, and pstats' table
    (function -> (primitive calls, calls, own time, cumulative time, callers)); None when none was written."""
    files = sorted(str(path) for path in profile_dir.glob("*.prof"))
    if not files:
        return None
    return len(files), pstats.Stats(*files).stats  # type: ignore[attr-defined]


def signal_workers(server_pid: int, signum: int) -> None:
    """Send ``signum`` to the server and every process under it (PROFILER's SIGUSR1 and SIGUSR2)."""
    for pid in process_tree(server_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


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
