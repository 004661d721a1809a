"""The embeddable ticket form: an event's buy form, its questions step, the payment step and a done page, in a frame
on the organisation's own website (storefront.widget).

These pages use the buy form's services and templates as the event and checkout pages do; they differ in three
ways. They set and read no cookie (in a frame on another site ours are not sent, or are blocked): no CSRF cookie (app.py
exempts /embed/), no held-order or wrong-code cookie, the language in the URL. They may be framed by the websites the
organisation lists (security_headers.allow_framing). And their links stay in the frame (templating's page_link),
except the order page, which opens in a new tab.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events import i18n
from events.codes.offers import event_with_code
from events.codes.service import Guesser
from events.config import Settings
from events.errors import NotAllowed
from events.i18n import N_
from events.orders import codes
from events.orders import service as orders
from events.orders.access import reference_with_token
from events.orders.schemas import OrderOut
from events.orders.statuses import OrderStatus
from events.organisations import service as organisations
from events.payments import service as payments
from events.payments.gateways import Gateways
from events.security_headers import allow_framing, origin
from events.storefront.event_pages import client_digest, event_page
from events.storefront.order_controllers import buy_from_form, changing_form, changing_places, checkout_context
from events.storefront.widget import EMBED_PREFIX, Frame
from events.tickets.views import checkout_details, order_details

# A widget page is the guest's own (an order's pages carry its token): kept out of caches and search engines.
FRAMED_PAGE_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


async def _frame(request: Request[Any, Any, Any], organisation_slug: str) -> Frame:
    """The page's frame: its language, and the organisation's websites, which may now frame the response."""
    origins = await organisations.framing_origins(organisation_slug)
    allow_framing(request.scope, origins)
    return Frame(lang=request.state.locale, origins=origins)


def _framed(template: Template, frame: Frame) -> Template:
    """A storefront page rendered for the frame: in the bare layout, its links kept inside, and no cookies."""
    template.context = {**template.context, "embed": frame}
    template.cookies = []
    template.headers = {**template.headers, **FRAMED_PAGE_HEADERS}
    return template


def _order_url(settings: Settings, reference: str) -> str:
    return f"/orders/{reference}?token={codes.order_access_token(settings.secret_key, reference)}"


def _done_url(settings: Settings, reference: str, frame: Frame) -> str:
    return frame.url(f"/orders/{reference}/done?token={codes.order_access_token(settings.secret_key, reference)}")


def sent_from_the_frame(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard in place of the CSRF cookie, which a frame on another site does not get: a form in the frame is a page of
    ours, so the browser says its post comes from our own origin. A post another website makes its visitors send
    (using their addresses for the per-address limits on holds and wrong codes) says it comes from that site, and
    is refused. Browsers send Sec-Fetch-Site; older ones send Origin with a form's post. A client that sends neither is
    no browser on a hostile page, and may do no more than the API lets anyone do."""
    fetched_from = connection.headers.get("sec-fetch-site")
    if fetched_from is not None and fetched_from != "same-origin":
        raise NotAllowed(N_("Please use the ticket form on the event's own page."), code="cross_site_post")
    sent_from = connection.headers.get("origin")
    if sent_from is not None:
        settings: Settings = connection.app.state.settings
        ours = {origin(settings.base_url), f"{connection.url.scheme}://{connection.url.netloc}"}
        if sent_from not in ours:
            raise NotAllowed(N_("Please use the ticket form on the event's own page."), code="cross_site_post")


class EmbedPages(Controller):
    path = EMBED_PREFIX
    include_in_schema = False
    opt = {i18n.FRAMED_PAGE: True}

    @get("/events/{slug:str}", name="embed_event")
    async def show(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        code: FromQuery[str] = "",
    ) -> Template:
        """The event's buy form; ``?code=`` as on the event page (wrong codes count against the client's budget)."""
        who = Guesser(client_digest(request, settings)) if code.strip() else Guesser("")
        page = await event_with_code(slug, code[:100], who, now=now)
        frame = await _frame(request, page.event.organisation.slug)
        status = 429 if page.error is not None and page.error.status_code == 429 else 200
        return _framed(event_page(request, page, settings, now, status_code=status, headers=page.error.headers if page.error else None), frame)

    @post("/events/{slug:str}/buy", status_code=303, guards=[sent_from_the_frame])
    async def buy(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        """The buy form sent from the frame: the event page's checks, questions step and checkout (the same services),
        then the payment step in the frame. Only "Change order" replaces an earlier hold here (the form it opens names
        the order): going back with the browser cannot, as that takes the browser's held-order cookie, which a frame
        does not get; such holds expire as usual and the per-email limits still apply."""
        typed = (data.get("code") or "")[:100]
        who = Guesser(client_digest(request, settings)) if typed.strip() else Guesser("")
        placed = await buy_from_form(request, slug, data, who=who, replaces=None, now=now, settings=settings, gateways=gateways)
        frame = await _frame(request, placed.organisation)
        if isinstance(placed.outcome, Template):
            return _framed(placed.outcome, frame)
        checkout = placed.outcome
        reference = checkout.order.reference
        if checkout.provider == "none":  # nothing to pay (free tickets): straight to the done page
            return Redirect(_done_url(settings, reference, frame), status_code=303)
        return Redirect(frame.url(f"/orders/{reference}/pay?token={codes.order_access_token(settings.secret_key, reference)}"), status_code=303)

    @get("/orders/{reference:str}/pay", name="embed_checkout")
    async def pay(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Template | Redirect:
        """The payment step in the frame: Stripe.js's card field works inside it (its own frame in ours), and so does
        3-D Secure, which Stripe.js opens in a frame of its own over the page."""
        reference = reference_with_token(settings.secret_key, reference, token)
        details = await checkout_details(reference)
        frame = await _frame(request, details.order.organisation.slug)
        if details.order.status != OrderStatus.pending:
            return Redirect(_done_url(settings, reference, frame))
        gateway = await gateways.for_order(reference)
        confirmation_url = _done_url(settings, reference, frame)
        context = checkout_context(details, token=token, gateway=gateway, confirmation_url=confirmation_url, now=now)
        return _framed(Template("orders/checkout.html", context=context), frame)

    @post("/orders/{reference:str}/change", status_code=200, guards=[sent_from_the_frame])
    async def change_order(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        """ "Change order" in the frame, authorised by the order's access token in the form: the buy form shown again
        with the buyer's choices, naming the order, which keeps its hold until the changed one replaces it, as on the
        site (order_controllers.change_order). It is also the frame's way back: going back in the frame and sending the
        form again cannot replace the hold, which takes the held-order cookie a frame does not get."""
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        choices = await orders.order_choices(reference)
        if choices.status not in (OrderStatus.pending, OrderStatus.expired):
            return Redirect(_done_url(settings, reference, Frame(lang=request.state.locale, origins=())), status_code=303)
        who = Guesser(client_digest(request, settings)) if choices.code else Guesser("")
        yours = changing_places(choices)
        page = await event_with_code(choices.event_slug, choices.code or "", who, now=now, yours=yours)
        frame = await _frame(request, page.event.organisation.slug)
        changed = event_page(request, page, settings, now, form=changing_form(choices, settings), yours=yours)
        changed.context["changing"] = True
        return _framed(changed, frame)

    @post("/orders/{reference:str}/test-payment", status_code=303, guards=[sent_from_the_frame])
    async def test_payment(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect:
        """The development test payment, authorised by the order's access token in the form."""
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        await payments.pay_with_test_provider(reference, gateway=await gateways.for_order(reference), now=now)
        frame = Frame(lang=request.state.locale, origins=())
        return Redirect(_done_url(settings, reference, frame), status_code=303)

    @get("/orders/{reference:str}/done", name="embed_done")
    async def done(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Template:
        """The last step in the frame: paid (or still being confirmed), with the order page to open in a new tab."""
        reference = reference_with_token(settings.secret_key, reference, token)
        await payments.refresh_order(reference, gateway=await gateways.for_order(reference), now=now)
        order: OrderOut = await order_details(reference)
        frame = await _frame(request, order.organisation.slug)
        context = {"order": order, "order_url": _order_url(settings, reference), "done_url": _done_url(settings, reference, frame)}
        return _framed(Template("embed/done.html", context=context), frame)
