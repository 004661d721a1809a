"""The ledger's hand-written SQL: booking money as entries, set-based, checking an event against the imported Stripe
balance transactions, and ticket sales by day. Run each with ``events.db.run``; placeholders are Piccolo's ``{}``, in
the order of the arguments. Everything else in the ledger uses Piccolo's query builder."""

from __future__ import annotations

from typing import NamedTuple

# Booking in the database: the same entries as ledger.service.payment_entries(), refund_entries() and the cost
# and payout entries, computed by one INSERT ... SELECT for a scope (ORDER_SCOPE, COST_SCOPE, PAYOUT_SCOPE: an
# event, one order, one cost, one payout; see _booking). `todo` is every payment, Stripe fee and succeeded
# refund of the scope's orders with a non-zero component whose entry is not booked yet (so a second booking
# reads the payments once and books nothing); only Stripe's fees are split, over the payment's components, largest
# remainder as in money.split_pence: floors, then the pennies left over one each to the largest remainders, ties to the earlier
# component (ledger.service.COMPONENTS order), a negative amount split as the mirror of its absolute value.
# A refund needs no split: it recorded what it gave back of each component (payments.refunds.refund_parts), booked as
# it is. A donated refund (refund_donation, ledger.service.donation_entries) needs none either: its tickets and
# booking fees parts come off those components and their sum goes to donations with no partner, as an undesignated
# donation, so the allocation shares it out by the partners' shares.
_COMPONENT_ROWS = """(SELECT 1 AS idx, 'tickets' AS component UNION ALL SELECT 2, 'booking_fees'
  UNION ALL SELECT 3, 'contributions' UNION ALL SELECT 4, 'donations')"""
_WEIGHT = "CASE c.idx WHEN 1 THEN o.tickets_pence WHEN 2 THEN o.booking_fees_pence WHEN 3 THEN o.pay_it_forward_pence ELSE o.donation_pence END"
_WEIGHTS = "o.tickets_pence + o.booking_fees_pence + o.pay_it_forward_pence + o.donation_pence"
# A refund's entry for each component: minus what it gave back of it.
_REFUND_PART = "CASE c.idx WHEN 1 THEN r.tickets_pence WHEN 2 THEN r.booking_fees_pence WHEN 3 THEN r.contributions_pence ELSE r.donations_pence END"
# A donated refund's entry for each component: its tickets and booking fees parts off, their sum to donations.
_DONATED_PART = (
    "CASE c.idx WHEN 1 THEN -d.tickets_pence WHEN 2 THEN -d.booking_fees_pence WHEN 4 THEN d.tickets_pence + d.booking_fees_pence ELSE 0 END"
)
_BOOK_TEMPLATE = (
    """
WITH todo AS (
  SELECT DISTINCT x.kind, x.item FROM (
    SELECT k.kind, p.id AS item, c.component
    FROM ticket_order o
    JOIN payment p ON p.order_id = o.id
    CROSS JOIN COMPONENT_ROWS c
    CROSS JOIN (SELECT 'payment' AS kind UNION ALL SELECT 'fee') k
    WHERE ORDER_SCOPE AND o.total_pence > 0 AND WEIGHT <> 0 AND (k.kind = 'payment' OR p.fee_pence <> 0)
    UNION ALL
    SELECT 'refund', r.id, c.component
    FROM ticket_order o
    JOIN refund r ON r.order_id = o.id
    CROSS JOIN COMPONENT_ROWS c
    WHERE ORDER_SCOPE AND o.total_pence > 0 AND r.status = 'succeeded' AND REFUND_PART <> 0
    UNION ALL
    SELECT 'donated', d.id, c.component
    FROM ticket_order o
    JOIN refund_donation d ON d.order_id = o.id
    CROSS JOIN COMPONENT_ROWS c
    WHERE ORDER_SCOPE AND DONATED_PART <> 0
  ) x
  WHERE NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE l.source = x.kind || ':' || x.item || ':' || x.component)
),
parts AS (
  SELECT t.kind, p.id AS item, p.provider AS method, p.fee_pence AS amount, p.created_at AS occurred_at, o.id AS order_id,
         o.event, o.currency, c.idx, c.component, WEIGHT AS weight, WEIGHTS AS weights
  FROM todo t JOIN payment p ON p.id = t.item JOIN ticket_order o ON o.id = p.order_id CROSS JOIN COMPONENT_ROWS c
  WHERE t.kind IN ('payment', 'fee')
),
shares AS (
  SELECT kind, item, method, occurred_at, order_id, event, currency, component, weight AS share
  FROM parts WHERE kind = 'payment'
  UNION ALL
  SELECT kind, item, method, occurred_at, order_id, event, currency, component,
         sign * (floor_share + CASE WHEN ROW_NUMBER() OVER (PARTITION BY kind, item ORDER BY remainder DESC, idx)
                                         <= total - SUM(floor_share) OVER (PARTITION BY kind, item) THEN 1 ELSE 0 END)
  FROM (
    SELECT parts.*, CASE WHEN amount < 0 THEN -1 ELSE 1 END AS sign, ABS(amount) AS total,
           CAST(ABS(amount) AS BIGINT) * weight / weights AS floor_share,
           CAST(ABS(amount) AS BIGINT) * weight % weights AS remainder
    FROM parts WHERE kind <> 'payment' AND weights > 0
  ) s
)
INSERT INTO ledger_entry (event, kind, component, method, partner, amount_pence, currency, source, occurred_at, created_at, description)
SELECT event, kind, component, method, partner, amount_pence, currency, source, occurred_at, {}, description
FROM (
  SELECT event, CASE kind WHEN 'fee' THEN 'stripe_fee' ELSE kind END AS kind, component, method,
         CASE WHEN component = 'donations'
              THEN (SELECT MAX(l.partner) FROM order_line l WHERE l.order_id = shares.order_id AND l.kind = 'donation') END AS partner,
         CASE kind WHEN 'payment' THEN share ELSE -share END AS amount_pence, currency,
         kind || ':' || item || ':' || component AS source, occurred_at, '' AS description
  FROM shares WHERE share <> 0
  UNION ALL
  SELECT o.event, 'refund', c.component, r.method,
         CASE WHEN c.component = 'donations'
              THEN (SELECT MAX(l.partner) FROM order_line l WHERE l.order_id = o.id AND l.kind = 'donation') END,
         -REFUND_PART, o.currency, 'refund:' || r.id || ':' || c.component, COALESCE(r.given_back_at, r.created_at), ''
  FROM todo t JOIN refund r ON r.id = t.item JOIN ticket_order o ON o.id = r.order_id CROSS JOIN COMPONENT_ROWS c
  WHERE t.kind = 'refund' AND REFUND_PART <> 0
  UNION ALL
  SELECT o.event, 'donated_refund', c.component, '', NULL, DONATED_PART, o.currency, 'donated:' || d.id || ':' || c.component, d.created_at, ''
  FROM todo t JOIN refund_donation d ON d.id = t.item JOIN ticket_order o ON o.id = d.order_id CROSS JOIN COMPONENT_ROWS c
  WHERE t.kind = 'donated' AND DONATED_PART <> 0
  UNION ALL
  SELECT c.event, 'event_cost', '', '', NULL, -c.amount_pence, e.currency, 'cost:' || c.id, c.created_at, c.description
  FROM event_cost c JOIN event e ON e.id = c.event
  WHERE COST_SCOPE
  UNION ALL
  SELECT y.event, 'payout', '', 'bank', y.partner, -y.amount_pence, y.currency, 'payout:' || y.id, y.paid_on, y.bank_reference
  FROM payout y
  WHERE PAYOUT_SCOPE
) entries
WHERE TRUE
ON CONFLICT (source) DO NOTHING
""".replace("COMPONENT_ROWS", _COMPONENT_ROWS)
    .replace("DONATED_PART", _DONATED_PART)
    .replace("REFUND_PART", _REFUND_PART)
    .replace("WEIGHTS", _WEIGHTS)
    .replace("WEIGHT", _WEIGHT)
)


class Booking(NamedTuple):
    """One scope's booking statement: ``insert`` books (on SQLite, then CHANGES counts the entries booked), ``counted``
    books and counts in one statement (on PostgreSQL, where an INSERT can sit in a CTE)."""

    insert: str
    counted: str


def _booking(orders: str = "1 = 0", costs: str = "1 = 0", payouts: str = "1 = 0") -> Booking:
    insert = _BOOK_TEMPLATE.replace("ORDER_SCOPE", orders).replace("COST_SCOPE", costs).replace("PAYOUT_SCOPE", payouts)
    return Booking(insert, "WITH booked AS (" + insert + " RETURNING 1) SELECT COUNT(*) AS n FROM booked")


# Raw: INSERT ... SELECT with window functions (every payment, fee, refund, cost and payout of the event not booked
# yet, split and booked in one statement: the worker's safety net and the organiser's rebook). Arguments: event id,
# event id, event id, now, event id, event id.
BOOK_EVENT = _booking(orders="o.event = {}", costs="c.event = {}", payouts="y.event = {}")
# Raw: hot path (as BOOK_EVENT, for one order's payments, fees and refunds, in the transaction that records the
# money: every payment, refund and donated refund). Arguments: order id, order id, order id, now.
BOOK_ORDER = _booking(orders="o.id = {}")
# Raw: as BOOK_EVENT, for one cost. Arguments: now, cost id.
BOOK_COST = _booking(costs="c.id = {}")
# Raw: as BOOK_EVENT, for one payout. Arguments: now, payout id.
BOOK_PAYOUT = _booking(payouts="y.id = {}")
# Raw: SQLite's count of the rows the last statement changed (a Booking's insert).
CHANGES = "SELECT changes() AS n"

# The event's card payments and Stripe refunds; `covered` when an import spans the moment we recorded them. Only the
# event's organisation's imports and balance transactions count (`scope`): each organisation has its own Stripe account.
_OURS = """
WITH scope AS (SELECT CAST({} AS INTEGER) AS organisation),
imports AS (SELECT created_from, created_to FROM stripe_import WHERE organisation = (SELECT organisation FROM scope)),
covered_payments AS (
  SELECT p.provider_reference AS reference, p.charge_id AS source, p.amount_pence, p.fee_pence,
         EXISTS (SELECT 1 FROM imports i WHERE i.created_from <= p.created_at AND p.created_at < i.created_to) AS covered
  FROM payment p JOIN ticket_order o ON o.id = p.order_id
  WHERE o.event = {} AND p.provider = 'stripe'
),
covered_refunds AS (
  SELECT r.provider_refund_id AS reference, r.amount_pence,
         EXISTS (SELECT 1 FROM imports i WHERE i.created_from <= r.created_at AND r.created_at < i.created_to) AS covered
  FROM refund r JOIN ticket_order o ON o.id = r.order_id
  WHERE o.event = {} AND r.method = 'stripe' AND r.status = 'succeeded' AND r.provider_refund_id IS NOT NULL
)
"""
# Raw: INSERT ... SELECT over CTEs (the event's card payments and refunds matched with the imported balance
# transactions, and what does not agree stored, in one statement after each import). Arguments: organisation id,
# event id, event id, event id, now, start, end, start, end, limit.
CHECK_EVENT = (
    _OURS
    + """
INSERT INTO stripe_difference (event, kind, reference, ledger_pence, stripe_pence, checked_at)
SELECT {}, kind, reference, ledger_pence, stripe_pence, {} FROM (
  SELECT 'missing_from_stripe' AS kind, c.reference AS reference, c.amount_pence AS ledger_pence, CAST(NULL AS INTEGER) AS stripe_pence
  FROM covered_payments c
  WHERE c.covered AND NOT EXISTS (SELECT 1 FROM stripe_balance_transaction t WHERE t.organisation = (SELECT organisation FROM scope) AND t.source = c.source AND t.kind IN ('charge', 'payment'))
  UNION ALL
  SELECT 'amount_mismatch', c.reference, c.amount_pence, t.amount_pence
  FROM covered_payments c JOIN stripe_balance_transaction t ON t.organisation = (SELECT organisation FROM scope) AND t.source = c.source AND t.kind IN ('charge', 'payment')
  WHERE t.amount_pence <> c.amount_pence
  UNION ALL
  SELECT 'fee_mismatch', c.reference, c.fee_pence, t.fee_pence
  FROM covered_payments c JOIN stripe_balance_transaction t ON t.organisation = (SELECT organisation FROM scope) AND t.source = c.source AND t.kind IN ('charge', 'payment')
  WHERE c.fee_pence IS NOT NULL AND t.fee_pence <> c.fee_pence
  UNION ALL
  SELECT 'charge_without_order', t.source, CAST(NULL AS INTEGER), t.amount_pence
  FROM stripe_balance_transaction t
  WHERE t.organisation = (SELECT organisation FROM scope) AND t.kind IN ('charge', 'payment') AND t.created_at >= {} AND t.created_at < {}
    AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.charge_id = t.source AND p.provider = 'stripe')
  UNION ALL
  SELECT 'refund_missing_from_stripe', c.reference, c.amount_pence, CAST(NULL AS INTEGER)
  FROM covered_refunds c
  WHERE c.covered AND NOT EXISTS (SELECT 1 FROM stripe_balance_transaction t WHERE t.organisation = (SELECT organisation FROM scope) AND t.source = c.reference AND t.kind IN ('refund', 'payment_refund'))
  UNION ALL
  SELECT 'refund_amount_mismatch', c.reference, c.amount_pence, -t.amount_pence
  FROM covered_refunds c JOIN stripe_balance_transaction t ON t.organisation = (SELECT organisation FROM scope) AND t.source = c.reference AND t.kind IN ('refund', 'payment_refund')
  WHERE -t.amount_pence <> c.amount_pence
  UNION ALL
  SELECT 'refund_without_record', t.source, CAST(NULL AS INTEGER), -t.amount_pence
  FROM stripe_balance_transaction t
  WHERE t.organisation = (SELECT organisation FROM scope) AND t.kind IN ('refund', 'payment_refund') AND t.created_at >= {} AND t.created_at < {}
    AND NOT EXISTS (SELECT 1 FROM refund r WHERE r.provider_refund_id = t.source)
) found
WHERE TRUE
ORDER BY kind, reference
LIMIT {}
"""
)

_TICKET_SALES_BY_DAY = """
SELECT DAY_OF_ENTRY AS day, SUM(amount_pence) AS pence
FROM ledger_entry
WHERE event = {} AND kind = 'payment' AND component = 'tickets'
GROUP BY 1 ORDER BY 1
"""
# Raw: aggregate (ticket money taken, before refunds and Stripe's fees, per day in the event's time zone: a GROUP BY
# on the engine's own date arithmetic). PostgreSQL converts each entry with the zone's rules. Arguments: time zone
# name, event id.
TICKET_SALES_BY_DAY_POSTGRES = _TICKET_SALES_BY_DAY.replace("DAY_OF_ENTRY", "CAST(occurred_at AT TIME ZONE {} AS DATE)")
# Raw: as TICKET_SALES_BY_DAY_POSTGRES, on SQLite, which stores UTC text and has no zone database: the modifier
# shifts each entry by a fixed offset. Arguments: the offset as a modifier ('+60 minutes'), event id.
TICKET_SALES_BY_DAY_SQLITE = _TICKET_SALES_BY_DAY.replace("DAY_OF_ENTRY", "date(occurred_at, {})")

# Raw: hot path (the public event page's free places: catalogue.sales asks it). What buyers paid forward on the
# event's paid orders, less what refunds of those orders gave back of it (payments.refunds.refund_parts: only a refund
# reaching past the ticket money does), plus money carried in from or out to another event's fund, the sums in one
# round trip. Arguments: event id, event id, event id.
PAID_FORWARD = """
SELECT
  COALESCE((SELECT SUM(pay_it_forward_pence) FROM ticket_order WHERE event = {} AND status = 'paid'), 0)
  - COALESCE((SELECT SUM(r.contributions_pence) FROM refund r JOIN ticket_order o ON o.id = r.order_id
              WHERE o.event = {} AND o.status = 'paid'), 0)
  + COALESCE((SELECT SUM(amount_pence) FROM ledger_entry WHERE event = {} AND kind = 'carry_over'), 0) AS pence
"""
