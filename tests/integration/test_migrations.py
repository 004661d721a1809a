"""Today's migrations go backwards and forwards again, through Piccolo's runner, on SQLite and PostgreSQL: the
scan table's per-device nonce key and the buyer-email index come back, and a database where two devices reused
a nonce refuses to go back (the old schema cannot hold it) without changing anything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import databases

FIRST_OF_TODAY = "2026-12-05T07:17:04:088428"

STEP = """
import asyncio, json, sys
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

async def main(action, argument):
    engine = engine_finder()
    if action == "forwards":
        result = await run_forwards(app_name="events", migration_id=argument)
        sys.exit(0 if result.success else f"forwards failed: {result.message}")
    if action == "backwards":
        result = await run_backwards(app_name="events", migration_id=argument, auto_agree=True)
        sys.exit(0 if result.success else f"backwards failed: {result.message}")
    if action == "sql":
        await engine.run_ddl(argument)
        return
    if isinstance(engine, SQLiteEngine):
        indexes = [row["name"] for row in await engine.run_ddl("SELECT name FROM sqlite_master WHERE type = 'index'")]
        columns = [row["name"] for row in await engine.run_ddl("SELECT name FROM pragma_table_info('scan')")]
    else:
        indexes = [row["indexname"] for row in await engine.run_ddl("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")]
        columns = [row["column_name"] for row in await engine.run_ddl(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'scan'")]
    print(json.dumps({"indexes": sorted(indexes), "scan_columns": sorted(columns)}))

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own: the session's shared one must not be migrated backwards under other tests."""
    if backend == "sqlite":
        yield databases.sqlite_url(tmp_path)
        return
    url = asyncio.run(databases.create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_postgres_database(url))


def step(url: str, action: str, argument: str = "") -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "DATABASE_"))}
    env.update({"DATABASE_URL": url, "PICCOLO_CONF": "events.piccolo_conf", "PYTHONPATH": os.pathsep.join(sys.path)})
    return subprocess.run([sys.executable, "-c", STEP, action, argument], env=env, capture_output=True, text=True, timeout=120, check=False)


def migrate(url: str, action: str, argument: str) -> None:
    result = step(url, action, argument)
    assert result.returncode == 0, result.stdout + result.stderr


def schema(url: str) -> dict[str, list[str]]:
    result = step(url, "schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_todays_migrations_go_backwards_and_forwards_again(backend: str, fresh_database: str) -> None:
    migrate(fresh_database, "forwards", "all")
    latest = schema(fresh_database)
    assert "scan_nonce_key" in latest["indexes"] and "scanner" in latest["scan_columns"]
    if backend == "postgres":
        assert "ticket_order_buyer_email_lower_idx" in latest["indexes"]

    # The accounts' tables (sign-ins, password resets, account emails) come and go with their indexes.
    account_indexes = {"sign_in_key_hash", "password_reset_token_hash", "account_message_status"}
    assert account_indexes <= set(latest["indexes"])

    migrate(fresh_database, "backwards", FIRST_OF_TODAY)
    before = schema(fresh_database)
    assert "scanner" not in before["scan_columns"] and "ticket_order_buyer_email_lower_idx" not in before["indexes"]
    assert not account_indexes & set(before["indexes"])
    # The nonce is unique on its own again: on PostgreSQL its constraint's index has the name the key took.
    assert ("scan_nonce_key" in before["indexes"]) == (backend == "postgres")
    if backend == "sqlite":
        assert any(name.startswith("sqlite_autoindex_scan") for name in before["indexes"])

    migrate(fresh_database, "forwards", "all")
    assert schema(fresh_database) == latest
    migrate(fresh_database, "forwards", "all")  # nothing left to do: a re-run is harmless
    assert schema(fresh_database) == latest


def test_going_back_is_refused_once_two_devices_reused_a_nonce(fresh_database: str) -> None:
    migrate(fresh_database, "forwards", "all")
    latest = schema(fresh_database)
    for device in ("front door", "side door"):
        migrate(fresh_database, "sql", f"INSERT INTO scan (nonce, device) VALUES ('n-1', '{device}')")
    refused = step(fresh_database, "backwards", FIRST_OF_TODAY)
    assert "irreversible" in refused.stdout + refused.stderr
    after = schema(fresh_database)  # the key and the scanner column are still there
    assert "scan_nonce_key" in after["indexes"] and after["scan_columns"] == latest["scan_columns"]


# --- organisations: the migration that moved everything into one organisation, on a database with data --------

BEFORE_ORGANISATIONS = "2026-12-05T11:21:53:507802"  # the last migration before organisations
SEED = """
import asyncio, sys
from datetime import datetime, timedelta, timezone
from events import db
from events.config import load_settings
from events.accounts import service as accounts
from events.catalogue.tables import Event, TicketType
from events.demo import seed_demo
from events.door_sales.service import sell_at_door
from events.orders import claims
from events.tickets.issuing import issue_and_confirm

async def main(orders):
    async with db.bound(load_settings().database_url):
        now = datetime.now(timezone.utc)
        await seed_demo(now, with_demo_login=True)
        await accounts.create_api_token("door@example.org", label="Door 1 phone", now=now)
        door_type = await TicketType.select(TicketType.id).where(TicketType.name == "On the door").first()
        for number in range(int(orders)):
            if number % 15 == 0:  # the supper club keeps 20 free places
                await claims.give_free_place("august-supper-club", name=f"Guest {number}", email=f"guest{number}@example.org",
                                             issue=issue_and_confirm, now=now + timedelta(seconds=number))
            else:
                await sell_at_door("choose-love-night", [(door_type["id"], 1)], payment_method="cash", buyer_name=f"Buyer {number}",
                                   buyer_email=f"buyer{number}@example.org", seller="door@example.org", now=now + timedelta(seconds=number))

asyncio.run(main(*sys.argv[1:]))
"""
COUNT = """
import asyncio, json
from events import db
from events.config import load_settings

TABLES = ["event", "partner", "ticket_type", "beneficiary_share", "app_user", "api_token", "ticket_order", "order_line", "ticket",
          "payment", "ledger_entry", "audit_entry", "claim_code", "door_assignment"]

async def main():
    async with db.bound(load_settings().database_url):
        engine = db.engine()
        counts = {table: (await engine.run_ddl(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"] for table in TABLES}
        pence = (await engine.run_ddl("SELECT COALESCE(SUM(amount_pence), 0) AS p FROM ledger_entry"))[0]["p"]
        organisations = await engine.run_ddl("SELECT id, slug FROM organisation") if await _has(engine, "organisation") else []
        unowned = {table: (await engine.run_ddl(f"SELECT COUNT(*) AS n FROM {table} WHERE organisation IS NULL"))[0]["n"]
                   for table in ("event", "partner", "api_token", "audit_entry")} if organisations else {}
        roles = await engine.run_ddl(
            'SELECT u.email, m.role, u.is_platform_admin FROM membership m JOIN app_user u ON u.id = m."user" ORDER BY u.email'
        ) if organisations else []
        print(json.dumps({"counts": counts, "pence": int(pence), "organisations": [row["slug"] for row in organisations],
                          "unowned": unowned, "roles": [[row["email"], row["role"], bool(row["is_platform_admin"])] for row in roles]}))

async def _has(engine, table):
    try:
        await engine.run_ddl(f"SELECT 1 FROM {table} LIMIT 1")
        return True
    except Exception:
        return False

asyncio.run(main())
"""


def python(url: str, script: str, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "DATABASE_"))}
    env.update(
        {"DATABASE_URL": url, "PICCOLO_CONF": "events.piccolo_conf", "PYTHONPATH": os.pathsep.join(sys.path), "EVENTS_RUN_WORKER_IN_PROCESS": "false"}
    )
    result = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def test_existing_data_moves_into_one_organisation_with_nothing_lost(backend: str, fresh_database: str) -> None:
    """A database of today's schema with the demo and 240 orders (free places and door sales, with their
    tickets, payments, ledger entries and audit entries) is taken back to the schema before organisations, where
    people have a role of their own, and migrated forwards again: every row is still there, every event, partner,
    token and audit entry belongs to the one organisation, and each person's role became their membership (an
    admin: owner and platform admin)."""
    migrate(fresh_database, "forwards", "all")
    python(fresh_database, SEED, "240")
    seeded = json.loads(python(fresh_database, COUNT))
    assert seeded["counts"]["ticket_order"] == 240 and seeded["counts"]["ticket"] >= 240

    migrate(fresh_database, "backwards", BEFORE_ORGANISATIONS)
    old = json.loads(python(fresh_database, COUNT))
    assert old["organisations"] == [] and old["counts"] == seeded["counts"] and old["pence"] == seeded["pence"]
    # In the old schema each person has one role: the demo's owners were admins then.
    migrate(fresh_database, "sql", "UPDATE app_user SET role = 'organiser' WHERE email = 'kitchen@example.org'")

    migrate(fresh_database, "forwards", "all")
    moved = json.loads(python(fresh_database, COUNT))
    assert moved["counts"] == seeded["counts"] and moved["pence"] == seeded["pence"]
    assert moved["organisations"] == ["main"]
    assert moved["unowned"] == {"event": 0, "partner": 0, "api_token": 0, "audit_entry": 0}
    assert moved["roles"] == [
        ["door@example.org", "door", False],
        ["kitchen@example.org", "organiser", False],
        ["organiser@example.org", "owner", True],
        ["treasurer@example.org", "treasurer", False],
    ]


# --- refunds' parts: refunds made before each refund recorded what it gave back of each part ---------------------

FIRST_WITH_REFUND_PARTS = "2026-12-06T21:45:00:000000"
REFUND_PARTS = """
import asyncio, json
from events import db
from events.config import load_settings

async def main():
    async with db.bound(load_settings().database_url):
        rows = await db.engine().run_ddl(
            "SELECT id, amount_pence, tickets_pence, booking_fees_pence, contributions_pence, donations_pence FROM refund ORDER BY id")
        print(json.dumps({str(row["id"]): [row[name] for name in ("amount_pence", "tickets_pence", "booking_fees_pence",
                          "contributions_pence", "donations_pence")] for row in rows}))

asyncio.run(main())
"""


def test_refunds_made_before_keep_the_parts_the_ledger_booked_them_with(fresh_database: str) -> None:
    """Before refunds recorded their parts, the ledger split each over the order's parts in proportion. Going
    forwards, a booked refund takes the parts its ledger entries show (so the ledger and the refund agree), and one
    not booked yet (pending) the split the ledger would have made; every refund's parts add up to it."""
    migrate(fresh_database, "forwards", "all")
    python(fresh_database, SEED, "2")  # two £9 door sales, paid in cash
    migrate(fresh_database, "backwards", FIRST_WITH_REFUND_PARTS)
    order = "(SELECT MIN(id) FROM ticket_order WHERE total_pence > 0)"
    for sql in (
        # The first sale had a £3 donation too: £9 of ticket income and £3 of donation.
        f"UPDATE ticket_order SET donation_pence = 300, total_pence = tickets_pence + booking_fees_pence + 300 WHERE id = {order}",
        f"UPDATE payment SET amount_pence = amount_pence + 300 WHERE order_id = {order}",
        # £6 refunded and booked as £5 : £1 (not the split the ledger would make now, £4.50 : £1.50: what was booked
        # is what the refund keeps), and £4 more asked and not confirmed yet, split as the ledger would have.
        *(
            f"INSERT INTO refund (id, order_id, payment, amount_pence, method, status, created_at) "
            f"SELECT {refund_id}, o.id, p.id, {pence}, 'cash', '{status}', CURRENT_TIMESTAMP "
            f"FROM ticket_order o JOIN payment p ON p.order_id = o.id WHERE o.id = {order}"
            for refund_id, pence, status in ((9001, 600, "succeeded"), (9002, 400, "pending"))
        ),
        *(
            "INSERT INTO ledger_entry (event, kind, component, method, amount_pence, currency, source, occurred_at, created_at, description) "
            f"SELECT o.event, 'refund', '{component}', 'cash', {pence}, 'GBP', 'refund:9001:{component}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '' "
            f"FROM ticket_order o WHERE o.id = {order}"
            for component, pence in (("tickets", -500), ("donations", -100))
        ),
    ):
        migrate(fresh_database, "sql", sql)

    migrate(fresh_database, "forwards", "all")
    parts = json.loads(python(fresh_database, REFUND_PARTS))
    assert parts == {"9001": [600, 500, 0, 0, 100], "9002": [400, 300, 0, 0, 100]}


# --- a cancellation's time: events cancelled before it was kept ---------------------------------------------------

WITH_CANCELLED_AT = "2026-12-07T12:00:00:000000"
CANCELLED_AT = """
import asyncio, json
from events import db
from events.config import load_settings

async def main():
    async with db.bound(load_settings().database_url):
        rows = await db.engine().run_ddl("SELECT slug, cancelled_at, cancellation_message FROM event ORDER BY slug")
        print(json.dumps({row["slug"]: [str(row["cancelled_at"])[:16] if row["cancelled_at"] else None, row["cancellation_message"]] for row in rows}))

asyncio.run(main())
"""


def test_events_cancelled_before_keep_the_time_their_audit_log_gives(backend: str, fresh_database: str) -> None:
    """An event cancelled before the cancellation's time was kept on it takes the time of its first audit entry of
    the cancellation (its refunds are counted from then); an event not cancelled has none."""
    migrate(fresh_database, "forwards", "all")
    migrate(fresh_database, "backwards", WITH_CANCELLED_AT)
    for sql in (
        *(
            "INSERT INTO event (id, organisation, slug, title, starts_at, ends_at, capacity, status) "
            f"SELECT {event_id}, MIN(id), '{slug}', 'Supper', '2026-12-20 18:00:00+00', '2026-12-20 22:00:00+00', 10, '{status}' FROM organisation"
            for event_id, slug, status in ((1, "called-off", "cancelled"), (2, "going-ahead", "on_sale"))
        ),
        *(
            f"INSERT INTO audit_entry (at, action, event, organisation) SELECT '{at}', '{action}', 1, MIN(id) FROM organisation"
            for at, action in (
                ("2026-12-01 09:00:00+00", "event.published"),
                ("2026-12-03 10:30:00+00", "event.cancelled"),
                ("2026-12-03 11:00:00+00", "event.cancelled"),
            )
        ),
    ):
        migrate(fresh_database, "sql", sql)
    migrate(fresh_database, "forwards", "all")
    assert json.loads(python(fresh_database, CANCELLED_AT)) == {"called-off": ["2026-12-03 10:30", ""], "going-ahead": [None, ""]}
