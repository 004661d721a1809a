"""The tickets' hand-written SQL: what the guest's order pages and ticket page read, on every purchase, and the lock
whoever makes an event's signing keys holds (tickets.keys). Run each with ``events.db.run``; placeholders are
Piccolo's ``{}``, in the order of the arguments. Everything else in tickets uses Piccolo's query builder.

The page queries each replaced a few query-builder selects whose building (joins through foreign keys above all) cost
the worker several times the statements' own round trips (bench/rush.py --profile)."""

from __future__ import annotations

from events.orders.queries import HOLD_ENDED_COLUMN, ORDER_ROW_COLUMNS, RECEIPT_FACTS, RECEIPT_JOINS

# The order's history kinds that put a notice on its page (tickets.views.NOTICES): for each, the id of its first
# entry (NULL: none), so the page lists them in the order they happened.
NOTICE_KINDS = ("late_payment_issued", "late_payment_refunded", "payment_failed")
_FIRST_NOTICES = ", ".join(
    f"""(SELECT MIN(h.id) FROM order_history h WHERE h.order_id = o.id AND h.kind = '{kind}') AS "notice.{kind}\"""" for kind in NOTICE_KINDS
)

# Raw: hot path (the payment page and the order page: the order, its event and organisation, its receipt's facts, its
# notices and why an expired order ended, in one round trip, where the query builder took six). Argument: reference.
ORDER_PAGE = f"""
SELECT {ORDER_ROW_COLUMNS}, {RECEIPT_FACTS},
       e.slug AS "event.slug", e.title AS "event.title", e.starts_at AS "event.starts_at", e.ends_at AS "event.ends_at",
       e.timezone AS "event.timezone", e.venue AS "event.venue", e.address AS "event.address",
       e.access_information AS "event.access_information", e.name_changes_close_hours_before AS "event.name_changes_close_hours_before",
       e.status AS "event.status", e.cancellation_message AS "event.cancellation_message", o.refund_choice_until AS "refund_choice_until",
       g.slug AS "organisation.slug", g.logo_content_type AS "organisation.logo_content_type",
       g.whatsapp_enabled AS "organisation.whatsapp_enabled", {_FIRST_NOTICES}, {HOLD_ENDED_COLUMN}
FROM ticket_order o {RECEIPT_JOINS}
WHERE o.reference = {{}}
"""

# Raw: hot path (the order's tickets, as its pages list them). Argument: order id.
ORDER_TICKETS = """
SELECT t.id, t.holder_name, t.secret, t.page_secret, t.status, t.price_pence + t.booking_fee_pence AS worth_pence, y.name AS "ticket_type.name"
FROM ticket t JOIN ticket_type y ON y.id = t.ticket_type
WHERE t.order_id = {}
ORDER BY t.id
"""

# A ticket as its page, PDF and calendar file show it (tickets.views.TicketView), the ticket as ``t``.
_TICKET_VIEW = """
SELECT t.id, t.secret, t.page_secret, t.version, t.status, t.holder_name, t.ticket_type, y.name AS "ticket_type.name", t.checked_in_at,
       o.reference AS "order_id.reference", o.locale AS "order_id.locale", o.channel AS "order_id.channel",
       o.payment_provider AS "order_id.payment_provider", o.currency AS "order_id.currency", t.price_pence, t.booking_fee_pence,
       t.event, e.slug AS "event.slug", e.title AS "event.title", e.venue AS "event.venue", e.address AS "event.address",
       e.access_information AS "event.access_information", e.starts_at AS "event.starts_at", e.ends_at AS "event.ends_at", e.timezone AS "event.timezone", e.organisation AS "event.organisation",
       e.status AS "event.status",
       g.slug AS "event.organisation.slug", g.name AS "event.organisation.name", g.logo_content_type AS "event.organisation.logo_content_type"
"""
_TICKET_VIEW_JOINS = """
FROM ticket t JOIN ticket_type y ON y.id = t.ticket_type JOIN ticket_order o ON o.id = t.order_id
JOIN event e ON e.id = t.event JOIN organisation g ON g.id = e.organisation
"""
# The event's newest active signing key (tickets.keys), for the ticket as ``t``: NULL until its first is made.
_ACTIVE_KEY = "(SELECT k.{} FROM event_signing_key k WHERE k.event = t.event AND k.retired_at IS NULL ORDER BY k.id DESC LIMIT 1)"

# Raw: hot path (every ticket page: the ticket with its event's active signing key, in one round trip). Argument: the
# ticket's page secret (the key in its page's address).
_TICKET_WITH_KEY = f"""{_TICKET_VIEW}, {_ACTIVE_KEY.format("key_id")} AS "signing.key_id", {_ACTIVE_KEY.format("private_key")} AS "signing.private_key"
{_TICKET_VIEW_JOINS}"""
TICKET_BY_PAGE_SECRET = f"{_TICKET_WITH_KEY} WHERE t.page_secret = {{}}"
# Raw: as TICKET_BY_PAGE_SECRET, for a ticket the app itself names (the page after a claim). Argument: ticket id.
TICKET_BY_ID = f"{_TICKET_WITH_KEY} WHERE t.id = {{}}"
# Raw: as TICKET_BY_PAGE_SECRET, an order's tickets (its PDF, its email), without the key: an event's is read once for all.
# Argument: reference.
TICKETS_OF_ORDER = f"{_TICKET_VIEW}{_TICKET_VIEW_JOINS} WHERE o.reference = {{}} ORDER BY t.id"
# Raw: as TICKETS_OF_ORDER, its valid tickets only. Arguments: reference, the valid status.
VALID_TICKETS_OF_ORDER = f"{_TICKET_VIEW}{_TICKET_VIEW_JOINS} WHERE o.reference = {{}} AND t.status = {{}} ORDER BY t.id"

# Raw: hot path (the event's newest active signing key, tickets.keys). Argument: event id.
ACTIVE_SIGNING_KEY = "SELECT key_id, private_key FROM event_signing_key WHERE event = {} AND retired_at IS NULL ORDER BY id DESC LIMIT 1"

# Raw: hot path (the order page: the messages about the order, newest first, tickets.deliveries). Argument: reference.
ORDER_MESSAGES = """
SELECT m.channel, m.status, m.attempts, m.last_error, m.sent_at, e.timezone AS "order_id.event.timezone"
FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id JOIN event e ON e.id = o.event
WHERE o.reference = {}
ORDER BY m.id DESC
"""

# Raw: hot path (every payment: where the order's guest hears from us, read as its confirmation is queued). Argument:
# order id.
CONTACT_OF_ORDER = """
SELECT o.buyer_email, o.buyer_phone, g.whatsapp_enabled AS "event.organisation.whatsapp_enabled"
FROM ticket_order o JOIN event e ON e.id = o.event JOIN organisation g ON g.id = e.organisation
WHERE o.id = {}
"""
# Raw: hot path (every payment queues its confirmation: one message, once per key, every column as the table's
# defaults have it). Arguments: kind, order id, recipient, channel, key (or NULL), detail, status, next attempt at,
# created at.
QUEUE_MESSAGE = """
INSERT INTO outbox_message (kind, order_id, recipient, channel, dedupe_key, detail, status, attempts, next_attempt_at, sending_until,
    last_error, provider_reference, created_at, sent_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, 0, {}, NULL, '', '', {}, NULL)
ON CONFLICT (dedupe_key) DO NOTHING
"""
# Raw: hot path (every payment: the order's ticket lines, in the order they were written, to issue its tickets).
# Argument: order id.
TICKET_LINES = """
SELECT ticket_type, quantity, unit_price_pence, booking_fee_pence FROM order_line WHERE order_id = {} AND kind = 'ticket' ORDER BY id
"""
# Raw: hot path (every payment: its tickets in one statement, each column as one array, in position order so that ids
# rise with positions, as orders.queries.INSERT_ORDER_LINES; PostgreSQL only, SQLite through the query builder).
# Arguments: the valid status, then one list per column: order id, event, ticket type, secret, page secret, holder name,
# price, booking fee, created at.
INSERT_TICKETS = """
INSERT INTO ticket (order_id, event, ticket_type, secret, page_secret, holder_name, price_pence, booking_fee_pence, created_at, version,
    status, checked_in_at, checked_in_by, inside)
SELECT issued.*, 1, {}, NULL, '', false
FROM unnest({}::integer[], {}::integer[], {}::integer[], {}::varchar[], {}::varchar[], {}::varchar[], {}::integer[], {}::integer[],
    {}::timestamptz[])
    AS issued (order_id, event, ticket_type, secret, page_secret, holder_name, price_pence, booking_fee_pence, created_at)
RETURNING id
"""

# Signing keys' locks: run inside a write transaction, on PostgreSQL only.
# Raw: Piccolo has no advisory locks. A lock of its own, rather than the event's row: the row is locked by every hold
# and claim of the event (its counters) and by the ledger, and the first key is made inside a ticket's issuing
# transaction, which holds its order's row and may hold the counters. Held until the transaction ends. The first
# number says the lock is a signing key's (no other advisory lock in the app); the second is the event's id.
# Argument: the event's id.
LOCK_KEYS = "SELECT pg_advisory_xact_lock(1801, {})"
# As LOCK_KEYS, without waiting: true if the lock is now held, false if another transaction holds it.
TRY_LOCK_KEYS = "SELECT pg_try_advisory_xact_lock(1801, {}) AS locked"
