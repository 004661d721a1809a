"""What a Stripe account says is checked against what we started: an organisation's own Stripe account is in the
hands of that organisation, so a PaymentIntent's metadata (which anyone with the account can edit) names no order
by itself, a payment must cover its order, and a refund Stripe lists is ours only for the order it is listed for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from events.orders import service as orders
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.payments import service as payments
from events.payments.gateway import ProviderRefund
from events.payments.statuses import PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.support.orders import place_order
from tests.support.stripe_account import AccountSays, succeeded


async def orders_of_two_organisations(client: httpx.AsyncClient, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    for slug in ("alpha", "beta"):
        await organisations.create_organisation(slug, OrganisationDetails(name=slug.title()))
    alpha = await make_event(now, organisation="alpha", slug="alpha-night", beneficiaries=[{"partner": "alpha-partner", "share_bp": 10_000}])
    beta = await make_event(now, organisation="beta", slug="beta-night", beneficiaries=[{"partner": "beta-partner", "share_bp": 10_000}])
    ours, theirs = (await place_order(client, alpha, quantity=2)).json(), (await place_order(client, beta, quantity=2)).json()
    await Order.update({Order.payment_intent_id: "pi_alpha"}).where(Order.reference == ours["reference"])
    await Order.update({Order.payment_intent_id: "pi_beta"}).where(Order.reference == theirs["reference"])
    return ours, theirs


async def status(reference: str) -> str:
    return (await Order.select(Order.status).where(Order.reference == reference).first())["status"]


async def test_metadata_naming_another_order_settles_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    ours, theirs = await orders_of_two_organisations(client, now)
    # Alpha's holder edits their own PaymentIntent's metadata to name Beta's order, and pays a penny.
    forged = AccountSays(succeeded("pi_alpha", 1, theirs["reference"]))
    await payments.refresh_order(ours["reference"], gateway=forged, now=now)
    assert await status(theirs["reference"]) == "pending" and await Ticket.count().where(Ticket.order_id.reference == theirs["reference"]) == 0
    assert await status(ours["reference"]) == "pending"  # the intent is Alpha's order's, but names another: not settled


async def test_a_payment_that_does_not_cover_its_order_settles_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    ours, _ = await orders_of_two_organisations(client, now)
    await payments.refresh_order(ours["reference"], gateway=AccountSays(succeeded("pi_alpha", 1, ours["reference"])), now=now)
    assert await status(ours["reference"]) == "pending" and await Payment.count() == 0
    await payments.refresh_order(ours["reference"], gateway=AccountSays(succeeded("pi_alpha", ours["total_pence"], ours["reference"])), now=now)
    assert await status(ours["reference"]) == "paid"


async def test_a_refund_listed_for_one_order_cannot_settle_another_orders_refund(client: httpx.AsyncClient, now: datetime) -> None:
    ours, theirs = await orders_of_two_organisations(client, now)
    for order, intent in ((ours, "pi_alpha"), (theirs, "pi_beta")):
        await payments.refresh_order(order["reference"], gateway=AccountSays(succeeded(intent, order["total_pence"], order["reference"])), now=now)
    beta_order = await Order.select(Order.id).where(Order.reference == theirs["reference"]).first()
    beta_payment = await Payment.select(Payment.id).where(Payment.order_id == beta_order["id"]).first()
    pending = Refund(
        order_id=beta_order["id"], payment=beta_payment["id"], amount_pence=500, method=PaymentMethod.stripe, status=RefundStatus.pending,
        reason="guest asked", requested_by="beta@example.org", created_at=now,
    )  # fmt: skip
    await pending.save()
    alpha_id = (await organisations.find("alpha")).id
    # Alpha's Stripe lists a refund of Alpha's payment whose metadata names Beta's refund.
    forged = AccountSays(
        succeeded("pi_alpha", ours["total_pence"], ours["reference"]), [ProviderRefund("re_forged", 1, "failed", local_refund_id=pending.id)]
    )
    await payments.sync_intent("pi_alpha", gateway=forged, now=now, organisation=alpha_id)
    after = await Refund.select(Refund.status, Refund.provider_refund_id).where(Refund.id == pending.id).first()
    assert after["status"] == RefundStatus.pending and not after["provider_refund_id"]


async def test_an_order_row_handed_in_settles_only_the_order_of_its_intent(client: httpx.AsyncClient, now: datetime) -> None:
    # The test payment hands in the order it has just read, so it is not read twice (bench/rush.py); a row that is
    # not the intent's own order must change nothing about that order.
    ours, theirs = await orders_of_two_organisations(client, now)
    beta_row = await orders.find_order(theirs["reference"])
    state = succeeded("pi_alpha", ours["total_pence"], ours["reference"])
    await payments.record_intent_payment(state, provider=PaymentMethod.stripe, gateway=AccountSays(state), now=now, order=beta_row)
    assert await status(ours["reference"]) == "paid" and await status(theirs["reference"]) == "pending"
    assert await Ticket.count().where(Ticket.order_id.reference == theirs["reference"]) == 0
