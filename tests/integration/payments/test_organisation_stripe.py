"""Each organisation's own Stripe account (issue 15 §2), against localstripe through the official SDK: two
organisations, each with its own keys and webhook secret, connected as their owners do. The first organisation
connects too, so neither uses the environment's account; tests that need the environment's say so.

localstripe keeps one store whatever the key, so organisation A's key can read organisation B's PaymentIntents:
exactly the situation in which only our own checks keep A's webhook from fulfilling B's order."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from events.accounts import service as accounts
from events.audit.tables import AuditEntry
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.payments import service as payments
from events.payments import stripe_accounts
from events.payments.gateways import Gateways
from events.payments.stripe_rules import StripeKeys
from events.payments.tables import StripeAccount, WebhookEvent
from tests.factories import make_event
from tests.integration.accounts.test_login import csrf_token, sign_in
from tests.integration.payments.conftest import StripeApp, place_order
from tests.support.backoffice import post_form
from tests.support.localstripe import PUBLISHABLE_KEY, VISA, WEBHOOK_SECRET, event_payload, sign

KEYS_A = StripeKeys("sk_test_orgAsecretAAAA1111", "pk_test_orgApublishableAAAA", "whsec_orgAsigningsecretAAAA")
KEYS_B = StripeKeys("sk_test_orgBsecretBBBB2222", "pk_test_orgBpublishableBBBB", "whsec_orgBsigningsecretBBBB")
PASSWORD = "a long password"


@dataclass
class TwoOrganisations:
    stripe: StripeApp
    a_id: int
    a_slug: str
    b_id: int
    b_slug: str
    a_event: str
    b_event: str


@pytest.fixture
async def two(stripe_app: StripeApp, now: datetime) -> TwoOrganisations:
    first = await organisations.ensure_default_organisation()
    second = await organisations.create_organisation("riverside", OrganisationDetails(name="Riverside Trust"))
    for organisation, keys in ((first.id, KEYS_A), (second.id, KEYS_B)):
        await stripe_accounts.connect(organisation, keys, connected_by=None, gateways=stripe_app.gateways, now=now)
    a_event = await make_event(now, organisation="main", slug="a-supper", beneficiaries=[{"partner": "a-kitchen", "share_bp": 10000}])
    b_event = await make_event(now, organisation="riverside", slug="b-supper", beneficiaries=[{"partner": "b-kitchen", "share_bp": 10000}])
    return TwoOrganisations(stripe_app, first.id, first.slug, second.id, second.slug, a_event, b_event)


async def deliver(
    http: httpx.AsyncClient, path: str, obj: dict[str, Any], secret: str, event_type: str = "payment_intent.succeeded"
) -> httpx.Response:
    payload = event_payload(event_type, obj)
    return await http.post(path, content=payload, headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)})


async def status_of(reference: str) -> str:
    row = await Order.select(Order.status).where(Order.reference == reference).first()
    assert row is not None
    return row["status"]


async def test_each_organisations_checkout_uses_its_own_publishable_key(two: TwoOrganisations) -> None:
    http = two.stripe.http
    for slug, keys in ((two.a_event, KEYS_A), (two.b_event, KEYS_B)):
        order = await place_order(http, slug, quantity=1)
        assert order.created["payment"]["publishable_key"] == keys.publishable_key
        page = await http.get(order.created["payment"]["url"])
        assert page.status_code == 200
        assert f'data-publishable-key="{keys.publishable_key}"' in page.text
        assert f'src="{two.stripe.localstripe.js_url}"' in page.text  # Stripe.js from the configured address only
        assert keys.secret_key not in page.text
        # The PaymentIntent is real (at localstripe) and payable with that organisation's client secret.
        assert (await two.stripe.localstripe.retrieve_intent(order.intent_id))["client_secret"] == order.client_secret


async def test_organisation_as_webhook_cannot_fulfil_organisation_bs_order(two: TwoOrganisations) -> None:
    http, localstripe = two.stripe.http, two.stripe.localstripe
    order = await place_order(http, two.b_event, quantity=1)
    assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200
    intent = await localstripe.retrieve_intent(order.intent_id)

    # Correctly signed by A's account, sent to A's endpoint, naming B's order: acknowledged, nothing fulfilled.
    foreign = await deliver(http, f"/webhooks/stripe/{two.a_slug}", intent, KEYS_A.webhook_secret)
    assert foreign.status_code == 200 and foreign.json()["outcome"] == "other_organisation", foreign.text
    assert await status_of(order.reference) == "pending"
    recorded = await WebhookEvent.select(WebhookEvent.organisation, WebhookEvent.error).order_by(WebhookEvent.id).first()
    assert recorded is not None and recorded["organisation"] == two.a_id and "another organisation" in recorded["error"]

    # The environment's endpoint is the first organisation's (A's): the same refusal.
    environment = await deliver(http, "/webhooks/stripe", intent, WEBHOOK_SECRET)
    assert environment.status_code == 200 and environment.json()["outcome"] == "other_organisation"
    assert await status_of(order.reference) == "pending"

    # B's secret does not open A's endpoint, nor A's B's.
    assert (await deliver(http, f"/webhooks/stripe/{two.a_slug}", intent, KEYS_B.webhook_secret)).status_code == 400
    assert (await deliver(http, f"/webhooks/stripe/{two.b_slug}", intent, KEYS_A.webhook_secret)).status_code == 400
    assert (await deliver(http, "/webhooks/stripe/nobody", intent, KEYS_A.webhook_secret)).status_code == 404
    assert await status_of(order.reference) == "pending"

    # B's own endpoint with B's secret fulfils it, and records whose endpoint it came to.
    own = await deliver(http, f"/webhooks/stripe/{two.b_slug}", intent, KEYS_B.webhook_secret)
    assert own.status_code == 200 and own.json()["outcome"] == "processed", own.text
    assert await status_of(order.reference) == "paid"
    organisations_seen = {row["organisation"] for row in await WebhookEvent.select(WebhookEvent.organisation)}
    assert organisations_seen == {two.a_id, two.b_id, None}  # none: the environment's endpoint (A's account)


async def test_a_payment_made_at_organisation_as_account_naming_bs_order_fulfils_nothing(two: TwoOrganisations) -> None:
    """A PaymentIntent we never started (made straight at A's Stripe account) whose metadata names B's order: an
    order is found only by the PaymentIntent we started for it, so this one names no order of ours at all."""
    http, localstripe = two.stripe.http, two.stripe.localstripe
    order = await place_order(http, two.b_event, quantity=1)
    made = await localstripe.request(
        "POST",
        "/v1/payment_intents",
        {"amount": order.total_pence, "currency": "gbp", "payment_method_types": ["card"], "metadata": {"order_reference": order.reference}},
    )
    crafted = made.json()["id"]
    assert (await localstripe.pay(crafted, VISA)).status_code == 200
    answer = await deliver(http, f"/webhooks/stripe/{two.a_slug}", await localstripe.retrieve_intent(crafted), KEYS_A.webhook_secret)
    assert answer.status_code == 200 and answer.json()["outcome"] == "ignored", answer.text
    assert await status_of(order.reference) == "pending"


async def owner_of(email: str, organisation_id: int, role: str = "owner") -> None:
    await accounts.create_user(email, role=role, password=PASSWORD, display_name="Rana Owner", organisation_id=organisation_id)


PAGE = "/manage/organisation/stripe"


async def test_an_owner_connects_and_disconnects_and_the_secrets_are_never_shown_or_logged(
    stripe_app: StripeApp, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    http = stripe_app.http
    riverside = await organisations.create_organisation("riverside", OrganisationDetails(name="Riverside Trust"))
    slug = await make_event(now, organisation="riverside", slug="b-supper", beneficiaries=[{"partner": "b-kitchen", "share_bp": 10000}])
    await owner_of("rana@test.example", riverside.id)
    assert (await sign_in(http, "rana@test.example", PASSWORD)).status_code == 303
    responses: list[httpx.Response] = []

    # Not connected, and not the first organisation: no card payments, the page says so and names the webhook URL.
    page = await http.get(PAGE)
    responses.append(page)
    assert page.status_code == 200 and "take no card payments" in page.text
    assert "/webhooks/stripe/riverside" in page.text
    body = {"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": await _first_type(http, slug), "quantity": 1}]}
    refused = await http.post(f"/api/events/{slug}/orders", json=body)
    assert refused.status_code == 409 and refused.json()["error"] == "card_payments_unavailable"

    # Each format is checked; nothing typed into a secret field comes back.
    bad = await post_form(
        http, PAGE, {"secret_key": KEYS_B.secret_key, "publishable_key": "pk_live_orgBpublishableBBBB", "webhook_secret": "nope"}, page=PAGE
    )
    responses.append(bad)
    assert bad.status_code == 422 and "same mode" in bad.text and "whsec_" in bad.text
    assert 'value="pk_live_orgBpublishableBBBB"' in bad.text and KEYS_B.secret_key not in bad.text
    # A key of the right shape that Stripe refuses (localstripe accepts only sk_ keys).
    restricted = "rk_test_refusedrefused9999"
    refused_key = await post_form(
        http, PAGE, {"secret_key": restricted, "publishable_key": KEYS_B.publishable_key, "webhook_secret": KEYS_B.webhook_secret}, page=PAGE
    )
    responses.append(refused_key)
    assert refused_key.status_code == 422 and "did not accept" in refused_key.text and restricted not in refused_key.text
    assert not await StripeAccount.exists()

    connected = await post_form(
        http,
        PAGE,
        {"secret_key": f"  {KEYS_B.secret_key} ", "publishable_key": KEYS_B.publishable_key, "webhook_secret": KEYS_B.webhook_secret},
        page=PAGE,
    )
    assert connected.status_code == 303 and connected.headers["location"] == f"{PAGE}?notice=connected"
    shown = await http.get(connected.headers["location"])
    responses.append(shown)
    assert "…2222" in shown.text and "test mode" in shown.text and "Rana Owner" in shown.text and "Disconnect Stripe" in shown.text

    # Stored encrypted: not the plaintext, and decrypted with the installation's key it is the key again.
    row = await StripeAccount.select().first()
    assert row is not None and row["organisation"] == riverside.id and row["secret_key_hint"] == "2222" and row["livemode"] is False
    assert KEYS_B.secret_key not in row["secret_key_encrypted"] and KEYS_B.webhook_secret not in row["webhook_secret_encrypted"]
    assert stripe_app.gateways.cipher.decrypt(row["secret_key_encrypted"]) == KEYS_B.secret_key
    assert stripe_app.gateways.cipher.decrypt(row["webhook_secret_encrypted"]) == KEYS_B.webhook_secret

    # The organisation's guests now pay into its account.
    order = await place_order(http, slug, quantity=1)
    assert order.created["payment"]["publishable_key"] == KEYS_B.publishable_key

    # Connecting again is refused until disconnected; then the keys are gone and card payments stop at once.
    again = await post_form(
        http, PAGE, {"secret_key": KEYS_A.secret_key, "publishable_key": KEYS_A.publishable_key, "webhook_secret": KEYS_A.webhook_secret}, page=PAGE
    )
    responses.append(again)
    assert again.status_code == 409 and KEYS_A.secret_key not in again.text
    gone = await post_form(http, f"{PAGE}/disconnect", {}, page=PAGE)
    assert gone.status_code == 303 and not await StripeAccount.exists()
    responses.append(await http.get(gone.headers["location"]))
    # The guest whose payment page was open meanwhile gets no card form (and no test button), but a plain notice.
    paying = await http.get(order.created["payment"]["url"])
    assert "cannot take card payments right now" in paying.text and "data-publishable-key" not in paying.text
    assert "test-payment" not in paying.text
    off = await http.post(f"/api/events/{slug}/orders", json=body)
    assert off.status_code == 409 and off.json()["error"] == "card_payments_unavailable"

    # The audit log has the key's last four characters, never a secret.
    entries = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.before, AuditEntry.after, AuditEntry.organisation)
        .where(AuditEntry.action.like("stripe.%"))
        .order_by(AuditEntry.id)
    )
    assert [(e["action"], e["organisation"]) for e in entries] == [("stripe.connected", riverside.id), ("stripe.disconnected", riverside.id)]
    assert json.loads(entries[0]["after"]) == {"key_ending": "2222", "livemode": False}
    assert json.loads(entries[1]["before"]) == {"key_ending": "2222", "livemode": False}

    for secret in (KEYS_B.secret_key, KEYS_B.webhook_secret, KEYS_A.secret_key, restricted):
        assert all(secret not in response.text for response in responses)
        assert secret not in caplog.text
        assert all(secret not in (e["before"] + e["after"]) for e in entries)


async def _first_type(http: httpx.AsyncClient, slug: str) -> int:
    return (await http.get(f"/api/events/{slug}")).json()["ticket_types"][0]["id"]


async def test_only_owners_reach_the_stripe_page(stripe_app: StripeApp) -> None:
    http = stripe_app.http
    first = await organisations.ensure_default_organisation()
    await owner_of("sam@test.example", first.id, role="organiser")
    assert (await sign_in(http, "sam@test.example", PASSWORD)).status_code == 303
    assert (await http.get(PAGE)).status_code == 403
    csrf = await csrf_token(http, "/account")  # a page an organiser may open, for a valid CSRF token
    form = {"secret_key": KEYS_A.secret_key, "publishable_key": KEYS_A.publishable_key, "webhook_secret": KEYS_A.webhook_secret, "_csrf_token": csrf}
    assert (await http.post(PAGE, data=form)).status_code == 403
    assert (await http.post(f"{PAGE}/disconnect", data={"_csrf_token": csrf})).status_code == 403
    assert not await StripeAccount.exists()
    assert "/manage/organisation/stripe" not in (await http.get("/manage/people")).text  # no link for an organiser


async def test_the_first_organisation_without_an_account_uses_the_environments_and_others_take_no_cards(stripe_app: StripeApp, now: datetime) -> None:
    """A single-organisation installation keeps working from STRIPE_* settings; a second organisation does not
    borrow them."""
    http = stripe_app.http
    await organisations.create_organisation("riverside", OrganisationDetails(name="Riverside Trust"))
    first = await make_event(now, organisation="main", slug="a-supper", beneficiaries=[{"partner": "a-kitchen", "share_bp": 10000}])
    second = await make_event(now, organisation="riverside", slug="b-supper", beneficiaries=[{"partner": "b-kitchen", "share_bp": 10000}])
    order = await place_order(http, first, quantity=1)
    assert order.created["payment"]["publishable_key"] == PUBLISHABLE_KEY
    body = {"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": await _first_type(http, second), "quantity": 1}]}
    before = (await http.get(f"/api/events/{second}")).json()["places_left"]
    refused = await http.post(f"/api/events/{second}/orders", json=body)
    assert refused.status_code == 409 and refused.json()["error"] == "card_payments_unavailable"
    assert (await http.get(f"/api/events/{second}")).json()["places_left"] == before  # the hold went straight back
    assert await Order.count().where(Order.status == "pending") == 1


async def test_the_workers_jobs_use_each_organisations_account_and_one_without_waits_without_blocking(two: TwoOrganisations, now: datetime) -> None:
    http, localstripe = two.stripe.http, two.stripe.localstripe
    a_order = await place_order(http, two.a_event, quantity=1)
    b_order = await place_order(http, two.b_event, quantity=1)
    # B disconnects while its guest's hold is open: the sweeper cannot close B's PaymentIntent, so it waits.
    await stripe_accounts.disconnect(two.b_id, gateways=two.stripe.gateways, now=now)
    later = datetime.now(timezone.utc) + timedelta(minutes=30)
    await payments.sweep_expired_holds(later, gateways=two.stripe.gateways)
    closed = {row["reference"]: row["intent_closed_at"] for row in await Order.select(Order.reference, Order.intent_closed_at)}
    assert closed[a_order.reference] is not None and closed[b_order.reference] is None
    assert (await localstripe.retrieve_intent(a_order.intent_id))["status"] == "canceled"
    assert (await localstripe.retrieve_intent(b_order.intent_id))["status"] != "canceled"
    # Connected again, B's is closed at the next sweep.
    await stripe_accounts.connect(two.b_id, KEYS_B, connected_by=None, gateways=two.stripe.gateways, now=now)
    await payments.sweep_expired_holds(later, gateways=two.stripe.gateways)
    assert (await localstripe.retrieve_intent(b_order.intent_id))["status"] == "canceled"
    assert await Order.count().where(Order.intent_closed_at.is_null()) == 0


async def test_a_connection_made_in_another_process_applies_at_once_and_the_decrypted_client_is_reused(stripe_app: StripeApp, now: datetime) -> None:
    """Two Gateways stand for two server processes: each reads the organisation's row on every call, so neither
    serves keys the other has replaced or removed; the decrypted client is kept only while the stored keys are
    the same."""
    riverside = await organisations.create_organisation("riverside", OrganisationDetails(name="Riverside Trust"))
    here, there = stripe_app.gateways, Gateways(stripe_app.gateway, stripe_app.settings)
    assert not (await there.for_organisation(riverside.id)).takes_cards
    await stripe_accounts.connect(riverside.id, KEYS_B, connected_by=None, gateways=here, now=now)
    seen = await there.for_organisation(riverside.id)
    assert seen.publishable_key == KEYS_B.publishable_key and seen is await there.for_organisation(riverside.id)
    assert (await there.account(riverside.id)).webhook_secret == KEYS_B.webhook_secret
    await stripe_accounts.disconnect(riverside.id, gateways=here, now=now)
    assert not (await there.for_organisation(riverside.id)).takes_cards
    await stripe_accounts.connect(riverside.id, KEYS_A, connected_by=None, gateways=here, now=now)
    assert (await there.for_organisation(riverside.id)).publishable_key == KEYS_A.publishable_key


async def test_the_page_says_which_account_takes_the_payments(client: httpx.AsyncClient, stripe_app: StripeApp) -> None:
    first = await organisations.ensure_default_organisation()
    await owner_of("rana@test.example", first.id)
    assert (await sign_in(client, "rana@test.example", PASSWORD)).status_code == 303
    page = await client.get(PAGE)  # the first organisation, the environment's Stripe keys (localstripe here)
    assert "set up by whoever runs it" in page.text and "/webhooks/stripe/main" in page.text
    assert 'href="/manage/organisation/stripe" aria-current="page"' in page.text  # in the owner's navigation
