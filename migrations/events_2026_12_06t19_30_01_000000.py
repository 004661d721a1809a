import secrets

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-06T19:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Every ticket issued before gets a page secret of its own, unique"

# As events.tickets.secrets made them on this day: 20 characters of orders.codes' secret alphabet (about 99 bits).
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 20
BATCH = 500
INDEX = "CREATE UNIQUE INDEX ticket_page_secret ON ticket (page_secret)"


async def _run(sql: str) -> list:
    engine = engine_finder()
    assert engine is not None
    return await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def give_each_ticket_its_page_secret() -> None:
        # Tickets already issued had one secret for their QR code and their page's address; their page now has its
        # own key, so a link to a ticket page sent before this no longer opens it: the order's page (its link in the
        # confirmation) lists the tickets with their new links. Values are made here, not by the database: neither
        # engine has a random source both share. Only this alphabet's letters and digits and integer ids are written.
        while True:
            rows = await _run(f"SELECT id FROM ticket WHERE page_secret = '' ORDER BY id LIMIT {BATCH}")
            if not rows:
                break
            values = ", ".join(
                f"({int(row['id'])}, '{''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))}')" for row in rows
            )
            await _run(
                f"WITH made (id, page_secret) AS (VALUES {values}) "
                "UPDATE ticket SET page_secret = (SELECT made.page_secret FROM made WHERE made.id = ticket.id) "
                "WHERE id IN (SELECT id FROM made)"
            )
        await _run(INDEX)

    async def drop_index() -> None:
        await _run("DROP INDEX IF EXISTS ticket_page_secret")

    manager.add_raw(give_each_ticket_its_page_secret)
    manager.add_raw_backwards(drop_index)
    return manager
