"""Back-office order pages: find an event's orders, download its attendee list, and look after one order
(resend its tickets, change a holder, refund). Searches are posted, so guests' names and emails never
appear in a URL or an access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.backoffice import orders
from events.backoffice.order_forms import GivenBackForm, HolderForm, RefundForm, SearchForm
from events.errors import EventsError
from events.forms import read_form
from events.payments.gateways import Gateways
from events.questions import service as questions
from events.row_ids import RowIdParameter
from events.templating import page_context
from events.tickets import service as tickets
from events.tickets.deliveries import deliveries_of

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
DONE = ("resent", "holder", "refunded", "given_back")


@dataclass(frozen=True, slots=True)
class FormError:
    """Why one of the order page's forms was refused: which form (and which ticket's), the message, each field's problem."""

    form: str
    message: str
    fields: dict[str, str]
    ticket: int | None = None
    refund: int | None = None


def _error(form: str, error: EventsError, *, ticket: int | None = None, refund: int | None = None) -> FormError:
    return FormError(form, error.message, error.fields, ticket, refund)


async def _order_page(
    reference: str,
    *,
    now: datetime,
    done: str = "",
    error: FormError | None = None,
    values: Any = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    detail = await orders.order_for_organiser(reference)
    context = page_context(detail) | {"done": done if done in DONE else "", "error": error, "values": values}
    context["deliveries"] = await deliveries_of(reference, now=now)
    context["answers"] = await questions.order_answer_lines(detail.order.id)
    return Template("backoffice/order.html", context=context, status_code=status, headers=PRIVATE | (headers or {}))


def _orders_page(found: orders.OrderPage) -> Template:
    context = {"found": found, "event": found.event, "statuses": orders.ORDER_STATUSES}
    return Template("backoffice/orders.html", context=context, headers=PRIVATE)


class OrderPages(Controller):
    path = "/manage"
    include_in_schema = False
    guards = [requires_role(ORGANISER)]

    @get("/events/{slug:str}/orders", name="event_orders")
    async def list_orders(self, slug: FromPath[str], page: FromQuery[int] = 1, status: FromQuery[str] = "") -> Template:
        found = await orders.search_orders(slug, "", page, status=status)
        return _orders_page(found)

    @post("/events/{slug:str}/orders", status_code=200)
    async def search_orders(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        form = await read_form(request, SearchForm)
        found = await orders.search_orders(slug, form.q, form.page, status=form.status)
        return _orders_page(found)

    @get("/events/{slug:str}/attendees.csv")
    async def attendees(self, slug: FromPath[str]) -> Response[str]:
        return Response(
            await orders.attendees_csv(slug),
            media_type="text/csv; charset=utf-8",
            headers={**PRIVATE, "Content-Disposition": f'attachment; filename="attendees-{slug}.csv"'},
        )

    @get("/orders/{reference:str}", name="manage_order")
    async def order(self, reference: FromPath[str], now: NamedDependency[datetime], done: FromQuery[str] = "") -> Template:
        return await _order_page(reference, now=now, done=done)

    @post("/orders/{reference:str}/resend", status_code=303)
    async def resend(self, reference: FromPath[str], now: NamedDependency[datetime]) -> Redirect | Template:
        try:
            await tickets.resend_tickets(reference, now=now)
        except EventsError as error:
            return await _order_page(reference, now=now, error=_error("resend", error), status=error.status_code, headers=error.headers)
        return Redirect(f"/manage/orders/{reference}?done=resent", status_code=303)

    @post("/orders/{reference:str}/tickets/{ticket_id:int}/holder", status_code=303)
    async def change_holder(
        self, request: Request[Any, Any, Any], reference: FromPath[str], ticket_id: FromPath[int], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        form = await read_form(request, HolderForm)
        try:
            await orders.change_holder(reference, ticket_id, form, now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return await _order_page(reference, now=now, error=_error("holder", error, ticket=ticket_id), values=form, status=error.status_code)
        return Redirect(f"/manage/orders/{reference}?done=holder", status_code=303)

    @post("/orders/{reference:str}/refund", status_code=303)
    async def refund(
        self, request: Request[Any, Any, Any], reference: FromPath[str], now: NamedDependency[datetime], gateways: NamedDependency[Gateways]
    ) -> Redirect | Template:
        form = await read_form(request, RefundForm)
        user: CurrentUser = request.user
        try:
            await orders.refund(reference, form, requested_by=user.email, gateway=await gateways.for_order(reference), now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return await _order_page(reference, now=now, error=_error("refund", error), values=form, status=error.status_code)
        return Redirect(f"/manage/orders/{reference}?done=refunded", status_code=303)

    @post("/orders/{reference:str}/refunds/{refund_id:int}/given-back", status_code=303)
    async def given_back(
        self, request: Request[Any, Any, Any], reference: FromPath[str], refund_id: RowIdParameter, now: NamedDependency[datetime]
    ) -> Redirect | Template:
        """A refund Stripe refused, recorded as given back to the guest by bank transfer or in cash."""
        form = await read_form(request, GivenBackForm)
        user: CurrentUser = request.user
        try:
            await orders.give_back_refund(reference, refund_id, form, requested_by=user.email, now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return await _order_page(reference, now=now, error=_error("given_back", error, refund=refund_id), values=form, status=error.status_code)
        return Redirect(f"/manage/orders/{reference}?done=given_back", status_code=303)
