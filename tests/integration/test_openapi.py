"""The API contract: a valid OpenAPI document, and no input that makes the server fail (schemathesis)."""

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import live_server, run_cli, server_environment


async def test_the_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("/api/events", "/api/events/{slug}", "/api/partners"):
        assert path in paths
    assert "post" in paths["/api/events"] and "patch" in paths["/api/events/{slug}"]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "/login" not in paths  # pages are not part of the API


def test_no_generated_input_makes_the_server_fail(tmp_path: Path) -> None:
    """A short schemathesis run against a real server, signed in as an organiser."""
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        pytest.fail("schemathesis is a dev dependency and should be installed")
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    run_cli(env, "migrate")
    run_cli(env, "demo")
    run_cli(env, "user", "create", "fuzz@example.org", "--role", "organiser")
    token = run_cli(env, "token", "create", "fuzz@example.org").strip()
    with live_server(env) as base_url:
        result = subprocess.run(
            [
                schemathesis, "run", f"{base_url}/schema/openapi.json",
                "--checks", "not_a_server_error",
                "--max-examples", "30",
                "--header", f"Authorization: Bearer {token}",
                "--seed", "20261122",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
