"""The `events` command as an operator uses it, in a real subprocess."""

import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from tests.support import databases
from tests.support.server import demo_environment, live_server, run_cli, server_environment


def _fails(env: dict[str, str], *args: str) -> str:
    """The one clear line on standard error of a command that must fail (exit status 1, no traceback)."""
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


def test_users_tokens_and_demo_from_the_command_line(tmp_path: Path) -> None:
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    assert "up to date" in run_cli(env, "migrate")
    first = run_cli(env, "demo")
    assert "event august-supper-club" in first and "event choose-love-night" in first
    assert "organiser@example.org" in first
    assert "nothing new to add" in run_cli(env, "demo")  # idempotent

    # The demo runs two organisations: a user belongs to one, which must be named.
    assert (
        _fails(env, "user", "create", "volunteer@example.org", "--role", "organiser")
        == "There is more than one organisation: name one with --org SLUG."
    )
    created = run_cli(
        env,
        "user",
        "create",
        "volunteer@example.org",
        "--role",
        "organiser",
        "--org",
        "refugee-welcome",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert created.strip() == "Created organiser volunteer@example.org in refugee-welcome."
    token = run_cli(env, "token", "create", "volunteer@example.org").strip()
    assert token.startswith("evt_") and len(token) > 40

    laptop = run_cli(
        env, "token", "create", "volunteer@example.org", "--org", "refugee-welcome", "--label", "Volunteer's laptop", "--expires-in-days", "30"
    ).strip()
    assert laptop.startswith("evt_") and laptop != token
    assert "not on that organisation's team" in _fails(env, "token", "create", "volunteer@example.org", "--org", "open-kitchen")

    with live_server(env) as base_url:
        events = httpx.get(f"{base_url}/api/events").json()
        assert {"august-supper-club", "choose-love-night"} <= {e["slug"] for e in events}
        created_partner = httpx.post(f"{base_url}/api/partners", json={"name": "Drop-in Centre"}, headers={"Authorization": f"Bearer {token}"})
        assert created_partner.status_code == 201
        # The labelled token works, and ends on its own in 30 days; its creator is the command line.
        headers = {"Authorization": f"Bearer {laptop}"}
        [volunteer] = [person for person in httpx.get(f"{base_url}/api/users", headers=headers).json() if person["email"] == "volunteer@example.org"]
        tokens = httpx.get(f"{base_url}/api/users/{volunteer['id']}/tokens", headers=headers).json()
        [labelled] = [t for t in tokens if t["label"] == "Volunteer's laptop"]
        expires_in = datetime.fromisoformat(labelled["expires_at"]) - datetime.now(timezone.utc)
        assert timedelta(days=29) < expires_in <= timedelta(days=30) and labelled["created_by"] == "" and labelled["state"] == "active"


def test_organisations_and_door_teams_from_the_command_line(tmp_path: Path) -> None:
    import sqlite3

    env = demo_environment(tmp_path)
    created = run_cli(env, "org", "create", "choir", "--name", "Refugee Choir", "--contact-email", "Hello@Choir.Example")
    assert created.strip() == "Created organisation choir (Refugee Choir)."
    assert _fails(env, "org", "create", "choir", "--name", "Again") == "An organisation with the slug 'choir' already exists."
    assert "Use lower-case letters" in _fails(env, "org", "create", "Not A Slug", "--name", "X")
    listed = run_cli(env, "org", "list").splitlines()
    assert "choir\tRefugee Choir\t0 members\t0 events\tactive" in listed
    assert any(line.startswith("refugee-welcome\t") and "3 events" in line for line in listed)

    run_cli(env, "user", "create", "conductor@choir.example", "--role", "owner", "--org", "choir", "--name", "Nour", "--platform-admin")
    assert "has no partner project" in _fails(
        env, "user", "create", "v@choir.example", "--role", "partner_viewer", "--org", "choir", "--partner", "welcome-kitchen"
    )
    run_cli(env, "user", "create", "viewer@example.org", "--role", "partner_viewer", "--org", "refugee-welcome", "--partner", "welcome-kitchen")
    with sqlite3.connect(tmp_path / "events.sqlite3") as connection:
        assert connection.execute("SELECT is_platform_admin FROM app_user WHERE email = 'conductor@choir.example'").fetchone() == (1,)
        assert connection.execute("SELECT contact_email FROM organisation WHERE slug = 'choir'").fetchone() == ("hello@choir.example",)

    # The door team: only a door member of the event's organisation can join it.
    run_cli(env, "user", "create", "steward@example.org", "--role", "door", "--org", "refugee-welcome")
    assert run_cli(env, "door", "add", "steward@example.org", "--event", "august-supper-club").startswith("steward@example.org is on the door team")
    refused = _fails(env, "door", "add", "conductor@choir.example", "--event", "august-supper-club")
    assert refused == "conductor@choir.example is not a door member of refugee-welcome: invite them with the door role first."
    assert _fails(env, "door", "add", "steward@example.org", "--event", "nope") == "No event with the slug nope."
    assert run_cli(env, "door", "remove", "steward@example.org", "--event", "august-supper-club").startswith("steward@example.org is off")
    assert _fails(env, "door", "remove", "steward@example.org", "--event", "august-supper-club") == "That person is not on this event's door team."

    # Suspending hides the organisation's events; unsuspending brings them back.
    assert run_cli(env, "org", "suspend", "open-kitchen").strip() == "open-kitchen is suspended."
    assert any(line.startswith("open-kitchen\t") and line.endswith("\tsuspended") for line in run_cli(env, "org", "list").splitlines())
    with live_server(env) as base_url:
        assert "open-kitchen-sunday-lunch" not in {e["slug"] for e in httpx.get(f"{base_url}/api/events").json()}
        assert httpx.get(f"{base_url}/events/open-kitchen-sunday-lunch").status_code == 404
    assert run_cli(env, "org", "unsuspend", "open-kitchen").strip() == "open-kitchen is active."
    assert _fails(env, "org", "suspend", "nope") == "No organisation with the slug 'nope'."


def test_a_bad_setting_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path, EVENTS_HOLD_MINUTES="soon")
    result = subprocess.run([sys.executable, "-m", "events", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "Configuration error: EVENTS_HOLD_MINUTES must be a whole number, not 'soon'."


def test_serve_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    result = subprocess.run([sys.executable, "-m", "events", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "run `events migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_creating_a_user_twice_is_a_clear_error(tmp_path: Path) -> None:
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    run_cli(env, "migrate")
    run_cli(env, "user", "create", "a@example.org", "--role", "door")
    result = subprocess.run(
        [sys.executable, "-m", "events", "user", "create", "a@example.org", "--role", "door"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "A user with the email a@example.org already exists."


def test_rotating_a_signing_key_keeps_old_tickets_valid(tmp_path: Path) -> None:
    import sqlite3

    env = demo_environment(tmp_path)
    first = run_cli(env, "keys", "rotate", "august-supper-club")
    second = run_cli(env, "keys", "rotate", "august-supper-club")
    assert first.startswith("New signing key") and first != second

    with sqlite3.connect(tmp_path / "events.sqlite3") as connection:
        keys = connection.execute(
            "SELECT k.retired_at IS NULL FROM event_signing_key k JOIN event e ON e.id = k.event WHERE e.slug = 'august-supper-club' ORDER BY k.id"
        ).fetchall()
    # The key made as the demo's sales were issued, and each rotation's: all kept for verifying; only the newest signs.
    assert keys == [(0,), (0,), (1,)]
    missing = subprocess.run(
        [sys.executable, "-m", "events", "keys", "rotate", "nope"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 1 and "No event with the slug nope." in missing.stderr


def test_serve_keeps_an_idle_connection_open_longer_than_a_load_balancer_does(tmp_path: Path) -> None:
    """A balancer (HAProxy) reuses its idle connections to `events serve` and closes them within seconds; were the
    server to close one first (uvicorn's own keep-alive is 5 s), a request the balancer sent down it just then would be
    lost. Six seconds idle, the connection still takes the next request."""
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    run_cli(env, "migrate")
    with live_server(env) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            responses = connection.makefile("rb")
            for request in range(2):
                if request:
                    time.sleep(6)
                connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                assert responses.readline().startswith(b"HTTP/1.1 200"), f"request {request + 1} on the same connection"
                length = 0
                while (line := responses.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                responses.read(length)
