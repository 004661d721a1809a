"""The catalogue's hand-written SQL: what a buy form needs of its event. Run it with ``events.db.run``; placeholders are
Piccolo's ``{}``, in the order of the arguments. Everything else in the catalogue uses Piccolo's query builder."""

from __future__ import annotations

# Raw: hot path (every buy form sent: the ticket types its form may name, where the event page's whole read took five
# query-builder selects). The types get_event_detail shows a guest without a code, in its order; an event guests cannot
# see (a draft, or a suspended organisation's) finds no row, an event without types one row with a NULL type. Argument:
# slug.
SHOWN_TICKET_TYPES = """
SELECT g.slug AS "organisation.slug", t.id AS ticket_type
FROM event e
JOIN organisation g ON g.id = e.organisation AND g.suspended_at IS NULL
LEFT JOIN ticket_type t ON t.event = e.id AND NOT t.hidden
WHERE e.slug = {} AND e.status <> 'draft'
ORDER BY t.position, t.id
"""
