"""Payouts to a partner project: listing them with what is still owed, recording one from the back office's form
(through statements.record_payout, which refuses paying more than is owed without a reason), and undoing one by a
reversal: a new payout of the opposite amount naming the one it undoes, booked to the ledger as its own entry.
A payout is never edited or deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from events import db, text
from events.accounts.roles import CurrentUser
from events.audit import service as audit
from events.catalogue.lookup import find_event
from events.catalogue.tables import Partner
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ledger import service, statements
from events.ledger.schemas import PayoutOut, StatementEvent
from events.ledger.tables import Payout

EARLIEST_PAYOUT = date(2000, 1, 1)
REASON_MAX = 1000


@dataclass(frozen=True, slots=True)
class PayoutRow:
    """A payout as the partner's payouts page lists it (times at the event's venue)."""

    id: int
    event_slug: str
    event_title: str
    amount_pence: int
    currency: str
    paid_on: datetime
    bank_reference: str
    override_reason: str
    recorded_by: str
    created_at: datetime
    reverses: int | None
    reversed_by: int | None


@dataclass(frozen=True, slots=True)
class PartnerPayouts:
    """A partner project's payouts page: what each of its events owes it, and every payout, newest first."""

    partner: str  # its slug
    name: str
    currency: str
    owed: list[StatementEvent]
    payouts: list[PayoutRow]


async def partner_payouts(slug: str, *, user: CurrentUser) -> PartnerPayouts:
    partner = await _partner(slug)
    statement = await statements.partner_statement(slug, start=service.FAR_PAST, end=service.FAR_FUTURE, user=user)
    rows = (
        await Payout.select(*Payout.all_columns(), Payout.event.slug, Payout.event.title, Payout.event.timezone)
        .where(Payout.partner == partner["id"])
        .order_by(Payout.id, ascending=False)
    )
    reversed_by = {row["reverses"]: row["id"] for row in rows if row["reverses"] is not None}
    payouts = [
        PayoutRow(
            id=row["id"],
            event_slug=row["event.slug"] or "",
            event_title=row["event.title"] or "",
            amount_pence=row["amount_pence"],
            currency=row["currency"],
            paid_on=_at_venue(row["paid_on"], row["event.timezone"]),
            bank_reference=row["bank_reference"],
            override_reason=row["override_reason"],
            recorded_by=row["recorded_by"],
            created_at=_at_venue(row["created_at"], row["event.timezone"]),
            reverses=row["reverses"],
            reversed_by=reversed_by.get(row["id"]),
        )
        for row in rows
    ]
    return PartnerPayouts(partner["slug"], partner["name"], statement.currency, statement.events, payouts)


async def list_payouts(slug: str) -> list[PayoutOut]:
    """Every payout to the partner project, newest first, reversals among them (the API's list)."""
    partner = await _partner(slug)
    rows = await Payout.select().where(Payout.partner == partner["id"]).order_by(Payout.id, ascending=False)
    reversed_by = {row["reverses"]: row["id"] for row in rows if row["reverses"] is not None}
    return [PayoutOut.of(row, reversed_by=reversed_by.get(row["id"])) for row in rows]


async def record_payout_on(
    slug: str,
    *,
    event_slug: str,
    amount_pence: int,
    paid_on: date,
    bank_reference: str,
    override_reason: str,
    user: CurrentUser,
    now: datetime,
) -> PayoutOut:
    """The back office's form: a payout paid on a day (at noon at the event's venue, so the day is the same in UTC)."""
    event = await find_event(event_slug)
    zone = ZoneInfo(event.timezone or "UTC")
    if paid_on > now.astimezone(zone).date():
        raise InvalidInput(N_("A payout cannot be dated in the future."), fields={"paid_on": N_("Give the day the money was paid, today or before.")})
    if paid_on < EARLIEST_PAYOUT:
        raise InvalidInput(N_("That date is too long ago."), fields={"paid_on": N_("Give the day the money was paid, today or before.")})
    return await statements.record_payout(
        slug,
        event_slug=event_slug,
        amount_pence=amount_pence,
        paid_on=datetime.combine(paid_on, time(12), zone),
        bank_reference=bank_reference,
        override_reason=override_reason,
        user=user,
        now=now,
    )


async def reverse_payout(slug: str, payout_id: int, *, reason: str, user: CurrentUser, now: datetime) -> PayoutOut:
    """Undo a payout: a new payout of the opposite amount with ``reverses`` set, booked to the ledger, in the
    partner's lock as a payout is recorded. A payout is reversed at most once (the unique index payout_reverses
    holds it too), and a reversal is never reversed: record the payout again instead."""
    problem = text.text_problem(reason, required=False)
    if problem is not None or len(reason) > REASON_MAX:
        raise InvalidInput(N_("Check the reason."), fields={"reason": problem or N_("Use at most 1000 characters.")})
    async with db.write_transaction():
        partner = await db.locked(Partner.select().where(Partner.slug == slug)).first()
        if partner is None:
            raise NotFound(N_("We could not find that partner project."), code="partner_not_found")
        original = await Payout.select().where(Payout.id == payout_id, Payout.partner == partner["id"]).first()
        if original is None:
            raise NotFound(N_("We could not find that payout."), code="payout_not_found")
        if original["reverses"] is not None:
            raise Conflict(N_("This is a reversal: it cannot be reversed itself. Record the payout again instead."), code="payout_is_reversal")
        if await Payout.exists().where(Payout.reverses == payout_id):
            raise Conflict(N_("This payout has already been reversed."), code="payout_already_reversed")
        if original["event"] is not None:
            await service.lock_event_money(original["event"])
        reversal = Payout(
            partner=partner["id"],
            event=original["event"],
            amount_pence=-original["amount_pence"],
            currency=original["currency"],
            paid_on=now,
            bank_reference=original["bank_reference"],
            override_reason=" ".join(reason.split()),
            recorded_by=user.email,
            created_at=now,
            reverses=payout_id,
        )
        await reversal.save()
        await service.book_payout(reversal.id, now=now)
        await audit.record(
            "payout.reversed",
            now=now,
            event_id=original["event"],
            organisation_id=partner["organisation"],
            subject_type="payout",
            subject_id=payout_id,
            before={"amount_pence": original["amount_pence"], "bank_reference": original["bank_reference"]},
            after={"partner": slug, "reversal": reversal.id, "amount_pence": reversal.amount_pence, "reason": reversal.override_reason},
            actor=user,
        )
    return PayoutOut.of(reversal.to_dict())


async def _partner(slug: str) -> dict[str, Any]:
    partner = await Partner.select(Partner.id, Partner.slug, Partner.name, Partner.organisation).where(Partner.slug == slug).first()
    if partner is None:
        raise NotFound(N_("We could not find that partner project."), code="partner_not_found")
    return partner


def _at_venue(moment: datetime, zone: str | None) -> datetime:
    return moment.astimezone(ZoneInfo(zone or "UTC"))


__all__ = ["PartnerPayouts", "PayoutRow", "list_payouts", "partner_payouts", "record_payout_on", "reverse_payout"]
