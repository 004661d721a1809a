"""Catalogue rules: event and ticket-type validation, status changes, availability and sales windows.

Pure: no framework or database imports; callers pass ``now``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from events.catalogue.statuses import EventStatus
from events.money import BASIS_POINTS_WHOLE

STATUSES = tuple(EventStatus)
PUBLIC_STATUSES = (EventStatus.on_sale, EventStatus.sales_closed, EventStatus.finished, EventStatus.cancelled)
LISTED_STATUSES = (EventStatus.on_sale, EventStatus.sales_closed)
CHANNELS = ("online", "door", "both")
STATUS_CHANGES: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.draft: frozenset({EventStatus.on_sale, EventStatus.cancelled}),
    EventStatus.on_sale: frozenset({EventStatus.sales_closed, EventStatus.cancelled, EventStatus.finished}),
    EventStatus.sales_closed: frozenset({EventStatus.on_sale, EventStatus.cancelled, EventStatus.finished}),
    EventStatus.cancelled: frozenset(),
    EventStatus.finished: frozenset(),
}
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CAPACITY = 100_000
MAX_PER_ORDER_LIMIT = 100
# Guests are reminded this many hours before an event starts unless its organiser changes it or turns it off
# (None). Two weeks at most: earlier than that a reminder is an announcement.
REMINDER_HOURS_DEFAULT = 48
REMINDER_HOURS_MIN = 1
REMINDER_HOURS_MAX = 336
# Waiting lists: an offer holds places for this many hours unless the organiser changes it (a week at most: longer,
# and the places sit empty while the next person waits).
OFFER_HOURS_DEFAULT = 12
OFFER_HOURS_MIN = 1
OFFER_HOURS_MAX = 168
# "Can't come?": a paid place released at least this many days before the start is refunded (None: no refunds).
REFUND_DAYS_DEFAULT = 7
REFUND_DAYS_MAX = 365
# The buyer may change the names on their tickets until this many hours before the start (events.tickets.rules).
NAME_CHANGES_CLOSE_HOURS_DEFAULT = 24
NAME_CHANGES_CLOSE_HOURS_MAX = 336


@dataclass(frozen=True, slots=True)
class TicketTypeRule:
    """What the rules need of a ticket type (new or stored)."""

    name: str
    price_pence: int
    channel: str
    sales_start: datetime | None
    sales_end: datetime | None
    quota: int | None
    max_per_order: int


@dataclass(frozen=True, slots=True)
class EventRule:
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    reserved_free_places: int
    currency: str
    booking_fee_pence: int


def slugify(text: str) -> str:
    """'Choose Love Night!' -> 'choose-love-night'. Non-Latin titles fall back to an empty slug."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80]


def slug_problem(slug: str) -> str | None:
    if not SLUG_PATTERN.match(slug) or len(slug) > 80:
        return "Use lower-case letters, digits and single hyphens, e.g. august-supper-club."
    return None


def event_problems(event: EventRule) -> dict[str, str]:
    """Field -> message for every rule the event breaks (empty when valid)."""
    problems: dict[str, str] = {}
    if not event.title.strip():
        problems["title"] = "Give the event a title."
    if event.starts_at.tzinfo is None or event.ends_at.tzinfo is None:
        problems["starts_at"] = "Times need a time zone."
    elif event.ends_at <= event.starts_at:
        problems["ends_at"] = "The event must end after it starts."
    if timezone_problem(event.timezone):
        problems["timezone"] = timezone_problem(event.timezone) or ""
    if not 1 <= event.capacity <= MAX_CAPACITY:
        problems["capacity"] = f"Capacity must be between 1 and {MAX_CAPACITY}."
    if not 0 <= event.reserved_free_places <= event.capacity:
        problems["reserved_free_places"] = "Reserved free places must be between 0 and the capacity."
    if not re.fullmatch(r"[A-Z]{3}", event.currency):
        problems["currency"] = "Use a three-letter currency code such as GBP."
    if event.booking_fee_pence < 0:
        problems["booking_fee_pence"] = "The booking fee cannot be negative."
    return problems


def timezone_problem(name: str) -> str | None:
    if name not in available_timezones():
        return f"{name!r} is not a time zone name; use one like Europe/London."
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a time zone name; use one like Europe/London."
    return None


def ticket_type_problems(ticket_type: TicketTypeRule, prefix: str = "") -> dict[str, str]:
    problems: dict[str, str] = {}
    if not ticket_type.name.strip():
        problems[f"{prefix}name"] = "Give the ticket type a name."
    if ticket_type.price_pence < 0:
        problems[f"{prefix}price_pence"] = "The price cannot be negative."
    if ticket_type.channel not in CHANNELS:
        problems[f"{prefix}channel"] = "The channel must be online, door or both."
    if ticket_type.sales_start and ticket_type.sales_end and ticket_type.sales_end <= ticket_type.sales_start:
        problems[f"{prefix}sales_end"] = "Sales must end after they start."
    if ticket_type.quota is not None and ticket_type.quota < 1:
        problems[f"{prefix}quota"] = "A quota must be at least 1 (leave it empty for no quota)."
    if not 1 <= ticket_type.max_per_order <= MAX_PER_ORDER_LIMIT:
        problems[f"{prefix}max_per_order"] = f"The maximum per order must be between 1 and {MAX_PER_ORDER_LIMIT}."
    return problems


def share_problems(shares: Sequence[tuple[str, int]]) -> dict[str, str]:
    """Shares are (partner slug, basis points); when any are given they must sum to exactly 10000."""
    problems: dict[str, str] = {}
    partners = [partner for partner, _ in shares]
    if len(set(partners)) != len(partners):
        problems["beneficiaries"] = "Each partner can appear only once."
    elif any(not 1 <= share_bp <= BASIS_POINTS_WHOLE for _, share_bp in shares):
        problems["beneficiaries"] = "Each share must be between 1 and 10000 basis points."
    elif shares and sum(share_bp for _, share_bp in shares) != BASIS_POINTS_WHOLE:
        total = sum(share_bp for _, share_bp in shares)
        problems["beneficiaries"] = f"Shares must add up to 10000 basis points (100%); these add up to {total}."
    return problems


def status_change_problem(current: str, new: str, *, ticket_type_count: int, share_count: int) -> str | None:
    """Why an event that is `current` cannot become `new` (None when it can); both are EventStatus values."""
    if new not in STATUSES:
        return f"Status must be one of: {', '.join(STATUSES)}."
    if new == current:
        return None
    if new not in STATUS_CHANGES[EventStatus(current)]:
        return f"An event that is {current.replace('_', ' ')} cannot become {new.replace('_', ' ')}."
    if new == EventStatus.on_sale:
        if ticket_type_count == 0:
            return "Add at least one ticket type before putting the event on sale."
        if share_count == 0:
            return "Say which partner projects benefit before putting the event on sale."
    return None


def places_left(capacity: int, reserved_free_places: int, places_taken: int) -> int:
    """General places still for sale: capacity - reserved free places - sold - held."""
    return max(0, capacity - reserved_free_places - places_taken)


def ticket_type_available(event_places_left: int, quota: int | None, type_places_taken: int, *, yours: int = 0, yours_in_event: int = 0) -> int:
    """Places of a type a guest can choose. ``yours``: those of this type the guest holds in the order they are
    changing, and ``yours_in_event`` all the places it holds: the changed order replaces it in the transaction that
    holds the new places, which needs only the places beyond those it gives back (orders.service._fits), so they are
    the guest's to choose again, on top of what is left."""
    event_left = event_places_left + yours_in_event
    if quota is None:
        return event_left
    return min(event_left, max(0, quota - type_places_taken) + yours)


def sells_online(channel: str) -> bool:
    return channel in ("online", "both")


def sells_at_door(channel: str) -> bool:
    return channel in ("door", "both")


def window_open(sales_start: datetime | None, sales_end: datetime | None, now: datetime) -> bool:
    return (sales_start is None or sales_start <= now) and (sales_end is None or now < sales_end)


def on_sale_online(event_status: str, channel: str, sales_start: datetime | None, sales_end: datetime | None, now: datetime) -> bool:
    """Whether a guest can buy this type on the website right now (availability aside)."""
    return event_status == EventStatus.on_sale and sells_online(channel) and window_open(sales_start, sales_end, now)


def waiting_list_joinable(*, event_list_open: bool, type_list: bool, on_sale_online: bool, available: int) -> bool:
    """Whether a guest can join a ticket type's waiting list now: it is on sale online but sold out, and both the
    event's list and the type's are open."""
    return event_list_open and type_list and on_sale_online and available <= 0


def sale_window_phrase(channel: str, sales_start: datetime | None, sales_end: datetime | None, now: datetime) -> tuple[str, datetime | None]:
    """How a person would describe when a type is sold: ('door', None), ('until', end), ('from', start),
    ('ended', end) or ('open', None). Templates turn it into words in the guest's language."""
    if channel == "door":
        return ("door", None)
    if sales_end is not None and now >= sales_end:
        return ("ended", sales_end)
    if sales_start is not None and now < sales_start:
        return ("from", sales_start)
    if sales_end is not None:
        return ("until", sales_end)
    return ("open", None)


def at_venue(moment: datetime, zone: ZoneInfo) -> datetime:
    """A time without an offset is a wall-clock time at the venue (as on the event form); in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)
