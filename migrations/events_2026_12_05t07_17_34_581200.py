from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-05T07:17:34:581200"
VERSION = "1.38.0"
DESCRIPTION = "A scan's nonce is unique per event, scanner and device (scan_nonce_key), not across every door"

KEY = "CREATE UNIQUE INDEX scan_nonce_key ON scan (nonce, event, scanner, device)"
POSTGRES = [KEY]  # the column's own unique constraint went in the previous migration
# SQLite cannot drop a column's UNIQUE: the table is rebuilt without it (nothing references scan).
COLUMNS = (
    "id, nonce, event, ticket, direction, status, reason, device, scanned_by, scanned_at, received_at, offline, conflict, "
    "detail, scanner"
)
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
    'CREATE INDEX scan_event ON "scan" ("event")',
    'CREATE INDEX scan_ticket ON "scan" ("ticket")',
    KEY,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        for statement in SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
