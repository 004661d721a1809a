from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-01T18:18:07:131271"
VERSION = "1.38.0"
DESCRIPTION = "Ledger totals kept by a trigger on ledger_entry; unique key on ledger totals; indexes for part-days and checks"

KEY = "event, kind, component, partner_key, day"
COMMON = [
    f"CREATE UNIQUE INDEX ledger_total_key ON ledger_total ({KEY})",
    "CREATE INDEX payment_created_at_idx ON payment (created_at)",
    "CREATE INDEX ledger_entry_event_occurred_at_idx ON ledger_entry (event, occurred_at)",
    "CREATE INDEX refund_created_at_idx ON refund (created_at)",
]
# The ledger is append-only, so adding each inserted entry to its day's total keeps the totals exact.
# PostgreSQL: once per statement, over the rows it inserted, in key order (so concurrent bookings lock
# total rows in the same order).
POSTGRES = [
    f"""
    CREATE FUNCTION ledger_total_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ledger_total ({KEY}, pence, entries)
      SELECT event, kind, component, COALESCE(partner, 0), CAST(occurred_at AT TIME ZONE 'UTC' AS DATE), SUM(amount_pence), COUNT(*)
      FROM booked GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT ({KEY}) DO UPDATE
        SET pence = ledger_total.pence + EXCLUDED.pence, entries = ledger_total.entries + EXCLUDED.entries;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER ledger_total_on_insert AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS booked FOR EACH STATEMENT EXECUTE FUNCTION ledger_total_add()
    """,
    f"""
    INSERT INTO ledger_total ({KEY}, pence, entries)
    SELECT event, kind, component, COALESCE(partner, 0), CAST(occurred_at AT TIME ZONE 'UTC' AS DATE), SUM(amount_pence), COUNT(*)
    FROM ledger_entry GROUP BY 1, 2, 3, 4, 5
    """,
]
SQLITE = [
    f"""
    CREATE TRIGGER ledger_total_on_insert AFTER INSERT ON ledger_entry
    BEGIN
      INSERT INTO ledger_total ({KEY}, pence, entries)
      VALUES (NEW.event, NEW.kind, NEW.component, COALESCE(NEW.partner, 0), date(NEW.occurred_at), NEW.amount_pence, 1)
      ON CONFLICT ({KEY}) DO UPDATE SET pence = pence + excluded.pence, entries = entries + 1;
    END
    """,
    f"""
    INSERT INTO ledger_total ({KEY}, pence, entries)
    SELECT event, kind, component, COALESCE(partner, 0), date(occurred_at), SUM(amount_pence), COUNT(*)
    FROM ledger_entry WHERE TRUE GROUP BY 1, 2, 3, 4, 5
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        assert engine is not None
        for statement in COMMON + (SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES):
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
