from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-05T17:41:24:000000"
VERSION = "1.38.0"
DESCRIPTION = "Once-only keys: a message that must go once is queued once, and a refund request replayed with its Idempotency-Key refunds nothing more"

# SQLite cannot add a UNIQUE column, so the uniqueness is an index on both engines. They are their own migration
# because a migration runs its raw SQL before it adds columns.
INDEXES = {
    "outbox_message_dedupe_key": "CREATE UNIQUE INDEX outbox_message_dedupe_key ON outbox_message (dedupe_key)",
    "refund_request_key": "CREATE UNIQUE INDEX refund_request_key ON refund (order_id, request_key)",
}


async def _run(ddl: str) -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(ddl)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def create_indexes() -> None:
        for ddl in INDEXES.values():
            await _run(ddl)

    async def drop_indexes() -> None:
        for name in INDEXES:
            await _run(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
