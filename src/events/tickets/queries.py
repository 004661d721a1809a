"""The tickets' hand-written SQL: the lock whoever makes an event's signing keys holds (tickets.keys). Run each with
``events.db.run`` inside a write transaction, on PostgreSQL only; placeholders are Piccolo's ``{}``, in the order of
the arguments. Everything else in tickets uses Piccolo's query builder."""

from __future__ import annotations

# Raw: Piccolo has no advisory locks. A lock of its own, rather than the event's row: the row is locked by every hold
# and claim of the event (its counters) and by the ledger, and the first key is made inside a ticket's issuing
# transaction, which holds its order's row and may hold the counters. Held until the transaction ends. The first
# number says the lock is a signing key's (no other advisory lock in the app); the second is the event's id.
# Argument: the event's id.
LOCK_KEYS = "SELECT pg_advisory_xact_lock(1801, {})"
# As LOCK_KEYS, without waiting: true if the lock is now held, false if another transaction holds it.
TRY_LOCK_KEYS = "SELECT pg_try_advisory_xact_lock(1801, {}) AS locked"
