"""The waiting lists' hand-written SQL: the question every sale asks of them. Run it with ``events.db.run``;
placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else in the waiting lists uses Piccolo's
query builder."""

from __future__ import annotations

# Raw: hot path (every buy, before and under the counters' locks, and every event page that renders: whether anyone
# waits, where the query builder's EXISTS cost several times its round trip). A row when someone does. Argument: event id.
ANYONE_WAITING = "SELECT 1 AS waiting FROM waiting_entry WHERE event = {} AND status = 'waiting' LIMIT 1"
