"""Waiting-list pages for guests: joining from a sold-out event page or a used-up claim link, and the guest's own
page at /waiting-list/{token} (their place in the queue, an offer to take, leaving the list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events import i18n
from events.catalogue import service as catalogue
from events.catalogue.schemas import EventDetailOut
from events.config import Settings
from events.errors import Conflict, EventsError, InvalidInput, NotFound
from events.i18n import N_
from events.orders import claims, codes
from events.payments.gateways import Gateways
from events.storefront.claim_controllers import claim_cookies, claimant_of, refusal_page
from events.storefront.order_controllers import GUEST_PAGE
from events.tickets.qr import qr_svg
from events.tickets.views import order_details, ticket_by_secret
from events.waitlist import guest_views
from events.waitlist import service as waitlist
from events.waitlist.join_form import JoinForm, Offered, read_join_form
from events.waitlist.statuses import WaitingKind, WaitingStatus

JOIN_ANCHOR = "waiting-list"  # the join form's id on the event page, where a form with mistakes scrolls to


def _entry_url(token: str) -> str:
    return f"/waiting-list/{token}"


def _offered_types(event: EventDetailOut) -> list[Offered]:
    return [Offered(t.id, t.max_per_order) for t in event.ticket_types if t.waiting_list_open]


def _speak(request: Request[Any, Any, Any], entry_locale: str) -> None:
    """A guest's page opens in the language they joined in (an offer's link is opened on any device), unless this
    browser chose a language of its own or the link asks for one."""
    if request.query_params.get("lang") in i18n.SUPPORTED_LOCALES or request.cookies.get(i18n.LOCALE_COOKIE) in i18n.SUPPORTED_LOCALES:
        return
    if entry_locale in i18n.SUPPORTED_LOCALES:
        request.state.locale = entry_locale


def _with_language(template: Template, lang: str | None) -> Template:
    """/waiting-list/TOKEN?lang=ar opens in Arabic and stays in Arabic."""
    if lang in i18n.SUPPORTED_LOCALES:
        template.cookies.append(Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=i18n.LOCALE_COOKIE_SECONDS, samesite="lax", httponly=True))
    return template


async def _join(slug: str, form: JoinForm, *, kind: WaitingKind, claim_code: str | None, now: datetime, settings: Settings) -> str:
    """Joins the list; answers the entry's token."""
    joined = await waitlist.join(
        slug,
        kind=kind,
        name=form.name,
        email=form.email,
        phone=form.phone,
        quantity=form.quantity,
        ticket_type=form.ticket_type,
        locale=form.locale,
        claim_code=claim_code,
        now=now,
        texts_available=settings.can_send_texts,
    )
    return joined.token


async def _entry_template(
    request: Request[Any, Any, Any],
    token: str,
    *,
    joined: bool = False,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    settings: Settings,
) -> Template:
    entry = await guest_views.entry_page(token)
    _speak(request, entry.locale)
    order_link = ""
    if entry.status == WaitingStatus.accepted and entry.offer_order:
        order_link = f"/orders/{entry.offer_order}?token={codes.order_access_token(settings.secret_key, entry.offer_order)}"
    return Template(
        "waitlist/entry.html",
        context={
            "entry": entry,
            "joined": joined,
            "order_link": order_link,
            "link": f"{settings.base_url}{_entry_url(entry.token)}",
            "form": form or {},
            "errors": errors or {},
            "error": error,
        },
        status_code=status_code,
        headers={**GUEST_PAGE, **(headers or {})},
    )


class WaitingListPages(Controller):
    path = "/"
    include_in_schema = False

    @post("/events/{slug:str}/waiting-list", status_code=303)
    async def join_paid(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Redirect | Template:
        """The event page's "Join the waiting list" form."""
        event = await catalogue.get_event_detail(slug, now)
        types = _offered_types(event)
        form, problems = read_join_form(
            data, types=types, max_places=max((t.max_per_order for t in types), default=1), page_locale=request.state.locale
        )
        try:
            if not types:
                raise Conflict(N_("This waiting list is not open."), code="waiting_list_closed")
            if problems:
                raise InvalidInput(next(iter(problems.values())), fields=problems)
            token = await _join(slug, form, kind=WaitingKind.paid, claim_code=None, now=now, settings=settings)
        except EventsError as error:
            return Template(
                "catalogue/event_detail.html",
                context={
                    "event": event,
                    "now": now,
                    "form": {},
                    "errors": {},
                    "waitlist_form": data,
                    "waitlist_errors": error.fields,
                    "waitlist_error": error.message,
                    "texts": settings.can_send_texts,
                },
                status_code=error.status_code,
                headers=error.headers,
            )
        return Redirect(f"{_entry_url(token)}?joined=1", status_code=303)

    @post("/claim/{code:str}/waiting-list", status_code=303)
    async def join_free(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Redirect | Template:
        """A used-up claim link's "Tell me when a free place frees up" form. The link is tried within the claim
        links' budgets of wrong codes, as claiming is (a wrong code learns nothing)."""
        try:
            usage = await claims.open_claim_link(code, claimant_of(request, code, settings), now=now)
        except EventsError as error:
            return claim_cookies(request, refusal_page(error), settings, valid_code=None)
        form, problems = read_join_form(data, types=[], max_places=1, page_locale=request.state.locale)
        try:
            if problems:
                raise InvalidInput(next(iter(problems.values())), fields=problems)
            token = await _join(usage.event_slug, form, kind=WaitingKind.free, claim_code=code, now=now, settings=settings)
        except EventsError as error:
            page = Template(
                "orders/claim.html",
                context={
                    "code": code,
                    "usage": usage,
                    "form": {},
                    "errors": {},
                    "texts": settings.can_send_texts,
                    "waitlist_form": data,
                    "waitlist_errors": error.fields,
                    "waitlist_error": error.message,
                },
                status_code=error.status_code,
                headers=error.headers,
            )
            return claim_cookies(request, page, settings, valid_code=code)
        return Redirect(f"{_entry_url(token)}?joined=1", status_code=303)

    @get("/waiting-list/{token:str}", name="waiting_list_entry")
    async def entry(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        settings: NamedDependency[Settings],
        joined: FromQuery[bool] = False,
        lang: FromQuery[str | None] = None,
    ) -> Template:
        """The guest's own page: where they are in the queue, or the places held for them, or what became of them."""
        return _with_language(await _entry_template(request, token, joined=joined, settings=settings), lang)

    @post("/waiting-list/{token:str}/accept", status_code=303)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        """ "Take the places": paid places go on to the payment page, a free place is the ticket at once."""
        entry = await guest_views.entry_page(token)
        raw = data.get("quantity", str(entry.offered_places)).strip()
        quantity = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
        try:
            if entry.status == WaitingStatus.offered and not 1 <= quantity <= entry.offered_places:
                raise InvalidInput(N_("Choose how many places."), fields={"quantity": N_("Choose how many places.")})
            await waitlist.accept(
                token,
                quantity=quantity,
                gateway=await gateways.for_event(entry.event_slug),
                hold_minutes=settings.hold_minutes,
                now=now,
            )
        except EventsError as error:
            return await _entry_template(
                request,
                token,
                form=data,
                errors=error.fields,
                error=error.message,
                status_code=error.status_code,
                headers=error.headers,
                settings=settings,
            )
        taken = await guest_views.entry_page(token)
        if taken.offer_order is None:  # accepted always leaves the offer's order: belt and braces
            raise guest_views.entry_not_found()
        reference = taken.offer_order
        access = codes.order_access_token(settings.secret_key, reference)
        if not taken.free:
            # The places are the guest's order now, held for the usual checkout time: on to paying (the payment
            # page sends an order that needs no payment on to its confirmation).
            return Redirect(f"/orders/{reference}/pay?token={access}", status_code=303)
        _speak(request, taken.locale)
        tickets = (await order_details(reference)).tickets
        if not tickets:
            raise NotFound(N_("We could not find that order."), code="order_not_found")
        ticket = tickets[0]
        view = await ticket_by_secret(ticket.secret, secret_key=settings.secret_key, now=now)
        return Template(
            "orders/claimed.html",
            context={"ticket": view, "qr": qr_svg(view.code), "email": taken.by_email, "phone": taken.by_text and not taken.by_email},
            status_code=200,
            headers=GUEST_PAGE,
        )

    @get("/waiting-list/{token:str}/leave", name="waiting_list_leave")
    async def leave_form(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        """Asks once more before the guest gives up their place in the queue (or the places held for them)."""
        entry = await guest_views.entry_page(token)
        _speak(request, entry.locale)
        return Template("waitlist/leave.html", context={"entry": entry}, headers=GUEST_PAGE)

    @post("/waiting-list/{token:str}/leave", status_code=303)
    async def leave(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Redirect | Template:
        await guest_views.entry_page(token)  # an unknown token is the 404 page, not an error from the list
        try:
            await waitlist.leave(token, now=now)
        except EventsError as error:
            return await _entry_template(request, token, error=error.message, status_code=error.status_code, headers=error.headers, settings=settings)
        return Redirect(_entry_url(token), status_code=303)
