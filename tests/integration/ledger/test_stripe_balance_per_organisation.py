"""Each organisation's Stripe balance is its own: the import reads each organisation's account with its own key,
keeps the transactions as that organisation's, and a statement compares an event only with its organisation's.

localstripe has no balance transactions, so a small stand-in for Stripe's API serves recorded objects in
Stripe's documented shapes (https://docs.stripe.com/api/balance_transactions/object), a different list for each
secret key, to the real StripeGateway."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from litestar import Litestar

from events.accounts import service as accounts
from events.config import StripeSettings
from events.ledger import stripe_balance
from events.ledger.tables import StripeBalanceTransaction, StripeImport
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.payments import service as payments
from events.payments import stripe_accounts
from events.payments.gateway import IntentState, TestGateway
from events.payments.gateways import Gateways
from events.payments.stripe_rules import StripeKeys
from tests.factories import make_event
from tests.support.orders import place_order
from tests.support.server import free_port

KEYS_A = StripeKeys("sk_test_ledgerAAAA1111", "pk_test_ledgerAAAA1111", "whsec_ledgerAAAA1111")
KEYS_B = StripeKeys("sk_test_ledgerBBBB2222", "pk_test_ledgerBBBB2222", "whsec_ledgerBBBB2222")


def recorded_transaction(txn_id: str, charge: str, amount: int, fee: int, created: int) -> dict[str, Any]:
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 7 * 86400,
        "created": created,
        "currency": "gbp",
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [{"amount": fee, "application": None, "currency": "gbp", "description": "Stripe processing fees", "type": "stripe_fee"}],
        "net": amount - fee,
        "reporting_category": "charge",
        "source": charge,
        "status": "pending",
        "type": "charge",
    }


@dataclasses.dataclass
class StandIn:
    url: str
    listed: dict[str, list[dict[str, Any]]]  # secret key -> its account's balance transactions
    asked_by: list[str]  # the secret key of each listing request


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    listed: dict[str, list[dict[str, Any]]] = {KEYS_A.secret_key: [], KEYS_B.secret_key: []}
    asked_by: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if key not in listed:
            return web.json_response({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}, status=401)
        if request.path == "/v1/balance":
            return web.json_response({"object": "balance", "available": [], "pending": [], "livemode": False})
        if request.path == "/v1/balance_transactions":
            asked_by.append(key)
            start, end = int(request.query["created[gte]"]), int(request.query["created[lt]"])
            data = [t for t in listed[key] if start <= t["created"] < end]
            return web.json_response({"object": "list", "data": data, "has_more": False, "url": "/v1/balance_transactions"})
        return web.json_response({"error": {"type": "invalid_request_error", "message": "No such object"}}, status=404)

    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", serve)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield StandIn(f"http://127.0.0.1:{port}", listed, asked_by)
    finally:
        await runner.cleanup()


async def reconciliation(client: httpx.AsyncClient, slug: str, token: str) -> dict[str, Any]:
    response = await client.get(f"/api/events/{slug}/reconciliation", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_organisation_imports_its_own_balance_and_is_checked_against_it_alone(
    app: Litestar, client: httpx.AsyncClient, stand_in: StandIn, now: datetime
) -> None:
    first = await organisations.ensure_default_organisation()
    second = await organisations.create_organisation("riverside", OrganisationDetails(name="Riverside Trust"))
    a_event = await make_event(now, organisation="main", slug="a-supper", beneficiaries=[{"partner": "a-kitchen", "share_bp": 10000}])
    b_event = await make_event(now, organisation="riverside", slug="b-supper", beneficiaries=[{"partner": "b-kitchen", "share_bp": 10000}])
    tokens = {}
    for email, organisation in (("a@test.example", first.id), ("b@test.example", second.id)):
        await accounts.create_user(email, role="organiser", password="a long password", organisation_id=organisation)
        tokens[organisation] = await accounts.create_api_token(email, now=now)
    a_order = (await place_order(client, a_event, quantity=1)).json()
    b_order = (await place_order(client, b_event, quantity=1)).json()

    # Both organisations connect their own accounts, at the stand-in.
    original = app.state.gateways
    settings = dataclasses.replace(app.state.settings, stripe=StripeSettings(None, None, None, stand_in.url, f"{stand_in.url}/js"))
    gateways = app.state.gateways = Gateways(TestGateway(), settings)
    try:
        for organisation, keys in ((first.id, KEYS_A), (second.id, KEYS_B)):
            await stripe_accounts.connect(organisation, keys, connected_by=None, gateways=gateways, now=now)
        paid_at = now - timedelta(hours=2)
        stamp = int(paid_at.timestamp())
        for order, organisation, name in ((a_order, first.id, "a"), (b_order, second.id, "b")):
            state = IntentState(f"pi_{name}1", "succeeded", order["total_pence"], "GBP", f"ch_{name}1", order["reference"], "")
            # As checkout does: the order notes the PaymentIntent started for it, which is how a payment finds it.
            await Order.update({Order.payment_intent_id: state.intent_id}).where(Order.reference == order["reference"])
            await payments.record_intent_payment(state, provider="stripe", gateway=await gateways.for_organisation(organisation), now=paid_at)
        stand_in.listed[KEYS_A.secret_key] += [
            recorded_transaction("txn_a1", "ch_a1", a_order["total_pence"], 0, stamp),
            recorded_transaction("txn_ax", "ch_ax", 500, 0, stamp),  # A's charge for no order of A's
        ]
        stand_in.listed[KEYS_B.secret_key] += [recorded_transaction("txn_b1", "ch_b1", b_order["total_pence"], 0, stamp)]

        # The worker's import: each organisation's account, with its own key, kept as its own.
        assert await stripe_balance.import_recent(now, gateways=gateways) == 3
        assert sorted(stand_in.asked_by) == sorted([KEYS_A.secret_key, KEYS_B.secret_key])
        kept = await StripeBalanceTransaction.select(StripeBalanceTransaction.transaction_id, StripeBalanceTransaction.organisation)
        assert {row["transaction_id"]: row["organisation"] for row in kept} == {"txn_a1": first.id, "txn_ax": first.id, "txn_b1": second.id}
        imports = await StripeImport.select(StripeImport.organisation, StripeImport.transactions).order_by(StripeImport.organisation)
        assert [(row["organisation"], row["transactions"]) for row in imports] == [(first.id, 2), (second.id, 1)]

        # A's statement sees A's stray charge; B's, checked against B's account alone, is reconciled.
        a_statement = await reconciliation(client, a_event, tokens[first.id])
        assert a_statement["differences"] == [{"kind": "charge_without_order", "charge": "ch_ax", "amount_pence": 500}]
        b_statement = await reconciliation(client, b_event, tokens[second.id])
        assert b_statement["reconciled"] is True and b_statement["differences"] == [] and b_statement["card_payments"] == 1

        # The API imports for the token's organisation only, from its account.
        stand_in.asked_by.clear()
        response = await client.post("/api/stripe/balance-transactions/import", json={}, headers={"Authorization": f"Bearer {tokens[second.id]}"})
        assert response.status_code == 201, response.text
        assert stand_in.asked_by == [KEYS_B.secret_key] and response.json()["transactions"] == 1
        assert await StripeImport.count().where(StripeImport.organisation == second.id) == 2
        assert await StripeImport.count().where(StripeImport.organisation == first.id) == 1

        # Disconnected, B has nothing to import from; A carries on.
        await stripe_accounts.disconnect(second.id, gateways=gateways, now=now)
        refused = await client.post("/api/stripe/balance-transactions/import", json={}, headers={"Authorization": f"Bearer {tokens[second.id]}"})
        assert refused.status_code == 409 and refused.json()["error"] == "stripe_not_configured"
        stand_in.asked_by.clear()
        await stripe_balance.import_recent(now + timedelta(hours=1), gateways=gateways)
        assert stand_in.asked_by == [KEYS_A.secret_key]
    finally:
        app.state.gateways = original


async def test_a_restricted_organiser_cannot_import_the_organisations_balance(client: httpx.AsyncClient, now: datetime) -> None:
    await accounts.create_user("r@test.example", role="organiser", password="a long password", restricted=True)
    token = await accounts.create_api_token("r@test.example", now=now)
    response = await client.post("/api/stripe/balance-transactions/import", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
