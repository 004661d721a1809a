"""A real server process (uvicorn through `events serve`) on loopback, for browser and race tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import databases


def free_port() -> int:
    with socket.socket() as sock:
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
    demo: what every test that runs its own server starts from."""
    env = server_environment(database_url or databases.sqlite_url(var_dir), var_dir, **extra)
    run_cli(env, "migrate")
    run_cli(env, "demo")
    return env


@contextmanager
def live_server(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
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
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# Generous: each worker spends a few CPU seconds starting, and a busy CI machine can take minutes for several.
START_UP_SECONDS = 240


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_UP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Server did not become healthy:\n{log_path.read_text()}")
