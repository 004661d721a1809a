"""Statements: an event's reconciliation and a partner's statement for a period, as data and CSV, each
checked against the Stripe balance transactions imported into the database. Reading one only aggregates:
money is booked to the ledger when it moves (see ledger.service)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from piccolo.query.functions.aggregate import Count, Sum

from events import db
from events.accounts.roles import ORGANISER, TREASURER, CurrentUser
from events.audit import service as audit
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.tables import BeneficiaryShare, Partner
from events.errors import Conflict, InvalidInput, NotAllowed, NotFound
from events.giftaid import service as giftaid
from events.i18n import N_, Sentence
from events.ledger import figures, queries, service, spreadsheets, stripe_balance
from events.ledger.allocation import INCOME_KINDS, EventMoney, PartnerAllocation
from events.ledger.schemas import (
    DoorTakings,
    EventFigures,
    EventReconciliation,
    EventStatement,
    Figures,
    IssuerOut,
    NamedPartnerLine,
    PartnerLine,
    PartnerStatement,
    PayoutOut,
    StatementEvent,
    Totals,
)
from events.ledger.tables import LedgerEntry, Payout
from events.money import format_money
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.organisations import service as organisations
from events.payments.statuses import DOOR_SALE_UNDONE_REASON, PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund


async def event_reconciliation(slug: str) -> EventReconciliation:
    event = await find_event(slug)
    allocation, context = await service.event_allocation(event.id)
    names = await service.partner_names([p.partner_id for p in allocation.partners])
    paid_out = await _paid_out_by_partner(event.id)
    gift_aid = await giftaid.claimable_by_partner(event.id)
    partners = []
    for partner in allocation.partners:
        paid = paid_out.get(partner.partner_id, 0)
        partners.append(PartnerLine(partner=names[partner.partner_id]["slug"], **_figures(partner, paid, gift_aid.get(partner.partner_id, 0))))
    differences = await stripe_balance.differences(event.id)
    imported_to = await stripe_balance.imported_to(await stripe_balance.event_organisation(event.id))
    return EventReconciliation(
        event=event.slug,
        currency=event.currency,
        partners=partners,
        totals=_totals(partners),
        costs_pence=allocation.costs_pence,
        costs_covered_by_contributions_pence=allocation.costs_covered_by_contributions_pence,
        unused_contributions_pence=allocation.unused_contributions_pence,
        retained_booking_fees_pence=allocation.retained_booking_fees_pence,
        deficit_pence=allocation.deficit_pence,
        reconciled=not differences,
        card_payments=await stripe_balance.card_payments(event.id),
        differences=differences,
        stripe_imported_to=imported_to,
        notes=list(allocation.notes),
        figures=_event_figures(context.money, [p.partner_id for p in allocation.partners], paid_out, gift_aid),
    )


async def event_figures(event_id: int) -> EventFigures:
    """The event's figures (ledger.figures) as its dashboard shows them: the same numbers, under the same words, as
    its statement's, whether or not it has partner projects yet."""
    money = await service.event_money(event_id)
    partners = [partner for partner, _ in await service.beneficiary_shares(event_id)]
    return _event_figures(money, partners, await _paid_out_by_partner(event_id), await giftaid.claimable_by_partner(event_id))


def _event_figures(money: EventMoney, partners: list[int], paid_out: dict[int, int], gift_aid: dict[int, int]) -> EventFigures:
    """The event's figures, its paid out and Gift Aid being its partners' (as its statement's partner lines add up)."""
    return figures.event_figures(
        money,
        partners,
        paid_out_pence=sum(paid_out.get(partner, 0) for partner in partners),
        gift_aid_claimable_pence=sum(gift_aid.get(partner, 0) for partner in partners),
    )


async def _paid_out_by_partner(event_id: int) -> dict[int, int]:
    """Pence paid out to each partner for the event, reversals taken off."""
    rows = await Payout.select(Payout.partner, Sum(Payout.amount_pence, alias="pence")).where(Payout.event == event_id).group_by(Payout.partner)
    return {row["partner"]: int(row["pence"]) for row in rows}


async def event_statement(slug: str) -> EventStatement:
    """The organiser's statement page: the reconciliation, with partner names, and ticket sales by day."""
    reconciliation = await event_reconciliation(slug)
    event = await find_event(slug)
    slugs = [line.partner for line in reconciliation.partners]
    names = {row["slug"]: row["name"] for row in await Partner.select(Partner.slug, Partner.name).where(Partner.slug.is_in(slugs or [""]))}
    return EventStatement(
        **msgspec.structs.asdict(reconciliation)
        | {
            "title": event.title,
            "starts_at": _local(event.starts_at, event.timezone),
            "partners": [
                NamedPartnerLine(**msgspec.structs.asdict(line), name=names.get(line.partner, line.partner)) for line in reconciliation.partners
            ],
            "sales_by_day": await ticket_sales_by_day(event),
            "discounts_pence": await discounts_given(event.id),
            "door_takings": await door_takings(event.id),
        }
    )


async def door_takings(event_id: int) -> list[DoorTakings]:
    """The event's money taken at the door by way of paying (those used only), as the door team counts it: payments,
    refunds gone through (succeeded) by that way, and the sales the door team undid."""
    methods = [PaymentMethod.cash, PaymentMethod.card_terminal]
    sold = {
        row["provider"]: (int(row["n"]), int(row["pence"] or 0))
        for row in await Payment.select(Payment.provider, Count(alias="n"), Sum(Payment.amount_pence, alias="pence"))
        .where(Payment.order_id.event == event_id, Payment.provider.is_in(methods))
        .group_by(Payment.provider)
    }

    async def given_back(*only: Any) -> dict[str, tuple[int, int]]:
        rows = (
            await Refund.select(Refund.method, Count(alias="n"), Sum(Refund.amount_pence, alias="pence"))
            .where(Refund.order_id.event == event_id, Refund.method.is_in(methods), Refund.status == RefundStatus.succeeded, *only)
            .group_by(Refund.method)
        )
        return {row["method"]: (int(row["n"]), int(row["pence"] or 0)) for row in rows}

    back = await given_back()
    undone = await given_back(Refund.reason == DOOR_SALE_UNDONE_REASON)
    return [
        DoorTakings(str(method), *sold.get(method, (0, 0)), *back.get(method, (0, 0)), *undone.get(method, (0, 0)))
        for method in methods
        if method in sold
    ]


async def discounts_given(event_id: int) -> int:
    """What codes took off the tickets of the event's orders whose money came in (paid, refunded since, or refunded as
    it came too late): their ticket income is booked after it (Order.tickets_pence)."""
    [row] = await Order.select(Sum(Order.discount_pence, alias="pence")).where(
        Order.event == event_id, Order.status.is_in([OrderStatus.paid, OrderStatus.refunded, OrderStatus.refund_due])
    )
    return int(row["pence"] or 0)


async def ticket_sales_by_day(event: EventRow) -> list[tuple[date, int]]:
    """Ticket income per day in the event's time zone, oldest first: one GROUP BY over the ledger's payments.

    PostgreSQL converts each entry with the zone's rules; SQLite has no zone database, so there the
    zone's offset at the event's start is used for every entry (a sale within an hour of midnight
    across a clock change can land on the neighbouring day)."""
    zone = event.timezone or "UTC"
    if db.is_sqlite():
        offset = event.starts_at.astimezone(ZoneInfo(zone)).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        rows = await db.run(queries.TICKET_SALES_BY_DAY_SQLITE, f"{minutes:+d} minutes", event.id)
    else:
        rows = await db.run(queries.TICKET_SALES_BY_DAY_POSTGRES, zone, event.id)
    return [(_as_date(row["day"]), int(row["pence"])) for row in rows]


def _local(moment: datetime, zone: str) -> datetime:
    """The moment at the event's venue, so its date is the one on the event's page."""
    return moment.astimezone(ZoneInfo(zone or "UTC"))


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def partner_statement(slug: str, *, start: datetime, end: datetime, user: CurrentUser) -> PartnerStatement:
    """A partner's share of every event it benefits from, for entries in [start, end).

    Each event is checked against the imported Stripe balance transactions: ``reconciled`` per event
    (with its ``differences``) and for the whole statement."""
    partner = await Partner.select().where(Partner.slug == slug).first()
    if partner is None:
        raise NotFound(N_("We could not find that partner project."), code="partner_not_found")
    if not user.has_role(ORGANISER, TREASURER) and user.partner_id != partner["id"]:
        raise NotAllowed(N_("You can only see your own partner project's statement."))
    if end <= start:
        raise InvalidInput("The period must end after it starts.", fields={"to": "Must be after from."})
    event_ids = [row["event"] for row in await BeneficiaryShare.select(BeneficiaryShare.event).where(BeneficiaryShare.partner == partner["id"])]
    events = []
    for event_id in event_ids:
        allocation, context = await service.event_allocation(event_id, start=start, end=end)
        mine = next(p for p in allocation.partners if p.partner_id == partner["id"])
        paid = context.payouts.get(partner["id"], 0)
        gift_aid = (await giftaid.claimable_by_partner(event_id, start=start, end=end)).get(partner["id"], 0)
        event = context.event
        differences = await stripe_balance.differences(event_id)
        events.append(
            StatementEvent(
                event=event.slug,
                title=event.title,
                starts_at=_local(event.starts_at, event.timezone),
                currency=event.currency,
                reconciled=not differences,
                card_payments=await stripe_balance.card_payments(event_id),
                differences=differences,
                partner=partner["slug"],
                **_figures(mine, paid, gift_aid),
            )
        )
    return PartnerStatement(
        partner=partner["slug"],
        name=partner["name"],
        from_=start,
        to=end,
        events=events,
        totals=_totals(events),
        currency=events[0].currency if events else "GBP",
        reconciled=all(e.reconciled for e in events),
        card_payments=sum(e.card_payments for e in events),
        issued_by=await issuer(partner["organisation"]),
    )


async def issuer(organisation_id: int) -> IssuerOut:
    """The charity details a statement carries, of the organisation whose books it is drawn from."""
    organisation = await organisations.by_id(organisation_id)
    return IssuerOut(
        organisation=organisation.slug,
        name=organisation.name,
        charity_name=organisation.charity_name,
        charity_number=organisation.charity_number,
        contact_email=organisation.contact_email,
    )


async def record_payout(
    slug: str,
    *,
    event_slug: str,
    amount_pence: int,
    paid_on: datetime,
    bank_reference: str,
    override_reason: str,
    user: CurrentUser,
    now: datetime,
) -> PayoutOut:
    """Record money paid to a partner. Paying more than is owed needs an explicit reason."""
    async with db.write_transaction():
        # The partner is locked until the payout is booked, so two payouts at once cannot both pass the check.
        partner = await db.locked(Partner.select().where(Partner.slug == slug)).first()
        if partner is None:
            raise NotFound(N_("We could not find that partner project."), code="partner_not_found")
        # The event must be one of the partner's organisation's (another organisation's is not found at all).
        paid_for = await find_event(event_slug)
        if paid_for.organisation != partner["organisation"]:
            raise InvalidInput(f"{slug} is not a beneficiary of {event_slug}.", fields={"event": "Not a beneficiary of this event."})
        # And the event, so a cost recorded at the same time cannot change what is owed under the check.
        await service.lock_event_money(paid_for.id)
        reconciliation = await event_reconciliation(event_slug)
        line = next((p for p in reconciliation.partners if p.partner == slug), None)
        if line is None:
            raise InvalidInput(f"{slug} is not a beneficiary of {event_slug}.", fields={"event": "Not a beneficiary of this event."})
        if amount_pence > line.balance_pence and not override_reason.strip():
            owed = format_money(line.balance_pence, paid_for.currency)
            raise Conflict(
                Sentence(N_("That is more than the %(owed)s owed for this event; give a reason to pay it anyway."), owed=owed),
                code="payout_exceeds_balance",
                fields={"override_reason": Sentence(N_("Say why you are paying more than the %(owed)s owed."), owed=owed)},
            )
        event = paid_for
        payout = Payout(
            partner=partner["id"],
            event=event.id,
            amount_pence=amount_pence,
            currency=event.currency,
            paid_on=paid_on,
            bank_reference=bank_reference,
            override_reason=override_reason.strip(),
            recorded_by=user.email,
            created_at=now,
        )
        await payout.save()
        await service.book_payout(payout.id, now=now)
        await audit.record(
            "payout.recorded",
            now=now,
            event_id=event.id,
            subject_type="payout",
            subject_id=payout.id,
            after={
                "partner": slug,
                "amount_pence": amount_pence,
                "paid_on": paid_on,
                "bank_reference": payout.bank_reference,
                "override_reason": payout.override_reason,
                "owed_pence": line.balance_pence,
            },
            actor=user,
        )
    return PayoutOut.of(payout.to_dict())


def reconciliation_csv(reconciliation: EventReconciliation | PartnerStatement) -> str:
    # An event's reconciliation has a row per partner; a partner's statement, a row per event.
    if isinstance(reconciliation, PartnerStatement):
        return figures_csv("event", [(line.event, line) for line in reconciliation.events], reconciliation.totals)
    return figures_csv("partner", [(line.partner, line) for line in reconciliation.partners], reconciliation.totals)


def figures_csv(first_column: str, rows: Sequence[tuple[str, Figures]], totals: Figures) -> str:
    """The machine CSV of a statement: a row per ``first_column`` (partner or event) and the TOTAL, in pence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            first_column,
            *[f"income_{kind}_pence" for kind in INCOME_KINDS],
            "refunds_pence",
            "fees_pence",
            "costs_pence",
            "net_pence",
            "paid_out_pence",
            "balance_pence",
            "gift_aid_claimable_pence",
        ]
    )
    for name, line in [*rows, ("TOTAL", totals)]:
        writer.writerow(
            [
                name,
                *[line.income_pence.get(kind, 0) for kind in INCOME_KINDS],
                line.refunds_pence,
                line.fees_pence,
                line.costs_pence,
                line.net_pence,
                line.paid_out_pence,
                line.balance_pence,
                line.gift_aid_claimable_pence,
            ]
        )
    return buffer.getvalue()


def event_statement_sheets(statement: EventStatement) -> list[spreadsheets.Sheet]:
    """The event's statement for a spreadsheet: a row per partner project and the totals, then the event's own figures."""
    day = statement.starts_at.date()  # at the venue (event_statement gives its start there)
    lines = [spreadsheets.StatementLine(statement.title, day, line.name, line) for line in statement.partners]
    return [
        spreadsheets.statement_sheet(lines, statement.totals, statement.currency),
        spreadsheets.figures_sheet(statement.figures, statement.currency),
    ]


def partner_statement_sheets(statement: PartnerStatement) -> list[spreadsheets.Sheet]:
    """A partner project's statement for a spreadsheet: a row per event and the totals."""
    lines = [spreadsheets.StatementLine(event.title, event.starts_at.date(), statement.name, event) for event in statement.events]
    return [spreadsheets.statement_sheet(lines, statement.totals, statement.currency)]


def _figures(allocation: PartnerAllocation, paid_out: int, gift_aid_pence: int) -> dict[str, Any]:
    """A partner's figures (the fields of Figures) from its allocation."""
    return {
        "income_pence": dict(allocation.income_pence),
        "refunds_pence": allocation.refunds_pence,
        "fees_pence": allocation.fees_pence,
        "costs_pence": allocation.costs_pence,
        "net_pence": allocation.net_pence,
        "paid_out_pence": paid_out,
        "balance_pence": allocation.net_pence - paid_out,
        # Still to be claimed from HMRC, so not part of the net or the balance.
        "gift_aid_claimable_pence": gift_aid_pence,
    }


def _totals(lines: Sequence[Figures]) -> Totals:
    income: dict[str, int] = defaultdict(int)
    for line in lines:
        for kind, pence in line.income_pence.items():
            income[kind] += pence
    return Totals(
        income_pence={kind: income.get(kind, 0) for kind in INCOME_KINDS},
        refunds_pence=sum(line.refunds_pence for line in lines),
        fees_pence=sum(line.fees_pence for line in lines),
        costs_pence=sum(line.costs_pence for line in lines),
        net_pence=sum(line.net_pence for line in lines),
        paid_out_pence=sum(line.paid_out_pence for line in lines),
        balance_pence=sum(line.balance_pence for line in lines),
        gift_aid_claimable_pence=sum(line.gift_aid_claimable_pence for line in lines),
    )


__all__ = [
    "LedgerEntry",
    "event_figures",
    "event_reconciliation",
    "event_statement",
    "event_statement_sheets",
    "partner_statement",
    "partner_statement_sheets",
    "reconciliation_csv",
    "record_payout",
    "ticket_sales_by_day",
]
