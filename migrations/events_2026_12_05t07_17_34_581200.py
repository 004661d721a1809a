from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-05T07:17:34:581200"
VERSION = "1.38.0"
DESCRIPTION = "A scan's nonce is unique per event, scanner and device (scan_nonce_key), not across every door"

KEY = "CREATE UNIQUE INDEX IF NOT EXISTS scan_nonce_key ON scan (nonce, event, scanner, device)"
BACKWARDS = "DROP INDEX IF EXISTS scan_nonce_key"
SHARED = "SELECT nonce FROM scan GROUP BY nonce HAVING COUNT(*) > 1 LIMIT 1"
POSTGRES = [KEY]  # the column's own unique constraint went in the previous migration
# SQLite cannot drop a column's UNIQUE: the table is rebuilt without it (nothing references scan).
COLUMNS = "id, nonce, event, ticket, direction, status, reason, device, scanned_by, scanned_at, received_at, offline, conflict, detail, scanner"
SQLITE = [
    """
    CREATE TABLE scan_rebuilt (
      "id" INTEGER PRIMARY KEY NOT NULL,
      "nonce" VARCHAR(80) NOT NULL DEFAULT '',
      "event" INTEGER REFERENCES "event" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
      "ticket" INTEGER REFERENCES "ticket" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null,
      "direction" VARCHAR(4) NOT NULL DEFAULT 'in',
      "status" VARCHAR(8) NOT NULL DEFAULT 'pending',
      "reason" VARCHAR(24) DEFAULT null,
      "device" VARCHAR(120) NOT NULL DEFAULT '',
      "scanned_by" VARCHAR(120) NOT NULL DEFAULT '',
      "scanned_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
      "received_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
      "offline" BOOLEAN NOT NULL DEFAULT false,
      "conflict" BOOLEAN NOT NULL DEFAULT false,
      "detail" TEXT NOT NULL DEFAULT '',
      "scanner" INTEGER REFERENCES "app_user" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null
    )
    """,
    f"INSERT INTO scan_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM scan",
    "DROP TABLE scan",
    "ALTER TABLE scan_rebuilt RENAME TO scan",
    'CREATE INDEX IF NOT EXISTS scan_event ON "scan" ("event")',
    'CREATE INDEX IF NOT EXISTS scan_ticket ON "scan" ("ticket")',
    KEY,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        for statement in SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES:
            await engine.run_ddl(statement)

    async def run_backwards():
        """Only the key goes: on SQLite it must, before the previous migration's backwards step can rebuild the
        table without `scanner`; the nonce's own unique constraint comes back there too. Once two scans share a
        nonce that step must refuse, so this one refuses first: the key stays rather than half the way back."""
        engine = engine_finder()
        assert engine is not None
        if await engine.run_ddl(SHARED):
            raise RuntimeError(
                "Cannot migrate scans backwards past 2026-12-05T07:17:34: some scans share a nonce, which the schema "
                "before 2026-12-05T07:17:04 (nonce unique on its own) cannot hold. These migrations are irreversible "
                "on this database."
            )
        await engine.run_ddl(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
