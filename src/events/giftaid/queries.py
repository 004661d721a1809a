"""Gift Aid's hand-written SQL: what is claimable, summed over paid orders in the database. Run each with
``events.db.run``; placeholders are Piccolo's ``{}``, in the order of the arguments."""

from __future__ import annotations

# What is still claimable of a declaration: its eligible pence (the order's contributions and donations) less what
# refunds gave back of them (each refund records its parts: payments.refunds.refund_parts; a refunded ticket gives
# back no one's gift), never below nothing nor above what was declared. The designated part: the donation less what
# refunds gave back of it. BIGINT: sums of pence can outgrow PostgreSQL's integer. One expression each, so the
# schedule and the partners' claims agree.
_REFUNDED_GIFTS = "(SELECT CAST(COALESCE(SUM(r.contributions_pence + r.donations_pence), 0) AS BIGINT) FROM refund r WHERE r.order_id = o.id)"
_REFUNDED_DONATIONS = "(SELECT CAST(COALESCE(SUM(r.donations_pence), 0) AS BIGINT) FROM refund r WHERE r.order_id = o.id)"
_CLAIMABLE = (
    f"CASE WHEN {_REFUNDED_GIFTS} >= g.eligible_pence THEN 0 WHEN {_REFUNDED_GIFTS} <= 0 THEN CAST(g.eligible_pence AS BIGINT) "
    f"ELSE g.eligible_pence - {_REFUNDED_GIFTS} END"
)
_DESIGNATED = (
    f"CASE WHEN {_REFUNDED_DONATIONS} >= o.donation_pence THEN 0 WHEN {_REFUNDED_DONATIONS} <= 0 THEN CAST(o.donation_pence AS BIGINT) "
    f"ELSE o.donation_pence - {_REFUNDED_DONATIONS} END"
)
# A declaration counts while its order is paid, in pounds, and paid in the period.
_COUNTS = "o.status = 'paid' AND o.total_pence > 0 AND o.currency = 'GBP' AND o.paid_at >= {} AND o.paid_at < {}"

# A donated refund (refund_donation) is a gift only where the guest was genuinely offered the money back and chose to
# give it instead (HMRC), with a declaration made then; it counts in pounds, on the day of the choice. What it covers is
# the ticket income and booking fees that became a donation: money that was already a donation or pay-it-forward
# contribution stays under the order's own declaration, so nothing is claimed twice. A declaration is known by the words
# the donor agreed to, which stay when their name and address are erased after HMRC's keeping period (privacy), as an
# order's declaration stays in the schedule.
_DONATED_REFUND_COUNTS = "d.refund_offered AND d.gift_aid_statement <> '' AND d.currency = 'GBP' AND d.created_at >= {} AND d.created_at < {}"
_DONATED_REFUND_PENCE = "CAST(d.tickets_pence + d.booking_fees_pence AS BIGINT)"

# Raw: arithmetic the query builder cannot select (each declaration's claimable pence, rounded as
# CLAIMABLE_BY_PARTNER rounds it), and a UNION with the declared donated refunds. One organisation's: each charity
# claims its own donors' Gift Aid under its own HMRC reference. Arguments: organisation id, start, end, organisation
# id, start, end.
SCHEDULE = (
    """
SELECT g.title, g.first_name, g.last_name, g.house, g.postcode, o.paid_at, """
    + _CLAIMABLE
    + """ AS pence, o.id AS order_id, 0 AS donated
FROM gift_aid_declaration g
JOIN ticket_order o ON o.id = g.order_id
JOIN event e ON e.id = o.event
WHERE e.organisation = {} AND """
    + _COUNTS
    + """
UNION ALL
SELECT d.gift_aid_title, d.gift_aid_first_name, d.gift_aid_last_name, d.gift_aid_house, d.gift_aid_postcode, d.created_at, """
    + _DONATED_REFUND_PENCE
    + """, o.id, d.id
FROM refund_donation d
JOIN ticket_order o ON o.id = d.order_id
JOIN event e ON e.id = o.event
WHERE e.organisation = {} AND """
    + _DONATED_REFUND_COUNTS
    + """
ORDER BY paid_at, order_id, donated
"""
)
# Raw: aggregate (sums of expressions per designated partner, over every declaration of the event: statements add
# it up for each event, and bench/reconcile.py times them). Per designated partner (NULL: general donations only):
# what is claimable, and how much of it is the designated donation; the rest (general donations and
# contributions, and declared donated refunds, which are undesignated) is pooled across the partners. Arguments: event
# id, start, end, event id, start, end.
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
UNION ALL
SELECT NULL, SUM("""
    + _DONATED_REFUND_PENCE
    + """), 0
FROM refund_donation d
JOIN ticket_order o ON o.id = d.order_id
WHERE o.event = {} AND """
    + _DONATED_REFUND_COUNTS
    + """
"""
)
