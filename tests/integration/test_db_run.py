"""events.db.run: one hand-written statement with Piccolo's {} placeholders, the same on SQLite and PostgreSQL,
outside a transaction and inside one (where it sees the transaction's own uncommitted writes)."""

import httpx
import pytest

from events import db
from events.catalogue.tables import Partner
from events.organisations import service as organisations


async def test_a_statement_runs_with_its_arguments_in_order_on_either_engine(client: httpx.AsyncClient) -> None:
    organisation = (await organisations.resolve(None)).id
    await Partner(organisation=organisation, slug="alpha", name="Alpha").save()
    await Partner(organisation=organisation, slug="beta", name="Beta").save()
    rows = await db.run("SELECT slug, name FROM partner WHERE slug = {} OR name = {} ORDER BY slug", "beta", "Alpha")
    assert [(row["slug"], row["name"]) for row in rows] == [("alpha", "Alpha"), ("beta", "Beta")]
    assert await db.run("SELECT slug FROM partner WHERE slug = {}", "gamma") == []


async def test_inside_a_transaction_it_sees_and_rolls_back_with_the_transaction(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    organisation = (await organisations.resolve(None)).id

    async def insert_then_fail() -> None:
        async with db.write_transaction():
            await db.run(
                "INSERT INTO partner (organisation, slug, name, description, website, created_at) VALUES ({}, {}, {}, '', '', CURRENT_TIMESTAMP)",
                organisation,
                "gone",
                "Gone",
            )
            [row] = await db.run("SELECT name FROM partner WHERE slug = {}", "gone")
            seen.append(row["name"])
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        await insert_then_fail()
    assert seen == ["Gone"]
    assert await db.run("SELECT slug FROM partner WHERE slug = {}", "gone") == []
