"""The questions' hand-written SQL: what every buy form and order page asks of an event that may ask nothing. Run each
with ``events.db.run``; placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else in questions
uses Piccolo's query builder."""

from __future__ import annotations

# Raw: hot path (every buy form and order: the query builder's join through the event cost more than the statement's
# round trip; an event that asks nothing finds no row). service.QUESTION_COLUMNS with the event's id. Argument: slug.
LIVE_QUESTIONS_OF_EVENT = """
SELECT q.id, q.kind, q.label, q.help_text, q.preset, q.options, q.required, q.per_ticket, q.door_flag, q.position, q.event
FROM question q JOIN event e ON e.id = q.event
WHERE e.slug = {} AND q.removed_at IS NULL
ORDER BY q.position, q.id
"""

# Raw: hot path (every order page: the order as its answers are shown, and whether its event asks anything, in one round
# trip), with ``asks``. Argument: reference.
ORDER_WITH_QUESTIONS = """
SELECT o.id, o.reference, o.status, o.channel, o.event, e.title AS "event.title", e.starts_at AS "event.starts_at",
       e.timezone AS "event.timezone", e.answers_close_hours_before AS "event.answers_close_hours_before",
       EXISTS (SELECT 1 FROM question q WHERE q.event = o.event AND q.removed_at IS NULL) AS asks
FROM ticket_order o JOIN event e ON e.id = o.event
WHERE o.reference = {}
"""
