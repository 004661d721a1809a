"""Card payments through Stripe (localstripe standing in), as guests and organisers live them: a card payment
becomes tickets exactly once however Stripe's webhooks arrive, a declined card holds nothing back, late
payments end in tickets or a refund, and every refund (ours or one made in Stripe's dashboard) is recorded
once and puts places back on sale."""

from __future__ import annotations

import asyncio
import html
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from aiohttp import web

from events.catalogue.tables import Event, TicketType
from events.config import StripeSettings
from events.orders.tables import Order, OrderHistory, OrderLine
from events.payments import service as payments
from events.payments.gateway import StripeGateway
from events.payments.gateways import Gateways
from events.payments.tables import Payment, Refund, WebhookEvent
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.payments.conftest import (
    GuestOrder,
    StripeApp,
    StripeServer,
    place_order,
    places_left,
    post_event,
    read_order,
    wait_for,
)
from tests.support.localstripe import DECLINED_ON_CHARGE, VISA, WEBHOOK_SECRET, charge_refunded_object, event_payload, sign
from tests.support.server import free_port

LATE_BUT_ISSUED = "Your payment arrived after your places were released, but places were still free: your tickets are below."
LATE_AND_REFUNDED = "Your payment arrived after your places were released and the event is now full. We have refunded you in full."
CARD_FAILED = "Your card payment did not go through. You can try again with another card."


def page_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


# ============================================================================================================
# A real server, paid through localstripe, told by localstripe's own signed webhooks
# ============================================================================================================


async def test_a_card_payment_ends_with_the_order_paid_and_tickets_issued(stripe_server: StripeServer) -> None:
    server, localstripe = stripe_server, stripe_server.localstripe
    async with server.http() as http:
        before = await places_left(http, "august-supper-club")
        order = await place_order(http, "august-supper-club", quantity=2)
        assert order.total_pence == 6000
        assert order.created["payment"]["publishable_key"] == localstripe.publishable_key
        assert await places_left(http, "august-supper-club") == before - 2  # held while the guest pays

        # The PaymentIntent the server created at Stripe: the order's amount, traceable to the order. (localstripe
        # does not keep payment_method_types; what we send is checked against a recorded stand-in below.)
        intent = await localstripe.retrieve_intent(order.intent_id)
        assert (intent["amount"], intent["currency"], intent["status"]) == (6000, "gbp", "requires_payment_method")
        assert intent["metadata"]["order_reference"] == order.reference
        assert intent["client_secret"] == order.client_secret

        confirmed = await localstripe.pay(order.intent_id, VISA)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"

        # Only the webhook can mark it paid: the API reads our database and never asks Stripe.
        async def paid() -> dict[str, Any] | None:
            body = await read_order(http, order)
            return body if body["status"] == "paid" else None

        body = await wait_for(paid, timeout=10, what="the payment_intent.succeeded webhook to settle the order")
        assert [(t["type"], t["holder"], t["status"]) for t in body["tickets"]] == [("Supper", "Amal Haddad", "valid")] * 2
        assert body["notices"] == []
        assert await places_left(http, "august-supper-club") == before - 2  # sold now

        ticket = await http.get(body["tickets"][0]["url"])
        assert ticket.status_code == 200 and "August Supper Club" in page_text(ticket)

    webhooks = await server.db.rows("SELECT event_type, processed_at, error FROM webhook_event WHERE object_id = ? ORDER BY id", order.intent_id)
    assert [w["event_type"] for w in webhooks] == ["payment_intent.succeeded"]
    assert webhooks[0]["processed_at"] is not None and webhooks[0]["error"] == ""
    payment = await server.db.rows(
        "SELECT provider, amount_pence, fee_pence, currency, charge_id FROM payment WHERE provider_reference = ?", order.intent_id
    )
    charge_id = intent_charge_id(await localstripe.retrieve_intent(order.intent_id))
    # Stripe's fee comes from the charge's balance transaction: 0 at localstripe, stored as 0 (NULL would mean "not known yet").
    assert payment == [{"provider": "stripe", "amount_pence": 6000, "fee_pence": 0, "currency": "GBP", "charge_id": charge_id}]


def intent_charge_id(intent: dict[str, Any]) -> str:
    charge = intent["latest_charge"]
    return charge if isinstance(charge, str) else charge["id"]


@pytest.fixture
def webhook_with_wrong_secret(stripe_server: StripeServer) -> Any:
    """localstripe keeps delivering to the server, but signs with a secret the server does not know."""
    stripe_server.register_webhook(secret="whsec_someone_else")
    try:
        yield stripe_server
    finally:
        stripe_server.register_webhook()


async def test_the_order_page_asks_stripe_when_the_webhook_does_not_get_through(webhook_with_wrong_secret: StripeServer) -> None:
    server, localstripe = webhook_with_wrong_secret, webhook_with_wrong_secret.localstripe
    rejected_before = localstripe.log_file.read_text().count("failed with response code 400")
    async with server.http() as http:
        order = await place_order(http, "choose-love-night", quantity=2, type_name="Advance")
        assert order.total_pence == 2 * 600 + 2 * 50
        assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200

        async def webhook_refused() -> bool:
            return localstripe.log_file.read_text().count("failed with response code 400") > rejected_before

        await wait_for(webhook_refused, timeout=10, what="localstripe's webhook to be refused (wrong signature)")
        assert (await read_order(http, order))["status"] == "pending"  # the webhook changed nothing

        page = page_text(await http.get(order.page))
        assert "You're going!" in page
        assert page.count("Show ticket") == 2
        assert re.search(r"Total</th><td><strong>£13</strong>", page)  # 2 × £6 + 2 × 50p booking fee
        body = await read_order(http, order)
        assert body["status"] == "paid" and [t["status"] for t in body["tickets"]] == ["valid", "valid"]
    assert await server.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", order.intent_id) == 1
    assert await server.db.value("SELECT count(*) FROM webhook_event WHERE object_id = ?", order.intent_id) == 0


async def test_a_declined_card_leaves_the_order_unpaid_and_the_places_held(stripe_server: StripeServer) -> None:
    server, localstripe = stripe_server, stripe_server.localstripe
    async with server.http() as http:
        before = await places_left(http, "choose-love-night")
        order = await place_order(http, "choose-love-night", quantity=2, type_name="Advance")

        declined = await localstripe.pay(order.intent_id, DECLINED_ON_CHARGE)
        assert declined.status_code == 402
        assert declined.json()["error"]["code"] == "card_declined"

        async def failure_recorded() -> bool:
            rows = await server.db.rows(
                "SELECT processed_at FROM webhook_event WHERE object_id = ? AND event_type = 'payment_intent.payment_failed'",
                order.intent_id,
            )
            return bool(rows) and rows[0]["processed_at"] is not None

        await wait_for(failure_recorded, timeout=10, what="the payment_intent.payment_failed webhook")

        body = await read_order(http, order)
        assert body["status"] == "pending" and body["tickets"] == [] and body["paid_at"] is None
        assert body["notices"] == [CARD_FAILED]
        assert await places_left(http, "choose-love-night") == before - 2  # still held: the guest may try again

        page = page_text(await http.get(order.page))
        assert "Your card payment did not go through" in page
        assert "You're going!" not in page and "Show ticket" not in page
        assert (await http.get(order.created["payment"]["url"], follow_redirects=False)).status_code == 200  # can still pay
    assert await server.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", order.intent_id) == 0
    assert (await localstripe.retrieve_intent(order.intent_id))["status"] == "requires_payment_method"


@pytest.fixture(params=["sqlite", "postgres"])
def racing_server(request: pytest.FixtureRequest) -> StripeServer:
    return request.getfixturevalue("stripe_server" if request.param == "sqlite" else "stripe_pg_server")


async def test_replayed_and_early_webhooks_issue_one_set_of_tickets(racing_server: StripeServer) -> None:
    """Stripe delivers at least once, in any order, sometimes before the guest's browser is back on our page.
    Ten deliveries at once (the same event again and again, plus other events about the same payment),
    then the guest's page, then ten more replays: one payment, one set of tickets."""
    server, localstripe = racing_server, racing_server.localstripe
    async with server.http() as http:
        order = await place_order(http, "choose-love-night", quantity=2, type_name="Advance")
        assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200
        intent = await localstripe.retrieve_intent(order.intent_id)
        succeeded = f"evt_{secrets.token_hex(12)}"
        charge = {
            "id": intent_charge_id(intent),
            "object": "charge",
            "amount": intent["amount"],
            "currency": "gbp",
            "payment_intent": intent["id"],
            "status": "succeeded",
            "paid": True,
            "captured": True,
            "refunded": False,
        }

        deliveries = [post_event(http, "payment_intent.succeeded", intent, event_id=succeeded) for _ in range(7)]
        deliveries += [post_event(http, "payment_intent.succeeded", intent) for _ in range(2)]  # the same news, other ids
        deliveries += [post_event(http, "charge.succeeded", charge)]
        responses = await asyncio.gather(*deliveries)
        assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
        outcomes = [r.json()["outcome"] for r in responses]
        assert set(outcomes) <= {"processed", "duplicate"} and "processed" in outcomes

        body = await read_order(http, order)  # the webhooks alone settled it
        assert body["status"] == "paid" and len(body["tickets"]) == 2

        page = page_text(await http.get(order.page))
        assert page.count("Show ticket") == 2

        for _ in range(10):
            replay = await post_event(http, "payment_intent.succeeded", intent, event_id=succeeded)
            assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"

        # localstripe's own delivery of the same payment lands too, about a second after the payment.
        async def localstripe_delivered() -> bool:
            rows = await server.db.rows("SELECT stripe_event_id FROM webhook_event WHERE object_id = ? AND processed_at IS NOT NULL", intent["id"])
            return len(rows) >= 5

        await wait_for(localstripe_delivered, timeout=10, what="localstripe's own webhook")
        body = await read_order(http, order)
        assert body["status"] == "paid" and [t["status"] for t in body["tickets"]] == ["valid", "valid"]

    assert await server.db.value("SELECT count(*) FROM payment WHERE provider_reference = ?", order.intent_id) == 1
    assert await server.db.value("SELECT count(*) FROM ticket t JOIN ticket_order o ON o.id = t.order_id WHERE o.reference = ?", order.reference) == 2
    assert (
        await server.db.value(
            "SELECT count(*) FROM order_history h JOIN ticket_order o ON o.id = h.order_id WHERE o.reference = ? AND h.kind = 'paid'",
            order.reference,
        )
        == 1
    )


# ============================================================================================================
# The in-process app on SQLite and PostgreSQL, its gateway pointed at localstripe
# ============================================================================================================


async def places_add_up(slug: str) -> None:
    """Every place counted as taken is a valid ticket or a pending hold, for the event and each ticket type."""
    event = await Event.select(Event.id, Event.places_taken).where(Event.slug == slug).first()
    assert event is not None
    types = await TicketType.select(TicketType.id, TicketType.name, TicketType.places_taken).where(TicketType.event == event["id"])
    valid = await Ticket.select(Ticket.ticket_type).where(Ticket.event == event["id"], Ticket.status == "valid")
    held = await OrderLine.select(OrderLine.ticket_type, OrderLine.quantity).where(
        OrderLine.order_id.event == event["id"], OrderLine.order_id.status == "pending", OrderLine.kind == "ticket"
    )
    counted = {t["id"]: 0 for t in types}
    for row in valid:
        counted[row["ticket_type"]] += 1
    for row in held:
        counted[row["ticket_type"]] += row["quantity"]
    assert {t["name"]: t["places_taken"] for t in types} == {t["name"]: counted[t["id"]] for t in types}
    assert event["places_taken"] == sum(counted.values())


async def paid_order(stripe_app: StripeApp, slug: str, quantity: int = 2, **kwargs: Any) -> GuestOrder:
    """A guest orders, pays by card, and Stripe's payment_intent.succeeded webhook arrives."""
    order = await place_order(stripe_app.http, slug, quantity, **kwargs)
    assert (await stripe_app.localstripe.pay(order.intent_id, VISA)).status_code == 200
    delivered = await post_event(stripe_app.http, "payment_intent.succeeded", await stripe_app.localstripe.retrieve_intent(order.intent_id))
    assert delivered.status_code == 200 and delivered.json()["outcome"] == "processed", delivered.text
    assert (await read_order(stripe_app.http, order))["status"] == "paid"
    return order


async def history(reference: str) -> list[str]:
    rows = await OrderHistory.select(OrderHistory.kind).where(OrderHistory.order_id.reference == reference).order_by(OrderHistory.id)
    return [row["kind"] for row in rows]


async def test_webhooks_without_a_valid_signature_are_refused(stripe_app: StripeApp) -> None:
    http = stripe_app.http
    payload = event_payload("customer.created", {"id": "cus_someone", "object": "customer"})
    now = int(time.time())
    attempts = {
        "no signature": {},
        "empty signature": {"Stripe-Signature": ""},
        "not a signature": {"Stripe-Signature": "nonsense"},
        "another secret": {"Stripe-Signature": sign(payload, "whsec_not_ours")},
        "too old (replayed an hour later)": {"Stripe-Signature": sign(payload, WEBHOOK_SECRET, timestamp=now - 3600)},
        "only an old scheme": {"Stripe-Signature": sign(payload).replace("v1=", "v0=")},
    }
    for name, headers in attempts.items():
        response = await http.post("/webhooks/stripe", content=payload, headers={"Content-Type": "application/json", **headers})
        assert response.status_code == 400, name
        assert response.json()["error"] == "invalid_signature", name
    tampered = payload.replace(b"cus_someone", b"cus_somebody")
    response = await http.post("/webhooks/stripe", content=tampered, headers={"Stripe-Signature": sign(payload)})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_signature")
    assert await WebhookEvent.count() == 0  # nothing unsigned is recorded or acted on

    # The same body, properly signed, is accepted (an event type we do not act on).
    response = await http.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign(payload)})
    assert response.status_code == 200 and response.json() == {"received": True, "outcome": "ignored"}
    assert await WebhookEvent.count() == 1


async def test_the_stripe_fee_is_stored_from_the_balance_transaction(stripe_app: StripeApp, now: datetime) -> None:
    """localstripe's balance transactions always have fee 0: the point here is that 0 is stored (not NULL,
    which would mean 'not known yet' and keep the fee job asking). A non-zero fee is covered below."""
    slug = await make_event(now)
    order = await paid_order(stripe_app, slug)
    intent = await stripe_app.localstripe.retrieve_intent(order.intent_id)
    payment = await Payment.select().where(Payment.provider_reference == order.intent_id).first()
    assert payment is not None
    assert (payment["provider"], payment["amount_pence"], payment["currency"]) == ("stripe", 6000, "GBP")
    assert payment["charge_id"] == intent_charge_id(intent)
    assert payment["fee_pence"] == 0
    assert await payments.fetch_missing_fees(datetime.now(timezone.utc), gateways=stripe_app.gateways) == 0  # nothing left to fetch


# Recorded from Stripe's documented object shapes (https://docs.stripe.com/api/charges/object and
# https://docs.stripe.com/api/balance_transactions/object) for a £30 UK card payment: 1.5% + 20p = 65p.
RECORDED_CHARGE = {
    "id": "ch_3PbXyZ2eZvKYlo2C0a1b2c3d",
    "object": "charge",
    "amount": 3000,
    "amount_captured": 3000,
    "amount_refunded": 0,
    "balance_transaction": "txn_3PbXyZ2eZvKYlo2C0e4f5g6h",
    "captured": True,
    "created": 1720396800,
    "currency": "gbp",
    "livemode": False,
    "metadata": {},
    "paid": True,
    "payment_intent": "pi_3PbXyZ2eZvKYlo2C0i7j8k9l",
    "refunded": False,
    "status": "succeeded",
}
RECORDED_BALANCE_TRANSACTION = {
    "id": "txn_3PbXyZ2eZvKYlo2C0e4f5g6h",
    "object": "balance_transaction",
    "amount": 3000,
    "available_on": 1720569600,
    "created": 1720396800,
    "currency": "gbp",
    "description": None,
    "exchange_rate": None,
    "fee": 65,
    "fee_details": [{"amount": 65, "application": None, "currency": "gbp", "description": "Stripe processing fees", "type": "stripe_fee"}],
    "net": 2935,
    "reporting_category": "charge",
    "source": "ch_3PbXyZ2eZvKYlo2C0a1b2c3d",
    "status": "pending",
    "type": "charge",
}
PENDING_CHARGE = {**RECORDED_CHARGE, "id": "ch_3PbXyZ2eZvKYlo2C0pending", "balance_transaction": None}
RECORDED_INTENT = {
    "id": "pi_3PbXyZ2eZvKYlo2C0i7j8k9l",
    "object": "payment_intent",
    "amount": 6000,
    "amount_received": 0,
    "capture_method": "automatic",
    "client_secret": "pi_3PbXyZ2eZvKYlo2C0i7j8k9l_secret_Zk3nq0PzVhM1sT5uYw8x",
    "created": 1720396800,
    "currency": "gbp",
    "last_payment_error": None,
    "latest_charge": None,
    "livemode": False,
    "metadata": {"order_reference": "K7M-4QX", "event": "august-supper-club"},
    "payment_method": None,
    "payment_method_types": ["card"],
    "status": "requires_payment_method",
}


@dataclass
class RecordedStripe:
    gateway: StripeGateway
    requests: list[dict[str, Any]]


@pytest.fixture
async def recorded_stripe() -> AsyncIterator[RecordedStripe]:
    """A tiny stand-in for Stripe's API serving the recorded objects above (localstripe cannot produce a fee,
    and neither keeps payment_method_types nor looks at idempotency keys), noting every request it gets."""
    objects = {
        f"/v1/charges/{RECORDED_CHARGE['id']}": RECORDED_CHARGE,
        f"/v1/charges/{PENDING_CHARGE['id']}": PENDING_CHARGE,
        f"/v1/balance_transactions/{RECORDED_BALANCE_TRANSACTION['id']}": RECORDED_BALANCE_TRANSACTION,
    }
    requests: list[dict[str, Any]] = []

    async def serve(request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.method == "POST" else {}
        requests.append({"method": request.method, "path": request.path, "form": form, "idempotency_key": request.headers.get("Idempotency-Key")})
        if request.headers.get("Authorization") != "Bearer sk_test_recorded":
            return web.json_response({"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, status=401)
        if request.method == "POST" and request.path == "/v1/payment_intents":
            return web.json_response(RECORDED_INTENT)
        if request.method == "POST" and request.path == f"/v1/payment_intents/{RECORDED_INTENT['id']}/cancel":
            return web.json_response({**RECORDED_INTENT, "status": "canceled"})
        if request.method == "GET" and request.path in objects:
            return web.json_response(objects[request.path])
        return web.json_response({"error": {"type": "invalid_request_error", "message": "No such object"}}, status=404)

    stand_in = web.Application()
    stand_in.router.add_route("*", "/{tail:.*}", serve)
    runner = web.AppRunner(stand_in)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    settings = StripeSettings("sk_test_recorded", "pk_test_recorded", WEBHOOK_SECRET, f"http://127.0.0.1:{port}", "http://127.0.0.1/js")
    try:
        yield RecordedStripe(StripeGateway(settings), requests)
    finally:
        await runner.cleanup()


async def test_a_non_zero_fee_is_read_from_the_charge_balance_transaction(recorded_stripe: RecordedStripe) -> None:
    """localstripe cannot produce fees (always 0), so this reads recorded Stripe objects from a stand-in."""
    assert await recorded_stripe.gateway.fee_for_charge(RECORDED_CHARGE["id"]) == 65
    assert [(r["method"], r["path"]) for r in recorded_stripe.requests] == [
        ("GET", f"/v1/charges/{RECORDED_CHARGE['id']}"),
        ("GET", f"/v1/balance_transactions/{RECORDED_BALANCE_TRANSACTION['id']}"),
    ]
    assert await recorded_stripe.gateway.fee_for_charge(PENDING_CHARGE["id"]) is None  # no balance transaction yet: ask later


async def test_the_fee_job_stores_a_fee_that_was_not_known_at_payment_time(
    stripe_app: StripeApp, recorded_stripe: RecordedStripe, now: datetime
) -> None:
    """The payment is real (through localstripe); its charge is then pointed at the recorded £30 charge with a 65p
    fee, as if Stripe's balance transaction had not been ready when the payment was booked."""
    gateway = recorded_stripe.gateway
    fees = Gateways(gateway, stripe_app.settings)  # the recorded stand-in as the first organisation's account
    order = await paid_order(stripe_app, await make_event(now), quantity=1)
    await Payment.update({Payment.fee_pence: None, Payment.charge_id: PENDING_CHARGE["id"]}).where(Payment.provider_reference == order.intent_id)
    assert await payments.fetch_missing_fees(datetime.now(timezone.utc), gateways=fees) == 1
    assert await Payment.select(Payment.fee_pence).where(Payment.provider_reference == order.intent_id).first() == {"fee_pence": None}

    await Payment.update({Payment.charge_id: RECORDED_CHARGE["id"]}).where(Payment.provider_reference == order.intent_id)
    assert await payments.fetch_missing_fees(datetime.now(timezone.utc), gateways=fees) == 1
    assert await Payment.select(Payment.fee_pence).where(Payment.provider_reference == order.intent_id).first() == {"fee_pence": 65}
    assert await payments.fetch_missing_fees(datetime.now(timezone.utc), gateways=fees) == 0


async def test_a_payment_intent_is_for_cards_only_and_created_once_per_order(recorded_stripe: RecordedStripe) -> None:
    """What we ask Stripe for when an order is placed (localstripe drops payment_method_types and ignores
    idempotency keys, so this is read from the stand-in's record of the request)."""
    intent_id, client_secret = await recorded_stripe.gateway.create_intent(
        reference="K7M-4QX", amount_pence=6000, currency="GBP", event_slug="august-supper-club"
    )
    assert (intent_id, client_secret) == (RECORDED_INTENT["id"], RECORDED_INTENT["client_secret"])
    [request] = recorded_stripe.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/payment_intents")
    assert request["form"] == {
        "amount": "6000",
        "currency": "gbp",
        "payment_method_types[0]": "card",
        "metadata[order_reference]": "K7M-4QX",
        "metadata[event]": "august-supper-club",
    }
    assert request["idempotency_key"] == "order-K7M-4QX-intent"  # a retried request cannot make a second payment


async def test_cancelling_a_payment_intent_carries_an_idempotency_key_per_attempt(recorded_stripe: RecordedStripe) -> None:
    """The sweeper (or a replaced hold) cancels an intent: a network retry within one attempt reuses its key, a
    later attempt has its own (Stripe would otherwise replay the first attempt's answer for a day)."""
    for _ in range(2):
        assert await recorded_stripe.gateway.cancel_intent(RECORDED_INTENT["id"]) == "canceled"
    cancels = [r for r in recorded_stripe.requests if r["path"] == f"/v1/payment_intents/{RECORDED_INTENT['id']}/cancel"]
    assert [r["method"] for r in cancels] == ["POST", "POST"]
    keys = [r["idempotency_key"] for r in cancels]
    assert all(key and key.startswith(f"cancel-{RECORDED_INTENT['id']}-") for key in keys) and keys[0] != keys[1]


async def hold_ran_out(order: GuestOrder) -> None:
    await Order.update({Order.hold_expires_at: datetime.now(timezone.utc) - timedelta(minutes=1)}).where(Order.reference == order.reference)


async def test_a_late_payment_gets_tickets_while_places_remain(stripe_app: StripeApp, now: datetime) -> None:
    """The hold runs out while the guest is still on the checkout page; they pay; then the sweeper runs."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await place_order(http, slug, 2)
    await hold_ran_out(order)
    assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200

    assert await payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways) == 1

    body = await read_order(http, order)
    assert body["status"] == "paid"
    assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]
    assert body["notices"] == [LATE_BUT_ISSUED]
    assert await places_left(http, slug) == 18
    assert await history(order.reference) == ["created", "hold_expired", "late_payment_issued"]
    row = await Order.select(Order.intent_closed_at).where(Order.reference == order.reference).first()
    assert row is not None and row["intent_closed_at"] is not None  # the sweeper will not ask Stripe again

    page = page_text(await http.get(order.page))
    assert "You're going!" in page and LATE_BUT_ISSUED in page

    # Stripe's webhook arrives afterwards: nothing more is booked.
    late = await post_event(http, "payment_intent.succeeded", await localstripe.retrieve_intent(order.intent_id))
    assert late.status_code == 200
    assert await Payment.count().where(Payment.provider_reference == order.intent_id) == 1
    assert await Ticket.count().where(Ticket.order_id.reference == order.reference) == 2
    assert await Refund.count() == 0 and await localstripe.refunds(order.intent_id) == []
    await places_add_up(slug)


async def test_a_late_payment_is_refunded_when_the_event_filled_meanwhile(stripe_app: StripeApp, now: datetime) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=2, reserved_free_places=0)
    late = await place_order(http, slug, 2)
    await hold_ran_out(late)
    assert (await localstripe.pay(late.intent_id, VISA)).status_code == 200  # paid just after the hold ran out

    # Meanwhile another guest takes the two places (the overdue hold is released for them) and pays.
    other = await paid_order(stripe_app, slug, 2, buyer={"name": "Bo Li", "email": "bo@example.org"})
    assert await places_left(http, slug) == 0

    await payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways)

    body = await read_order(http, late)
    assert body["status"] == "refunded"
    assert body["tickets"] == []
    assert body["refunded_pence"] == 6000
    assert body["notices"] == [LATE_AND_REFUNDED]
    refunds = await Refund.select().where(Refund.order_id.reference == late.reference)
    at_stripe = await localstripe.refunds(late.intent_id)
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(6000, "succeeded")]
    assert [(r["amount_pence"], r["status"], r["method"], r["provider_refund_id"], r["requested_by"]) for r in refunds] == [
        (6000, "succeeded", "stripe", at_stripe[0]["id"], "system")
    ]
    assert at_stripe[0]["metadata"]["refund_id"] == str(refunds[0]["id"])

    page = page_text(await http.get(late.page))
    assert "Your order was refunded" in page and LATE_AND_REFUNDED in page

    assert [t["status"] for t in (await read_order(http, other))["tickets"]] == ["valid", "valid"]  # untouched
    assert await places_left(http, slug) == 0

    # Stripe tells us again (webhook, the re-check job): still one refund.
    again = await post_event(http, "payment_intent.succeeded", await localstripe.retrieve_intent(late.intent_id))
    assert again.status_code == 200
    await payments.recheck_payments(datetime.now(timezone.utc) + timedelta(minutes=5), gateways=stripe_app.gateways)
    assert len(await localstripe.refunds(late.intent_id)) == 1
    assert await Refund.count().where(Refund.order_id.reference == late.reference) == 1
    await places_add_up(slug)


async def test_sweeping_an_expired_hold_cancels_its_payment_so_a_stale_page_cannot_charge(stripe_app: StripeApp, now: datetime) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await place_order(http, slug, 2)
    await hold_ran_out(order)
    assert await payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways) == 1
    assert (await localstripe.retrieve_intent(order.intent_id))["status"] == "canceled"
    assert await places_left(http, slug) == 20

    assert (await localstripe.pay(order.intent_id, VISA)).status_code >= 400  # Stripe refuses a cancelled payment
    page = page_text(await http.get(order.page))
    assert "You have not been charged" in page
    assert (await read_order(http, order))["status"] == "expired"
    assert await Payment.count() == 0
    await places_add_up(slug)


async def test_an_organiser_refund_goes_back_through_stripe_and_frees_the_places(
    stripe_app: StripeApp, organiser: dict[str, str], now: datetime
) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await paid_order(stripe_app, slug, 2)
    tickets = (await read_order(http, order))["tickets"]
    refunds_url = f"/api/orders/{order.reference}/refunds"

    too_much = await http.post(refunds_url, json={"reason": "Typo", "amount_pence": 6001}, headers=organiser)
    assert too_much.status_code == 422 and too_much.json()["error"] == "invalid"
    assert "amount_pence" in too_much.json()["fields"]
    assert await Refund.count() == 0 and await localstripe.refunds(order.intent_id) == []

    one = await http.post(refunds_url, json={"reason": "Cannot come", "tickets": [tickets[0]["id"]]}, headers=organiser)
    assert one.status_code == 201, one.text
    assert {k: one.json()[k] for k in ("amount_pence", "method", "status")} == {"amount_pence": 3000, "method": "stripe", "status": "succeeded"}
    at_stripe = await localstripe.refunds(order.intent_id)
    assert [r["amount"] for r in at_stripe] == [3000]
    assert at_stripe[0]["metadata"] == {"order_reference": order.reference, "refund_id": str(one.json()["id"])}
    body = await read_order(http, order)
    assert [t["status"] for t in body["tickets"]] == ["refunded", "valid"]
    assert (body["status"], body["refunded_pence"]) == ("paid", 3000)
    assert await places_left(http, slug) == 19  # the refunded ticket's place is on sale again

    more_than_left = await http.post(refunds_url, json={"reason": "Typo", "amount_pence": 3001}, headers=organiser)
    assert more_than_left.status_code == 422
    rest = await http.post(refunds_url, json={"reason": "Event moved"}, headers=organiser)
    assert rest.status_code == 201 and rest.json()["amount_pence"] == 3000
    body = await read_order(http, order)
    assert (body["status"], body["refunded_pence"]) == ("refunded", 6000)
    assert [t["status"] for t in body["tickets"]] == ["refunded", "refunded"]
    assert sorted(r["amount"] for r in await localstripe.refunds(order.intent_id)) == [3000, 3000]
    assert await places_left(http, slug) == 20

    nothing_left = await http.post(refunds_url, json={"reason": "Again", "amount_pence": 1}, headers=organiser)
    assert (nothing_left.status_code, nothing_left.json()["error"]) == (409, "not_refundable")
    guest = await http.post(refunds_url, json={"reason": "Me"}, headers=order.bearer)  # the order's own token
    assert guest.status_code == 401, guest.text

    # Stripe then reports the charge refunded: our own refunds are recognised, not recorded twice.
    intent = await localstripe.retrieve_intent(order.intent_id)
    reported = await post_event(http, "charge.refunded", charge_refunded_object(intent, await localstripe.refunds(order.intent_id)))
    assert reported.status_code == 200
    assert await Refund.count().where(Refund.order_id.reference == order.reference) == 2
    assert (await read_order(http, order))["refunded_pence"] == 6000
    assert await places_left(http, slug) == 20
    page = page_text(await http.get(order.page))
    assert "Your order was refunded" in page and "Show ticket" not in page
    await places_add_up(slug)


async def test_a_refund_made_in_the_stripe_dashboard_is_recorded_once(stripe_app: StripeApp, now: datetime) -> None:
    """The refunds are made straight at Stripe (localstripe), not through our API. localstripe never sends
    charge.refunded, so the test sends it, signed, with the Charge object shape Stripe documents
    (https://docs.stripe.com/api/charges/object): amount_refunded, refunded, payment_intent."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await paid_order(stripe_app, slug, 2)

    part = await localstripe.refund_in_dashboard(order.intent_id, 1000)
    intent = await localstripe.retrieve_intent(order.intent_id)
    first = await post_event(http, "charge.refunded", charge_refunded_object(intent, [part]))
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    body = await read_order(http, order)
    assert (body["status"], body["refunded_pence"]) == ("paid", 1000)
    assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]  # part of the money only
    assert await places_left(http, slug) == 18

    rest = await localstripe.refund_in_dashboard(order.intent_id, 5000)
    event_id = f"evt_{secrets.token_hex(12)}"
    second = await post_event(http, "charge.refunded", charge_refunded_object(intent, [part, rest]), event_id=event_id)
    assert second.status_code == 200 and second.json()["outcome"] == "processed"

    async def settled() -> None:
        recorded = (
            await Refund.select(Refund.amount_pence, Refund.provider_refund_id, Refund.status, Refund.requested_by)
            .where(Refund.order_id.reference == order.reference)
            .order_by(Refund.amount_pence)
        )
        assert recorded == [
            {"amount_pence": 1000, "provider_refund_id": part["id"], "status": "succeeded", "requested_by": "stripe"},
            {"amount_pence": 5000, "provider_refund_id": rest["id"], "status": "succeeded", "requested_by": "stripe"},
        ]
        body = await read_order(http, order)
        assert (body["status"], body["refunded_pence"]) == ("refunded", 6000)
        assert [t["status"] for t in body["tickets"]] == ["refunded", "refunded"]
        assert await places_left(http, slug) == 20
        await places_add_up(slug)

    await settled()
    # The same event again, and the same news under another event id (and the guest's page): nothing changes.
    replay = await post_event(http, "charge.refunded", charge_refunded_object(intent, [part, rest]), event_id=event_id)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    another = await post_event(http, "charge.refunded", charge_refunded_object(intent, [part, rest]))
    assert another.status_code == 200
    assert "Your order was refunded" in page_text(await http.get(order.page))
    await settled()
