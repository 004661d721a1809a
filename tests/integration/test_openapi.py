"""The API contract: a valid OpenAPI document, and no input that makes the server fail (schemathesis)."""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import demo_environment, live_server, run_cli


async def test_the_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("/api/events", "/api/events/{slug}", "/api/partners"):
        assert path in paths
    assert "post" in paths["/api/events"] and "patch" in paths["/api/events/{slug}"]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "/login" not in paths  # pages are not part of the API


# Each run stays under two minutes: schemathesis stops generating at the time budget (the server's start-up
# and the demo seed come on top).
FUZZ_SECONDS = 75
# How long schemathesis waits for an answer (10 s by default). The server renders PDFs (a partner's statement) in a pool
# process at a lower priority than itself, started by its first PDF: with the rest of the suite keeping both cores busy,
# that first start and render took over 10 s (a clean-clone CI run, 7 December), a "Network Error", not a server error.
REQUEST_TIMEOUT_SECONDS = 60
# CPython 3.11 keeps the AST constructor's recursion depth in state its threads share (python/cpython#106905), so
# schemathesis's two workers, each having hypothesis read a lambda's source (ast.parse), can trip it: schemathesis
# then reports an internal error of its own ("Runtime Error" under ERRORS), not an answer of ours. It has also come as
# hypothesis's "Inconsistent results" while generating a case (a clean-clone CI run on a loaded machine, 7 December,
# POST /api/checkin/sync, the server's log empty, no check failed). Such a run, an internal error with no failure of
# a check, is run once more; a second one fails the test.
INTERPRETER_FLAKE = "AST constructor recursion depth mismatch"
INTERNAL_ERROR = "Runtime Error"
# The one operation whose coverage phase has failed inside schemathesis, twice in a row on a loaded machine (7
# December): its boundary cases include the longest batch of offline scans, which schemathesis builds by tiling a
# drawn scan, and that draw came out "Inconsistent results" from hypothesis with no request made. Its examples and
# fuzzing still run; the batch limits are tests/integration/checkin's.
CONFIG = """
[[operations]]
include-path = "/api/checkin/sync"
include-method = "POST"
phases.coverage.enabled = false
"""


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_no_generated_input_makes_the_server_fail(tmp_path: Path, engine: str) -> None:
    """A schemathesis run over the whole API (examples, boundary and negative cases, then random ones)
    against a real server, signed in as an organiser: no 5xx, on SQLite and on PostgreSQL (where a NUL or a
    lone surrogate that slipped through would fail the statement)."""
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        pytest.fail("schemathesis is a dev dependency and should be installed")
    if engine == "postgres":
        databases.require_postgres("The PostgreSQL fuzzing run")
        database_url = await databases.create_postgres_database()
    else:
        database_url = databases.sqlite_url(tmp_path)
    try:
        await asyncio.to_thread(_fuzz, schemathesis, database_url, tmp_path)
    finally:
        if engine == "postgres":
            await databases.drop_postgres_database(database_url)


def _fuzz(schemathesis: str, database_url: str, tmp_path: Path) -> None:
    env = demo_environment(tmp_path, database_url)
    run_cli(env, "user", "create", "fuzz@example.org", "--role", "organiser", "--org", "refugee-welcome")
    token = run_cli(env, "token", "create", "fuzz@example.org").strip()
    with live_server(env) as base_url:
        result = _schemathesis(schemathesis, base_url, token, tmp_path)
        internal = INTERPRETER_FLAKE in result.stdout or INTERNAL_ERROR in result.stdout
        if result.returncode != 0 and internal and "= FAILURES =" not in result.stdout:
            result = _schemathesis(schemathesis, base_url, token, tmp_path)
        log = "\n".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert result.returncode == 0, _what_failed(result.stdout) + result.stderr[-1000:] + _server_errors(log)
    assert "Traceback" not in log, _server_errors(log)


def _schemathesis(schemathesis: str, base_url: str, token: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Every operation of the schema fuzzed for FUZZ_SECONDS, checking that no answer is a server error."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    return subprocess.run(
        [
            schemathesis,
            "--config-file",
            str(config),
            "run",
            f"{base_url}/schema/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "30",
            "--max-time",
            str(FUZZ_SECONDS),
            "--workers",
            "2",
            "--generation-allow-x00",
            "true",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            str(REQUEST_TIMEOUT_SECONDS),
            "--seed",
            "20261122",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )


def _what_failed(output: str) -> str:
    """Schemathesis's FAILURES or ERRORS sections (each failing operation, its response and a curl line to reproduce
    it), without the long list of warnings that follows them; the end of the output when it printed neither."""
    found = [output.find(f"= {heading} =") for heading in ("FAILURES", "ERRORS")]
    start = min((at for at in found if at >= 0), default=-1)
    if start < 0:
        return output[-3000:]
    end = min((at for at in (output.find("= WARNINGS =", start), output.find("= SUMMARY =", start)) if at >= 0), default=len(output))
    return output[start:end][:6000]


def _server_errors(log: str) -> str:
    """What the server logged of its errors: its ERROR lines (a 503 for an unreachable database is one, with no
    traceback), and its last traceback whole."""
    errors = [line for line in log.splitlines() if "ERROR" in line][:20]
    start = log.rfind("Traceback")
    traceback = "" if start < 0 else log[max(0, start - 300) :][:4000]
    return "\nserver log:\n" + "\n".join(errors) + "\n" + traceback
