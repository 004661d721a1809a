from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.indexes import IndexMethod
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


ID = "2026-12-05T14:27:48:115822"
VERSION = "1.38.0"
DESCRIPTION = "Who made a door pairing code, so taking them off the team switches off the phones they paired"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="events", description=DESCRIPTION
    )

    async def run_backwards():
        # SQLite cannot drop an indexed column: the index goes first (PostgreSQL drops it with the column).
        engine = engine_finder()
        assert engine is not None
        if isinstance(engine, SQLiteEngine):
            await engine.run_ddl("DROP INDEX IF EXISTS device_pairing_paired_by")

    manager.add_raw_backwards(run_backwards)

    manager.add_column(
        table_class_name="DevicePairing",
        tablename="device_pairing",
        column_name="paired_by",
        db_column_name="paired_by",
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
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
