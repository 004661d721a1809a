""" "Can't come?" HTTP: the API (authorised by the order's access token) and the guest's pages for one ticket: by the
ticket's link (its secret), or from the buyer's order page (the order's access token), each with the choices that
authority has, a confirmation for each, and what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from events.config import Settings
from events.dependencies import bearer_token, error_responses
from events.errors import EventsError, NotFound
from events.i18n import N_
from events.orders.forms import gift_aid_declaration
from events.payments.gateways import Gateways
from events.releases import rules, service
from events.releases.rules import Choice
from events.releases.schemas import ReleaseIn, ReleaseOut, TransferIn, TransferOut
from events.row_ids import RowIdParameter
from events.tickets import rules as ticket_rules
from events.tickets.statuses import TicketStatus
from events.tickets.views import ticket_by_id, ticket_url

TicketId = RowIdParameter
# Guest pages in the guest's language (cookie, else browser): asked again each time, never shown from a cache.
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}
ORDER_BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class ReleasesApi(Controller):
    path = "/api/tickets"
    tags = ["Tickets"]

    @post(
        "/{ticket_id:int}/release",
        status_code=200,
        summary="Can't come: give a ticket back for a refund, as a donation, or (a free place) to the next guest",
        security=ORDER_BEARER,
        responses=error_responses(404, 409, 422),
        description=(
            "Send the ticket's order's `access_token` as the bearer token; a ticket of another order is 404 "
            "`ticket_not_found`. `refund`: the ticket's price and booking fee, until the event's refund window closes "
            "(`refund_days_before` days before it starts; none where the organiser offers no refunds, nor online for "
            "tickets paid at the door). `donate`: the price becomes a donation to the event's partner projects, no refund; "
            "`gift_aid` (as on an order) only while a refund was on offer, else 422. `free_place`: a place that cost "
            "nothing goes back to the free places (or general sale). Each place goes to the waiting list first. 409: "
            "`ticket_checked_in`, `ticket_not_valid` (already refunded, given back or passed on: a repeat changes "
            "nothing), `order_not_paid`, `event_started`, `event_cancelled`, or the choice is not offered for this "
            "ticket now (`refund_not_offered`, `donation_not_offered`, `release_not_offered`). The guest is sent a "
            "confirmation (for a refund, its refund notice)."
        ),
    )
    async def release(
        self,
        request: Request[Any, Any, Any],
        ticket_id: TicketId,
        data: JSONBody[ReleaseIn],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> ReleaseOut:
        ticket = await service.ticket_of_order(ticket_id, bearer=bearer_token(request), secret_key=settings.secret_key)
        choice = Choice(data.choice)
        gateway = await gateways.for_order(ticket.order_reference) if choice == Choice.refund else None
        done = await service.release(ticket, choice, declaration=(data.gift_aid.declaration() if data.gift_aid else None), gateway=gateway, now=now)
        return ReleaseOut(
            ticket_id=done.ticket_id,
            choice=done.choice,
            status=done.status,
            refund_pence=done.refund_pence,
            donated_pence=done.donated_pence,
            gift_aid=done.gift_aid,
        )

    @post(
        "/{ticket_id:int}/transfer",
        status_code=201,
        summary="Can't come: pass a ticket to a friend, who gets a new ticket; the old code stops working",
        security=ORDER_BEARER,
        responses=error_responses(404, 409, 422),
        description=(
            "Send the ticket's order's `access_token` as the bearer token (another order's ticket: 404). `holder` is the "
            "friend's name; `email` or `phone` (a mobile number, where this service can send texts) is where their new "
            "ticket goes: one is needed (422). Offered for a paid place once refunds are no longer offered (or the "
            "organiser offers none), and for a ticket passed on before; else 409 `transfer_not_offered`, and 409 "
            "`ticket_checked_in` or `ticket_not_valid` (refunded, given back, already passed on) as for a release. The "
            "place stays taken; the friend's order (channel `transfer`) costs nothing."
        ),
    )
    async def transfer(
        self,
        request: Request[Any, Any, Any],
        ticket_id: TicketId,
        data: JSONBody[TransferIn],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> TransferOut:
        ticket = await service.ticket_of_order(ticket_id, bearer=bearer_token(request), secret_key=settings.secret_key)
        done = await service.pass_on(ticket, data.holder, data.email, data.phone, now=now, texts_available=settings.can_send_texts)
        return TransferOut(ticket_id=done.ticket_id, choice=done.choice, status=done.status, order=done.new_order_reference or "")


def _choice(value: str) -> Choice:
    try:
        return Choice(value)
    except ValueError:
        raise NotFound(N_("We could not find that page."), code="not_found") from None


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a ticket's "Can't come?" pages live for whoever asks: under the ticket's link (``query`` and ``token``
    empty) or under its order's page with the order's token (the buyer's authority)."""

    base: str  # the choices' page; each choice's page is base/choice
    back_url: str  # the ticket's page, or the order's
    query: str = ""  # the order's token, carried on every link
    token: str = ""  # and in every form


def _names_open(facts: rules.TicketFacts, where: _Where, now: datetime) -> bool:
    """Whether the buyer (the order's token) may change the ticket's name now (tickets.rules.name_change_open)."""
    if not where.token or facts.name_changes_close_hours_before is None:
        return False
    return ticket_rules.name_change_open(
        order_status=facts.order_status,
        ticket_status=facts.status,
        starts_at=facts.starts_at,
        close_hours_before=facts.name_changes_close_hours_before,
        now=now,
    )


async def _context(ticket: service.TicketRef, where: _Where, settings: Settings, now: datetime) -> dict[str, Any]:
    view = await ticket_by_id(ticket.id, secret_key=settings.secret_key, now=now)
    choices = await service.ticket_options(ticket, now=now)
    zone = ZoneInfo(view.timezone)
    refunds_closed = rules.refund_until(choices.facts)
    return {
        "ticket": view,
        "facts": choices.facts,
        "options": choices.options,
        "kind": rules.place_kind(choices.facts),
        "worth_pence": choices.worth_pence,
        "currency": choices.currency,
        "has_contact": choices.has_contact,
        "gift_aid": rules.gift_aid_allowed(choices.facts, now) and choices.options.offers(Choice.donate) and choices.currency == "GBP",
        # When a refund stops being offered, at the venue's clock (as the ticket shows the event's time).
        "refund_until": choices.options.refund_until.astimezone(zone) if choices.options.refund_until else None,
        # Why no refund is offered for a paid place: none at this event, paid at the door, or closed since then.
        "refunds_closed_at": refunds_closed.astimezone(zone) if refunds_closed and refunds_closed < now else None,
        "paid_at_door": choices.facts.payment_provider in rules.DOOR_PAYMENTS,
        "passed_on_to": await service.passed_on_to(ticket) if choices.facts.status == TicketStatus.passed_on else "",
        # The buyer may instead put a friend's name on the ticket (its "Change name" page), while names can change.
        "name_change_url": f"/orders/{ticket.order_reference}/tickets/{ticket.id}/holder{where.query}"
        if _names_open(choices.facts, where, now)
        else "",
        "base": where.base,
        "query": where.query,
        "token": where.token,
        "back_url": where.back_url,
    }


async def _confirm_page(ticket: service.TicketRef, where: _Where, choice: str, settings: Settings, now: datetime) -> Template:
    chosen = _choice(choice)
    context = await _context(ticket, where, settings, now)
    refused = rules.refusal(context["facts"], chosen, now, ticket.authority)
    return Template(
        "releases/confirm.html",
        context={**context, "choice": chosen, "refusal": refused, "form": {}, "errors": {}, "texts": settings.can_send_texts},
        headers=GUEST_PAGE,
    )


async def _make_choice(
    ticket: service.TicketRef, where: _Where, choice: str, data: dict[str, str], settings: Settings, gateways: Gateways, now: datetime
) -> Redirect | Template:
    chosen = _choice(choice)
    try:
        if chosen == Choice.transfer:
            await service.pass_on(
                ticket, data.get("holder", ""), data.get("email", ""), data.get("phone", ""), now=now, texts_available=settings.can_send_texts
            )
        else:
            gateway = await gateways.for_order(ticket.order_reference) if chosen == Choice.refund else None
            declaration = gift_aid_declaration(data) if chosen == Choice.donate else None
            await service.release(ticket, chosen, declaration=declaration, gateway=gateway, now=now)
    except NotFound:
        raise
    except EventsError as error:
        # The confirmation again, with what to change (bad input) or why it cannot be done (already done, too late).
        context = await _context(ticket, where, settings, now)
        return Template(
            "releases/confirm.html",
            context={
                **context,
                "choice": chosen,
                "refusal": None,
                "form": data,
                "errors": error.fields,
                "error": error.message,
                "texts": settings.can_send_texts,
            },
            status_code=error.status_code,
            headers={**GUEST_PAGE, **error.headers},
        )
    return Redirect(f"{where.base}/done{where.query}", status_code=303)


class ReleasePages(Controller):
    """One ticket's "Can't come?" pages by its link: tap "Can't come?" on the ticket (or in the reminder), tap a
    choice, confirm. The ticket's link is the key, as for the ticket page: the money choices (a refund, a donation)
    only when the ticket is its order's only one (its holder is the buyer); else its holder is pointed to the buyer,
    whose order page leads to OrderReleasePages."""

    path = "/tickets/{page_secret:str}/cant-come"
    include_in_schema = False

    @staticmethod
    async def _ticket(page_secret: str) -> tuple[service.TicketRef, _Where]:
        ticket = await service.ticket_by_page_secret(page_secret)
        url = ticket_url(ticket.page_secret)
        return ticket, _Where(base=f"{url}/cant-come", back_url=url)

    @get("/", name="cant_come")
    async def choices(self, page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]) -> Template:
        ticket, where = await self._ticket(page_secret)
        return Template("releases/cant_come.html", context=await _context(ticket, where, settings, now), headers=GUEST_PAGE)

    @get("/done", name="cant_come_done")
    async def done(self, page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]) -> Template:
        ticket, where = await self._ticket(page_secret)
        return Template("releases/done.html", context=await _context(ticket, where, settings, now), headers=GUEST_PAGE)

    @get("/{choice:str}", name="cant_come_confirm")
    async def confirm(
        self, page_secret: FromPath[str], choice: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template:
        ticket, where = await self._ticket(page_secret)
        return await _confirm_page(ticket, where, choice, settings, now)

    @post("/{choice:str}", status_code=303)
    async def make_choice(
        self,
        page_secret: FromPath[str],
        choice: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        ticket, where = await self._ticket(page_secret)
        return await _make_choice(ticket, where, choice, data, settings, gateways, now)


class OrderReleasePages(Controller):
    """The same pages for one ticket of an order, from the buyer's order page: authorised by the order's access token
    (in the query, and in each form), so every choice is offered, the money ones included."""

    path = "/orders/{reference:str}/tickets/{ticket_id:int}/cant-come"
    include_in_schema = False

    @staticmethod
    async def _ticket(reference: str, ticket_id: int, token: str | None, settings: Settings) -> tuple[service.TicketRef, _Where]:
        ticket = await service.ticket_of_order(ticket_id, bearer=token, secret_key=settings.secret_key, reference=reference)
        assert token is not None  # it matched the order's
        order_url = f"/orders/{ticket.order_reference}"
        where = _Where(
            base=f"{order_url}/tickets/{ticket.id}/cant-come",
            back_url=f"{order_url}?{urlencode({'token': token})}#cant-come",
            query=f"?{urlencode({'token': token})}",
            token=token,
        )
        return ticket, where

    @get("/", name="order_cant_come")
    async def choices(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template:
        ticket, where = await self._ticket(reference, ticket_id, token, settings)
        return Template("releases/cant_come.html", context=await _context(ticket, where, settings, now), headers=GUEST_PAGE)

    @get("/done", name="order_cant_come_done")
    async def done(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template:
        ticket, where = await self._ticket(reference, ticket_id, token, settings)
        return Template("releases/done.html", context=await _context(ticket, where, settings, now), headers=GUEST_PAGE)

    @get("/{choice:str}", name="order_cant_come_confirm")
    async def confirm(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        choice: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template:
        ticket, where = await self._ticket(reference, ticket_id, token, settings)
        return await _confirm_page(ticket, where, choice, settings, now)

    @post("/{choice:str}", status_code=303)
    async def make_choice(
        self,
        reference: FromPath[str],
        ticket_id: TicketId,
        choice: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        ticket, where = await self._ticket(reference, ticket_id, data.get("token"), settings)
        return await _make_choice(ticket, where, choice, data, settings, gateways, now)
