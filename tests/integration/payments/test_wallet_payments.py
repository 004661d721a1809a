"""Apple Pay and Google Pay: what the server sees of a wallet payment, and the Apple Pay domain file.

A wallet payment reaches Stripe as a card: Stripe.js turns the wallet's token into a PaymentMethod of type
``card`` and confirms our PaymentIntent (created with ``payment_method_types: ["card"]``) with it, the Charge
saying which wallet in ``payment_method_details.card.wallet`` (https://docs.stripe.com/api/charges/object).
So the server side of a wallet payment is a card payment: localstripe takes it the same way (a card PaymentMethod
with the billing details the wallet gave, confirmed on the order's PaymentIntent) and signs its own webhook.

localstripe cannot tokenise a wallet and has no ``wallet`` field on its PaymentMethods or Charges, so what Stripe
sends about a wallet payment is checked with events built by hand in Stripe's documented shapes
(``RECORDED_*`` below: an Apple Pay charge and its PaymentIntent), delivered signed to the in-process app, whose
gateway asks localstripe about the PaymentIntent as it would ask Stripe. No real Apple Pay or Google Pay sheet can
run here (they need a device with a wallet, HTTPS on a domain registered with Stripe and Stripe's own Stripe.js):
the browser side is in tests/browser/test_wallet_checkout.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.orders.tables import Order
from events.payments.tables import Payment, WebhookEvent
from events.payments.wallets import DOMAIN_ASSOCIATION_PATH
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.payments.conftest import StripeApp, StripeServer, place_order, post_event, read_order, wait_for

WALLET_HOLDER = {"name": "Layla Haddad", "email": "layla@example.org"}  # what the wallet sheet gives Stripe


async def test_a_wallet_payment_is_a_card_payment_on_the_same_payment_intent(stripe_server: StripeServer) -> None:
    server, localstripe = stripe_server, stripe_server.localstripe
    async with server.http() as http:
        order = await place_order(http, "august-supper-club", quantity=1)
        confirmed = await localstripe.pay_with_wallet(order.intent_id, WALLET_HOLDER)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"
        method = await localstripe.get(f"/v1/payment_methods/{confirmed.json()['payment_method']}")
        assert method["type"] == "card" and method["billing_details"]["name"] == WALLET_HOLDER["name"]

        async def paid() -> dict[str, Any] | None:
            body = await read_order(http, order)
            return body if body["status"] == "paid" else None

        # localstripe's own signed payment_intent.succeeded webhook settles the order and issues its ticket.
        body = await wait_for(paid, timeout=10, what="the payment_intent.succeeded webhook to settle the order")
        assert [(t["holder"], t["status"]) for t in body["tickets"]] == [("Amal Haddad", "valid")]  # the buyer's name, not the wallet's
    assert await server.db.value("SELECT amount_pence FROM payment WHERE provider_reference = ?", order.intent_id) == order.total_pence


def recorded_apple_pay_charge(intent: dict[str, Any]) -> dict[str, Any]:
    """A Charge as Stripe documents it (https://docs.stripe.com/api/charges/object) for an Apple Pay payment, carried
    by charge.succeeded: a card payment whose payment_method_details.card.wallet names the wallet. The ids and
    amount are localstripe's PaymentIntent's; the rest is Stripe's shape, which localstripe does not produce."""
    charge = intent["latest_charge"]
    return {
        "id": charge if isinstance(charge, str) else charge["id"],
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "billing_details": {"address": {"postal_code": "E8 1AA", "country": "GB"}, "email": None, "name": WALLET_HOLDER["name"], "phone": None},
        "captured": True,
        "created": intent["created"],
        "currency": intent["currency"],
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": "visa",
                "country": "GB",
                "exp_month": 12,
                "exp_year": 2034,
                "funding": "debit",
                "last4": "4242",
                "network": "visa",
                "three_d_secure": None,
                "wallet": {"type": "apple_pay", "apple_pay": {"type": "apple_pay"}, "dynamic_last4": "0366"},
            },
        },
        "refunded": False,
        "status": "succeeded",
    }


def recorded_apple_pay_intent(intent: dict[str, Any]) -> dict[str, Any]:
    """The PaymentIntent as Stripe's payment_intent.succeeded carries it (https://docs.stripe.com/api/payment_intents/object):
    still only the ``card`` payment method type, whichever wallet paid."""
    return {**intent, "payment_method_types": ["card"], "payment_method_configuration_details": None}


@pytest.mark.parametrize("event_type", ["charge.succeeded", "payment_intent.succeeded"])
async def test_stripes_events_about_an_apple_pay_payment_settle_the_order_once(stripe_app: StripeApp, now: datetime, event_type: str) -> None:
    slug = await make_event(now)
    order = await place_order(stripe_app.http, slug, quantity=2)
    assert (await stripe_app.localstripe.pay_with_wallet(order.intent_id, WALLET_HOLDER)).status_code == 200
    intent = await stripe_app.localstripe.retrieve_intent(order.intent_id)
    obj = recorded_apple_pay_charge(intent) if event_type == "charge.succeeded" else recorded_apple_pay_intent(intent)

    for _ in range(2):  # Stripe delivers at least once
        delivered = await post_event(stripe_app.http, event_type, obj, event_id="evt_1ApplePayWalletCharge")
        assert delivered.status_code == 200, delivered.text
    assert delivered.json()["outcome"] == "duplicate"

    body = await read_order(stripe_app.http, order)
    assert body["status"] == "paid"
    assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]
    assert await Payment.count().where(Payment.provider_reference == order.intent_id) == 1
    assert await Ticket.count() == 2
    assert (await WebhookEvent.select(WebhookEvent.event_type, WebhookEvent.error).first()) == {"event_type": event_type, "error": ""}
    assert (await Order.select(Order.status).where(Order.reference == order.reference).first()) == {"status": "paid"}


# --- the Apple Pay domain association file --------------------------------------------------------------------

# A stand-in for the text Stripe's dashboard gives (hexadecimal digits), ending with a line break.
DOMAIN_FILE = "7B2270737049223A2239373943394538343346343131343044463144313834343232393232313734313034353044314339464446394437384337313531303944334643463542433731222C2276657273696F6E223A312C22637265617465644F6E223A313535353338343435353836317D\n"


@pytest.fixture
async def with_domain_file(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    original = app.state.settings
    stripe = dataclasses.replace(original.stripe, apple_pay_domain_association=DOMAIN_FILE)
    app.state.settings = dataclasses.replace(original, stripe=stripe)
    try:
        yield client
    finally:
        app.state.settings = original


async def test_the_apple_pay_domain_file_is_served_as_set_as_plain_text_without_cookies(with_domain_file: httpx.AsyncClient) -> None:
    response = await with_domain_file.get(DOMAIN_ASSOCIATION_PATH)
    assert response.status_code == 200
    assert response.text == DOMAIN_FILE  # byte for byte, its line end too
    assert response.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in response.headers  # no session, no CSRF cookie: Apple's crawler keeps none
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_without_the_setting_there_is_no_apple_pay_domain_file(client: httpx.AsyncClient) -> None:
    response = await client.get(DOMAIN_ASSOCIATION_PATH)
    assert response.status_code == 404
    assert DOMAIN_FILE not in response.text
    assert "set-cookie" not in response.headers
