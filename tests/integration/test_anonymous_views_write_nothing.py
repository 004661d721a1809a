"""An anonymous guest viewing a page writes nothing to the database: not a session row, not a counter, nothing. On
PostgreSQL a trigger on every table of the test's database notes each row written, inserted or deleted (and each
TRUNCATE) while the guest pages are viewed, by a first-time visitor and by one coming back with the cookies the pages
set; the note stays empty. Signing in, which does write, shows the triggers see what the app writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import httpx
import pytest
from litestar import Litestar

from events.config import Settings
from events.demo import DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD, seed_demo
from events.orders import claims
from events.organisations.tables import Organisation
from events.waitlist.tables import WaitingEntry
from tests.integration.accounts.test_login import sign_in
from tests.support.orders import get_order, pay_with_test_page, place_order

NOTE_WRITES = """
CREATE TABLE page_view_writes (relation text NOT NULL, operation text NOT NULL);
CREATE FUNCTION note_page_view_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO page_view_writes VALUES (TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END $$;
"""


async def tables(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'page_view_writes' ORDER BY tablename"
    )
    return [row["tablename"] for row in rows]


@asynccontextmanager
async def noting_writes(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the database, with every table's writes noted in page_view_writes until the block ends."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(NOTE_WRITES)
        for table in await tables(connection):
            await connection.execute(
                f'CREATE TRIGGER note_page_view_write AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION note_page_view_write()"
            )
            await connection.execute(
                f'CREATE TRIGGER note_page_view_truncate AFTER TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION note_page_view_write()'
            )
        yield connection
    finally:
        for table in await tables(connection):
            await connection.execute(f'DROP TRIGGER IF EXISTS note_page_view_write ON "{table}"')
            await connection.execute(f'DROP TRIGGER IF EXISTS note_page_view_truncate ON "{table}"')
        await connection.execute("DROP TABLE IF EXISTS page_view_writes; DROP FUNCTION IF EXISTS note_page_view_write()")
        await connection.close()


async def guest_pages(client: httpx.AsyncClient, now: datetime) -> list[str]:
    """Every kind of page a guest opens without signing in, with the demo's real objects (an order bought and paid
    here first, through the API and the test payment page, as a guest would)."""
    await seed_demo(now, with_demo_login=True, with_demo_sales=True)
    created = (await place_order(client, "august-supper-club", quantity=2)).json()
    paid = await pay_with_test_page(client, created)
    assert paid.status_code in (200, 303), paid.text
    order = await get_order(client, created)
    unpaid = (await place_order(client, "august-supper-club")).json()
    claim = await claims.create_claim_code("august-supper-club", partner_name="Drop-in centre", places=2, now=now)
    entry = await WaitingEntry.select(WaitingEntry.token).first()
    assert entry is not None
    organisation = await Organisation.select(Organisation.slug).first()
    assert organisation is not None
    token = created["access_token"]
    reference = created["reference"]
    return [
        "/",
        "/?lang=fr",
        "/events/august-supper-club",
        "/events/welcome-cinema-screening",  # sold out, with its waiting list's form
        "/events/choose-love-night",
        f"/organisations/{organisation['slug']}",
        "/series/supper-club",
        f"/orders/{reference}?token={token}",
        f"/orders/{unpaid['reference']}/pay?token={unpaid['access_token']}",  # the payment page of an order on hold
        "/api/events",
        "/api/events/august-supper-club",
        "/login",
        "/forgot-password",
        "/healthz",
        # A right secret is looked up within the guest's budget of wrong ones, which only a wrong one writes to
        # (ratelimit.wrong_tries_limited); a ticket is signed with its event's key, made when it was issued
        # (tickets.keys.make_first_key).
        f"/claim/{claim.code}",
        f"/waiting-list/{entry['token']}",
        order["tickets"][0]["url"],
    ]


async def view(app: Litestar, paths: list[str]) -> dict[str, int]:
    """Each page as a first-time visitor sees it, then again with the cookies the pages set (CSRF, language)."""
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        for path in paths:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as first_time:
                statuses[path] = (await first_time.get(path)).status_code
            await browser.get(path)
            again = await browser.get(path)
            assert again.status_code == statuses[path], path
            assert (await browser.head(path)).status_code == statuses[path], path
    return statuses


async def writes(app: Litestar, notes: asyncpg.Connection, paths: list[str]) -> list[tuple[str, str, int]]:
    """The rows written (by table and operation) while the pages are viewed; every page must answer 200."""
    await notes.execute("DELETE FROM page_view_writes")
    statuses = await view(app, paths)
    assert {path: status for path, status in statuses.items() if status != 200} == {}
    written = await notes.fetch("SELECT relation, operation, count(*) AS rows FROM page_view_writes GROUP BY 1, 2 ORDER BY 1, 2")
    return [(row["relation"], row["operation"], row["rows"]) for row in written]


@pytest.fixture
async def pages(client: httpx.AsyncClient, backend: str, now: datetime) -> list[str]:
    if backend != "postgres":
        pytest.skip("The write triggers are PostgreSQL's")
    return await guest_pages(client, now)


async def test_viewing_the_guest_pages_writes_nothing(app: Litestar, settings: Settings, pages: list[str]) -> None:
    async with noting_writes(settings.database_url) as notes:
        assert await writes(app, notes, pages) == []

        # The triggers do see the app's writes: signing in records a session and a sign-in.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as organiser:
            assert (await sign_in(organiser, DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD)).status_code == 303
        assert "web_session" in {row["relation"] for row in await notes.fetch("SELECT relation FROM page_view_writes")}
