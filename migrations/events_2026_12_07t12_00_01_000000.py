from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-07T12:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Events cancelled before event.cancelled_at existed: cancelled when their first audit entry of it says"

# A migration of its own: Piccolo runs a migration's raw statements before its column changes.
BACKFILL = """
UPDATE event SET cancelled_at = (
  SELECT MIN(audit_entry.at) FROM audit_entry WHERE audit_entry.event = event.id AND audit_entry.action = 'event.cancelled'
) WHERE status = 'cancelled' AND cancelled_at IS NULL
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def backfill():
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(BACKFILL)

    manager.add_raw(backfill)
    return manager
