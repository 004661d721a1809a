"""The door's hand-written SQL: the statements every scan runs. Run each with ``events.db.run`` (both engines);
placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else in checkin uses Piccolo's query
builder.

In general a scan costs two statements on PostgreSQL, without BEGIN/COMMIT round trips: one read of everything
the rule and the answer need (SCAN_STATE_*), then one write (a CTE) that admits only if the ticket is still exactly
as the rule saw it and logs the scan in the same statement (ADMIT_*); the usual scan costs one (ADMIT_EXPECTED).
"""

from __future__ import annotations


def _scan_state(ticket_condition: str) -> str:
    return (
        """
SELECT e.id AS event_id, e.allow_reentry, e.organisation,
       EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {}) AS assigned,
       EXISTS (SELECT 1 FROM event_access x JOIN membership m ON m.id = x.membership
               WHERE x.event = e.id AND m."user" = {} AND m.organisation = e.organisation) AS chosen,
       t.id, t.event, t.version, t.status, o.status AS order_status, t.checked_in_at, t.inside,
       t.holder_name, y.name AS type_name, t.checked_in_by,
       s.status AS first_status, s.reason AS first_reason, s.ticket AS first_ticket, s.conflict AS first_conflict
FROM event e
LEFT JOIN ticket t ON """
        + ticket_condition
        + """
LEFT JOIN ticket_order o ON o.id = t.order_id
LEFT JOIN ticket_type y ON y.id = t.ticket_type
LEFT JOIN scan s ON s.nonce = {} AND s.event = e.id AND s.scanner = {} AND s.device = {}
WHERE e.slug = {}
LIMIT 1
"""
    )


# Raw: hot path (every scan's read, the event, door access, ticket and earlier answer to this nonce in one round
# trip). Arguments: user id, user id, ticket id or secret, nonce, user id, device, event slug.
SCAN_STATE_BY_ID = _scan_state("t.id = {}")
# Raw: hot path (as SCAN_STATE_BY_ID, for a bare secret).
SCAN_STATE_BY_SECRET = _scan_state("t.secret = {}")

_SCAN_COLUMNS = "nonce, event, ticket, direction, status, reason, device, scanned_by, scanned_at, received_at, offline, conflict, detail, scanner"

# Raw: hot path (every refused scan, and every admission on SQLite). A refusal, or an admission on SQLite (whose
# IMMEDIATE transaction already serialises the read and the write). No ON CONFLICT: a nonce already taken by a
# concurrent retry aborts the statement, and the caller reads the first answer instead.
RECORD_SCAN = "INSERT INTO scan (" + _SCAN_COLUMNS + ") VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, '', {})"

# The compare-and-set: the ticket still has the version, status, admission time and inside flag the rule decided on.
# Under READ COMMITTED a concurrent admission makes PostgreSQL re-check this on the new row version, so of two
# doors only one gets the row back; the other writes nothing and decides again from a fresh read.
_UNCHANGED = "id = {} AND version = {} AND status = {} AND inside = {} AND checked_in_at IS NOT DISTINCT FROM {}"
_ENTER = "checked_in_at = COALESCE(checked_in_at, {}::timestamptz), checked_in_by = {}, inside = true"
_EXIT = "inside = false"


def _admit(change: str) -> str:
    return (
        """
WITH admitted AS (
    UPDATE ticket SET """
        + change
        + " WHERE "
        + _UNCHANGED
        + """
    RETURNING checked_in_at, checked_in_by
), recorded AS (
    INSERT INTO scan ("""
        + _SCAN_COLUMNS
        + """)
    SELECT {}, {}::integer, {}::integer, {}, 'ok', NULL, {}, {}, {}::timestamptz, {}::timestamptz, {}::boolean, false, '',
           {}::integer
    FROM admitted
    RETURNING id
)
SELECT a.checked_in_at, a.checked_in_by FROM admitted a, recorded
"""
    )


# Raw: hot path (PostgreSQL's general admission: compare-and-set and scan log in one statement). Arguments:
# scanned at, device (entry only); ticket id, version, status, inside, checked in at; then the scan's nonce,
# event, ticket, direction, device, scanned by, scanned at, received at, offline, scanner.
ADMIT_ENTRY = _admit(_ENTER)
# Raw: hot path (as ADMIT_ENTRY, for an exit scan).
ADMIT_EXIT = _admit(_EXIT)

# Raw: hot path (an admission on SQLite, inside the scan's IMMEDIATE transaction). Arguments: scanned at, device, ticket id.
SQLITE_ENTER = "UPDATE ticket SET checked_in_at = COALESCE(checked_in_at, {}), checked_in_by = {}, inside = true WHERE id = {} RETURNING checked_in_at, checked_in_by"
# Raw: hot path (an exit on SQLite, as SQLITE_ENTER). Argument: ticket id.
SQLITE_EXIT = "UPDATE ticket SET " + _EXIT + " WHERE id = {} RETURNING checked_in_at, checked_in_by"

# Raw: hot path (the usual scan on PostgreSQL in one statement). Most scans are of a signed code for a valid, paid
# ticket not yet admitted. For those the rule is asked about exactly that state and this statement admits the
# ticket only if the database agrees on every input the rule was given (and the door may scan this event), logging
# the scan with it; a nonce already used makes the insert, and so the whole statement, fail. No row back: the
# scan goes the general way (read, decide, write). The event's re-entry setting is not read: the rule admits that
# state whatever it is (scanning._as_expected asks it both ways).
ADMIT_EXPECTED = (
    """
WITH admitted AS (
    UPDATE ticket t SET checked_in_at = {}::timestamptz, checked_in_by = {}, inside = true
    FROM event e, ticket_order o
    WHERE t.id = {} AND t.event = {} AND t.version = {} AND t.status = {} AND t.inside = {} AND t.checked_in_at IS NULL
      AND e.id = t.event AND e.slug = {} AND e.organisation = {} AND o.id = t.order_id AND o.status = {}
      AND ({}::boolean OR ({}::boolean AND EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {})))
    RETURNING t.id, t.event, t.ticket_type, t.holder_name, t.checked_in_at, t.checked_in_by
), recorded AS (
    INSERT INTO scan ("""
    + _SCAN_COLUMNS
    + """)
    SELECT {}, a.event, a.id, 'in', 'ok', NULL, {}, {}, {}::timestamptz, {}::timestamptz, {}::boolean, false, '',
           {}::integer
    FROM admitted a
    RETURNING id
)
SELECT a.holder_name, y.name AS type_name, a.checked_in_at, a.checked_in_by
FROM admitted a JOIN ticket_type y ON y.id = a.ticket_type, recorded
"""
)

# Raw: hot path (the usual scans of one event's door that arrive together, from any of its phones, admitted in one
# statement and so one commit: scanning._admit_together). Each scan is asked as in ADMIT_EXPECTED. The scans come as
# one JSON array of objects (scanning._AdmissionRow), which costs the worker far less to send than an array per
# column. A ticket another transaction is changing is skipped rather than waited for (SKIP LOCKED: two batches never
# wait for each other, so they cannot deadlock), as is a nonce already recorded (a retry): those scans, like any the
# database does not agree with, get no row back and go the general way. Arguments: the scans' JSON; the ticket status
# and inside flag the rule was told, the event's slug, and the order status it was told.
ADMIT_EXPECTED_TOGETHER = (
    """
WITH wanted AS (
    SELECT * FROM json_to_recordset({}::json)
        AS w(item integer, ticket integer, event integer, version integer, organisation integer, scanner integer,
             every_event boolean, door_role boolean, nonce text, device text, scanned_at timestamptz, received_at timestamptz,
             offline boolean)
), free AS MATERIALIZED (
    SELECT t.id FROM ticket t WHERE t.id = ANY(ARRAY(SELECT ticket FROM wanted)) FOR NO KEY UPDATE SKIP LOCKED
), admitted AS (
    UPDATE ticket t SET checked_in_at = w.scanned_at, checked_in_by = w.device, inside = true
    FROM wanted w, free f, event e, ticket_order o
    WHERE f.id = w.ticket AND t.id = w.ticket AND t.event = w.event AND t.version = w.version AND t.status = {} AND t.inside = {}
      AND t.checked_in_at IS NULL AND e.id = t.event AND e.slug = {} AND e.organisation = w.organisation
      AND o.id = t.order_id AND o.status = {}
      AND (w.every_event OR (w.door_role AND EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = w.scanner)))
      AND NOT EXISTS (SELECT 1 FROM scan x WHERE x.nonce = w.nonce AND x.event = e.id AND x.scanner = w.scanner AND x.device = w.device)
    RETURNING w.item, t.id, t.event, t.ticket_type, t.holder_name, t.checked_in_at, t.checked_in_by,
              w.nonce, w.device, w.scanned_at, w.received_at, w.offline, w.scanner
), recorded AS (
    INSERT INTO scan ("""
    + _SCAN_COLUMNS
    + """)
    SELECT a.nonce, a.event, a.id, 'in', 'ok', NULL, a.device, a.device, a.scanned_at, a.received_at, a.offline, false, '', a.scanner
    FROM admitted a
)
SELECT a.item, a.holder_name, y.name AS type_name, a.checked_in_at, a.checked_in_by
FROM admitted a JOIN ticket_type y ON y.id = a.ticket_type
"""
)

# Whether the user is on the event's door team, and whether the event is one they chose to be limited to as an
# organiser (catalogue.EventAccess; read only for a limited organiser). Arguments: user id, user id.
_EVENT_ACCESS = """
       EXISTS (SELECT 1 FROM door_assignment a WHERE a.event = e.id AND a."user" = {}) AS assigned,
       EXISTS (SELECT 1 FROM event_access x JOIN membership m ON m.id = x.membership
               WHERE x.event = e.id AND m."user" = {} AND m.organisation = e.organisation) AS chosen
"""
# Raw: hot path (every door request that names an event: the event, its organisation and this user's access in one
# round trip). Arguments: user id, user id, event slug.
DOOR_EVENT = f"""
SELECT e.id, e.slug, e.title, e.allow_reentry, e.organisation, {_EVENT_ACCESS}
FROM event e WHERE e.slug = {{}} LIMIT 1
"""

# Raw: hot path (a wrong-event refusal: the ticket's event and whether this user may scan it, in one round trip).
# Arguments: user id, user id, ticket id.
TICKET_EVENT = f"""
SELECT e.slug, e.title, e.organisation, {_EVENT_ACCESS}
FROM ticket t JOIN event e ON e.id = t.event
WHERE t.id = {{}}
LIMIT 1
"""
