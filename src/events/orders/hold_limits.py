"""How much one buyer may hold unpaid: places per email address on an event, places per client address
on an event, and new holds per client address a minute. Pure: the caller reads what each buyer already holds, and counts the client's holds,
under the event's counter locks, and passes them in (orders.hold_guard).

Only unpaid holds count against the email limit: a paid order has committed its money, while the attack
this stops is tying up capacity nobody pays for (one address holding the whole event for the length of a
hold, again and again). Paid orders do not count, so a group can still buy in several orders. The email
limit alone does not stop one address with throwaway email addresses: the places held per client address
do. A client address is an IPv4 address, or an IPv6 address's /64 network (one household or device is
given a whole /64), and is kept only as a keyed hash (client_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

CLIENT_WINDOW_SECONDS = 60
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True, slots=True)
class HoldLimits:
    """The settings EVENTS_HOLD_PLACES_PER_EMAIL, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE and EVENTS_HOLD_PLACES_PER_CLIENT."""

    places_per_email: int
    holds_per_client_per_minute: int
    places_per_client: int = 40


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks for a hold: their client address as the limits count it (client_digest), the limits, and the reference of their
    own earlier hold that this one replaces (the buyer went back from the payment page), if any. ``changes``: the order
    they used "Change order" on, if the form came from there; replaced in preference, whatever name and email the form
    now gives."""

    client: str
    limits: HoldLimits
    replaces: str | None = None
    changes: str | None = None
    # The browser's own id, for its budget of wrong access codes (events.codes); "" for an API client, whose wrong
    # codes only its address's budget holds.
    browser: str = ""


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
    """The unpaid places an email address (or a client address) holds on the event now (a replaced hold left out), and when the
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
class TooManyPlacesFromClient:
    """The client address holds as many unpaid places as it may (whatever the emails): it can try again
    once a hold ends."""

    retry_after_seconds: int


@dataclass(frozen=True, slots=True)
class MorePlacesThanAllowed:
    """The order alone is more places than one email address may hold: waiting would not help."""


Refusal = TooManyPlacesHeld | TooManyHoldsFromClient | TooManyPlacesFromClient | MorePlacesThanAllowed


def email_key(email: str) -> str:
    """The email address as the limit counts it: one person whatever the capitals."""
    return email.strip().lower()


def same_buyer(earlier: tuple[str, str], now: tuple[str, str]) -> bool:
    """Is the buyer (name, email) sending the form again the one whose hold this browser placed before? The same
    email address, or the same name: a buyer who went back to correct a typo in one of the two replaces their
    hold; someone else on a shared computer (another name and another address) does not replace theirs."""
    (earlier_name, earlier_email), (name, email) = earlier, now
    return email_key(earlier_email) == email_key(email) or (bool(name_key(name)) and name_key(earlier_name) == name_key(name))


def name_key(name: str) -> str:
    """A name as same_buyer compares it: whatever the capitals and spacing."""
    return " ".join(name.split()).casefold()


def client_key(address: str) -> str:
    """The client address as the per-address limits count it: an IPv6 address's /64 network (a home or
    phone is given a whole /64, so each of its addresses is one client), an IPv4 address (or one mapped
    into IPv6) as it is. Anything that is not an IP address is kept as it is."""
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


def client_digest(secret_key: str, address: str) -> str:
    """What is kept of a client address (its client_key): a keyed hash, enough to count its holds by,
    which tells no one the address."""
    return hmac.new(secret_key.encode(), f"hold-client:{client_key(address)}".encode(), hashlib.sha256).hexdigest()


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
    client_held: Mapping[str, Held] | None = None,
) -> list[Refusal | None]:
    """For each ask, in arrival order: refused, or None (within the limits).

    ``held``: by email_key, what is held already; ``client_held``: by client, likewise. ``client_hits``: each client's count this minute, this
    batch's asks (holds_per_client) included, so the first of a client's asks here are the ones within
    its limit. Asks let through earlier in the batch count against the same email address's and client's
    limits, as if each got its places."""
    client_held = client_held or {}
    seen: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    taken_by_client: Counter[str] = Counter()
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
        if ask.places > min(ask.limits.places_per_email, ask.limits.places_per_client):
            answers.append(MorePlacesThanAllowed())
            continue
        key = email_key(ask.email)
        already = held.get(key, Held(0, None))
        if ask.places and already.places + taken[key] + ask.places > ask.limits.places_per_email:
            answers.append(TooManyPlacesHeld(_until(already.first_ends_at, now, ask.hold_seconds)))
            continue
        from_client = client_held.get(ask.client, Held(0, None))
        if ask.places and from_client.places + taken_by_client[ask.client] + ask.places > ask.limits.places_per_client:
            answers.append(TooManyPlacesFromClient(_until(from_client.first_ends_at, now, ask.hold_seconds)))
            continue
        taken[key] += ask.places
        taken_by_client[ask.client] += ask.places
        answers.append(None)
    return answers


def _until(ends_at: datetime | None, now: datetime, hold_seconds: int) -> int:
    """Seconds until the first hold in the way ends: a full hold's length when the ones in the way are
    this batch's own (not placed yet)."""
    if ends_at is None:
        return hold_seconds
    return max(1, int((ends_at - now).total_seconds() + 0.999))
