"""Reading the guest's "Join the waiting list" form: how many places, which ticket type and which language, checked
against what the page offered. The name, email and phone are checked where the entry is made (waitlist.service),
so the form and the API refuse the same things."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from events.i18n import N_, SUPPORTED_LOCALES

MAX_DIGITS = 3  # no form offers more than 999 places: a longer number is not a choice from its menu


@dataclass(frozen=True, slots=True)
class JoinForm:
    name: str
    email: str
    phone: str
    quantity: int
    ticket_type: int | None  # paid places: the type chosen (the only one when the page offered one)
    locale: str


@dataclass(frozen=True, slots=True)
class Offered:
    """A ticket type the page offered to wait for, with its most places per order."""

    id: int
    max_per_order: int


def _count(raw: str) -> int | None:
    raw = raw.strip()
    if not raw or len(raw) > MAX_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def read_join_form(data: Mapping[str, str], *, types: Sequence[Offered], max_places: int, page_locale: str) -> tuple[JoinForm, dict[str, str]]:
    """The form's choices and a message per field it refuses. ``types`` are the ticket types offered (none for
    free places, which wait for ``max_places`` at most)."""
    problems: dict[str, str] = {}
    chosen: Offered | None = None
    if types:
        if len(types) == 1:
            chosen = types[0]
        else:
            wanted = _count(data.get("ticket_type", ""))
            chosen = next((t for t in types if t.id == wanted), None)
            if chosen is None:
                problems["ticket_type"] = N_("Choose a ticket type.")
        if chosen is not None:
            max_places = chosen.max_per_order
    quantity = _count(data.get("quantity", "1"))
    if quantity is None or quantity < 1 or quantity > max_places:
        problems["quantity"] = N_("Choose how many places.")
    locale = data.get("locale", "") or page_locale
    if locale not in SUPPORTED_LOCALES:
        problems["locale"] = N_("Choose a language.")
    form = JoinForm(
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        quantity=quantity or 0,
        ticket_type=chosen.id if chosen else None,
        locale=locale if locale in SUPPORTED_LOCALES else page_locale,
    )
    return form, problems
