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


class _Manager(MigrationManager):
    """SQLite has no DROP CONSTRAINT: there the next migration rebuilds the scan table without the nonce's
    unique constraint instead."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        if not isinstance(engine_finder(), SQLiteEngine):
            await super()._run_alter_columns(backwards=backwards)


async def forwards():
    manager = _Manager(
        migration_id=ID, app_name="events", description=DESCRIPTION
    )

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

    return manager
