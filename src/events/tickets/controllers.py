"""Ticket HTTP: the mobile ticket page and its language, PDFs, the calendar file, the organiser's ticket API, and
Twilio's reports of how each text went."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from events import i18n
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.config import Settings
from events.content_type import UnsupportedMediaType
from events.dependencies import BEARER, error_responses
from events.errors import NotFound
from events.i18n import N_
from events.orders.codes import token_matches
from events.orders.schemas import TicketOut
from events.row_ids import RowIdParameter
from events.tickets import service, sms
from events.tickets.calendar import ticket_calendar
from events.tickets.pdf import tickets_pdf
from events.tickets.qr import qr_svg
from events.tickets.schemas import DeliveryReportReceipt, HolderChange
from events.tickets.statuses import TicketStatus
from events.tickets.views import ticket_by_page_secret, ticket_url, tickets_of_order

# Twilio's reports are a couple of dozen short fields, well under 2 KB; anything past this is not one (413).
DELIVERY_REPORT_MAX_BYTES = 16 * 1024
FORM = "application/x-www-form-urlencoded"

PageSize = Literal["a4", "phone"]
TicketId = RowIdParameter
# PDFs and calendar files speak the order's language, which the guest can change from their ticket or order page:
# a browser asks again each time (a cheap 200), so a file in the language they just left never comes back.
PRIVATE = {"Cache-Control": "private, no-cache", "X-Robots-Tag": "noindex"}
# The page is in the guest's language (their cookie, else their browser's), so a browser asks again each time it
# shows it: a copy in the language they just left must not come back. Offline, the service worker keeps a copy.
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}


def _pdf(content: bytes, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type="application/pdf",
        headers={**PRIVATE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


class TicketPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/tickets/{page_secret:str}", name="ticket_page")
    async def ticket_page(self, page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]) -> Template:
        ticket = await ticket_by_page_secret(page_secret, secret_key=settings.secret_key, now=now)
        # A cancelled event's ticket shows no code (its refunds may still be under way), only that it is cancelled.
        valid = ticket.status == TicketStatus.valid and not ticket.event_cancelled
        return Template(
            "tickets/ticket.html",
            # "Can't come?" (events.releases) until the event starts, for a ticket not used yet; its page says what it may do.
            context={
                "ticket": ticket,
                "qr": qr_svg(ticket.code) if valid else None,
                "cant_come": valid and not ticket.checked_in and now < ticket.starts_at,
            },
            headers=GUEST_PAGE,
        )

    @post("/tickets/{page_secret:str}/language", status_code=303)
    async def choose_language(self, page_secret: FromPath[str], data: URLEncodedBody[dict[str, str]], now: NamedDependency[datetime]) -> Redirect:
        """The language menu of a ticket page: the page, and the order's later messages and PDFs, in that language."""
        lang = data.get("lang", "")
        await service.remember_ticket_language(page_secret, lang, now=now)
        remembered = Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=i18n.LOCALE_COOKIE_SECONDS, samesite="lax", httponly=True)
        return Redirect(ticket_url(page_secret.strip().lower()), status_code=303, cookies=[remembered])

    @get("/tickets/{page_secret:str}/ticket.pdf", name="ticket_pdf")
    async def ticket_pdf(
        self, page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings], size: FromQuery[PageSize] = "a4"
    ) -> Response[bytes]:
        ticket = await ticket_by_page_secret(page_secret, secret_key=settings.secret_key, now=now)
        if ticket.status != TicketStatus.valid:
            raise NotFound(N_("This ticket is no longer valid."), code="ticket_not_valid")
        return _pdf(await tickets_pdf([ticket], page_size=size, locale=ticket.locale), f"ticket-{ticket.order_reference}.pdf")

    @get("/tickets/{page_secret:str}/calendar.ics", name="ticket_calendar")
    async def calendar(self, page_secret: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]) -> Response[bytes]:
        ticket = await ticket_by_page_secret(page_secret, secret_key=settings.secret_key, now=now)
        return Response(
            ticket_calendar(ticket, base_url=settings.base_url, now=now, locale=ticket.locale),
            media_type="text/calendar",
            headers={**PRIVATE, "Content-Disposition": 'attachment; filename="event.ics"'},
        )

    @get("/orders/{reference:str}/tickets.pdf", name="order_pdf")
    async def order_pdf(
        self,
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        size: FromQuery[PageSize] = "a4",
    ) -> Response[bytes]:
        if not token_matches(settings.secret_key, reference.upper(), token):
            raise NotFound(N_("We could not find that order."), code="order_not_found")
        tickets = await tickets_of_order(reference, secret_key=settings.secret_key, now=now)
        if not tickets:
            raise NotFound(N_("This order has no valid tickets."), code="no_tickets")
        return _pdf(await tickets_pdf(tickets, page_size=size, locale=tickets[0].locale), f"tickets-{reference.upper()}.pdf")


class TicketsApi(Controller):
    path = "/api/tickets"
    tags = ["Tickets"]

    @patch(
        "/{ticket_id:int}",
        summary="Change a ticket's holder name (organiser): the ticket is re-issued with a new code and emailed again",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def change_holder(self, ticket_id: TicketId, data: JSONBody[HolderChange], now: NamedDependency[datetime]) -> TicketOut:
        return await service.change_holder(ticket_id, data.holder, now=now)


class TwilioWebhooks(Controller):
    path = sms.STATUS_CALLBACK_PATH
    tags = ["Webhooks"]

    @post(
        "/",
        status_code=200,
        summary="Twilio's reports of how each text went (status callbacks, signed with the Twilio auth token)",
        request_max_body_size=DELIVERY_REPORT_MAX_BYTES,
        responses=error_responses(403, 422),
        description=(
            "Twilio posts a form each time a text's status changes; every text is sent with this address as its "
            "StatusCallback. 403 `invalid_signature` unless X-Twilio-Signature verifies against EVENTS_BASE_URL + this "
            "path and the form; 422 for a form that is not a status report; 413 over 16 KB. A report that the text "
            "was undelivered or failed marks it failed with Twilio's error code (`outcome: failed`), once; anything "
            "else changes nothing (`unchanged`, or `unknown` for a message that is not one of ours)."
        ),
    )
    async def text_status(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings], now: NamedDependency[datetime]
    ) -> DeliveryReportReceipt:
        if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != FORM:
            raise UnsupportedMediaType(N_("Twilio posts its reports as a form (application/x-www-form-urlencoded)."))
        form = [(name, value) for name, value in (await request.form()).multi_items() if isinstance(value, str)]
        outcome = await service.record_delivery_report(
            form, request.headers.get("x-twilio-signature", ""), url=settings.base_url + sms.STATUS_CALLBACK_PATH, settings=settings.twilio, now=now
        )
        return DeliveryReportReceipt(received=True, outcome=outcome)
