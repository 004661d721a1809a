"""Gift Aid's hand-written SQL: what is claimable, summed over paid orders in the database. Run each with
``events.db.run``; placeholders are Piccolo's ``{}``, in the order of the arguments."""

from __future__ import annotations

# What is still claimable of a declaration: its eligible pence less the refunded fraction of the order, rounded
# down (BIGINT: pence times pence overflows PostgreSQL's integer). One expression, so the schedule and the
# partners' claims round alike.
_CLAIMABLE = "CAST(g.eligible_pence AS BIGINT) * (o.total_pence - o.refunded_pence) / o.total_pence"
_DESIGNATED = "CAST(o.donation_pence AS BIGINT) * (o.total_pence - o.refunded_pence) / o.total_pence"
# A declaration counts while its order is paid, in pounds, and paid in the period.
_COUNTS = "o.status = 'paid' AND o.total_pence > 0 AND o.currency = 'GBP' AND o.paid_at >= {} AND o.paid_at < {}"

# Raw: arithmetic the query builder cannot select (each declaration's claimable pence, rounded as
# CLAIMABLE_BY_PARTNER rounds it). One organisation's: each charity claims its own donors' Gift Aid under its own
# HMRC reference. Arguments: organisation id, start, end.
SCHEDULE = (
    """
SELECT g.title, g.first_name, g.last_name, g.house, g.postcode, o.paid_at, """
    + _CLAIMABLE
    + """ AS pence
FROM gift_aid_declaration g
JOIN ticket_order o ON o.id = g.order_id
JOIN event e ON e.id = o.event
WHERE e.organisation = {} AND """
    + _COUNTS
    + """
ORDER BY o.paid_at, o.id
"""
)
# Raw: aggregate (sums of expressions per designated partner, over every declaration of the event: statements add
# it up for each event, and bench/reconcile.py times them). Per designated partner (NULL: general donations only):
# what is claimable, and how much of it is the designated donation; the rest (general donations and
# contributions) is pooled across the partners. Arguments: event id, start, end.
CLAIMABLE_BY_PARTNER = (
    """
SELECT l.partner AS partner, SUM("""
    + _CLAIMABLE
    + """) AS claimable,
       SUM(CASE WHEN l.partner IS NULL THEN 0 ELSE """
    + _DESIGNATED
    + """ END) AS designated
FROM gift_aid_declaration g
JOIN ticket_order o ON o.id = g.order_id
LEFT JOIN order_line l ON l.order_id = o.id AND l.kind = 'donation'
WHERE o.event = {} AND """
    + _COUNTS
    + """
GROUP BY l.partner
"""
)
