"""Reading the buy form on the event page into an order request. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from events.i18n import N_
from events.orders.gift_aid import Declaration
from events.orders.pricing import Request

_POUNDS = re.compile(r"^\s*£?\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$")


def parse_pounds(text: str) -> int | None:
    """'5' -> 500, '£12.5' -> 1250, '' -> 0; None when it is not an amount. No floats involved."""
    if not text or not text.strip():
        return 0
    match = _POUNDS.match(text)
    if not match:
        return None
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


_COUNT = re.compile(r"[0-9]{1,6}")


def parse_count(text: str | None) -> int | None:
    """'3' -> 3, '' -> 0; None unless it is one to six ASCII digits (str.isdigit also passes '²', which int()
    refuses, and Arabic-Indic U+0661, which a number field never sends)."""
    if text is None or not text.strip():
        return 0
    text = text.strip()
    return int(text) if _COUNT.fullmatch(text) else None


def buy_request(form: Mapping[str, str], type_ids: Iterable[int]) -> tuple[Request, dict[str, str]]:
    """The order a form asks for, and any fields that could not be read at all."""
    problems: dict[str, str] = {}
    items: list[tuple[int, int]] = []
    for type_id in type_ids:
        quantity = parse_count(form.get(f"quantity_{type_id}"))
        if quantity is None:
            problems[f"quantity_{type_id}"] = N_("Choose a number of tickets.")
        elif quantity:
            items.append((type_id, quantity))
    places = parse_count(form.get("pay_it_forward_places"))
    if places is None:
        problems["pay_it_forward_places"] = N_("Choose a number of places.")
    donation = parse_pounds(form.get("donation", ""))
    if donation is None:
        problems["donation_pence"] = N_("Enter an amount like 5 or 12.50.")
    partner = (form.get("donation_partner") or "").strip() or None
    request = Request(
        items=items,
        pay_it_forward_places=places or 0,
        donation_pence=donation or 0,
        donation_partner=partner if donation else None,
        buyer_name=form.get("name", ""),
        buyer_email=form.get("email", ""),
        gift_aid=gift_aid_declaration(form),
        code=(form.get("code") or "").strip() or None,
        guest_names=guest_names(form, sum(quantity for _, quantity in items)),
    )
    return request, problems


GUEST_NAME_FIELD = "guest_name_{}"


def guest_names(form: Mapping[str, str], tickets: int) -> tuple[str, ...]:
    """The guests' names the form gives (``guest_name_0`` ...), one per ticket chosen: fields beyond the tickets
    chosen (left from a larger choice) do not count, and trailing empty ones are dropped."""
    names = [form.get(GUEST_NAME_FIELD.format(position), "") for position in range(tickets)]
    while names and not names[-1].strip():
        names.pop()
    return tuple(names)


def gift_aid_declaration(form: Mapping[str, str]) -> Declaration | None:
    """The Gift Aid fields are always on the form; they count only when the declaration box is ticked."""
    if not form.get("gift_aid"):
        return None
    return Declaration(
        title=form.get("gift_aid_title", ""),
        first_name=form.get("gift_aid_first_name", ""),
        last_name=form.get("gift_aid_last_name", ""),
        house=form.get("gift_aid_house", ""),
        postcode=form.get("gift_aid_postcode", ""),
        confirmed=True,  # ticking the box is the confirmation: its label is the declaration
    )
