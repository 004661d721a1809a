"""Ledger HTTP (organisers and treasurers, and partner viewers for their own statement): reconciliation,
statements, costs (organisers only) and payouts, as JSON, CSV and PDF; and the statement pages for signed-in people."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import MultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta

from events import text
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, PARTNER_VIEWER, TREASURER, CurrentUser
from events.dependencies import BEARER, error_responses
from events.errors import Conflict, InvalidInput
from events.i18n import N_
from events.ledger import access as _access  # noqa: F401 - registers the payout_id ownership check with the guards
from events.ledger import payouts, service, spreadsheets, statements, stripe_balance, words
from events.ledger.pdf import statement_pdf
from events.ledger.schemas import EventReconciliation, PartnerStatement, PayoutOut, Rebooked, StripeImported, UnusedDecision
from events.payments.gateways import Gateways
from events.row_ids import RowIdParameter

# Money owed to charities: never from a shared cache, never indexed.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class CostIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Annotated[str, Meta(min_length=1, max_length=200), text.LINE]
    amount_pence: Annotated[int, Meta(ge=-10_000_000, le=10_000_000)]


class PayoutIn(msgspec.Struct, forbid_unknown_fields=True):
    event: Annotated[str, Meta(min_length=1, max_length=80), text.LINE]
    amount_pence: Annotated[int, Meta(ge=1, le=100_000_000)]
    paid_on: datetime
    bank_reference: Annotated[str, Meta(min_length=1, max_length=120), text.LINE]
    override_reason: Annotated[str, Meta(max_length=1000), text.OPTIONAL_TEXT] = ""


class ReverseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=1000), text.OPTIONAL_TEXT] = ""


class StripeImportIn(msgspec.Struct, forbid_unknown_fields=True):
    from_: datetime | None = msgspec.field(default=None, name="from")
    to: datetime | None = None


class UnusedDecisionForm(msgspec.Struct):
    """The statement's form for unused pay-it-forward money: the choice, then (on the confirmation) confirmed."""

    decision: str = ""
    target_event: str = ""
    confirmed: str = ""


class UnusedDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["beneficiaries", "carry_over"]
    target_event: Annotated[str, Meta(min_length=1, max_length=80), text.LINE] | None = None


def _csv(text: str, filename: str) -> Response[str]:
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_csv_response(sheets: list[spreadsheets.Sheet], filename: str) -> Response[bytes]:
    """The statement's first table as a spreadsheet-friendly CSV (ledger.spreadsheets)."""
    content = spreadsheets.table_csv(sheets[0].headers, sheets[0].rows)
    return Response(content, media_type="text/csv", headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'})


def xlsx_response(sheets: list[spreadsheets.Sheet], filename: str) -> Response[bytes]:
    return Response(
        spreadsheets.workbook_xlsx(sheets, made_on=datetime.now(timezone.utc).date()),
        media_type=XLSX,
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _pdf(content: bytes, filename: str) -> Response[bytes]:
    return Response(content, media_type="application/pdf", headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'})


def _aware(moment: datetime | None, default: datetime) -> datetime:
    if moment is None:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _period(params: MultiDict[str]) -> tuple[datetime, datetime]:
    """?from=&to= as [start, end): either may be left out (all entries before, or since)."""
    try:
        start = _aware(datetime.fromisoformat(params["from"]) if params.get("from") else None, service.FAR_PAST)
        end = _aware(datetime.fromisoformat(params["to"]) if params.get("to") else None, service.FAR_FUTURE)
    except ValueError:
        raise InvalidInput("Give from and to as dates, e.g. 2027-08-01.", fields={"from": "Not a date."}) from None
    return start, end


async def _partner_statement(request: Request[Any, Any, Any], slug: str) -> PartnerStatement:
    start, end = _period(request.query_params)
    return await statements.partner_statement(slug, start=start, end=end, user=request.user)


class LedgerApi(Controller):
    path = "/api"
    tags = ["Reconciliation"]
    security = BEARER

    @get(
        "/events/{slug:str}/reconciliation",
        summary="What each partner is owed and why, checked against Stripe",
        guards=[requires_role(ORGANISER, TREASURER)],
        responses=error_responses(401, 403, 404),
    )
    async def reconciliation(self, slug: FromPath[str]) -> EventReconciliation:
        return await statements.event_reconciliation(slug)

    @get(
        "/events/{slug:str}/reconciliation.csv",
        summary="The reconciliation as CSV",
        guards=[requires_role(ORGANISER, TREASURER)],
        responses=error_responses(401, 403, 404),
    )
    async def reconciliation_csv(self, slug: FromPath[str]) -> Response[str]:
        data = await statements.event_reconciliation(slug)
        return _csv(statements.reconciliation_csv(data), f"reconciliation-{slug}.csv")

    @post(
        "/events/{slug:str}/costs",
        summary="Record an event cost (a negative amount corrects an earlier one)",
        guards=[requires_role(ORGANISER)],
        responses=error_responses(401, 403, 404, 422),
    )
    async def add_cost(self, slug: FromPath[str], data: JSONBody[CostIn], now: NamedDependency[datetime]) -> None:
        await service.add_event_cost(slug, description=data.description, amount_pence=data.amount_pence, now=now)

    @get(
        "/partners/{partner_slug:str}/statement",
        summary="A partner's statement for a period (partner viewers: their own)",
        guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)],
        responses=error_responses(401, 403, 404, 422),
    )
    async def statement(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> PartnerStatement:
        return await _partner_statement(request, partner_slug)

    @get(
        "/partners/{partner_slug:str}/statement.csv",
        summary="The partner statement as CSV",
        guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)],
        responses=error_responses(401, 403, 404, 422),
    )
    async def statement_csv(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> Response[str]:
        data = await _partner_statement(request, partner_slug)
        return _csv(statements.reconciliation_csv(data), f"statement-{partner_slug}.csv")

    @get(
        "/partners/{partner_slug:str}/statement.pdf",
        summary="The partner statement as an A4 PDF to sign off",
        media_type="application/pdf",
        guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)],
        responses=error_responses(401, 403, 404, 422),
    )
    async def statement_pdf(self, request: Request[Any, Any, Any], partner_slug: FromPath[str], now: NamedDependency[datetime]) -> Response[bytes]:
        data = await _partner_statement(request, partner_slug)
        return _pdf(await statement_pdf(data, now=now), f"statement-{partner_slug}.pdf")

    @post(
        "/partners/{partner_slug:str}/payouts",
        summary="Record a payout to a partner",
        guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)],
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def payout(
        self, request: Request[Any, Any, Any], partner_slug: FromPath[str], data: JSONBody[PayoutIn], now: NamedDependency[datetime]
    ) -> PayoutOut:
        return await statements.record_payout(
            partner_slug,
            event_slug=data.event,
            amount_pence=data.amount_pence,
            paid_on=_aware(data.paid_on, now),
            bank_reference=data.bank_reference,
            override_reason=data.override_reason,
            user=request.user,
            now=now,
        )

    @get(
        "/partners/{partner_slug:str}/payouts",
        summary="A partner's payouts, newest first, reversals among them",
        guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)],
        responses=error_responses(401, 403, 404),
    )
    async def list_payouts(self, partner_slug: FromPath[str]) -> list[PayoutOut]:
        return await payouts.list_payouts(partner_slug)

    @post(
        "/partners/{partner_slug:str}/payouts/{payout_id:int}/reverse",
        summary="Undo a payout with a reversing payout (never an edit); a payout is reversed at most once",
        guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)],
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def reverse_payout(
        self,
        request: Request[CurrentUser, Any, Any],
        partner_slug: FromPath[str],
        payout_id: RowIdParameter,
        now: NamedDependency[datetime],
        data: JSONBody[ReverseIn | None] = None,
    ) -> PayoutOut:
        reason = data.reason if data is not None else ""
        return await payouts.reverse_payout(partner_slug, payout_id, reason=reason, user=request.user, now=now)

    @post(
        "/events/{slug:str}/pay-it-forward/unused",
        summary="Decide where unused pay-it-forward money goes (after closing)",
        guards=[requires_role(ORGANISER, TREASURER)],
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def decide_unused(
        self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], data: JSONBody[UnusedDecisionIn], now: NamedDependency[datetime]
    ) -> UnusedDecision:
        return await service.decide_unused_contributions(slug, decision=data.decision, target_slug=data.target_event, now=now, user=request.user)

    @post(
        "/events/{slug:str}/ledger/rebook",
        summary="Book whatever of the event's money the ledger is missing (a repair; normally nothing)",
        guards=[requires_role(ORGANISER)],
        responses=error_responses(401, 403, 404),
    )
    async def rebook(self, slug: FromPath[str], now: NamedDependency[datetime]) -> Rebooked:
        return await service.rebook_event(slug, now=now)

    @post(
        "/stripe/balance-transactions/import",
        summary="Import the organisation's Stripe balance transactions for a period (default: since its last import)",
        description="From the token's organisation's own Stripe account (or, for the first organisation without one, the environment's).",
        guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)],
        responses=error_responses(401, 403, 409, 422),
    )
    async def import_stripe(
        self, request: Request[Any, Any, Any], data: JSONBody[StripeImportIn], now: NamedDependency[datetime], gateways: NamedDependency[Gateways]
    ) -> StripeImported:
        return await stripe_balance.import_for_organisation(
            request.user.organisation,
            gateways=gateways,
            start=_aware(data.from_, now) if data.from_ else None,
            end=_aware(data.to, now) if data.to else None,
            now=now,
            requested_by=request.user.email,
        )


class StatementPages(Controller):
    """Statements for signed-in people: an event's reconciliation (organisers and treasurers) and a partner's
    statement (organisers and treasurers, or that partner's viewers), each with CSV and PDF downloads."""

    path = "/manage"
    include_in_schema = False

    @get("/events/{slug:str}/statement", name="event_statement", guards=[requires_role(ORGANISER, TREASURER)])
    async def event_statement(
        self, request: Request[Any, Any, Any], slug: FromPath[str], gateways: NamedDependency[Gateways], now: NamedDependency[datetime]
    ) -> Template:
        statement = await statements.event_statement(slug)
        context = {
            "statement": statement,
            "stripe": await stripe_balance.checks_against_stripe(slug, gateways=gateways),
            "imported": request.query_params.get("imported") == "1",
            "money_words": words,
            "unused": await service.unused_preview(slug, user=request.user, now=now),
            "notice": request.query_params.get("notice", ""),
        }
        return Template("ledger/event_statement.html", context=context, headers=PRIVATE)

    # The same guard as the API's POST /api/events/{slug}/pay-it-forward/unused, and the same service function.
    @post("/events/{slug:str}/statement/pay-it-forward", status_code=200, guards=[requires_role(ORGANISER, TREASURER)])
    async def decide_unused(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: URLEncodedBody[UnusedDecisionForm], now: NamedDependency[datetime]
    ) -> Template | Redirect:
        """First a confirmation of what would move where; once confirmed, the decision (a second one changes nothing)."""
        preview = await service.unused_preview(slug, user=request.user, now=now)
        if preview.decided:
            return Redirect(f"/manage/events/{slug}/statement?notice=already_decided#unused-heading", status_code=303)
        target = data.target_event if data.decision == "carry_over" else None
        if data.decision not in service.UNUSED_DECISIONS or (target is not None and preview.target_title(target) is None):
            raise InvalidInput(N_("Choose where the money goes: the partner projects, or an event to carry it to."), code="no_choice")
        if data.confirmed != "yes":
            context = {"unused": preview, "decision": data.decision, "target": target, "target_title": preview.target_title(target or "")}
            return Template("ledger/unused_confirm.html", context=context, headers=PRIVATE)
        try:
            await service.decide_unused_contributions(slug, decision=data.decision, target_slug=target, now=now, user=request.user)
        except Conflict as exc:
            if exc.code != "already_decided":
                raise
            return Redirect(f"/manage/events/{slug}/statement?notice=already_decided#unused-heading", status_code=303)
        return Redirect(f"/manage/events/{slug}/statement?notice=unused_decided#unused-heading", status_code=303)

    # The import covers the whole organisation's Stripe account, so not for an organiser limited to chosen events.
    @post("/events/{slug:str}/statement/stripe-import", status_code=303, guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)])
    async def import_from_stripe(
        self, request: Request[Any, Any, Any], slug: FromPath[str], now: NamedDependency[datetime], gateways: NamedDependency[Gateways]
    ) -> Redirect:
        """The statement page's "Check against Stripe now": import the event's organisation's account since its
        last import, then show the result."""
        await stripe_balance.import_for_organisation(
            request.user.organisation, gateways=gateways, start=None, end=None, now=now, requested_by=request.user.email
        )
        return Redirect(f"/manage/events/{slug}/statement?imported=1", status_code=303)

    @get("/events/{slug:str}/statement.csv", guards=[requires_role(ORGANISER, TREASURER)])
    async def event_statement_csv(self, slug: FromPath[str]) -> Response[str]:
        data = await statements.event_reconciliation(slug)
        return _csv(statements.reconciliation_csv(data), f"reconciliation-{slug}.csv")

    @get("/events/{slug:str}/statement-spreadsheet.csv", guards=[requires_role(ORGANISER, TREASURER)])
    async def event_statement_spreadsheet(self, slug: FromPath[str]) -> Response[bytes]:
        sheets = statements.event_statement_sheets(await statements.event_statement(slug))
        return spreadsheet_csv_response(sheets, f"statement-{slug}.csv")

    @get("/events/{slug:str}/statement.xlsx", guards=[requires_role(ORGANISER, TREASURER)])
    async def event_statement_xlsx(self, slug: FromPath[str]) -> Response[bytes]:
        sheets = statements.event_statement_sheets(await statements.event_statement(slug))
        return xlsx_response(sheets, f"statement-{slug}.xlsx")

    @get(
        "/partners/{partner_slug:str}/statement",
        name="partner_statement",
        guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)],
    )
    async def partner_statement(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> Template:
        statement = await _partner_statement(request, partner_slug)
        period = {key: request.query_params.get(key, "") for key in ("from", "to")}
        context = {"statement": statement, "period": period, "money_words": words}
        return Template("ledger/partner_statement.html", context=context, headers=PRIVATE)

    @get("/partners/{partner_slug:str}/statement.csv", guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)])
    async def partner_statement_csv(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> Response[str]:
        data = await _partner_statement(request, partner_slug)
        return _csv(statements.reconciliation_csv(data), f"statement-{partner_slug}.csv")

    @get("/partners/{partner_slug:str}/statement-spreadsheet.csv", guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)])
    async def partner_statement_spreadsheet(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> Response[bytes]:
        sheets = statements.partner_statement_sheets(await _partner_statement(request, partner_slug))
        return spreadsheet_csv_response(sheets, f"statement-{partner_slug}-spreadsheet.csv")

    @get("/partners/{partner_slug:str}/statement.xlsx", guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)])
    async def partner_statement_xlsx(self, request: Request[Any, Any, Any], partner_slug: FromPath[str]) -> Response[bytes]:
        sheets = statements.partner_statement_sheets(await _partner_statement(request, partner_slug))
        return xlsx_response(sheets, f"statement-{partner_slug}.xlsx")

    @get("/partners/{partner_slug:str}/statement.pdf", guards=[requires_role(ORGANISER, TREASURER, PARTNER_VIEWER, unrestricted=True)])
    async def partner_statement_pdf(
        self, request: Request[Any, Any, Any], partner_slug: FromPath[str], now: NamedDependency[datetime]
    ) -> Response[bytes]:
        data = await _partner_statement(request, partner_slug)
        return _pdf(await statement_pdf(data, now=now), f"statement-{partner_slug}.pdf")
