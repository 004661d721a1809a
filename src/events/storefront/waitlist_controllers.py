"""Waiting-list pages for guests: joining from a sold-out event page or a used-up claim link, and the guest's own
page at /waiting-list/{token} (their place in the queue, an offer to take, leaving the list). Every change goes
through events.waitlist.service, as the waiting-list API's does."""

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
from events.tickets.views import order_details, ticket_by_id
from events.waitlist import guest_views
from events.waitlist import service as waitlist
from events.waitlist.join_form import JoinForm, Offered, read_join_form
from events.waitlist.statuses import WaitingKind, WaitingStatus


def _entry_url(token: str) -> str:
    return f"/waiting-list/{token}"


def _offered_types(event: EventDetailOut) -> list[Offered]:
    return [Offered(t.id, t.max_per_order) for t in event.ticket_types if t.waiting_list_open]


def _guest(request: Request[Any, Any, Any], browser: str = "") -> waitlist.Guest:
    """Who asks, for the waiting list's budgets (joins, wrong tokens): the client address, and on a claim link the
    browser's own id (its budget of wrong codes, as on the claim page)."""
    return waitlist.Guest(request.client.host if request.client else "unknown", browser)


def _speak(request: Request[Any, Any, Any], entry_locale: str) -> None:
    """A guest's page opens in the language they joined in (an offer's link may be opened on any device), unless
    this browser chose a language of its own or the link asks for one."""
    if request.query_params.get("lang") in i18n.SUPPORTED_LOCALES or request.cookies.get(i18n.LOCALE_COOKIE) in i18n.SUPPORTED_LOCALES:
        return
    if entry_locale in i18n.SUPPORTED_LOCALES:
        request.state.locale = entry_locale


def _with_language(template: Template, lang: str | None) -> Template:
    """/waiting-list/TOKEN?lang=ar opens in Arabic and stays in Arabic."""
    if lang in i18n.SUPPORTED_LOCALES:
        template.cookies.append(Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=i18n.LOCALE_COOKIE_SECONDS, samesite="lax", httponly=True))
    return template


async def _join(
    request: Request[Any, Any, Any], slug: str, form: JoinForm, *, claim_code: str | None, browser: str = "", now: datetime, settings: Settings
) -> str:
    """Joins the list (paid places, or a free place with a claim code); answers the entry's token."""
    joined = await waitlist.join(
        slug,
        waitlist.JoinRequest(
            name=form.name,
            email=form.email,
            phone=form.phone,
            quantity=form.quantity,
            locale=form.locale,
            ticket_type=form.ticket_type,
            claim_code=claim_code,
        ),
        now,
        guest=_guest(request, browser),
        texts_available=settings.can_send_texts,
    )
    return joined.access_token


async def _entry_template(
    request: Request[Any, Any, Any],
    token: str,
    now: datetime,
    *,
    settings: Settings,
    joined: bool = False,
    form: dict[str, str] | None = None,
    error: EventsError | None = None,
) -> Template:
    """The guest's page; with ``error``, shown again with what went wrong (the entry as it is now)."""
    entry = await guest_views.entry_page(token, now, guest=_guest(request))
    _speak(request, entry.locale)
    order_link = ""
    if entry.status == WaitingStatus.accepted and entry.order_reference:
        # Paid places: the payment page (which sends a paid order on to its own page); a free place: its order page.
        access = codes.order_access_token(settings.secret_key, entry.order_reference)
        order_link = f"/orders/{entry.order_reference}{'' if entry.free else '/pay'}?token={access}"
    return Template(
        "waitlist/entry.html",
        context={
            "entry": entry,
            "joined": joined,
            "order_link": order_link,
            "link": f"{settings.base_url}{_entry_url(token)}",
            "form": form or {},
            "errors": error.fields if error else {},
            "error": error.message if error else None,
        },
        status_code=error.status_code if error else 200,
        headers={**GUEST_PAGE, **(error.headers if error else {})},
    )


class WaitingListGuestPages(Controller):
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
        """The sold-out event page's "Join the waiting list" form: on to the guest's own page, or the event page
        again with a message beside each field to change."""
        event = await catalogue.get_event_detail(slug, now)
        types = _offered_types(event)
        most = max((t.max_per_order for t in types), default=1)
        form, problems = read_join_form(data, types=types, max_places=most, page_locale=request.state.locale)
        try:
            if not types:
                raise Conflict(N_("This waiting list is not open."), code="waiting_list_closed")
            if problems:
                raise InvalidInput(next(iter(problems.values())), fields=problems)
            token = await _join(request, slug, form, claim_code=None, now=now, settings=settings)
        except EventsError as error:
            return Template(
                "catalogue/event_detail.html",
                context={
                    "event": event,
                    "now": now,
                    "texts": settings.can_send_texts,
                    "waitlist_form": data,
                    "waitlist_errors": error.fields,
                    "waitlist_error": error.message,
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
        links' budgets of wrong codes, as a claim is (a wrong code learns nothing)."""
        claimant = claimant_of(request, code, settings)
        try:
            usage = await claims.open_claim_link(code, claimant, now=now)
        except EventsError as error:
            return claim_cookies(request, refusal_page(error), settings, valid_code=None)
        form, problems = read_join_form(data, types=[], max_places=1, page_locale=request.state.locale)
        try:
            if problems:
                raise InvalidInput(next(iter(problems.values())), fields=problems)
            token = await _join(request, usage.event_slug, form, claim_code=code, browser=claimant.browser, now=now, settings=settings)
        except EventsError as error:
            page = Template(
                "orders/claim.html",
                context={
                    "code": code,
                    "usage": usage,
                    "no_places": True,  # the guest came from the waiting list's form: it shows again, with its problem
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
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        joined: FromQuery[bool] = False,
        lang: FromQuery[str | None] = None,
    ) -> Template:
        """The guest's own page: where they are in the queue, or the places held for them, or what became of them."""
        return _with_language(await _entry_template(request, token, now, settings=settings, joined=joined), lang)

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
        """Take the places: paid places go on to the payment page, a free place is its ticket at once."""
        entry = await guest_views.entry_page(token, now, guest=_guest(request))
        raw = data.get("quantity", "").strip()
        quantity = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0  # 0: refused as too few
        try:
            accepted = await waitlist.accept(
                token, quantity, now, gateway=await gateways.for_event(entry.event_slug), hold_minutes=settings.hold_minutes, guest=_guest(request)
            )
        except EventsError as error:
            return await _entry_template(request, token, now, settings=settings, form=data, error=error)
        reference = accepted.order.reference
        access = codes.order_access_token(settings.secret_key, reference)
        if accepted.kind == WaitingKind.paid:
            # The places are the guest's order now, held for the usual checkout time: on to paying, or to the order's
            # page when there was nothing to pay.
            settled = accepted.provider == "none"
            return Redirect(f"/orders/{reference}?token={access}" if settled else f"/orders/{reference}/pay?token={access}", status_code=303)
        _speak(request, entry.locale)
        tickets = (await order_details(reference)).tickets
        if not tickets:
            raise NotFound(N_("We could not find that order."), code="order_not_found")
        view = await ticket_by_id(tickets[0].id, secret_key=settings.secret_key, now=now)
        # As a claimed free place's page: nothing tells this ticket from any other.
        context = {"ticket": view, "qr": qr_svg(view.code), "email": entry.by_email, "phone": entry.by_text and not entry.by_email}
        return Template("orders/claimed.html", context=context, headers=GUEST_PAGE)

    @get("/waiting-list/{token:str}/leave", name="waiting_list_leave")
    async def leave_form(self, request: Request[Any, Any, Any], token: FromPath[str], now: NamedDependency[datetime]) -> Template:
        """Asks once more before the guest gives up their place in the queue (or the places held for them)."""
        entry = await guest_views.entry_page(token, now, guest=_guest(request))
        _speak(request, entry.locale)
        return Template("waitlist/leave.html", context={"entry": entry}, headers=GUEST_PAGE)

    @post("/waiting-list/{token:str}/leave", status_code=303)
    async def leave(
        self, request: Request[Any, Any, Any], token: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Redirect | Template:
        try:
            await waitlist.leave(token, now, guest=_guest(request))
        except NotFound:
            raise  # an unknown token: the not-found page
        except EventsError as error:  # e.g. the offer was taken up already: the page says what became of it
            return await _entry_template(request, token, now, settings=settings, error=error)
        return Redirect(_entry_url(token), status_code=303)
