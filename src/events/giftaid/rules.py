"""Claiming Gift Aid: HMRC's schedule of declared donations, and the 25% split across partners. Pure.

HMRC adds 25p for each £1 donated. What a declaration must say, and which money it covers, is decided when
the donor makes it with their order (orders/gift_aid.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from events.money import split_pence

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
# The schedule's file name, which carries the charity's HMRC reference (the schedule itself has no place for it:
# Charities Online takes the reference from the claim the schedule is uploaded to).
SCHEDULE_FILENAME = "gift-aid-{charity}-{first}-to-{last}.csv"
# HMRC: "Do not enter 'yes' in the sponsored event box against individual donations"; a box that does
# not apply is left blank.
NOT_SPONSORED = ""


def tax_year_start(day: date) -> date:
    """6 April on or before ``day``: the UK tax year a claim usually covers."""
    start = date(day.year, 4, 6)
    return start if day >= start else date(day.year - 1, 4, 6)


def schedule_filename(gift_aid_reference: str, organisation_slug: str, first_day: date, last_day: date) -> str:
    """gift-aid-AB12345-2027-04-06-to-2028-04-05.csv; the organisation's slug when it has no HMRC reference yet."""
    return SCHEDULE_FILENAME.format(charity=gift_aid_reference or organisation_slug, first=first_day.isoformat(), last=last_day.isoformat())


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
