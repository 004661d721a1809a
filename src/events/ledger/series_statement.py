"""A series' statement: its events' statements added up per partner project.

Each event's figures are its own reconciliation's (ledger.statements.event_reconciliation, so the same allocation and
the same numbers as the event's statement page); this module only adds them up. Drafts are left out (nothing is sold
yet, though a copy's costs may already be recorded), as are events with no partner projects and events in another
currency than the series' first; the statement lists what it left out and why.

Its spreadsheets are the event statement's (ledger.spreadsheets): a row per event and partner project (each line of
each event's own statement) and the total, then a sheet of each partner project's figures over the series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from msgspec import Struct

from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event, Partner, Series
from events.errors import Conflict, NotFound
from events.i18n import N_
from events.ledger import spreadsheets, statements
from events.ledger.allocation import INCOME_KINDS
from events.ledger.schemas import EventReconciliation, Figures, IssuerOut, NamedPartnerLine, Totals

LeftOutReason = Literal["draft", "no_partners", "other_currency"]


class SeriesStatementEvent(Struct, frozen=True):
    """One event added up in the series' statement: its totals over every partner, as on its own statement."""

    event: str
    title: str
    starts_at: datetime
    status: EventStatus
    reconciled: bool
    card_payments: int  # by card through Stripe (none: nothing to reconcile)
    totals: Totals
    costs_pence: int
    deficit_pence: int
    unused_contributions_pence: int
    retained_booking_fees_pence: int


class LeftOutEvent(Struct, frozen=True):
    """An event of the series its statement does not add up, and why."""

    event: str
    title: str
    starts_at: datetime
    reason: LeftOutReason


class SeriesStatement(Struct, frozen=True):
    """The series' events added up: each partner's figures over every event (``partners``), and each event's totals
    (``events``); both add up to ``totals``."""

    series: str
    title: str
    currency: str
    partners: list[NamedPartnerLine]
    events: list[SeriesStatementEvent]
    totals: Totals
    costs_pence: int
    costs_covered_by_contributions_pence: int
    unused_contributions_pence: int
    retained_booking_fees_pence: int
    deficit_pence: int
    reconciled: bool
    card_payments: int  # its events', by card through Stripe (none: nothing to reconcile)
    left_out: list[LeftOutEvent]
    issued_by: IssuerOut


async def series_statement(slug: str) -> SeriesStatement:
    statement, _ = await _series_statement(slug)
    return statement


async def series_statement_sheets(slug: str) -> list[spreadsheets.Sheet]:
    """The series' statement for a spreadsheet: a row per event and partner project and the total, then a row per
    partner project over the series and the total (the same total)."""
    statement, lines = await _series_statement(slug)
    over_the_series = [spreadsheets.StatementLine(statement.title, None, line.name, line) for line in statement.partners]
    return [
        spreadsheets.statement_sheet(lines, statement.totals, statement.currency),
        spreadsheets.statement_sheet(over_the_series, statement.totals, statement.currency, title="Partners"),
    ]


async def _series_statement(slug: str) -> tuple[SeriesStatement, list[spreadsheets.StatementLine]]:
    """The statement, and each line of each event's statement added up in it (for the spreadsheets)."""
    series = await Series.select().where(Series.slug == slug).first()
    if series is None:
        raise NotFound(N_("We could not find that series."), code="series_not_found")
    rows = (
        await Event.select(Event.slug, Event.title, Event.status, Event.starts_at, Event.timezone, Event.currency)
        .where(Event.series == series["id"])
        .order_by(Event.starts_at)
        .order_by(Event.id)
    )
    currency = next((row["currency"] for row in rows if row["status"] != EventStatus.draft), "GBP")
    added: list[tuple[dict[str, Any], EventReconciliation]] = []
    left_out: list[LeftOutEvent] = []
    for row in rows:
        starts_at = row["starts_at"].astimezone(ZoneInfo(row["timezone"]))
        reason: LeftOutReason | None = None
        if row["status"] == EventStatus.draft:
            reason = "draft"
        elif row["currency"] != currency:
            reason = "other_currency"
        else:
            try:
                added.append((row, await statements.event_reconciliation(row["slug"])))
            except Conflict as error:
                if error.code != "no_beneficiaries":
                    raise
                reason = "no_partners"
        if reason is not None:
            left_out.append(LeftOutEvent(event=row["slug"], title=row["title"], starts_at=starts_at, reason=reason))

    lines = [line for _, reconciliation in added for line in reconciliation.partners]
    by_partner: dict[str, list[Figures]] = defaultdict(list)
    for line in lines:
        by_partner[line.partner].append(line)
    names = {row["slug"]: row["name"] for row in await Partner.select(Partner.slug, Partner.name).where(Partner.slug.is_in(list(by_partner) or [""]))}
    partners = sorted(
        (NamedPartnerLine(partner=partner, name=names.get(partner, partner), **_added(figures)) for partner, figures in by_partner.items()),
        key=lambda line: line.name.casefold(),
    )
    statement = SeriesStatement(
        series=series["slug"],
        title=series["title"],
        currency=currency,
        partners=partners,
        events=[
            SeriesStatementEvent(
                event=reconciliation.event,
                title=row["title"],
                starts_at=row["starts_at"].astimezone(ZoneInfo(row["timezone"])),
                status=EventStatus(row["status"]),
                reconciled=reconciliation.reconciled,
                card_payments=reconciliation.card_payments,
                totals=reconciliation.totals,
                costs_pence=reconciliation.costs_pence,
                deficit_pence=reconciliation.deficit_pence,
                unused_contributions_pence=reconciliation.unused_contributions_pence,
                retained_booking_fees_pence=reconciliation.retained_booking_fees_pence,
            )
            for row, reconciliation in added
        ],
        totals=Totals(**_added(lines)),
        costs_pence=sum(r.costs_pence for _, r in added),
        costs_covered_by_contributions_pence=sum(r.costs_covered_by_contributions_pence for _, r in added),
        unused_contributions_pence=sum(r.unused_contributions_pence for _, r in added),
        retained_booking_fees_pence=sum(r.retained_booking_fees_pence for _, r in added),
        deficit_pence=sum(r.deficit_pence for _, r in added),
        reconciled=all(r.reconciled for _, r in added),
        card_payments=sum(r.card_payments for _, r in added),
        left_out=left_out,
        issued_by=await statements.issuer(series["organisation"]),
    )
    sheet_lines = [
        spreadsheets.StatementLine(
            row["title"], row["starts_at"].astimezone(ZoneInfo(row["timezone"])).date(), names.get(line.partner, line.partner), line
        )
        for row, reconciliation in added
        for line in reconciliation.partners
    ]
    return statement, sheet_lines


def series_statement_csv(statement: SeriesStatement) -> str:
    """The machine CSV: a row per partner project and the total, in pence, with the columns of an event's
    reconciliation CSV."""
    return statements.figures_csv("partner", [(line.partner, line) for line in statement.partners], statement.totals)


def _added(lines: Iterable[Figures]) -> dict[str, Any]:
    """The figures of ``lines`` added up (the fields of Totals)."""
    income: dict[str, int] = defaultdict(int)
    sums = dict.fromkeys(
        ("refunds_pence", "fees_pence", "costs_pence", "net_pence", "paid_out_pence", "balance_pence", "gift_aid_claimable_pence"), 0
    )
    for line in lines:
        for kind, pence in line.income_pence.items():
            income[kind] += pence
        for name in sums:
            sums[name] += getattr(line, name)
    return {"income_pence": {kind: income.get(kind, 0) for kind in INCOME_KINDS}, **sums}
