from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-05T07:19:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index on orders' lower(buyer_email): what an email address holds, read with every hold batch"

# PostgreSQL only: the hold limit looks each address up there with lower() on both sides (orders.hold_guard);
# SQLite, one writer at a time on small databases, reads the event's pending orders instead.
POSTGRES = ["CREATE INDEX IF NOT EXISTS ticket_order_buyer_email_lower_idx ON ticket_order (lower(buyer_email))"]

BACKWARDS = "DROP INDEX IF EXISTS ticket_order_buyer_email_lower_idx"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        if not isinstance(engine, SQLiteEngine):
            for statement in POSTGRES:
                await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        assert engine is not None
        if not isinstance(engine, SQLiteEngine):
            await engine.run_ddl(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
