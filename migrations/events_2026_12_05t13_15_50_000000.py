from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-05T13:15:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "Existing data moves into one organisation: events, partners, tokens, audit entries and Stripe imports; each person's role becomes a membership (an admin: owner and platform admin)"

# The organisation a database starts with, or that everything already here moves into (renamed in the back office
# or with `events org update`). Its Stripe account is the environment's, as before (payments/accounts.py).
ORGANISATION = """
INSERT INTO organisation (slug, name, contact_email, accent_colour, logo, logo_content_type, charity_name, charity_number,
                          gift_aid_reference, created_at, suspended_at)
SELECT 'main', 'Our charity', '', '#0b5c4a', NULL, '', '', '', '', CURRENT_TIMESTAMP, NULL
WHERE NOT EXISTS (SELECT 1 FROM organisation)
"""
FIRST = "(SELECT MIN(id) FROM organisation)"
OWNED = ["event", "partner", "api_token", "audit_entry", "stripe_balance_transaction", "stripe_import"]
MEMBERSHIPS = f"""
INSERT INTO membership ("user", organisation, role, partner, restricted, created_at, deactivated_at)
SELECT id, {FIRST}, CASE role WHEN 'admin' THEN 'owner' ELSE role END, partner, role = 'door', created_at,
       CASE WHEN is_active THEN NULL ELSE CURRENT_TIMESTAMP END
FROM app_user
"""
PLATFORM_ADMINS = "UPDATE app_user SET is_platform_admin = TRUE WHERE role = 'admin'"
INDEXES = ['CREATE UNIQUE INDEX membership_user_organisation ON membership ("user", organisation)']
# Every row belongs to exactly one organisation from now on. SQLite cannot add NOT NULL to a column; there the
# services set it on every insert (and tests/integration/test_migrations.py checks none is left empty).
POSTGRES_NOT_NULL = [
    *(f"ALTER TABLE {table} ALTER COLUMN organisation SET NOT NULL" for table in OWNED if table != "audit_entry"),
    'ALTER TABLE membership ALTER COLUMN "user" SET NOT NULL',
    "ALTER TABLE membership ALTER COLUMN organisation SET NOT NULL",
    "ALTER TABLE invitation ALTER COLUMN organisation SET NOT NULL",
    "ALTER TABLE event_access ALTER COLUMN membership SET NOT NULL",
    "ALTER TABLE event_access ALTER COLUMN event SET NOT NULL",
    "ALTER TABLE stripe_account ALTER COLUMN organisation SET NOT NULL",
]


# Going back: each person's role and partner project return to app_user (re-added by the next migration's
# backwards step): an owner becomes an admin again, and of several memberships the first organisation's counts.
# The indexes Piccolo made on the organisation columns go first, as SQLite cannot drop an indexed column.
BACKWARDS = [
    """UPDATE app_user SET role = COALESCE((SELECT CASE m.role WHEN 'owner' THEN 'admin' ELSE m.role END FROM membership m
       WHERE m."user" = app_user.id ORDER BY m.organisation LIMIT 1), 'organiser'),
       partner = (SELECT m.partner FROM membership m WHERE m."user" = app_user.id ORDER BY m.organisation LIMIT 1)""",
    "DROP INDEX IF EXISTS membership_user_organisation",
    # The organisation and membership tables go next (the previous migration's backwards step): nothing may
    # still point at them.
    *(f"UPDATE {table} SET organisation = NULL" for table in [*OWNED, "webhook_event"]),
    "UPDATE account_message SET invitation = NULL",
    "DELETE FROM event_access",
    "DELETE FROM membership",
    "DELETE FROM invitation",
    "DELETE FROM stripe_account",
]
POSTGRES_BACKWARDS = [statement.replace("SET NOT NULL", "DROP NOT NULL") for statement in POSTGRES_NOT_NULL]
SQLITE_BACKWARDS = [
    f"DROP INDEX IF EXISTS {table}_organisation" for table in [*OWNED, "webhook_event"]
] + ["DROP INDEX IF EXISTS account_message_invitation"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        statements = [
            ORGANISATION,
            *(f"UPDATE {table} SET organisation = {FIRST} WHERE organisation IS NULL" for table in OWNED),
            MEMBERSHIPS,
            PLATFORM_ADMINS,
            *INDEXES,
        ]
        if not isinstance(engine, SQLiteEngine):
            statements += POSTGRES_NOT_NULL
        for statement in statements:
            await engine.run_ddl(statement)

    async def run_backwards():
        engine = engine_finder()
        assert engine is not None
        sqlite = isinstance(engine, SQLiteEngine)
        for statement in ([] if sqlite else POSTGRES_BACKWARDS) + BACKWARDS + (SQLITE_BACKWARDS if sqlite else []):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
