"""A Gift Aid declaration made with an order: what it must say, and which money it covers. Pure.

Gift Aid covers the donation parts of an order only (pay-it-forward contributions and donations), never
tickets or booking fees, which buy the donor something. Claiming it from HMRC is the giftaid package's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from events.i18n import N_

ELIGIBLE_KINDS = ("pay_it_forward", "donation")
GIFT_AID_CURRENCY = "GBP"
# HMRC's model wording for a one-off donation; stored with each declaration as what the donor agreed to.
CONFIRMATION_STATEMENT = (
    "I want to Gift Aid my donation. I am a UK taxpayer and understand that if I pay less Income Tax and/or "
    "Capital Gains Tax in the current tax year than the amount of Gift Aid claimed on all my donations it is "
    "my responsibility to pay any difference."
)
# The schedule's limits (HMRC: title at most 4 characters, names at most 35, house name or number at most 40).
MAX_LENGTHS = {"title": 4, "first_name": 35, "last_name": 35, "house": 40}
# A UK postcode, once upper-cased with one space before the inward code (the BS 7666 pattern).
_POSTCODE = re.compile(
    r"^(GIR 0AA|"
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y])"
    r" [0-9][ABD-HJLNP-UW-Z]{2})$"
)
# A cell starting like a formula would run as one when the schedule is opened in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Declaration:
    title: str
    first_name: str
    last_name: str
    house: str
    postcode: str
    confirmed: bool


class PricedLine(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price_pence(self) -> int: ...


def normalise_postcode(text: str) -> str | None:
    """'sw1a1aa' -> 'SW1A 1AA' (HMRC wants capitals and the space); None when it is not a UK postcode."""
    compact = re.sub(r"\s+", "", text).upper()
    if len(compact) < 5:
        return None
    spaced = f"{compact[:-3]} {compact[-3:]}"
    return spaced if _POSTCODE.match(spaced) else None


def eligible_pence(lines: Iterable[PricedLine]) -> int:
    """The part of an order Gift Aid can cover: its contributions and donations (they carry no booking fee)."""
    return sum(line.quantity * line.unit_price_pence for line in lines if line.kind in ELIGIBLE_KINDS)


def declaration_problems(declaration: Declaration, *, eligible_pence: int, currency: str) -> dict[str, str]:
    """Each field of the declaration that is missing or wrong, keyed 'gift_aid.<field>'."""
    problems: dict[str, str] = {}
    if not declaration.confirmed:
        problems["gift_aid.confirmed"] = N_("Tick the box to confirm you are a UK taxpayer.")
    if eligible_pence <= 0:
        problems["gift_aid"] = N_("Gift Aid is only for a donation or a pay-it-forward contribution: add one, or untick Gift Aid.")
    elif currency != GIFT_AID_CURRENCY:
        problems["gift_aid"] = N_("Gift Aid is only for donations in pounds sterling.")
    required = {
        "first_name": N_("Please give your first name for Gift Aid."),
        "last_name": N_("Please give your last name for Gift Aid."),
        "house": N_("Please give your house name or number for Gift Aid."),
    }
    for name in ("title", "first_name", "last_name", "house"):
        value = getattr(declaration, name).strip()
        if not value and name in required:
            problems[f"gift_aid.{name}"] = required[name]
        elif len(value) > MAX_LENGTHS[name]:
            problems[f"gift_aid.{name}"] = f"At most {MAX_LENGTHS[name]} characters, please."
        elif value.startswith(_FORMULA_START):
            problems[f"gift_aid.{name}"] = N_("Please start with a letter or a number.")
    if not declaration.postcode.strip():
        problems["gift_aid.postcode"] = N_("Please give your postcode for Gift Aid.")
    elif normalise_postcode(declaration.postcode) is None:
        problems["gift_aid.postcode"] = N_("That does not look like a UK postcode (for example SW1A 1AA).")
    return problems


def normalised(declaration: Declaration) -> Declaration:
    """The declaration as recorded: trimmed, the postcode in HMRC's form. Call after declaration_problems."""
    return Declaration(
        title=declaration.title.strip(),
        first_name=declaration.first_name.strip(),
        last_name=declaration.last_name.strip(),
        house=declaration.house.strip(),
        postcode=normalise_postcode(declaration.postcode) or declaration.postcode.strip(),
        confirmed=declaration.confirmed,
    )
