"""The `events` command as an operator uses it, in a real subprocess."""

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from tests.support import databases
from tests.support.server import live_server, run_cli, server_environment


def test_users_tokens_and_demo_from_the_command_line(tmp_path: Path) -> None:
    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    assert "up to date" in run_cli(env, "migrate")
    first = run_cli(env, "demo")
    assert "event august-supper-club" in first and "event choose-love-night" in first
    assert "organiser@example.org" in first
    assert "nothing new to add" in run_cli(env, "demo")  # idempotent

    run_cli(env, "user", "create", "treasurer@example.org", "--role", "organiser", "--password-stdin", stdin="a long password\n")
    token = run_cli(env, "token", "create", "treasurer@example.org").strip()
    assert token.startswith("evt_") and len(token) > 40

    laptop = run_cli(env, "token", "create", "treasurer@example.org", "--label", "Treasurer's laptop", "--expires-in-days", "30").strip()
    assert laptop.startswith("evt_") and laptop != token

    with live_server(env) as base_url:
        events = httpx.get(f"{base_url}/api/events").json()
        assert {e["slug"] for e in events} == {"august-supper-club", "choose-love-night"}
        created = httpx.post(f"{base_url}/api/partners", json={"name": "Drop-in Centre"}, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201
        # The labelled token works, and ends on its own in 30 days; its creator is the command line.
        headers = {"Authorization": f"Bearer {laptop}"}
        [treasurer] = [person for person in httpx.get(f"{base_url}/api/users", headers=headers).json() if person["email"] == "treasurer@example.org"]
        tokens = httpx.get(f"{base_url}/api/users/{treasurer['id']}/tokens", headers=headers).json()
        [labelled] = [t for t in tokens if t["label"] == "Treasurer's laptop"]
        expires_in = datetime.fromisoformat(labelled["expires_at"]) - datetime.now(timezone.utc)
        assert timedelta(days=29) < expires_in <= timedelta(days=30) and labelled["created_by"] == "" and labelled["state"] == "active"


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

    env = server_environment(databases.sqlite_url(tmp_path), tmp_path)
    run_cli(env, "migrate")
    run_cli(env, "demo")
    first = run_cli(env, "keys", "rotate", "august-supper-club")
    second = run_cli(env, "keys", "rotate", "august-supper-club")
    assert first.startswith("New signing key") and first != second

    with sqlite3.connect(tmp_path / "events.sqlite3") as connection:
        keys = connection.execute("SELECT retired_at IS NULL FROM event_signing_key ORDER BY id").fetchall()
    assert keys == [(0,), (1,)]  # both kept for verifying; only the newest signs
    missing = subprocess.run(
        [sys.executable, "-m", "events", "keys", "rotate", "nope"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 1 and "No event with the slug nope." in missing.stderr
