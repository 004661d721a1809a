"""A partner project's payouts page (organisers of the whole organisation, as for recording payouts in the API): what
each of its events still owes it, a form to record a payout, and every payout with a way to reverse it. Reached
from the event statement's partner cards and the partner statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, TREASURER, CurrentUser
from events.backoffice.payout_forms import read_payout
from events.errors import EventsError
from events.i18n import N_
from events.ledger import payouts, words
from events.row_ids import RowIdParameter

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
Form = URLEncodedBody[dict[str, str]]
NOTICES = ("recorded", "reversed")
UK = ZoneInfo("Europe/London")
# The service's field names, as the form names them.
FORM_FIELDS = {"amount_pence": "amount", "event_slug": "event"}


async def _render(
    request: Request[CurrentUser, Any, Any],
    slug: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    ask_reason: bool = False,
    reverse_error: tuple[int, str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> Template:
    page = await payouts.partner_payouts(slug, user=request.user)
    context = {
        "page": page,
        "values": values or {},
        "errors": errors or {},
        "ask_reason": ask_reason,
        "reverse_error": reverse_error,
        "notice": notice if notice in NOTICES else "",
        "money_words": words,
    }
    return Template("backoffice/payouts.html", context=context, status_code=status_code, headers=PRIVATE)


class PayoutPages(Controller):
    path = "/manage/partners/{partner_slug:str}/payouts"
    include_in_schema = False
    guards = [requires_role(ORGANISER, TREASURER, unrestricted=True)]

    @get("/", name="partner_payouts")
    async def show(
        self,
        request: Request[CurrentUser, Any, Any],
        partner_slug: FromPath[str],
        now: NamedDependency[datetime],
        event: FromQuery[str] = "",
        notice: FromQuery[str] = "",
    ) -> Template:
        today = now.astimezone(UK).date().isoformat()  # most payouts are recorded the day they are made
        return await _render(request, partner_slug, values={"event": event, "paid_on": today}, notice=notice)

    @post("/", status_code=303)
    async def record(
        self, request: Request[CurrentUser, Any, Any], partner_slug: FromPath[str], data: Form, now: NamedDependency[datetime]
    ) -> Template | Redirect:
        payout, errors = read_payout(data)
        # The reason is asked for once the amount is more than is owed (or kept, if the treasurer gave one).
        ask_reason = bool((data.get("override_reason") or "").strip())
        status = 422
        if payout is not None:
            try:
                await payouts.record_payout_on(
                    partner_slug,
                    event_slug=payout.event,
                    amount_pence=payout.amount_pence,
                    paid_on=payout.paid_on,
                    bank_reference=payout.bank_reference,
                    override_reason=payout.override_reason,
                    user=request.user,
                    now=now,
                )
            except EventsError as error:
                if error.code == "partner_not_found":
                    raise
                status = error.status_code
                if error.code == "event_not_found":
                    errors = {"event": N_("Choose one of this partner project's events.")}
                else:
                    errors = {FORM_FIELDS.get(name, name): message for name, message in error.fields.items()} or {"form": error.message}
                ask_reason = ask_reason or error.code == "payout_exceeds_balance"
            else:
                return Redirect(f"/manage/partners/{partner_slug}/payouts?notice=recorded", status_code=303)
        return await _render(request, partner_slug, values=data, errors=errors, ask_reason=ask_reason, status_code=status)

    @post("/{payout_id:int}/reverse", status_code=303)
    async def reverse(
        self,
        request: Request[CurrentUser, Any, Any],
        partner_slug: FromPath[str],
        payout_id: RowIdParameter,
        data: Form,
        now: NamedDependency[datetime],
    ) -> Template | Redirect:
        if data.get("confirm") != "yes":
            problem = (payout_id, N_("Tick the box to confirm: a reversing payout is recorded and cannot be undone."))
            return await _render(request, partner_slug, reverse_error=problem, status_code=422)
        try:
            await payouts.reverse_payout(partner_slug, payout_id, reason=data.get("reason") or "", user=request.user, now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            message = next(iter(error.fields.values()), error.message)
            return await _render(request, partner_slug, reverse_error=(payout_id, message), status_code=error.status_code)
        return Redirect(f"/manage/partners/{partner_slug}/payouts?notice=reversed", status_code=303)
