from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T08:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A text's request to Twilio kept on its outbox message until Twilio answers it, so a try that got no answer is looked for before the text is sent again"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    manager.add_column(
        table_class_name="OutboxMessage",
        tablename="outbox_message",
        column_name="unanswered_request",
        db_column_name="unanswered_request",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
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

    return manager
