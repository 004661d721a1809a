from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table


class User(Table, tablename="app_user", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-12-05T07:17:04:088428"
VERSION = "1.38.0"
DESCRIPTION = "Door scans record the account that scanned; a nonce is no longer unique on its own"


# Backwards, SQLite: the table is rebuilt as it was before (no scanner, nonce unique on its own), since SQLite can
# neither drop a foreign-key column in place nor add a UNIQUE to one.
COLUMNS = "id, nonce, event, ticket, direction, status, reason, device, scanned_by, scanned_at, received_at, offline, conflict, detail"
SQLITE_BACKWARDS = [
    """
    CREATE TABLE scan_rebuilt (
      "id" INTEGER PRIMARY KEY NOT NULL,
      "nonce" VARCHAR(80) UNIQUE NOT NULL DEFAULT '',
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
      "detail" TEXT NOT NULL DEFAULT ''
    )
    """,
    f"INSERT INTO scan_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM scan",
    "DROP TABLE scan",
    "ALTER TABLE scan_rebuilt RENAME TO scan",
    'CREATE INDEX IF NOT EXISTS scan_event ON "scan" ("event")',
    'CREATE INDEX IF NOT EXISTS scan_ticket ON "scan" ("ticket")',
]


class _Manager(MigrationManager):
    """SQLite has no DROP CONSTRAINT: there the next migration rebuilds the scan table without the nonce's
    unique constraint instead, and going backwards this one rebuilds it as it was (`_backwards`)."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        if not isinstance(engine_finder(), SQLiteEngine):
            await super()._run_alter_columns(backwards=backwards)

    async def _run_add_columns(self, backwards: bool = False) -> None:
        if not (backwards and isinstance(engine_finder(), SQLiteEngine)):
            await super()._run_add_columns(backwards=backwards)


async def _backwards() -> None:
    """Irreversible once two scans share a nonce (two devices, or two scanners, reused one): the old
    UNIQUE(nonce) cannot hold them, and dropping either scan would lose a door record. Refuse, saying so, and
    change nothing (the migration runs in one transaction)."""
    engine = engine_finder()
    assert engine is not None
    shared = await engine.run_ddl("SELECT nonce FROM scan GROUP BY nonce HAVING COUNT(*) > 1 LIMIT 1")
    if shared:
        raise RuntimeError(
            "Cannot migrate scans backwards past 2026-12-05T07:17:04: some scans share a nonce, which the old "
            "schema (nonce unique on its own) cannot hold. This migration is irreversible on this database."
        )
    if isinstance(engine, SQLiteEngine):
        for statement in SQLITE_BACKWARDS:
            await engine.run_ddl(statement)


async def forwards():
    manager = _Manager(migration_id=ID, app_name="events", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Scan",
        tablename="scan",
        column_name="scanner",
        db_column_name="scanner",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": User,
            "on_delete": OnDelete.set_null,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Scan",
        tablename="scan",
        column_name="nonce",
        db_column_name="nonce",
        params={"unique": False},
        old_params={"unique": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.add_raw_backwards(_backwards)
    return manager
