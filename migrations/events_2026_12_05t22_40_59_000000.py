from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-05T22:40:59:000000"
VERSION = "1.38.0"
DESCRIPTION = "A code is unique within its event, a payout is reversed at most once, and a guest answers a question once per ticket or order"

# SQLite cannot add a UNIQUE column or a table constraint to an existing table, so the uniqueness is an index on
# both engines; its own migration because a migration runs its raw SQL before it adds tables and columns.
INDEXES = {
    "sale_code_event_code": "CREATE UNIQUE INDEX sale_code_event_code ON sale_code (event, code)",
    "payout_reverses": "CREATE UNIQUE INDEX payout_reverses ON payout (reverses)",
    "answer_once": "CREATE UNIQUE INDEX answer_once ON answer (question, order_id, COALESCE(ticket_index, -1))",
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
