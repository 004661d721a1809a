"""Reading the buy form on the event page into an order request. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from events.i18n import N_
from events.orders import phones
from events.orders.gift_aid import Declaration
from events.orders.pricing import Request, request_problems

# What an Arabic or a Farsi keyboard types for an amount, read as the ASCII it means: the Eastern Arabic digits
# (U+0660-0669), the Persian ones (U+06F0-06F9) and the Arabic decimal separator (U+066B). static/js/money.js
# (parsePence) reads them the same, so the event page's live total is what the server charges. Any other digit
# (a superscript, a fullwidth or Devanagari digit) is not an amount: the pattern takes ASCII digits only.
_TYPED_DIGITS = str.maketrans({**phones.EASTERN_DIGITS, "\u066b": "."})
_POUNDS = re.compile(r"^\s*£?\s*([0-9]{1,6})(?:[.,]([0-9]{1,2}))?\s*$")


def parse_pounds(text: str) -> int | None:
    """'5' -> 500, '£12.5' -> 1250, '12,50' -> 1250, the same in Arabic or Persian digits -> 1250, '' -> 0; None when it is
    not an amount (tests/vectors/typed_amounts.json holds this and the page's script to the same answers). No floats."""
    if not text or not text.strip():
        return 0
    match = _POUNDS.match(text.translate(_TYPED_DIGITS))
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
    """The order a form asks for, and its problems: the fields that could not be read at all, with everything else
    that can be told without the event (pricing.request_problems), so that the form shows them all at once."""
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
    found = request_problems(request)
    if problems:
        found.pop("items", None)  # they chose something, which could not be read
    return request, found | problems


def has_contribution(form: Mapping[str, str], *, takes_pay_it_forward: bool) -> bool:
    """Whether the form gives a donation, or pay-it-forward places where the event takes them: an order may have
    those without a ticket."""
    return bool(parse_pounds(form.get("donation", ""))) or (takes_pay_it_forward and bool(parse_count(form.get("pay_it_forward_places"))))


def guest_names(form: Mapping[str, str], tickets: int) -> tuple[str, ...]:
    """The guests' names the form gives (``guest_name_0`` ...), one per ticket chosen: fields beyond the tickets
    chosen (left from a larger choice) do not count, and trailing empty ones are dropped."""
    # Read from the fields sent, never by counting up to the tickets chosen: a quantity may be read before it is
    # checked (999999 of each type), and a form has at most a few hundred fields.
    given = {position: value for name, value in form.items() if (position := _guest_position(name)) is not None and position < tickets}
    names = [given.get(position, "") for position in range(max(given, default=-1) + 1)]
    while names and not names[-1].strip():
        names.pop()
    return tuple(names)


_GUEST_FIELD = re.compile(r"guest_name_([0-9]{1,4})")


def _guest_position(field: str) -> int | None:
    match = _GUEST_FIELD.fullmatch(field)
    return int(match.group(1)) if match else None


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


class ChosenOrder(Protocol):
    """What choices_form reads of an order's choices (orders.service.OrderChoices)."""

    @property
    def items(self) -> Mapping[int, int]: ...
    @property
    def pay_it_forward_places(self) -> int: ...
    @property
    def donation_pence(self) -> int: ...
    @property
    def donation_partner(self) -> str | None: ...
    @property
    def buyer_name(self) -> str: ...
    @property
    def buyer_email(self) -> str: ...
    @property
    def code(self) -> str | None: ...
    @property
    def gift_aid(self) -> Declaration | None: ...
    @property
    def guest_names(self) -> Sequence[str]: ...


def choices_form(choices: ChosenOrder) -> dict[str, str]:
    """The buy form as the buyer sent it for an order (its fields as buy_request reads them), to show it again
    filled in when they go back to change the order. The inverse of buy_request for what an order keeps."""
    form = {f"quantity_{type_id}": str(quantity) for type_id, quantity in choices.items.items()}
    if choices.pay_it_forward_places:
        form["pay_it_forward_places"] = str(choices.pay_it_forward_places)
    if choices.donation_pence:
        pounds, pence = divmod(choices.donation_pence, 100)
        form["donation"] = f"{pounds}.{pence:02d}" if pence else str(pounds)
        if choices.donation_partner:
            form["donation_partner"] = choices.donation_partner
    form["name"] = choices.buyer_name
    form["email"] = choices.buyer_email
    if choices.code:
        form["code"] = choices.code
    if choices.gift_aid is not None:
        form["gift_aid"] = "yes"
        for name in ("title", "first_name", "last_name", "house", "postcode"):
            form[f"gift_aid_{name}"] = getattr(choices.gift_aid, name)
    for position, guest in enumerate(choices.guest_names):
        if guest:
            form[f"guest_name_{position}"] = guest
    return form


_ITEM = re.compile(r"items\[(\d+)\]")
_GUEST = re.compile(r"guest_names?(?:\[(\d+)\]|_(\d+))")
_BY_FIELD = {
    "buyer.name": "name",
    "buyer.email": "email",
    "donation_pence": "donation",
    "pay_it_forward_pence": "pay_it_forward_places",
}
# The buy form's fields in the order the page shows them (after the ticket types' quantities); others go last.
_PAGE_ORDER = (
    "pay_it_forward_places",
    "donation",
    "donation_partner",
    "gift_aid",
    *(f"gift_aid_{name}" for name in ("title", "first_name", "last_name", "house", "postcode")),
    "name",
    "email",
)


@dataclass(frozen=True, slots=True)
class ErrorLink:
    """One line of the buy form's error summary: the message, and the id of the field it links to (None: no field)."""

    field_id: str | None
    message: str


def error_summary(errors: Mapping[str, str], type_ids: Sequence[int], form: Mapping[str, str]) -> list[ErrorLink]:
    """The buy form's problems as its error summary lists them: each linked to its field, in the page's order.
    ``errors``: by the names the buy form's service reports (``buyer.email``, ``items[0].quantity``, ...);
    ``type_ids``: the ticket types with a quantity field on the page, in its order; ``form``: what was sent, which
    says which type an ``items[i]`` problem is about (the i-th type with a quantity chosen, as buy_request reads them)."""
    chosen = [type_id for type_id in type_ids if parse_count(form.get(f"quantity_{type_id}"))]
    quantities = [f"quantity_{type_id}" for type_id in type_ids]
    order = {field_id: position for position, field_id in enumerate([*quantities, *_PAGE_ORDER])}
    links = [ErrorLink(_field_id(name, chosen, quantities), message) for name, message in errors.items()]

    def place(link: ErrorLink) -> tuple[int, int]:
        if link.field_id is None:
            return (len(order) + 1, 0)
        guest = _GUEST.fullmatch(link.field_id)
        return (order.get(link.field_id, len(order)), int(guest.group(2)) if guest else 0)

    return sorted(links, key=place)


def _field_id(name: str, chosen: Sequence[int], quantities: Sequence[str]) -> str | None:
    if name in _BY_FIELD:
        return _BY_FIELD[name]
    if name.startswith("quantity_") or name in _PAGE_ORDER:
        return name
    if name.startswith("gift_aid."):
        return "gift_aid_" + name.removeprefix("gift_aid.")
    if name == "items":
        return quantities[0] if quantities else None
    if (item := _ITEM.match(name)) is not None:
        index = int(item.group(1))
        return f"quantity_{chosen[index]}" if index < len(chosen) else (quantities[0] if quantities else None)
    if (guest := _GUEST.fullmatch(name)) is not None:
        return f"guest_name_{guest.group(1) or guest.group(2)}"
    return None
