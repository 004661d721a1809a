from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A cancellation's time (event.cancelled_at) and the organiser's message to the guests"

PARAMS = {
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Event",
        tablename="event",
        column_name="cancelled_at",
        db_column_name="cancelled_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={"default": None, "null": True, **PARAMS},
        schema=None,
    )
    manager.add_column(
        table_class_name="Event",
        tablename="event",
        column_name="cancellation_message",
        db_column_name="cancellation_message",
        column_class_name="Text",
        column_class=Text,
        params={"default": "", "null": False, **PARAMS},
        schema=None,
    )
    return manager
