"""The codes' hand-written SQL: counting a code's uses as places are counted. Run each with ``events.db.run``;
placeholders are Piccolo's ``{}``, in the order of the arguments. Everything else in codes uses Piccolo's query
builder."""

from __future__ import annotations

# Raw: capacity (a code's uses, taken by a conditional update comparing two of its columns, as places are: the uses
# are counted only if the code still allows them, in the one statement that counts them). Arguments: uses, code id,
# uses.
TAKE_USES = """
UPDATE sale_code SET uses = uses + {}
WHERE id = {} AND uses + {} <= max_uses
RETURNING id
"""
# Raw: capacity (an atomic decrement, when a hold that used the code ends unpaid). Arguments: uses, uses, code id.
FREE_USES = "UPDATE sale_code SET uses = CASE WHEN uses >= {} THEN uses - {} ELSE 0 END WHERE id = {}"
# Raw: hot path (the codes a hold batch's buyers use, read and locked by id, after the ticket types and the event:
# the order every writer takes them in). PostgreSQL only. Argument: code ids (a sorted list).
LOCK_USES = "SELECT id, uses, max_uses, revoked_at FROM sale_code WHERE id = ANY({}::integer[]) ORDER BY id FOR NO KEY UPDATE"
