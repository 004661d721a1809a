"""The releases' hand-written SQL. Run with ``events.db.run``; placeholders are Piccolo's ``{}``."""

from __future__ import annotations

# Raw: capacity (a free place given back, in one statement with the counters it reads). Free places beyond the
# reserved ones each took a general place (orders.queries.TAKE_CONVERTED_PLACE); giving one back while more are
# claimed than reserved gives that general place back too. The CASE reads the row as it was before this update.
# Argument: event id.
GIVE_BACK_FREE_PLACE = """
UPDATE event SET free_places_claimed = free_places_claimed - 1,
    places_taken = places_taken - CASE WHEN free_places_claimed > reserved_free_places THEN 1 ELSE 0 END
WHERE id = {} AND free_places_claimed > 0
RETURNING id
"""
