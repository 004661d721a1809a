"""Stripe's webhook endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency

from events.config import Settings
from events.dependencies import error_responses
from events.payments import service
from events.payments.gateway import Gateway


class WebhookReceipt(msgspec.Struct):
    received: bool
    outcome: str


class StripeWebhooks(Controller):
    path = "/webhooks"
    tags = ["Webhooks"]

    @post(
        "/stripe",
        status_code=200,
        summary="Stripe events (signed with STRIPE_WEBHOOK_SECRET)",
        responses=error_responses(),
        description="400 on a missing or invalid signature; 503 asks Stripe to retry later.",
    )
    async def stripe_event(
        self,
        request: Request[Any, Any, Any],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateway: NamedDependency[Gateway],
    ) -> WebhookReceipt:
        outcome = await service.handle_webhook(
            await request.body(),
            request.headers.get("stripe-signature"),
            secret=settings.stripe.webhook_secret,
            gateway=gateway,
            now=now,
        )
        return WebhookReceipt(received=True, outcome=outcome)
