"""The rules of access and discount codes: what a typed code is, whether a code can be used now, what it unlocks,
and what its discount takes off an order's tickets, to the penny.

Pure: callers pass the code as stored and ``now``.

The discount is taken off ticket prices only. Booking fees, pay-it-forward places and donations are never
discounted: a booking fee goes to the cause (or the event's costs) whatever the ticket cost, and money given for
others is never reduced by a code. A percentage is of the order's ticket prices (rounded half up to the penny); a
fixed amount is off the whole order's tickets, once per order (never more than they cost). The order's discount is
then split over its tickets in proportion to their prices (money.split_pence, largest remainder), so each ticket's
price is what was paid for it and the parts add up to the order's discount exactly. A ticket the code makes free is
a free ticket, and like every free ticket carries no booking fee.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from events.i18n import N_
from events.money import split_pence

# What an organiser may choose as a code: Latin capitals, digits and hyphens, long enough not to be typed by accident.
CODE_PATTERN = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{2,38}[A-Z0-9])")
MIN_LENGTH, MAX_LENGTH = 4, 40
# A made-up code: 10 characters without look-alikes (0/O, 1/I/L) ≈ 49 bits, against guessing that is rate-limited
# per browser and per address (codes.service) and only ever tried within one event.
GENERATED_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 10
MAX_USES = 100_000
MAX_DISCOUNT_PENCE = 1_000_000


@dataclass(frozen=True, slots=True)
class Code:
    """A code as the rules see it: its discount (at most one of the two), its limits, and the hidden ticket types
    it unlocks."""

    id: int
    code: str
    max_uses: int
    uses: int = 0
    discount_percent: int | None = None
    discount_pence: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    unlocks: frozenset[int] = field(default_factory=frozenset)

    @property
    def discounts(self) -> bool:
        return bool(self.discount_percent or self.discount_pence)

    @property
    def uses_left(self) -> int:
        return max(0, self.max_uses - self.uses)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a code cannot be used now: ``code`` for API clients, ``message`` for people."""

    code: str
    message: str


NOT_YET = Refusal("code_not_valid_yet", N_("This code cannot be used yet."))
ENDED = Refusal("code_expired", N_("This code has expired."))
REVOKED = Refusal("code_not_found", N_("That code does not work for this event. Please check it, or ask the organiser."))
USED_UP = Refusal("code_used_up", N_("Sorry, this code has been used as many times as it can be."))


def normalise(typed: str) -> str | None:
    """A code as typed ('  vol-2026 ') as it is stored ('VOL-2026'): trimmed, upper-case, spaces dropped. None when
    it cannot be any code (wrong characters or length), so nothing is looked up for it."""
    cleaned = "".join(typed.split()).upper()
    return cleaned if cleaned.isascii() and CODE_PATTERN.fullmatch(cleaned) else None


def new_code() -> str:
    """A code nobody can guess, for an organiser who does not choose one."""
    return "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(GENERATED_LENGTH))


def refusal(code: Code, now: datetime) -> Refusal | None:
    """Why ``code`` cannot be used at ``now`` for its window or because it was revoked (None: it can). Its uses are
    counted separately, under the code's row lock, as places are (see uses_fit)."""
    if code.revoked_at is not None:
        return REVOKED
    if code.valid_from is not None and now < code.valid_from:
        return NOT_YET
    if code.valid_until is not None and now >= code.valid_until:
        return ENDED
    return None


def unlocks(code: Code | None, ticket_type_id: int) -> bool:
    """Whether ``code`` opens the hidden ticket type (no code opens nothing)."""
    return code is not None and ticket_type_id in code.unlocks


def order_discount(code: Code | None, tickets_pence: int) -> int:
    """What the code takes off an order whose tickets cost ``tickets_pence``: never more than that, never below zero."""
    if code is None or tickets_pence <= 0:
        return 0
    if code.discount_percent:
        percent = min(100, max(0, code.discount_percent))
        return min(tickets_pence, (tickets_pence * percent + 50) // 100)
    if code.discount_pence:
        return min(tickets_pence, max(0, code.discount_pence))
    return 0


def discount_parts(prices: Sequence[int], discount_pence: int) -> list[int]:
    """The order's discount split over its tickets (one price each) in proportion to their prices, largest
    remainder: the parts add up to ``discount_pence`` and none is more than its ticket's price (a free ticket takes
    none). ``discount_pence`` is at most the prices' sum (order_discount)."""
    if discount_pence <= 0 or not any(prices):
        return [0] * len(prices)
    if discount_pence > sum(prices):
        raise ValueError("a discount cannot be more than the tickets cost")
    return split_pence(discount_pence, list(prices))


def paid_prices(prices: Sequence[int], code: Code | None) -> tuple[list[int], int]:
    """Each ticket's price after the code's discount, and the order's discount."""
    discount = order_discount(code, sum(prices))
    return [price - part for price, part in zip(prices, discount_parts(prices, discount), strict=True)], discount


def terms_problems(
    *,
    discount_percent: int | None,
    discount_pence: int | None,
    max_uses: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
    unlocks_any: bool,
) -> dict[str, str]:
    """What is wrong with a new code's terms, by field."""
    problems: dict[str, str] = {}
    if discount_percent is not None and discount_pence is not None:
        problems["discount_pence"] = N_("Give either a percentage or an amount off, not both.")
    elif discount_percent is not None and not 1 <= discount_percent <= 100:
        problems["discount_percent"] = N_("Give a percentage from 1 to 100.")
    elif discount_pence is not None and not 1 <= discount_pence <= MAX_DISCOUNT_PENCE:
        problems["discount_pence"] = N_("Give an amount off of at least 1p.")
    if discount_percent is None and discount_pence is None and not unlocks_any:
        problems["unlocks"] = N_("A code must unlock a hidden ticket type or give a discount (or both).")
    if not 1 <= max_uses <= MAX_USES:
        problems["max_uses"] = N_("Give how many orders may use the code: from 1 to 100000.")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        problems["valid_until"] = N_("The code must stop working after it starts.")
    return problems


def code_problem(code: str) -> str | None:
    """What is wrong with a code an organiser chose, as normalised (None: it can be used)."""
    if not MIN_LENGTH <= len(code) <= MAX_LENGTH or normalise(code) != code:
        return N_("Use 4 to 40 capital letters, digits and hyphens, like VOLUNTEERS-2026 (or leave it empty to get one made up).")
    return None
