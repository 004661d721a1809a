"""The orders' hand-written SQL: holding and giving back places, the hold batch's reads and writes, and free places.
Run each with ``events.db.run``; placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else
in orders uses Piccolo's query builder.

The statements that send a Python list as one array (``unnest``, ``= ANY``) are for PostgreSQL only; on SQLite
the same work goes through the query builder (orders.service, orders.hold_guard).
"""

from __future__ import annotations

# --- capacity: the counters, changed only by conditional updates (see orders.service) -------------------------

# Raw: capacity (a conditional update: the places are taken only if the quota still allows, in the one statement
# that takes them). Arguments: quantity, ticket type id, event id, quantity.
TAKE_TYPE_PLACES = """
UPDATE ticket_type SET places_taken = places_taken + {}
WHERE id = {} AND event = {} AND (quota IS NULL OR places_taken + {} <= quota)
RETURNING id
"""
# Raw: capacity (as TAKE_TYPE_PLACES, for the event's capacity). A cancelled event takes no more places: a payment
# that lands after the cancellation is refunded instead. Arguments: places, event id, places.
TAKE_EVENT_PLACES = """
UPDATE event SET places_taken = places_taken + {}
WHERE id = {} AND places_taken + {} <= capacity - reserved_free_places AND status <> 'cancelled'
RETURNING id
"""
# Raw: capacity (an atomic decrement, on every expired hold). Arguments: quantity, ticket type id.
RELEASE_TYPE_PLACES = "UPDATE ticket_type SET places_taken = places_taken - {} WHERE id = {}"
# Raw: capacity (as RELEASE_TYPE_PLACES). Arguments: places, event id.
RELEASE_EVENT_PLACES = "UPDATE event SET places_taken = places_taken - {} WHERE id = {}"

# --- the hold batch (orders.service._hold_together), PostgreSQL ------------------------------------------------

_EVENT_COLUMNS = "id, status, currency, booking_fee_pence, pay_it_forward_place_pence, capacity, reserved_free_places, places_taken"
_TYPE_COLUMNS = "id, name, price_pence, channel, sales_start, sales_end, max_per_order, quota, places_taken, hidden"

# Raw: hot path (every buyer's look without locks: the event, its counters and whether holds are overdue in one
# round trip). Arguments: now, event slug.
EVENT_ON_SALE = f"""
SELECT {_EVENT_COLUMNS}, EXISTS (
    SELECT 1 FROM ticket_order WHERE ticket_order.event = event.id AND status = 'pending' AND hold_expires_at < {{}}
) AS overdue_holds
FROM event WHERE slug = {{}}
  AND NOT EXISTS (SELECT 1 FROM organisation o WHERE o.id = event.organisation AND o.suspended_at IS NOT NULL)
"""
# Raw: hot path (the asked-for ticket types, their ids as one array). Arguments: event id, ticket type ids (a list).
TYPES_ON_SALE = f"SELECT {_TYPE_COLUMNS} FROM ticket_type WHERE event = {{}} AND id = ANY({{}}::integer[]) ORDER BY id"
# Raw: hot path (as TYPES_ON_SALE, locking the counter rows by id, the order every writer takes them in).
LOCK_TYPES_ON_SALE = TYPES_ON_SALE + " FOR NO KEY UPDATE"
# Raw: hot path (the event's counter row, locked after its ticket types). Argument: event id.
LOCK_EVENT_ON_SALE = f"SELECT {_EVENT_COLUMNS}, false AS overdue_holds FROM event WHERE id = {{}} FOR NO KEY UPDATE"

# Raw: hot path (both counters of a whole batch in one statement, every ticket type as one array). Only under the
# rows' locks, with the places already known to fit: the conditions are a last check (the caller rolls back if
# either row did not match), not the decision. Arguments: ticket type ids, quantities (lists, in the same order),
# event id, places, event id, places.
TAKE_LOCKED_PLACES = """
WITH types AS (
    UPDATE ticket_type SET places_taken = places_taken + taken.quantity
    FROM unnest({}::integer[], {}::integer[]) AS taken (type_id, quantity)
    WHERE ticket_type.id = taken.type_id AND ticket_type.event = {} AND (quota IS NULL OR places_taken + taken.quantity <= quota)
    RETURNING ticket_type.id
), events AS (
    UPDATE event SET places_taken = places_taken + {} WHERE id = {} AND places_taken + {} <= capacity - reserved_free_places
    RETURNING event.id
)
SELECT (SELECT count(*) FROM types) AS types, (SELECT count(*) FROM events) AS events
"""

# Raw: hot path (a batch's pending orders in one statement, each column as one array: per-row work in the query
# builder cost more than the rest of a sale). Arguments: one list per column of ORDER_COLUMNS, in that order.
INSERT_PENDING_ORDERS = """
INSERT INTO ticket_order (reference, event, buyer_name, buyer_email, locale, currency, tickets_pence, booking_fees_pence,
    pay_it_forward_pence, donation_pence, total_pence, places, hold_expires_at, created_at, client_key, code, discount_pence,
    status, channel, buyer_phone, refunded_pence, payment_provider, client_secret)
SELECT *, 'pending', 'online', '', 0, '', ''
FROM unnest({}::varchar[], {}::integer[], {}::varchar[], {}::varchar[], {}::varchar[], {}::varchar[], {}::integer[], {}::integer[],
    {}::integer[], {}::integer[], {}::integer[], {}::integer[], {}::timestamptz[], {}::timestamptz[], {}::varchar[], {}::integer[],
    {}::integer[])
ON CONFLICT (reference) DO NOTHING
RETURNING id, reference
"""
ORDER_COLUMNS = (
    "reference", "event", "buyer_name", "buyer_email", "locale", "currency", "tickets_pence", "booking_fees_pence",
    "pay_it_forward_pence", "donation_pence", "total_pence", "places", "hold_expires_at", "created_at", "client_key", "code",
    "discount_pence",
)  # fmt: skip
# Raw: hot path (as INSERT_PENDING_ORDERS, their lines). Arguments: one list per column of LINE_COLUMNS.
INSERT_ORDER_LINES = """
INSERT INTO order_line (order_id, kind, ticket_type, partner, description, quantity, unit_price_pence, booking_fee_pence, total_pence)
SELECT * FROM unnest({}::integer[], {}::varchar[], {}::integer[], {}::integer[], {}::varchar[], {}::integer[], {}::integer[],
    {}::integer[], {}::integer[])
"""
LINE_COLUMNS = (
    "order_id", "kind", "ticket_type", "partner", "description", "quantity", "unit_price_pence", "booking_fee_pence", "total_pence",
)  # fmt: skip
# Raw: hot path (as INSERT_PENDING_ORDERS, their history). Arguments: order ids, kinds, details, times (lists).
INSERT_ORDER_HISTORY = """
INSERT INTO order_history (order_id, kind, detail, created_at)
SELECT * FROM unnest({}::integer[], {}::varchar[], {}::text[], {}::timestamptz[])
"""
# Raw: hot path (how the payments of orders started together were started, in one statement). Arguments: order
# ids, intent ids, client secrets, providers (lists, in the same order).
RECORD_PAYMENT_STARTS = """
UPDATE ticket_order SET payment_intent_id = started.intent_id, client_secret = started.client_secret, payment_provider = started.provider
FROM unnest({}::integer[], {}::varchar[], {}::varchar[], {}::varchar[]) AS started (order_id, intent_id, client_secret, provider)
WHERE ticket_order.id = started.order_id
"""

# Raw: hot path (the email hold limit, under the event's locks: one look-up per asking address in the index on
# lower(buyer_email), however many orders the event holds). The event and status are compared as expressions
# (event + 0, status || '') so that no index on them can be used instead: on a table not analysed yet (a new
# database, the first minute of an on-sale) the planner took those and filtered every pending order of the event
# for each address. Arguments: emails (a list), event id, now, ids of the orders being replaced (a list).
HELD_BY_EMAIL = """
SELECT asked.email, held.places, held.first_ends_at
FROM unnest({}::varchar[]) AS asked (email)
CROSS JOIN LATERAL (
    SELECT SUM(o.places) AS places, MIN(o.hold_expires_at) AS first_ends_at
    FROM ticket_order o
    WHERE lower(o.buyer_email) = lower(asked.email) AND o.event + 0 = {} AND o.status || '' = 'pending'
      AND o.hold_expires_at > {} AND NOT (o.id = ANY({}::integer[]))
) AS held
WHERE held.places IS NOT NULL
"""

# Raw: hot path (the client hold limit, under the event's locks: each asking address's unpaid holds of the event, in
# the index on client_key, the addresses as one array; the query builder's IN list cost more than the batch's other
# reads). Arguments: client keys (a list), event id, now, ids of the orders being replaced (a list).
HELD_BY_CLIENT = """
SELECT client_key, places, hold_expires_at FROM ticket_order
WHERE client_key = ANY({}::varchar[]) AND event = {} AND status = 'pending' AND hold_expires_at > {} AND NOT (id = ANY({}::integer[]))
"""

# --- free places (orders.claims) ---------------------------------------------------------------------------------

# Raw: capacity (a claim code's places, taken by a conditional update comparing two of its columns, while the link
# is live: not revoked, not closed). Arguments: claim code id, now.
TAKE_CLAIM_CODE = """
UPDATE claim_code SET claimed = claimed + 1
WHERE id = {} AND revoked_at IS NULL AND (closes_at IS NULL OR closes_at > {}) AND claimed < places
RETURNING id
"""
# Raw: capacity (a reserved free place, as TAKE_CLAIM_CODE). Argument: event id.
TAKE_RESERVED_PLACE = """
UPDATE event SET free_places_claimed = free_places_claimed + 1
WHERE id = {} AND free_places_claimed < reserved_free_places
RETURNING id
"""
# Raw: capacity (a place funded beyond the reserved ones becomes free by taking a general place: both counters in
# one conditional update). Arguments: event id, funded places beyond the reserved ones.
TAKE_CONVERTED_PLACE = """
UPDATE event SET free_places_claimed = free_places_claimed + 1, places_taken = places_taken + 1
WHERE id = {} AND pay_it_forward_converts_general
  AND free_places_claimed - reserved_free_places < {}
  AND places_taken + 1 <= capacity - reserved_free_places
RETURNING id
"""
# Raw: capacity (a free place given back: a waiting-list offer of a free place that ran out). The inverse of
# TAKE_RESERVED_PLACE / TAKE_CONVERTED_PLACE: free places claimed beyond the reserved ones are converted general
# places, counted in places_taken too, so while there are any the place given back is one of those (both counters
# read before the update, in one statement). Argument: event id.
RELEASE_FREE_PLACE = """
UPDATE event SET free_places_claimed = free_places_claimed - 1,
    places_taken = places_taken - CASE WHEN free_places_claimed > reserved_free_places THEN 1 ELSE 0 END
WHERE id = {} AND free_places_claimed > 0
RETURNING id
"""

# --- an order read back (find_order, the settlement's lock, the guest's order pages) -----------------------------

# Raw: hot path (every order page, payment page and payment reads its order: the query builder's select of an order's
# columns cost several times the statement's round trip). OrderRow's columns, the table as ``o``.
ORDER_ROW_COLUMNS = """o.id, o.reference, o.event, o.status, o.channel, o.buyer_name, o.buyer_email, o.buyer_phone, o.locale, o.currency,
    o.tickets_pence, o.booking_fees_pence, o.pay_it_forward_pence, o.donation_pence, o.total_pence, o.refunded_pence, o.places,
    o.payment_provider, o.payment_intent_id, o.client_secret, o.intent_closed_at, o.hold_expires_at, o.client_key, o.created_at, o.paid_at,
    o.code, o.discount_pence"""
# Why an expired order's hold last ended (the detail of its latest 'hold_expired' entry: service.HOLD_ENDED), as
# "hold_ended"; NULL for an order in any other status, so a paid order's page does not look. The table as ``o``.
HOLD_ENDED_COLUMN = """CASE WHEN o.status = 'expired' THEN (
    SELECT h.detail FROM order_history h WHERE h.order_id = o.id AND h.kind = 'hold_expired' ORDER BY h.id DESC LIMIT 1
) END AS hold_ended"""
# Raw: a condition the query builder cannot write (a correlated subquery for an order's latest history entry of a
# kind), for a query of ticket_order: the order is in a status and its latest entry of a kind has one of two details
# (service.replaced_where: the orders the buyer's changed order replaced). Arguments: status, kind, detail, detail.
REPLACED_ORDER = """ticket_order.status = {} AND (SELECT h.detail FROM order_history h WHERE h.order_id = ticket_order.id AND h.kind = {}
    ORDER BY h.id DESC LIMIT 1) IN ({}, {})"""
# Raw: as ORDER_ROW_COLUMNS. Argument: reference.
ORDER_BY_REFERENCE = f"SELECT {ORDER_ROW_COLUMNS} FROM ticket_order o WHERE o.reference = {{}}"
# Raw: as ORDER_ROW_COLUMNS (the payment's settlement reads the order under its row lock, PostgreSQL only: SQLite's
# write transaction already holds the only write lock). Argument: order id.
LOCK_ORDER_BY_ID = f"SELECT {ORDER_ROW_COLUMNS} FROM ticket_order o WHERE o.id = {{}} FOR NO KEY UPDATE"
ORDER_BY_ID = f"SELECT {ORDER_ROW_COLUMNS} FROM ticket_order o WHERE o.id = {{}}"

# Raw: hot path (the payment's settlement: an order moves from one status to another only if it is still in the first).
# Arguments: new status, paid at (or NULL to keep it), order id, current status.
TRANSITION = "UPDATE ticket_order SET status = {}, paid_at = COALESCE({}, paid_at) WHERE id = {} AND status = {} RETURNING id"
# Raw: hot path (one line of an order's history). Arguments: order id, kind, detail, created at.
NOTE = "INSERT INTO order_history (order_id, kind, detail, created_at) VALUES ({}, {}, {}, {})"

# Raw: hot path (the order's lines as its pages and receipt show them, with their partner). Argument: order id.
ORDER_LINES = """
SELECT l.kind, l.description, l.quantity, l.unit_price_pence, l.booking_fee_pence, l.total_pence,
       p.slug AS "partner.slug", p.name AS "partner.name"
FROM order_line l LEFT JOIN partner p ON p.id = l.partner
WHERE l.order_id = {}
ORDER BY l.id
"""
# Raw: hot path (the guests a buyer named, read as the tickets are issued). Argument: order id.
GUEST_NAMES = "SELECT position, name FROM order_guest_name WHERE order_id = {}"

# What an order's receipt shows beyond the order's own row (service.ReceiptFacts): its event's pay-it-forward place
# value, whom the guest paid, and the order's Gift Aid declaration (none: NULLs), the order as ``o`` joined with
# RECEIPT_JOINS (which names the event ``e`` and its organisation ``g``).
RECEIPT_FACTS = """e.pay_it_forward_place_pence AS "event.pay_it_forward_place_pence", g.name AS "organisation.name",
    g.charity_name AS "organisation.charity_name", g.charity_number AS "organisation.charity_number", d.title AS "gift_aid.title",
    d.first_name AS "gift_aid.first_name", d.last_name AS "gift_aid.last_name", d.eligible_pence AS "gift_aid.eligible_pence"
"""
RECEIPT_JOINS = """JOIN event e ON e.id = o.event JOIN organisation g ON g.id = e.organisation
LEFT JOIN gift_aid_declaration d ON d.order_id = o.id"""
# Raw: the receipt's order with its facts in one round trip (the confirmation email; the order pages read the same
# columns with theirs). Argument: order id.
RECEIPT = f"SELECT {ORDER_ROW_COLUMNS}, {RECEIPT_FACTS} FROM ticket_order o {RECEIPT_JOINS} WHERE o.id = {{}}"
