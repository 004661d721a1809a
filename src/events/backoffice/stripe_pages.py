"""The organisation's Stripe account page (owners only): connect the organisation's own account with its keys,
see which one is connected (never its secrets), and disconnect it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import OWNER, CurrentUser
from events.config import Settings
from events.errors import EventsError
from events.payments import stripe_accounts
from events.payments.gateways import Gateways
from events.payments.stripe_rules import StripeKeys

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
# Stripe sends these; fulfilment, refunds and late payments are synced from them (payments.service._intent_of).
WEBHOOK_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded", "refund.updated")


class StripePages(Controller):
    path = "/manage/organisation/stripe"
    include_in_schema = False
    guards = [requires_role(OWNER)]

    @get("/", name="organisation_stripe")
    async def show(
        self,
        request: Request[CurrentUser, Any, Any],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
        notice: FromQuery[str] = "",
    ) -> Template:
        return await _page(request.user, settings, gateways, notice=notice)

    @post("/", status_code=303)
    async def connect(
        self,
        request: Request[CurrentUser, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        gateways: NamedDependency[Gateways],
    ) -> Redirect | Template:
        keys = StripeKeys.of(data.get("secret_key", ""), data.get("publishable_key", ""), data.get("webhook_secret", ""))
        try:
            await stripe_accounts.connect(request.user.organisation, keys, connected_by=request.user.id, gateways=gateways, now=now)
        except EventsError as error:
            # The form again, with the publishable key (public) kept and the secrets never sent back.
            errors = error.fields or {"secret_key": error.message}
            form = {"publishable_key": keys.publishable_key}
            return await _page(request.user, settings, gateways, errors=errors, form=form, status_code=error.status_code)
        return Redirect("/manage/organisation/stripe?notice=connected", status_code=303)

    @post("/disconnect", status_code=303)
    async def disconnect(
        self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime], gateways: NamedDependency[Gateways]
    ) -> Redirect:
        await stripe_accounts.disconnect(request.user.organisation, gateways=gateways, now=now)
        return Redirect("/manage/organisation/stripe?notice=disconnected", status_code=303)


async def _page(
    user: CurrentUser,
    settings: Settings,
    gateways: Gateways,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    status = await stripe_accounts.stripe_status(user.organisation, gateways=gateways)
    context = {
        "section": "stripe",
        "status": status,
        "webhook_url": f"{settings.base_url.rstrip('/')}/webhooks/stripe/{user.organisation_slug}",
        "webhook_events": WEBHOOK_EVENTS,
        "notice": notice,
        "errors": errors or {},
        "form": form or {},
    }
    return Template("backoffice/stripe.html", context=context, status_code=status_code, headers=PRIVATE)
