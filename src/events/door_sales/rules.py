"""When a door sale may be undone: pure rules, no database.

A sale rung up by mistake (the wrong ticket, two taps, a guest who changed their mind at the till) is undone at the
door while the money is still in hand: soon after it was made, once, and only whole. Later, or for part of it, the
organiser refunds it from the order's page like any other order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.i18n import N_

# Long enough to notice a mistake in a queue; short enough that the money is still in the tin.
UNDO_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class UndoRefusal:
    code: str
    message: str


NOT_A_DOOR_SALE = UndoRefusal("not_a_door_sale", N_("Only a sale made at the door can be undone here."))
ALREADY_UNDONE = UndoRefusal("door_sale_undone", N_("This sale has already been undone or refunded."))
TOO_LATE = UndoRefusal("undo_window_closed", N_("A sale can be undone for 30 minutes. Ask an organiser to refund it from the order's page."))


def undo_refusal(*, channel: str, status: str, refunded_pence: int, sold_at: datetime, now: datetime) -> UndoRefusal | None:
    """Why this order cannot be undone at the door now, or None: a paid door sale nothing was refunded of yet, within
    UNDO_WINDOW of the sale."""
    if channel != "door":
        return NOT_A_DOOR_SALE
    if status != "paid" or refunded_pence:
        return ALREADY_UNDONE
    if now - sold_at > UNDO_WINDOW:
        return TOO_LATE
    return None
