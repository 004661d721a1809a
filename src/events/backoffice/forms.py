"""Reading the organiser's set-up forms: text fields into typed values with a message a person understands
for each one that cannot be read, then msgspec for the schema's limits. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

import events.text
from events.catalogue.rules import (
    NAME_CHANGES_CLOSE_HOURS_DEFAULT,
    NAME_CHANGES_CLOSE_HOURS_MAX,
    OFFER_HOURS_DEFAULT,
    OFFER_HOURS_MAX,
    OFFER_HOURS_MIN,
    REFUND_DAYS_DEFAULT,
    REFUND_DAYS_MAX,
    REMINDER_HOURS_DEFAULT,
    REMINDER_HOURS_MAX,
    REMINDER_HOURS_MIN,
)
from events.catalogue.schemas import EventCreate, EventPatch, TicketTypePatch
from events.money import BASIS_POINTS_WHOLE
from events.orders.forms import parse_pounds

T = TypeVar("T")
Form = Mapping[str, str]

_PERCENT = re.compile(r"^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$")
_WHOLE = re.compile(r"^\s*\d{1,6}\s*$")
_LOCAL_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
SHARE_ROWS = 6
EVENT_TEXT_FIELDS = ("title", "description", "venue", "address", "access_information")
CHANNELS = ("online", "door", "both")


def parse_percent(text: str) -> int | None:
    """'70' -> 7000, '33.33%' -> 3333, '12,5' -> 1250 basis points; None when it is not a percentage."""
    match = _PERCENT.match(text or "")
    if not match:
        return None
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def parse_signed_pounds(text: str) -> int | None:
    """'-12.50' -> -1250: corrections to costs are negative."""
    text = (text or "").strip()
    negative = text.startswith(("-", "−"))
    pence = parse_pounds(text[1:] if negative else text)
    if pence is None:
        return None
    return -pence if negative else pence


def parse_local_time(text: str) -> datetime | None:
    """The browser's datetime-local value: a wall-clock time at the event, no offset."""
    for pattern in _LOCAL_TIME_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), pattern)  # noqa: DTZ007 - wall-clock time; the caller adds the event's zone
        except ValueError:
            continue
    return None


def _whole(
    form: Form, name: str, problems: dict[str, str], *, default: int | None = 0, required: bool = False, message: str = "Enter a whole number."
) -> int | None:
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            problems[name] = message
        return default
    if not _WHOLE.match(text):
        problems[name] = message
        return default
    return int(text)


def _pounds(form: Form, name: str, problems: dict[str, str]) -> int:
    pence = parse_pounds(form.get(name) or "")
    if pence is None:
        problems[name] = "Enter an amount in pounds, like 3 or 2.50."
        return 0
    return pence


def _time(form: Form, name: str, problems: dict[str, str], *, required: bool) -> datetime | None:
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            problems[name] = "Enter a date and time."
        return None
    moment = parse_local_time(text)
    if moment is None:
        problems[name] = "Enter a date and time like 2026-08-15 19:00."
    return moment


def event_values(form: Form) -> tuple[dict[str, Any], dict[str, str]]:
    """Every field of the event form, typed, and a message for each field that could not be read."""
    problems: dict[str, str] = {}
    values: dict[str, Any] = {name: (form.get(name) or "").strip() for name in EVENT_TEXT_FIELDS}
    if not values["title"]:
        problems["title"] = "Give the event a title."
    values["timezone"] = (form.get("timezone") or "").strip() or "Europe/London"
    values["starts_at"] = _time(form, "starts_at", problems, required=True)
    values["ends_at"] = _time(form, "ends_at", problems, required=True)
    values["capacity"] = _whole(form, "capacity", problems, default=None, required=True, message="Enter how many people the venue takes.")
    values["reserved_free_places"] = _whole(form, "reserved_free_places", problems)
    values["booking_fee_pence"] = _pounds(form, "booking_fee", problems)
    values["pay_it_forward_place_pence"] = _pounds(form, "pay_it_forward_place", problems)
    values["cost_per_attendee_pence"] = _pounds(form, "cost_per_attendee", problems)
    values["pay_it_forward_converts_general"] = bool(form.get("pay_it_forward_converts_general"))
    values["allow_reentry"] = bool(form.get("allow_reentry"))
    values["booking_fees_to_cause"] = form.get("booking_fees_to", "cause") != "costs"
    values["reminder_hours_before"] = _reminder_hours(form, problems)
    # Opt-out: only an explicit "off" turns the thank-you off.
    values["thank_you_enabled"] = form.get("thank_you", "on") != "off"
    # Waiting lists are on and served first unless the organiser says otherwise (an explicit "off" or "sale").
    values["waiting_list_open"] = form.get("waiting_list", "on") != "off"
    values["waiting_list_first"] = form.get("freed_places_to", "list") != "sale"
    values["offer_hours"] = _offer_hours(form, problems)
    values["refund_days_before"] = _refund_days(form, problems)
    values["name_changes_close_hours_before"] = _name_change_hours(form, problems)
    # Only where the form offers the choice (the organisation has series): none chosen takes the event out of its series.
    if "series" in form:
        values["series"] = (form.get("series") or "").strip() or None
    return values, problems


def _offer_hours(form: Form, problems: dict[str, str]) -> int | None:
    """How long a waiting-list offer holds its places."""
    message = f"Enter a whole number of hours from {OFFER_HOURS_MIN} to {OFFER_HOURS_MAX} (a week)."
    hours = _whole(form, "offer_hours", problems, default=OFFER_HOURS_DEFAULT, message=message)
    if hours is not None and not OFFER_HOURS_MIN <= hours <= OFFER_HOURS_MAX:
        problems["offer_hours"] = message
    return hours


def _refund_days(form: Form, problems: dict[str, str]) -> int | None:
    """Until how many days before the start a guest who can't come is refunded; None when the organiser offers no
    refunds."""
    if form.get("refunds", "on") == "off":
        return None
    message = f"Enter a whole number of days from 0 (up to the day itself) to {REFUND_DAYS_MAX}, or choose no refunds."
    days = _whole(form, "refund_days_before", problems, default=REFUND_DAYS_DEFAULT, message=message)
    if days is not None and not 0 <= days <= REFUND_DAYS_MAX:
        problems["refund_days_before"] = message
    return days


def _name_change_hours(form: Form, problems: dict[str, str]) -> int | None:
    """Until how many hours before the start the buyer may change the names on their tickets."""
    message = f"Enter a whole number of hours from 0 (until it starts) to {NAME_CHANGES_CLOSE_HOURS_MAX} (two weeks)."
    hours = _whole(form, "name_changes_close_hours_before", problems, default=NAME_CHANGES_CLOSE_HOURS_DEFAULT, message=message)
    if hours is not None and not 0 <= hours <= NAME_CHANGES_CLOSE_HOURS_MAX:
        problems["name_changes_close_hours_before"] = message
    return hours


def _reminder_hours(form: Form, problems: dict[str, str]) -> int | None:
    """How many hours before the start guests are reminded; None when the organiser chose no reminder."""
    if form.get("reminder", "on") == "off":
        return None
    message = "Enter a whole number of hours from 1 to 336 (two weeks), or choose no reminder."
    hours = _whole(form, "reminder_hours_before", problems, default=REMINDER_HOURS_DEFAULT, message=message)
    if hours is not None and not REMINDER_HOURS_MIN <= hours <= REMINDER_HOURS_MAX:
        problems["reminder_hours_before"] = message
    return hours


def event_create(form: Form) -> tuple[EventCreate | None, dict[str, str]]:
    values, problems = event_values(form)
    slug = (form.get("slug") or "").strip().lower()
    if problems:
        return None, problems
    return convert({**values, "slug": slug or None}, EventCreate)


def event_patch(form: Form) -> tuple[EventPatch | None, dict[str, str]]:
    """Every field of the form; the web address only when the form has it (drafts)."""
    values, problems = event_values(form)
    if problems:
        return None, problems
    slug = (form.get("slug") or "").strip().lower()
    return convert({**values, "slug": slug} if slug else values, EventPatch)


def ticket_type_values(form: Form) -> tuple[dict[str, Any], dict[str, str]]:
    problems: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": (form.get("name") or "").strip(),
        "description": (form.get("description") or "").strip(),
        "channel": form.get("channel") or "both",
    }
    if values["channel"] not in CHANNELS:
        problems["channel"] = "Choose where this ticket is sold."
    price = parse_pounds(form.get("price") or "")
    if price is None or not (form.get("price") or "").strip():
        problems["price"] = "Enter a price in pounds, like 25 or 12.50 (0 for a free ticket)."
    values["price_pence"] = price or 0
    values["sales_start"] = _time(form, "sales_start", problems, required=False)
    values["sales_end"] = _time(form, "sales_end", problems, required=False)
    values["quota"] = _whole(form, "quota", problems, default=None, message="Enter a whole number, or leave it empty for no limit.")
    values["max_per_order"] = _whole(form, "max_per_order", problems, default=10)
    values["waiting_list"] = form.get("waiting_list", "on") != "off"
    # Sold only with an access code that unlocks it (events.codes).
    values["hidden"] = bool(form.get("hidden"))
    return values, problems


def ticket_type_patch(form: Form, type_id: int | None) -> tuple[TicketTypePatch | None, dict[str, str]]:
    """A change to type ``type_id``, or (None) a new type: every field of the form is set."""
    values, problems = ticket_type_values(form)
    if problems:
        return None, problems
    return convert(values if type_id is None else {**values, "id": type_id}, TicketTypePatch)


def code_values(form: Form, hidden_type_ids: Sequence[int]) -> tuple[dict[str, Any], dict[str, str]]:
    """The Codes page's form: the code (empty: made up), who it is for, the hidden types ticked (unlock_<id>), a
    discount (none, a percentage or an amount in pounds), how many orders may use it, and when it works."""
    problems: dict[str, str] = {}
    values: dict[str, Any] = {
        "code": (form.get("code") or "").strip() or None,
        "note": (form.get("note") or "").strip(),
        "unlocks": [type_id for type_id in hidden_type_ids if form.get(f"unlock_{type_id}")],
    }
    discount = form.get("discount") or "none"
    if discount == "percent":
        percent = _whole(form, "discount_percent", problems, default=None, required=True, message="Enter a whole percentage from 1 to 100.")
        if percent is not None and not 1 <= percent <= 100:
            problems["discount_percent"] = "Enter a whole percentage from 1 to 100."
        values["discount_percent"] = percent
    elif discount == "amount":
        amount = parse_pounds(form.get("discount_amount") or "")
        if not amount:
            problems["discount_amount"] = "Enter the amount off in pounds, like 5 or 2.50."
        values["discount_pence"] = amount or None
    elif discount != "none":
        problems["discount"] = "Choose what the code takes off."
    values["max_uses"] = _whole(form, "max_uses", problems, default=None, required=True, message="Enter how many orders may use the code, like 10.")
    values["valid_from"] = _time(form, "valid_from", problems, required=False)
    values["valid_until"] = _time(form, "valid_until", problems, required=False)
    return values, problems


def shares(form: Form) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """The share rows (partner_N, share_N): rows left empty are skipped; percentages become basis points."""
    rows: list[tuple[str, int]] = []
    problems: dict[str, str] = {}
    for index in range(SHARE_ROWS):
        partner = (form.get(f"partner_{index}") or "").strip()
        text = (form.get(f"share_{index}") or "").strip()
        if not partner and not text:
            continue
        if not partner:
            problems[f"partner_{index}"] = "Choose a partner project for this share."
            continue
        share_bp = parse_percent(text)
        if share_bp is None or not 0 < share_bp <= BASIS_POINTS_WHOLE:
            problems[f"share_{index}"] = "Enter a percentage above 0 and up to 100, like 70 or 33.33."
            continue
        rows.append((partner, share_bp))
    if not problems:
        partners = [partner for partner, _ in rows]
        total = sum(share for _, share in rows)
        if len(set(partners)) != len(partners):
            problems["shares"] = "Each partner project can appear only once."
        elif not rows:
            problems["shares"] = "Give at least one partner project a share."
        elif total != BASIS_POINTS_WHOLE:
            problems["shares"] = f"The shares add up to {format_percent(total)}; they must add up to exactly 100%."
    return rows, problems


def format_percent(share_bp: int) -> str:
    whole, fraction = divmod(share_bp, 100)
    return f"{whole}%" if not fraction else f"{whole}.{fraction:02d}".rstrip("0") + "%"


def convert(values: Mapping[str, Any], schema: type[T]) -> tuple[T | None, dict[str, str]]:
    """msgspec checks the schema's limits; its one error is mapped to the form field it is about."""
    try:
        return msgspec.convert(dict(values), schema), {}
    except msgspec.ValidationError as error:
        message = str(error)
        match = re.search(r"at `\$\.([a-z_]+)", message)
        field = match.group(1) if match else "form"
        return None, {FORM_FIELDS.get(field, field): _friendly(message)}


FORM_FIELDS = {
    "discount_pence": "discount_amount",
    "booking_fee_pence": "booking_fee",
    "pay_it_forward_place_pence": "pay_it_forward_place",
    "cost_per_attendee_pence": "cost_per_attendee",
    "price_pence": "price",
}


def _friendly(message: str) -> str:
    text = message.split(" - at ")[0]
    if (explained := events.text.explain(text)) != text:
        return explained
    if text.startswith("Expected `str` of length <="):
        return "That is too long (at most " + text.rsplit("<= ", 1)[1].rstrip("`") + " characters)."
    if text.startswith("Expected `str` of length >="):
        return "This cannot be empty."
    if "matching regex" in text:
        return "Use lower-case letters, digits and single hyphens, e.g. august-supper-club."
    if text.startswith("Expected `int` >="):
        return "That number is too small (the least is " + text.rsplit(">= ", 1)[1].rstrip("`") + ")."
    if text.startswith("Expected `int` <="):
        return "That number is too large (the most is " + text.rsplit("<= ", 1)[1].rstrip("`") + ")."
    return text


def form_field(service_field: str) -> str:
    """Where a service's field message belongs on the form (e.g. ticket_types[0].price_pence -> price)."""
    name = service_field.rsplit(".", 1)[-1]
    return FORM_FIELDS.get(name, name)
