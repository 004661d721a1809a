"""How much one buyer may hold unpaid: places per email address on an event, and new holds per client
address a minute. Pure: the caller reads what each buyer already holds, and counts the client's holds,
under the event's counter locks, and passes them in (orders.hold_guard).

Only unpaid holds count against the email limit: a paid order has committed its money, while the attack
this stops is tying up capacity nobody pays for (one address holding the whole event for the length of a
hold, again and again). Paid orders do not count, so a group can still buy in several orders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

CLIENT_WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class HoldLimits:
    """The settings EVENTS_HOLD_PLACES_PER_EMAIL and EVENTS_HOLDS_PER_CLIENT_PER_MINUTE."""

    places_per_email: int
    holds_per_client_per_minute: int


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks for a hold: their client address as the app sees it, the limits, and the reference of their
    own earlier hold that this one replaces (the buyer went back from the payment page), if any."""

    client: str
    limits: HoldLimits
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """One buyer's hold as the rules see it: None in a batch for a request refused already."""

    email: str
    client: str
    places: int
    hold_seconds: int
    limits: HoldLimits


@dataclass(frozen=True, slots=True)
class Held:
    """The unpaid places an email address holds on the event now (a replaced hold left out), and when the
    first of those holds ends."""

    places: int
    first_ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class TooManyPlacesHeld:
    """The email address holds as many places as it may: it can try again once a hold ends."""

    retry_after_seconds: int


@dataclass(frozen=True, slots=True)
class TooManyHoldsFromClient:
    """The client address opened as many holds as it may this minute."""

    retry_after_seconds: int


@dataclass(frozen=True, slots=True)
class MorePlacesThanAllowed:
    """The order alone is more places than one email address may hold: waiting would not help."""


Refusal = TooManyPlacesHeld | TooManyHoldsFromClient | MorePlacesThanAllowed


def email_key(email: str) -> str:
    """The email address as the limit counts it: one person whatever the capitals."""
    return email.strip().lower()


def holds_per_client(asks: Sequence[Ask | None]) -> Counter[str]:
    """How many holds each client address asks for in a batch: what the caller adds to its count."""
    return Counter(ask.client for ask in asks if ask is not None)


def judge(
    asks: Sequence[Ask | None],
    held: Mapping[str, Held],
    client_hits: Mapping[str, int],
    *,
    now: datetime,
    client_window_left_seconds: int,
) -> list[Refusal | None]:
    """For each ask, in arrival order: refused, or None (within the limits).

    ``held``: by email_key, what is held already. ``client_hits``: each client's count this minute, this
    batch's asks (holds_per_client) included, so the first of a client's asks here are the ones within
    its limit. Asks let through earlier in the batch count against the same email address's limit, as if
    each got its places."""
    seen: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    earlier_from = {client: client_hits.get(client, asked) - asked for client, asked in holds_per_client(asks).items()}
    answers: list[Refusal | None] = []
    for ask in asks:
        if ask is None:
            answers.append(None)
            continue
        seen[ask.client] += 1
        if earlier_from.get(ask.client, 0) + seen[ask.client] > ask.limits.holds_per_client_per_minute:
            answers.append(TooManyHoldsFromClient(client_window_left_seconds))
            continue
        if ask.places > ask.limits.places_per_email:
            answers.append(MorePlacesThanAllowed())
            continue
        key = email_key(ask.email)
        already = held.get(key, Held(0, None))
        if ask.places and already.places + taken[key] + ask.places > ask.limits.places_per_email:
            answers.append(TooManyPlacesHeld(_until(already.first_ends_at, now, ask.hold_seconds)))
            continue
        taken[key] += ask.places
        answers.append(None)
    return answers


def _until(ends_at: datetime | None, now: datetime, hold_seconds: int) -> int:
    """Seconds until the first hold in the way ends: a full hold's length when the ones in the way are
    this batch's own (not placed yet)."""
    if ends_at is None:
        return hold_seconds
    return max(1, int((ends_at - now).total_seconds() + 0.999))
