"""Gift Aid service: recording a declaration with its order, the HMRC schedule for a period, and the
Gift Aid each of an event's partners can claim, all read through SQL aggregation over paid orders."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from events import db
from events.catalogue.tables import BeneficiaryShare
from events.errors import InvalidInput
from events.giftaid import queries, rules
from events.organisations import service as organisations

# HMRC dates donations by the day they reached the charity, in UK time.
UK = ZoneInfo("Europe/London")
FAR_PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Schedule:
    """One organisation's Gift Aid schedule for a period: the CSV to upload to Charities Online, named with the
    charity's HMRC reference, and what it adds up to."""

    csv: str
    filename: str
    charity_name: str
    charity_number: str
    gift_aid_reference: str
    donations: int
    total_pence: int


async def schedule(first_day: date, last_day: date, *, organisation_id: int) -> Schedule:
    """HMRC's Gift Aid schedule of the organisation's donations paid on [first_day, last_day] (UK dates): declared
    donations of paid orders, and declared refunds guests were offered and donated instead, dated the day they chose."""
    if last_day < first_day:
        raise InvalidInput("The period must end on or after the day it starts.", fields={"to": "Must not be before from."})
    organisation = await organisations.by_id(organisation_id)
    start = datetime.combine(first_day, time(), UK).astimezone(timezone.utc)
    end = datetime.combine(last_day + timedelta(days=1), time(), UK).astimezone(timezone.utc)
    rows = await db.run(queries.SCHEDULE, organisation_id, start, end, organisation_id, start, end)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(rules.SCHEDULE_HEADER)
    donations = total = 0
    for row in rows:
        donation = rules.ScheduledDonation(
            title=row["title"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            house=row["house"],
            postcode=row["postcode"],
            paid_at=_moment(row["paid_at"]),
            pence=int(row["pence"]),
        )
        if donation.pence > 0:
            writer.writerow(rules.schedule_row(donation, UK))
            donations, total = donations + 1, total + donation.pence
    return Schedule(
        csv=buffer.getvalue(),
        filename=rules.schedule_filename(organisation.gift_aid_reference, organisation.slug, first_day, last_day),
        charity_name=organisation.charity_name or organisation.name,
        charity_number=organisation.charity_number,
        gift_aid_reference=organisation.gift_aid_reference,
        donations=donations,
        total_pence=total,
    )


async def claimable_by_partner(event_id: int, *, start: datetime = FAR_PAST, end: datetime = FAR_FUTURE) -> dict[int, int]:
    """The Gift Aid each of the event's partners can claim on declared donations paid (or refunds donated) in [start, end)."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    rows = await db.run(queries.CLAIMABLE_BY_PARTNER, event_id, start, end, event_id, start, end)
    pooled = 0
    designated: dict[int, int] = {}
    for row in rows:
        claimable, to_partner = int(row["claimable"] or 0), int(row["designated"] or 0)
        pooled += claimable - to_partner
        if row["partner"] is not None:
            designated[row["partner"]] = to_partner
    shares = (
        await BeneficiaryShare.select(BeneficiaryShare.partner, BeneficiaryShare.share_bp)
        .where(BeneficiaryShare.event == event_id)
        .order_by(BeneficiaryShare.id)
    )
    return rules.claimable_by_partner(pooled, designated, [(s["partner"], s["share_bp"]) for s in shares])


def _moment(value: Any) -> datetime:
    # SQLite hands raw timestamps back as text.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
