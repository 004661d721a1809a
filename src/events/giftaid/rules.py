"""Gift Aid rules: what a declaration must say, which money it covers, and the 25% split across partners. Pure.

Gift Aid covers the donation parts of an order only (pay-it-forward contributions and donations), never
tickets or booking fees, which buy the donor something. HMRC adds 25p for each £1 donated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from events.i18n import N_
from events.money import split_pence

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
SCHEDULE_HEADER = (
    "Title",
    "First name",
    "Last name",
    "House name or number",
    "Postcode",
    "Aggregated donations",
    "Sponsored event",
    "Donation date (DD/MM/YY)",
    "Amount",
)
# HMRC: "Do not enter 'yes' in the sponsored event box against individual donations"; a box that does
# not apply is left blank.
NOT_SPONSORED = ""

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


@dataclass(frozen=True, slots=True)
class ScheduledDonation:
    """One declared, paid donation as it goes on the schedule: ``pence`` is what is left after refunds."""

    title: str
    first_name: str
    last_name: str
    house: str
    postcode: str
    paid_at: datetime
    pence: int


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


def gift_aid_pence(eligible: int) -> int:
    """25% of the donations, rounded down: a claim must never be more than is due."""
    return eligible // 4


def claimable_by_partner(pooled_pence: int, designated_pence: Mapping[int, int], shares: Sequence[tuple[int, int]]) -> dict[int, int]:
    """The Gift Aid each partner can count on: 25% of the eligible money allocated to it.

    ``pooled_pence`` (general donations and contributions) is split by the partners' shares (basis
    points) and each partner adds its designated donations; the 25% of the whole is then split in
    proportion to those amounts, so the parts add up to exactly the event's Gift Aid. Donations
    designated to a partner that is not a beneficiary are left out, as the allocation leaves them out.
    """
    if not shares:
        return {}
    partner_ids = [partner for partner, _ in shares]
    pooled = split_pence(pooled_pence, [share for _, share in shares])
    eligible = [part + designated_pence.get(partner, 0) for partner, part in zip(partner_ids, pooled, strict=True)]
    if sum(eligible) <= 0:
        return dict.fromkeys(partner_ids, 0)
    return dict(zip(partner_ids, split_pence(gift_aid_pence(sum(eligible)), eligible), strict=True))


def format_amount(pence: int) -> str:
    """1250 -> '12.50': pounds with two decimals and no £ sign, as the schedule wants (no floats)."""
    return f"{pence // 100}.{pence % 100:02d}"


def schedule_row(donation: ScheduledDonation, zone: tzinfo) -> list[str]:
    """One line of HMRC's Gift Aid schedule, in SCHEDULE_HEADER's order."""
    return [
        donation.title,
        donation.first_name,
        # HMRC: a double-barrelled surname is written with a space instead of the hyphen.
        donation.last_name.replace("-", " "),
        donation.house,
        donation.postcode,
        "",
        NOT_SPONSORED,
        donation.paid_at.astimezone(zone).strftime("%d/%m/%y"),
        format_amount(donation.pence),
    ]
