"""Stripe's webhook endpoints (the environment's account's, and each organisation's own), cancelling an event
(which refunds its orders), and a guest's choice, after a cancellation, between their refund and a donation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta

from events import text
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.catalogue.statuses import EventStatus
from events.config import Settings
from events.dependencies import BEARER, bearer_token, error_responses
from events.errors import EventsError, InvalidInput
from events.i18n import N_
from events.orders.access import reference_with_token
from events.orders.forms import gift_aid_declaration
from events.orders.schemas import GiftAidIn
from events.payments import cancellation, service
from events.payments.gateways import Gateways
from events.payments.statuses import RefundStatus


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    """``donation_choice_days`` (7 unless given; a repeat keeps the first cancellation's): 1 to 30 gives guests who
    paid by card that many days to donate their refund to the event's partner projects instead (each is refunded when
    the time ends unless they chose); 0 refunds every paid order at once. Orders paid at the door are refunded at once
    either way. ``guest_message`` (optional, the first cancellation's is kept) is the organiser's own words to the
    guests: sent with every cancellation email, as written, and shown on each guest's order page."""

    reason: Annotated[str, Meta(max_length=500), text.OPTIONAL_LINE] = ""
    donation_choice_days: Annotated[int, Meta(ge=0, le=cancellation.MAX_CHOICE_DAYS)] | None = None
    guest_message: Annotated[str, Meta(max_length=cancellation.GUEST_MESSAGE_MAX), text.OPTIONAL_TEXT] = ""


class OutstandingRefundOut(msgspec.Struct):
    order_reference: str
    amount_pence: int
    status: RefundStatus


class CancellationOut(msgspec.Struct):
    """Where a cancellation stands. ``complete`` is false while refunds are still pending with Stripe
    (the worker retries them) or an earlier attempt stopped half-way (call again to finish)."""

    status: EventStatus
    complete: bool
    guests_told: int
    orders_to_finish: int
    tickets_still_valid: int
    refunds_done: int  # refunds made since the event was cancelled
    refunded_pence: int
    refunds_pending: int
    pending_pence: int
    refunds_failed: int
    failed_pence: int
    currency: str
    outstanding: list[OutstandingRefundOut]
    awaiting_choice: int = 0
    awaiting_choice_pence: int = 0
    choice_until: datetime | None = None
    refunds_donated: int = 0
    donated_pence: int = 0
    # Orders whose guest no email or text reaches (e.g. a cash sale at the door with no contact details).
    guests_not_told: int = 0
    guest_message: str = ""  # the organiser's words sent to the guests with the cancellation


def cancellation_out(progress: cancellation.CancellationProgress) -> CancellationOut:
    counts = {f: getattr(progress, f) for f in CancellationOut.__struct_fields__ if f not in ("complete", "outstanding", "guests_not_told")}
    outstanding = [OutstandingRefundOut(r.order_reference, r.amount_pence, r.status) for r in progress.outstanding]
    return CancellationOut(complete=progress.complete, outstanding=outstanding, guests_not_told=len(progress.not_told), **counts)


class CancellationApi(Controller):
    path = "/api/events"
    tags = ["Events"]

    @post(
        "/{slug:str}/cancel",
        status_code=200,
        summary="Cancel an event: refund every paid order and email every guest (organiser; safe to repeat)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        slug: FromPath[str],
        data: JSONBody[CancelIn],
        now: NamedDependency[datetime],
        gateways: NamedDependency[Gateways],
    ) -> CancellationOut:
        gateway = await gateways.for_event(slug)
        progress = await cancellation.cancel_event(
            slug,
            reason=data.reason,
            guest_message=data.guest_message,
            requested_by=request.user.name,
            gateway=gateway,
            now=now,
            donation_choice_days=data.donation_choice_days,
        )
        return cancellation_out(progress)


# --- a guest's choice after a cancellation: their refund now, or a donation -------------------------------------


class RefundChoiceIn(msgspec.Struct, forbid_unknown_fields=True):
    """``donate`` gives the refund to the event's partner projects; a UK taxpayer may add ``gift_aid`` (they were
    offered the refund and chose to give it instead). ``refund`` asks for the money now."""

    choice: Literal["refund", "donate"]
    gift_aid: GiftAidIn | None = None


class RefundChoiceOut(msgspec.Struct):
    choice: str
    amount_pence: int
    currency: str
    refund_status: RefundStatus | None
    gift_aid: bool


class RefundChoiceStateOut(msgspec.Struct):
    """``open``: a donation can still be chosen, until ``choice_until``; unchosen, ``choosable_pence`` is refunded then."""

    reference: str
    choice_until: datetime | None
    open: bool
    choosable_pence: int
    donated_pence: int
    refunded_pence: int
    currency: str
    gift_aid: bool


def _state_out(state: cancellation.RefundChoiceState, now: datetime) -> RefundChoiceStateOut:
    return RefundChoiceStateOut(
        reference=state.reference,
        choice_until=state.choice_until,
        open=state.open(now),
        choosable_pence=state.choosable_pence,
        donated_pence=state.donated_pence,
        refunded_pence=state.refunded_pence,
        currency=state.currency,
        gift_aid=state.gift_aid,
    )


class RefundChoiceApi(Controller):
    path = "/api/orders"
    tags = ["Orders"]

    @get(
        "/{reference:str}/refund-choice",
        summary="After a cancellation: what the guest may still choose (send the order's access_token as the bearer token)",
        responses=error_responses(404),
        security=[{"BearerToken": []}],
    )
    async def read(
        self, request: Request[Any, Any, Any], reference: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> RefundChoiceStateOut:
        state = await cancellation.refund_choice(reference_with_token(settings.secret_key, reference, bearer_token(request)))
        return _state_out(state, now)

    @post(
        "/{reference:str}/refund-choice",
        status_code=200,
        summary="After a cancellation: take the refund now, or donate it (send the order's access_token as the bearer token)",
        description='`{"choice": "refund"|"donate", "gift_aid"?: {...}}`, once: 409 `already_chosen` for a second '
        "choice (nothing changes), 409 `no_refund_choice` for an order that was offered none, 409 `choice_closed` for a "
        "donation after the time to choose (the refund is on its way), 422 for bad input (a Gift Aid declaration with a "
        "refund, or a declaration's missing or wrong fields).",
        responses=error_responses(404, 409, 422),
        security=[{"BearerToken": []}],
    )
    async def choose(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: JSONBody[RefundChoiceIn],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> RefundChoiceOut:
        reference = reference_with_token(settings.secret_key, reference, bearer_token(request))
        made = await cancellation.choose_refund(
            reference,
            choice=data.choice,
            declaration=(data.gift_aid.declaration() if data.gift_aid else None),
            gateway=await gateways.for_order(reference),
            now=now,
        )
        return RefundChoiceOut(
            choice=made.choice, amount_pence=made.amount_pence, currency=made.currency, refund_status=made.refund_status, gift_aid=made.gift_aid
        )


# The choice page is in the guest's language, like the order page: a browser asks again each time it shows it.
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}
GIFT_AID_FIELDS = ("gift_aid_title", "gift_aid_first_name", "gift_aid_last_name", "gift_aid_house", "gift_aid_postcode")


class RefundChoicePages(Controller):
    """The page a cancelled event's guest reaches from its cancellation message: refund now, or donate instead."""

    path = "/orders"
    include_in_schema = False

    @get("/{reference:str}/cancelled", name="refund_choice")
    async def page(
        self,
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        done: FromQuery[str] = "",
    ) -> Template:
        reference = reference_with_token(settings.secret_key, reference, token)
        state = await cancellation.refund_choice(reference)
        return _choice_page(state, token=token, now=now, done=done if done in ("refund", "donate") else "")

    @post("/{reference:str}/cancelled", status_code=303)
    async def choose(
        self,
        reference: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Template | Redirect:
        token = data.get("token", "")
        reference = reference_with_token(settings.secret_key, reference, token)
        choice = data.get("choice", "")
        try:
            problems = text.form_problems(data, lines=GIFT_AID_FIELDS)
            if choice not in ("refund", "donate"):
                problems["choice"] = N_("Choose your refund or a donation.")
            if problems:
                raise InvalidInput(N_("Please check the form."), fields=problems)
            declaration = gift_aid_declaration(data) if choice == "donate" else None
            await cancellation.choose_refund(
                reference,
                choice=choice,  # type: ignore[arg-type]
                declaration=declaration,
                gateway=await gateways.for_order(reference),
                now=now,
            )
        except EventsError as error:
            state = await cancellation.refund_choice(reference)
            return _choice_page(state, token=token, now=now, error=error, form=data)
        return Redirect(f"/orders/{reference}/cancelled?token={token}&done={choice}", status_code=303)


def _choice_page(
    state: cancellation.RefundChoiceState,
    *,
    token: str,
    now: datetime,
    done: str = "",
    error: EventsError | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    zone = ZoneInfo(state.timezone or "Europe/London")
    return Template(
        "orders/refund_choice.html",
        context={
            "state": state,
            "open": state.open(now),
            "choice_until": state.choice_until.astimezone(zone) if state.choice_until else None,
            "token": token,
            "done": done,
            "error": error.message if error else "",
            "error_code": error.code if error else "",
            "errors": error.fields if error else {},
            "form": form or {},
        },
        status_code=error.status_code if error else 200,
        headers=GUEST_PAGE,
    )


class WebhookReceipt(msgspec.Struct):
    received: bool
    outcome: str


class StripeWebhooks(Controller):
    path = "/webhooks"
    tags = ["Webhooks"]

    @post(
        "/stripe",
        status_code=200,
        summary="Stripe events of the environment's account (signed with STRIPE_WEBHOOK_SECRET): the first organisation's",
        responses=error_responses(),
        description=(
            "400 on a missing or invalid signature; 503 asks Stripe to retry later. Only the installation's first "
            "organisation's orders are fulfilled here; an event naming another's is acknowledged with outcome `other_organisation`."
        ),
    )
    async def stripe_event(
        self,
        request: Request[Any, Any, Any],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> WebhookReceipt:
        outcome = await service.handle_webhook(
            await request.body(),
            request.headers.get("stripe-signature"),
            secret=settings.stripe.webhook_secret,
            gateway=gateways.environment,
            organisation=await gateways.first_organisation(),
            now=now,
            environment_endpoint=True,
        )
        return WebhookReceipt(received=True, outcome=outcome)

    @post(
        "/stripe/{organisation:str}",
        status_code=200,
        summary="Stripe events of one organisation's own Stripe account (signed with the webhook secret it connected)",
        responses=error_responses(404),
        description=(
            "`organisation` is the organisation's slug. 400 on a missing or invalid signature (or no Stripe account "
            "connected); 503 asks Stripe to retry later. Only that organisation's orders are fulfilled; an event naming "
            "another organisation's order changes nothing and is acknowledged with outcome `other_organisation`."
        ),
    )
    async def organisation_stripe_event(
        self,
        request: Request[Any, Any, Any],
        organisation: FromPath[str],
        now: NamedDependency[datetime],
        gateways: NamedDependency[Gateways],
    ) -> WebhookReceipt:
        outcome = await service.handle_organisation_webhook(
            organisation, await request.body(), request.headers.get("stripe-signature"), gateways=gateways, now=now
        )
        return WebhookReceipt(received=True, outcome=outcome)
