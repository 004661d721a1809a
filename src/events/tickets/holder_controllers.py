"""Changing the name on a ticket, by its buyer: the page from the order page (authorised by the order's access token,
in the query and in the form) and its API (the access token as the bearer token). The ticket is re-issued: a new
code, the old one refused at the door, and the updated tickets emailed (tickets.service.change_holder)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from events.config import Settings
from events.dependencies import bearer_token, error_responses
from events.errors import EventsError
from events.orders.access import reference_with_token
from events.orders.schemas import TicketOut
from events.row_ids import RowIdParameter
from events.tickets import service
from events.tickets.schemas import HolderChange

TicketId = RowIdParameter
# A guest page in the guest's language (cookie, else browser), carrying the order's token: never cached, never indexed.
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}


class HolderApi(Controller):
    path = "/api/orders/{reference:str}/tickets/{ticket_id:int}/holder"
    tags = ["Orders"]

    @post(
        "/",
        status_code=200,
        summary="Put another guest's name on one of the order's tickets (send the order's access_token as the bearer token)",
        security=[{"BearerToken": []}],
        responses=error_responses(404, 409, 422),
        description=(
            "The ticket is re-issued to `holder`: a new code (its old code is refused at the door) and the updated "
            "tickets emailed to the buyer. Until the event's cut-off (`name_changes_close_hours_before` hours before it "
            "starts, 24 by default): then 409 `name_changes_closed`. 404 for a ticket of another order; 409 "
            "`ticket_not_valid` for a ticket refunded, passed on or given back."
        ),
    )
    async def change_holder(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        ticket_id: TicketId,
        data: JSONBody[HolderChange],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> TicketOut:
        reference = reference_with_token(settings.secret_key, reference, bearer_token(request))
        return await service.change_holder(ticket_id, data.holder, now=now, buyer_reference=reference)


class HolderPages(Controller):
    path = "/orders/{reference:str}/tickets/{ticket_id:int}/holder"
    include_in_schema = False

    @get("/", name="ticket_holder")
    async def form(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        changed: FromQuery[bool] = False,
    ) -> Template:
        reference = reference_with_token(settings.secret_key, reference, token)
        facts = await service.holder_change_facts(reference, ticket_id, now=now)
        return _page(facts, token, changed=changed)

    @post("/", status_code=303)
    async def change(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Redirect | Template:
        token = data.get("token", "")
        reference = reference_with_token(settings.secret_key, reference, token)
        holder = data.get("holder", "")
        try:
            await service.change_holder(ticket_id, holder, now=now, buyer_reference=reference)
        except EventsError as error:
            facts = await service.holder_change_facts(reference, ticket_id, now=now)
            return _page(facts, token, holder=holder, error=error)
        query = urlencode({"token": token, "changed": "1"})
        return Redirect(f"/orders/{reference}/tickets/{ticket_id}/holder?{query}", status_code=303)


def _page(
    facts: service.HolderChangeFacts, token: str, *, holder: str | None = None, error: EventsError | None = None, changed: bool = False
) -> Template:
    return Template(
        "tickets/holder.html",
        context={
            "ticket": facts,
            "token": token,
            "holder": facts.holder if holder is None else holder,
            "error": error,
            "errors": error.fields if error is not None else {},
            "changed": changed,
            "order_url": f"/orders/{facts.order_reference}?{urlencode({'token': token})}",
        },
        status_code=error.status_code if error is not None else 200,
        headers=GUEST_PAGE,
    )
