"""Stripe's webhook endpoints (the environment's account's, and each organisation's own), and cancelling an event
(which refunds its orders)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from events import text
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.catalogue.statuses import EventStatus
from events.config import Settings
from events.dependencies import BEARER, error_responses
from events.payments import cancellation, service
from events.payments.gateways import Gateways
from events.payments.statuses import RefundStatus


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=500), text.OPTIONAL_LINE] = ""


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
    refunds_done: int
    refunded_pence: int
    refunds_pending: int
    pending_pence: int
    refunds_failed: int
    failed_pence: int
    currency: str
    outstanding: list[OutstandingRefundOut]


def cancellation_out(progress: cancellation.CancellationProgress) -> CancellationOut:
    counts = {f: getattr(progress, f) for f in CancellationOut.__struct_fields__ if f not in ("complete", "outstanding")}
    outstanding = [OutstandingRefundOut(r.order_reference, r.amount_pence, r.status) for r in progress.outstanding]
    return CancellationOut(complete=progress.complete, outstanding=outstanding, **counts)


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
        progress = await cancellation.cancel_event(slug, reason=data.reason, requested_by=request.user.name, gateway=gateway, now=now)
        return cancellation_out(progress)


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
