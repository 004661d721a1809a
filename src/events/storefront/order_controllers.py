"""Order HTTP: buying on the event page, checkout and confirmation pages, and the orders API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from events import i18n, text
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.catalogue import service as catalogue
from events.catalogue.service import ShownTicketTypes
from events.codes.offers import EventWithCode, event_with_code
from events.codes.service import Guesser
from events.config import Settings
from events.dependencies import BEARER, bearer_token, error_responses, provide_gateways, provide_settings
from events.errors import EventsError, InvalidInput
from events.orders import codes, forms, holds, pricing
from events.orders import service as orders
from events.orders.access import reference_with_token
from events.orders.hold_limits import Asker, HoldLimits
from events.orders.schemas import GivenBackIn, OrderCreated, OrderOut, PaymentStart, RefundIn, RefundOut
from events.orders.statuses import OrderStatus
from events.payments import cancellation
from events.payments import checkout as checkouts
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.gateways import Gateways
from events.payments.statuses import PaymentMethod
from events.questions import forms as answer_forms
from events.questions import service as questions
from events.questions.schemas import given_answers
from events.row_ids import RowIdParameter
from events.storefront.event_pages import client_digest, code_cookies, event_page, guesser
from events.storefront.schemas import OrderIn
from events.tickets import confirmation
from events.tickets import service as tickets
from events.tickets.deliveries import deliveries_of
from events.tickets.schemas import EmailQueued
from events.tickets.views import CheckoutDetails, checkout_details, order_details

# The order page is in the guest's language (their cookie, else their browser's): a browser asks again each time it
# shows it, so a copy in the language they just left never comes back.
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}
# The checkout page's URL carries the order's access token, and a changed order's page shows the buyer's details:
# kept by no cache and no search engine.
PRIVATE_PAGE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _order_links(settings: Settings, reference: str) -> tuple[str, str]:
    token = codes.order_access_token(settings.secret_key, reference)
    return token, f"/orders/{reference}?token={token}"


def _asker(
    request: Request[Any, Any, Any], settings: Settings, replaces: str | None = None, browser: str = "", *, changes: str | None = None
) -> Asker:
    """Who asks for a hold. The client address is the connection's peer, or in production the address a
    trusted proxy (FORWARDED_ALLOW_IPS) reports, as uvicorn sets it; as the other rate limits read it. The
    limits count it by its keyed hash (an IPv6 address by its /64): that is all that is stored of it.
    ``browser``: the browser's own id, for its budget of wrong codes (an API client has none)."""
    return Asker(
        client=client_digest(request, settings),
        limits=HoldLimits(settings.hold_places_per_email, settings.holds_per_client_per_minute, settings.hold_places_per_client),
        replaces=replaces,
        changes=changes,
        browser=browser,
    )


# The buy form's own hold, kept by the browser for that event's buy form only (the cookie's path), so a
# buyer who goes back from the payment page and sends the form again replaces it rather than adding to it:
# if it is still pending and the form names the same buyer (orders.hold_guard.find_replaced). Its
# token is keyed apart from the order's access token (codes.held_order_token).
HELD_ORDER_COOKIE = "held_order"


def _held_order(request: Request[Any, Any, Any], settings: Settings) -> str | None:
    """The reference of the hold this browser placed from the form, if the cookie is genuine."""
    reference, _, token = request.cookies.get(HELD_ORDER_COOKIE, "").partition(".")
    reference = codes.normalise_reference(reference)
    return reference if reference and codes.held_order_token_matches(settings.secret_key, reference, token) else None


# The buy form "Change order" opened carries the order it changes, with its token (codes.change_token), in a hidden
# field: sent, the changed order replaces it in the transaction that places it, whatever name and email it now gives;
# in the embeddable form's frame too, which has no cookies. Until then the order keeps its hold and its payment page.
CHANGES_FIELD = "changes"


def changes_field(reference: str, settings: Settings) -> str:
    return f"{reference}.{codes.change_token(settings.secret_key, reference)}"


def changed_order(data: dict[str, str], settings: Settings) -> str | None:
    """The reference of the order the sent form changes, if its token is genuine."""
    reference, _, token = (data.get(CHANGES_FIELD) or "").partition(".")
    reference = codes.normalise_reference(reference)
    return reference if reference and codes.change_token_matches(settings.secret_key, reference, token) else None


def _held_order_cookie(slug: str, reference: str, settings: Settings) -> Cookie:
    return Cookie(
        key=HELD_ORDER_COOKIE,
        value=f"{reference}.{codes.held_order_token(settings.secret_key, reference)}",
        path=f"/events/{slug}/buy",
        max_age=settings.hold_minutes * 60,
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
    )


def _no_held_order_cookie(slug: str, settings: Settings) -> Cookie:
    """Clears the cookie: the browser's latest order needs no payment, so there is no hold to go back to."""
    return Cookie(
        key=HELD_ORDER_COOKIE, value="", path=f"/events/{slug}/buy", max_age=0, httponly=True, secure=settings.is_production, samesite="lax"
    )


def _created(checkout: checkouts.Checkout, gateway: Gateway, settings: Settings) -> OrderCreated:
    token, page = _order_links(settings, checkout.order.reference)
    return OrderCreated(
        reference=checkout.order.reference,
        status=OrderStatus.paid if checkout.provider == "none" else OrderStatus.pending,
        total_pence=checkout.order.total_pence,
        currency=checkout.order.currency,
        hold_expires_at=checkout.order.hold_expires_at,
        payment=PaymentStart(
            provider=checkout.provider,  # type: ignore[arg-type]
            client_secret=checkout.client_secret or None,
            payment_intent=checkout.intent_id if checkout.provider == PaymentMethod.stripe else None,
            url=f"/orders/{checkout.order.reference}/pay?token={token}" if checkout.provider != "none" else page,
            publishable_key=gateway.publishable_key,
        ),
        access_token=token,
    )


class OrdersApi(Controller):
    path = "/api"
    tags = ["Orders"]

    @post(
        "/events/{slug:str}/orders",
        summary="Hold places and start paying",
        responses=error_responses(404, 409, 422, 429),
        description=(
            "201 holds the places for EVENTS_HOLD_MINUTES. 409 `sold_out` or `sales_closed`; 503 `payment_unavailable`. "
            "429 with Retry-After: `hold_limit_reached` (the buyer's email already holds EVENTS_HOLD_PLACES_PER_EMAIL unpaid "
            "places for the event) or `too_many_holds` (EVENTS_HOLDS_PER_CLIENT_PER_MINUTE from one client address); 422 "
            "`too_many_places` when one order alone is more than an email address may hold. `answers` answer the event's "
            "questions (`GET /api/events/{slug}/questions`): a missing required answer or a wrong one is a 422 naming the "
            "question, and nothing is held. "
            "With `code` (an access or "
            "discount code): 422 `code_not_found` (wrong codes are limited per client address: 429 `rate_limited` with "
            "Retry-After once too many were wrong), `code_not_valid_yet` or `code_expired`; 409 `code_used_up` when its "
            "uses went to other buyers. A hidden ticket type without a code that unlocks it is 422, as a type the event "
            "does not have."
        ),
    )
    async def create_order(
        self, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[OrderIn], now: NamedDependency[datetime]
    ) -> OrderCreated:
        # The on-sale rush's route: settings and gateways are read from the app's state here rather than
        # injected, because Litestar resolves two or more dependencies of a handler in a task group of
        # their own, which cost a fifth of this request's CPU.
        settings, gateways = provide_settings(request), provide_gateways(request)
        gateway = await gateways.for_event(slug)  # the event's organisation's Stripe account
        order_request = pricing.Request(
            items=[(item.ticket_type, item.quantity) for item in data.items],
            pay_it_forward_places=data.pay_it_forward_places,
            pay_it_forward_pence=data.pay_it_forward_pence,
            donation_pence=data.donation_pence,
            donation_partner=data.donation_partner,
            buyer_name=data.buyer.name,
            buyer_email=data.buyer.email,
            gift_aid=data.gift_aid.declaration() if data.gift_aid else None,
            code=data.code,
            guest_names=tuple(data.guest_names or ()),
        )
        # Checked before anything is held; recorded in the order's own transaction.
        record_answers = await questions.answers_recorder(
            slug, order_request.items, given_answers(data.answers), locale=request.state.locale, now=now
        )
        checkout = await checkouts.checkout(
            slug,
            order_request,
            gateway=gateway,
            now=now,
            hold_minutes=settings.hold_minutes,
            asker=_asker(request, settings),
            locale=request.state.locale,
            on_placed=record_answers,
        )
        return _created(checkout, gateway, settings)

    @get(
        "/orders/{reference:str}",
        summary="An order with its tickets (send the order's access_token as the bearer token)",
        responses=error_responses(404),
        security=[{"BearerToken": []}],
    )
    async def get_order(self, request: Request[Any, Any, Any], reference: FromPath[str], settings: NamedDependency[Settings]) -> OrderOut:
        return await order_details(reference_with_token(settings.secret_key, reference, bearer_token(request)))

    @post(
        "/orders/{reference:str}/resend",
        summary="Email the order's tickets to the buyer again (send the order's access_token as the bearer token)",
        status_code=202,
        responses=error_responses(404, 409, 429),
        security=[{"BearerToken": []}],
        description="At most three times an hour per order; then 429 `rate_limited` with Retry-After.",
    )
    async def resend_tickets(
        self, request: Request[Any, Any, Any], reference: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> EmailQueued:
        await tickets.resend_tickets(reference_with_token(settings.secret_key, reference, bearer_token(request)), now=now)
        return EmailQueued()

    @post(
        "/orders/{reference:str}/refunds",
        summary="Refund tickets, an amount, or the whole order (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def refund(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: JSONBody[RefundIn],
        now: NamedDependency[datetime],
        gateways: NamedDependency[Gateways],
        idempotency_key: IdempotencyKey = None,
    ) -> RefundOut:
        user: CurrentUser = request.user
        gateway = await gateways.for_order(reference)
        refund = await payments.refund_order(
            reference,
            ticket_ids=data.tickets,
            amount_pence=data.amount_pence,
            reason=data.reason,
            requested_by=user.email,
            gateway=gateway,
            now=now,
            request_key=_checked_idempotency_key(idempotency_key),
        )
        return RefundOut(id=refund.id, amount_pence=refund.amount_pence, method=refund.method, status=refund.status, reason=refund.reason)

    @post(
        "/orders/{reference:str}/refunds/{refund_id:int}/given-back",
        summary="Record that a refund Stripe refused was given back another way (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        status_code=200,
        responses=error_responses(401, 403, 404, 409, 422),
        description='`{"method": "bank_transfer"|"cash"}`. The refund (status `failed`) becomes `succeeded` by that '
        "method and the ledger books it; the guest gets no message. Sent again, it changes nothing and answers the same "
        "refund; recorded the other way, 409 `refund_already_given_back`. 409 `refund_not_refused` for a refund Stripe has not "
        "refused.",
    )
    async def refund_given_back(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        refund_id: RowIdParameter,
        data: JSONBody[GivenBackIn],
        now: NamedDependency[datetime],
    ) -> RefundOut:
        user: CurrentUser = request.user
        refund = await payments.give_back_refused_refund(reference, refund_id, method=data.method, requested_by=user.email, now=now)
        return RefundOut(id=refund.id, amount_pence=refund.amount_pence, method=refund.method, status=refund.status, reason=refund.reason)


# A retried refund request sends the same key, and gets the refund the first one made (payments.refund_order).
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Any unique string (e.g. a UUID). A request sent again with the same key refunds nothing more and "
        "answers with the refund the first one made; the same key with a different request is refused (409).",
    ),
]


def _checked_idempotency_key(key: str | None) -> str | None:
    if key is None or not key.strip():
        return None
    if (problem := text.line_problem(key)) is not None:
        raise InvalidInput(problem, fields={"Idempotency-Key": problem})
    return key.strip()


def _questions_page(
    event: Any, asking: questions.Asking, form: dict[str, str], *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    """The buy form's questions step: the first step's choices carried as hidden fields, the questions to answer."""
    context = {"event": event, "asking": asking, "form": form, "carried": answer_forms.carried_fields(form), "errors": errors or {}}
    return Template("questions/buy.html", context=context, status_code=status_code)


def checkout_context(details: CheckoutDetails, *, token: str, gateway: Gateway, confirmation_url: str, now: datetime) -> dict[str, Any]:
    """What the payment page shows, on the site and in the embeddable ticket form's frame."""
    order = details.order
    return {
        "order": order,
        "token": token,
        "confirmation_url": confirmation_url,
        # Its organisation disconnected Stripe since the order was placed: no card form, no test button.
        "provider": gateway.provider if gateway.takes_cards else "unavailable",
        "publishable_key": gateway.publishable_key,
        "stripe_js_url": gateway.js_url,
        "client_secret": details.client_secret,
        "now": now,
        "hold_seconds_left": holds.seconds_left(order.hold_expires_at, now) if order.hold_expires_at else None,
        "hold_minutes_left": holds.minutes_left(order.hold_expires_at, now) if order.hold_expires_at else None,
        # "Change order" goes back to the event page's form: for orders placed there (not a waiting list's offer).
        "changeable": details.changeable,
    }


def changing_form(choices: orders.OrderChoices, settings: Settings) -> dict[str, str]:
    """The buy form "Change order" shows: the order's choices, and the order itself while it is pending (it holds
    places, or is still to be paid), which the form sent replaces."""
    form = forms.choices_form(choices)
    if choices.status == OrderStatus.pending:
        form[CHANGES_FIELD] = changes_field(choices.reference, settings)
    return form


def changing_places(choices: orders.OrderChoices) -> dict[int, int]:
    """The places per ticket type the order being changed holds, which the changed order may reuse: while it is
    pending (an expired order holds none)."""
    return dict(choices.items) if choices.status == OrderStatus.pending else {}


@dataclass(frozen=True, slots=True)
class FormPlaced:
    """What the buy form led to: the checkout it started, or a page to show (the questions step, or the form again
    with its problems); with the event's organisation (its slug) and the event's gateway."""

    organisation: str
    outcome: checkouts.Checkout | Template
    gateway: Gateway


async def buy_from_form(
    request: Request[Any, Any, Any],
    slug: str,
    data: dict[str, str],
    *,
    who: Guesser,
    replaces: str | None,
    now: datetime,
    settings: Settings,
    gateways: Gateways,
) -> FormPlaced:
    """The buy form sent, on the event page or in the embeddable form's frame: the code the page applied (or none)
    first, as the types it unlocks are among those the form may ask for (a wrong one is counted once, here, and
    shown beside the code's field with nothing placed); then the questions step where the event asks questions
    (without JavaScript, a second page), then the checkout. ``who``: whose wrong codes count; ``replaces``: the
    browser's own earlier hold, which this one replaces (if the same buyer sends it); the order the form changes, if
    "Change order" opened it, is replaced in preference."""
    typed = (data.get("code") or "")[:100]
    # The order "Change order" opened the form for: its places are the guest's to choose again, if the page is shown.
    changes = changed_order(data, settings)
    yours = await orders.places_of_changed_order(changes, slug) if changes else {}
    # Without a code the form needs only the types it may name: the event page is read (again) only if it is shown.
    page = await event_with_code(slug, typed, who, now=now, yours=yours) if typed.strip() else None
    shown = (
        ShownTicketTypes(page.event.organisation.slug, [t.id for t in page.event.ticket_types])
        if page is not None
        else await catalogue.shown_ticket_types(slug)
    )

    async def event_shown() -> EventWithCode:
        return page if page is not None else await event_with_code(slug, typed, who, now=now, yours=yours)

    gateway = await gateways.for_event(slug)
    order_request, problems = forms.buy_request(data, shown.ticket_type_ids)
    try:
        if page is not None and page.error is not None:
            raise page.error
        if problems:
            raise InvalidInput(next(iter(problems.values())), fields=problems)
        step = await questions.buy_form_step(slug, order_request, data, locale=request.state.locale, now=now, code=page.found if page else None)
        if step.show and step.asking is not None:
            # Changing an order: its answers are filled in, for the guest to keep or change.
            answered = await questions.answers_as_form(changes, step.asking) if changes else {}
            return FormPlaced(shown.organisation_slug, _questions_page((await event_shown()).event, step.asking, {**answered, **data}), gateway)
        checkout = await checkouts.checkout(
            slug,
            order_request,
            gateway=gateway,
            now=now,
            hold_minutes=settings.hold_minutes,
            asker=_asker(request, settings, replaces=replaces, browser=who.browser, changes=changes),
            locale=request.state.locale,
            on_placed=step.record,
        )
    except questions.AnswersRefused as refused:
        if refused.asking is None:
            raise
        questions_page = _questions_page((await event_shown()).event, refused.asking, data, errors=refused.fields, status_code=refused.status_code)
        return FormPlaced(shown.organisation_slug, questions_page, gateway)
    except EventsError as error:
        # The form again, with the buyer's choices and a message beside each problem.
        again = event_page(
            request, await event_shown(), settings, now, form=data, error=error, status_code=error.status_code, headers=error.headers, yours=yours
        )
        return FormPlaced(shown.organisation_slug, again, gateway)
    return FormPlaced(shown.organisation_slug, checkout, gateway)


class OrderPages(Controller):
    path = "/"
    include_in_schema = False

    @post("/events/{slug:str}/buy", status_code=303)
    async def buy(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        typed = (data.get("code") or "")[:100]
        who = guesser(request, settings) if typed.strip() else Guesser("")
        placed = await buy_from_form(
            request, slug, data, who=who, replaces=_held_order(request, settings), now=now, settings=settings, gateways=gateways
        )
        if isinstance(placed.outcome, Template):
            return placed.outcome
        checkout, gateway = placed.outcome, placed.gateway
        held = [
            _held_order_cookie(slug, checkout.order.reference, settings) if checkout.provider != "none" else _no_held_order_cookie(slug, settings)
        ]
        return Redirect(_created(checkout, gateway, settings).payment.url or "/", status_code=303, cookies=held + code_cookies(request, settings))

    @get("/orders/{reference:str}/pay", name="checkout")
    async def pay(
        self,
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Template | Redirect:
        reference = reference_with_token(settings.secret_key, reference, token)
        details = await checkout_details(reference)
        _, page = _order_links(settings, reference)
        if details.order.status != OrderStatus.pending:
            return Redirect(page)
        gateway = await gateways.for_order(reference)  # Stripe.js gets the order's organisation's publishable key
        context = checkout_context(details, token=token, gateway=gateway, confirmation_url=page, now=now)
        return Template("orders/checkout.html", context=context, headers=PRIVATE_PAGE)

    @post("/orders/{reference:str}/change", status_code=200)
    async def change_order(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        """ "Change order" on the payment page: the event page with the buyer's choices filled in, in this response
        rather than through a redirect, so that their name and email never go in an address. Nothing changes until
        the form is sent: the order keeps its hold (and the browser's held-order cookie names it) until the changed
        order replaces it (orders.service.order_choices). Sent again (a reload), it shows the same; a paid order goes to
        its order page. The places the order holds are shown as the guest's to choose again (``yours``): the changed
        order may reuse them, so the last places of a type are not "sold out" to the guest who holds them."""
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        choices = await orders.order_choices(reference)
        if choices.status not in (OrderStatus.pending, OrderStatus.expired):
            return Redirect(_order_links(settings, reference)[1], status_code=303)
        yours = changing_places(choices)
        page = await event_with_code(choices.event_slug, choices.code or "", guesser(request, settings), now=now, yours=yours)
        changed = event_page(request, page, settings, now, form=changing_form(choices, settings), headers=PRIVATE_PAGE, yours=yours)
        changed.context["changing"] = True
        pending = choices.status == OrderStatus.pending
        held = _held_order_cookie(choices.event_slug, reference, settings) if pending else _no_held_order_cookie(choices.event_slug, settings)
        changed.cookies.append(held)
        return changed

    @post("/orders/{reference:str}/test-payment", status_code=303)
    async def test_payment(
        self,
        reference: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect:
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        await payments.pay_with_test_provider(reference, gateway=await gateways.for_order(reference), now=now)
        return Redirect(_order_links(settings, reference)[1], status_code=303)

    @get("/orders/{reference:str}", name="order_page")
    async def order_page(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
        resent: FromQuery[bool] = False,
    ) -> Template:
        reference = reference_with_token(settings.secret_key, reference, token)
        await payments.refresh_order(reference, gateway=await gateways.for_order(reference), now=now)
        page = await confirmation.order_page(
            reference, now=now, texts_available=settings.can_send_texts, whatsapp_available=settings.twilio.whatsapp_ready
        )
        return Template(
            "orders/order.html",
            context={
                "page": page,
                # A cancelled event's guest: what the refund choice page offers them, said on the order page too.
                "refund_choice": await cancellation.refund_choice(reference) if page.event_cancelled else None,
                "deliveries": await deliveries_of(reference, now=now),
                "answers": await questions.guest_answers(reference, locale=request.state.locale, now=now),
                "token": token,
                "now": now,
                "resent": resent,
            },
            headers=GUEST_PAGE,
        )

    @post("/orders/{reference:str}/language", status_code=303)
    async def choose_language(
        self, reference: FromPath[str], data: URLEncodedBody[dict[str, str]], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Redirect:
        """The language menu of the order page: the page, and the order's later messages and PDFs, in that language."""
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        lang = data.get("lang", "")
        await orders.remember_language(reference, lang, now)
        remembered = Cookie(key=i18n.LOCALE_COOKIE, value=lang, max_age=i18n.LOCALE_COOKIE_SECONDS, samesite="lax", httponly=True)
        return Redirect(_order_links(settings, reference)[1], status_code=303, cookies=[remembered])

    @post("/orders/{reference:str}/resend", status_code=303)
    async def resend_tickets(
        self, reference: FromPath[str], data: URLEncodedBody[dict[str, str]], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Redirect:
        reference = reference_with_token(settings.secret_key, reference, data.get("token"))
        await tickets.resend_tickets(reference, now=now)
        return Redirect(_order_links(settings, reference)[1] + "&resent=1", status_code=303)
