from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-05T16:17:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "A message that must go once is queued once: a unique index on outbox_message.dedupe_key"

# SQLite cannot add a UNIQUE column, so the uniqueness is an index on both engines. It is its own migration
# because a migration runs its raw SQL before it adds columns.
INDEX = "CREATE UNIQUE INDEX outbox_message_dedupe_key ON outbox_message (dedupe_key)"


async def _run(ddl: str) -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(ddl)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def create_index() -> None:
        await _run(INDEX)

    async def drop_index() -> None:
        await _run("DROP INDEX IF EXISTS outbox_message_dedupe_key")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
