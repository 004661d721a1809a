from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-01T18:24:15:656662"
VERSION = "1.38.0"
DESCRIPTION = "Triggers that keep event attendance from tickets and orders"

# Attendance counts valid tickets of paid orders, per event, free (claim, gift) or not, over 16 shards
# (order id modulo 16). A ticket's change counts when its order is paid; an order's change to or from paid
# counts its valid tickets. Tickets and orders are never deleted (a ticket is voided or refunded instead), so
# deletes are not followed: emptying the tables, as the tests do, empties event_attendance with them.
UPSERT = "ON CONFLICT (event, free, shard) DO UPDATE SET tickets = event_attendance.tickets + EXCLUDED.tickets"
FREE = "CASE WHEN {}.channel IN ('claim', 'gift') THEN 1 ELSE 0 END"
BACKFILL = f"""
INSERT INTO event_attendance (event, free, shard, tickets)
SELECT t.event, {FREE.format("o")}, o.id % 16, COUNT(*)
FROM ticket t JOIN ticket_order o ON o.id = t.order_id
WHERE t.status = 'valid' AND o.status = 'paid'
GROUP BY 1, 2, 3
"""
COMMON = ["CREATE UNIQUE INDEX event_attendance_key ON event_attendance (event, free, shard)"]
POSTGRES = [
    # Inserts once per statement (a COPY or a multi-row insert is one aggregate, not a row-by-row update of
    # the same counter); status changes per row, as they come few at a time and only those fire it.
    f"""
    CREATE FUNCTION event_attendance_tickets_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO event_attendance (event, free, shard, tickets)
      SELECT t.event, {FREE.format("o")}, o.id % 16, COUNT(*)
      FROM inserted t JOIN ticket_order o ON o.id = t.order_id
      WHERE t.status = 'valid' AND o.status = 'paid'
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      {UPSERT};
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER event_attendance_tickets_inserted AFTER INSERT ON ticket
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION event_attendance_tickets_inserted()
    """,
    f"""
    CREATE FUNCTION event_attendance_ticket_status() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      delta integer := (CASE WHEN NEW.status = 'valid' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'valid' THEN 1 ELSE 0 END);
    BEGIN
      IF delta <> 0 THEN
        INSERT INTO event_attendance (event, free, shard, tickets)
        SELECT NEW.event, {FREE.format("o")}, o.id % 16, delta FROM ticket_order o WHERE o.id = NEW.order_id AND o.status = 'paid'
        {UPSERT};
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER event_attendance_ticket_status AFTER UPDATE OF status ON ticket
    FOR EACH ROW EXECUTE FUNCTION event_attendance_ticket_status()
    """,
    f"""
    CREATE FUNCTION event_attendance_order() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      n_valid integer;
    BEGIN
      IF (OLD.status = 'paid') <> (NEW.status = 'paid') THEN
        SELECT COUNT(*) INTO n_valid FROM ticket t WHERE t.order_id = NEW.id AND t.status = 'valid';
        IF n_valid > 0 THEN
          INSERT INTO event_attendance (event, free, shard, tickets)
          VALUES (NEW.event, {FREE.format("NEW")}, NEW.id % 16, CASE WHEN NEW.status = 'paid' THEN n_valid ELSE -n_valid END)
          {UPSERT};
        END IF;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER event_attendance_order AFTER UPDATE OF status ON ticket_order
    FOR EACH ROW EXECUTE FUNCTION event_attendance_order()
    """,
    BACKFILL,
]


def _sqlite_ticket(name: str, when: str, row: str, delta: str) -> str:
    return f"""
    CREATE TRIGGER {name} {when} WHEN {delta} <> 0
    BEGIN
      INSERT INTO event_attendance (event, free, shard, tickets)
      SELECT {row}.event, {FREE.format("o")}, o.id % 16, {delta} FROM ticket_order o WHERE o.id = {row}.order_id AND o.status = 'paid'
      {UPSERT};
    END
    """


VALID = "(CASE WHEN {}.status = 'valid' THEN 1 ELSE 0 END)"
SQLITE = [
    _sqlite_ticket("event_attendance_ticket_insert", "AFTER INSERT ON ticket FOR EACH ROW", "NEW", VALID.format("NEW")),
    _sqlite_ticket(
        "event_attendance_ticket_update", "AFTER UPDATE OF status ON ticket FOR EACH ROW", "NEW", f"({VALID.format('NEW')} - {VALID.format('OLD')})"
    ),
    f"""
    CREATE TRIGGER event_attendance_order AFTER UPDATE OF status ON ticket_order FOR EACH ROW
    WHEN (OLD.status = 'paid') <> (NEW.status = 'paid')
    BEGIN
      INSERT INTO event_attendance (event, free, shard, tickets)
      SELECT NEW.event, {FREE.format("NEW")}, NEW.id % 16, (CASE WHEN NEW.status = 'paid' THEN 1 ELSE -1 END) * COUNT(*)
      FROM ticket t WHERE t.order_id = NEW.id AND t.status = 'valid' GROUP BY t.order_id
      {UPSERT};
    END
    """,
    BACKFILL,
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
