from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T13:15:51:000000"
VERSION = "1.38.0"
DESCRIPTION = "A person's role and partner project live on their memberships now: drop them from app_user"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)
    for column in ("partner", "role"):
        manager.drop_column(table_class_name="User", tablename="app_user", column_name=column, db_column_name=column, schema=None)
    return manager
