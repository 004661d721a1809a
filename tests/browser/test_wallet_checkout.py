"""Apple Pay and Google Pay buttons on the checkout page of a phone, in real headless Chromium.

The page offers the wallets through Stripe.js's Express Checkout Element, and only when the loaded Stripe.js has
it and the device has a wallet. Two Stripe.js stand-ins are used, neither of them Stripe's own:

- localstripe's Stripe.js, which has no Express Checkout Element (its Elements make a card field whatever is asked
  for): the page must show no wallet buttons and the card form must take the payment as before;
- a small stand-in `Stripe` object written here (STAND_IN_STRIPE_JS), served in place of Stripe.js, that has an
  Express Checkout Element: this checks detection only (the buttons appear when the element says a wallet is
  available, stay hidden when none is) and that the wallet's confirm path confirms the order's own PaymentIntent
  with `stripe.confirmPayment` and its client secret. When it does, the stand-in pays that PaymentIntent at
  localstripe as Stripe would after the wallet sheet (a card PaymentMethod: tests/integration/payments/
  test_wallet_payments.py), so the guest ends on the order page with tickets.

A real Apple Pay or Google Pay sheet cannot run here: it needs Stripe's Stripe.js, a device or browser profile with a
wallet, and HTTPS on a domain registered with Stripe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_card_purchase import PHONE, CardServer, choose_two_tickets, confirm_with_typed_card, type_card
from tests.support.accessibility import assert_accessible
from tests.support.localstripe import run_localstripe
from tests.support.server import demo_environment, live_server

pytestmark = pytest.mark.browser

# A Stripe.js with an Express Checkout Element, reduced to what checkout.js uses. It records what the page asks of it
# in window.standIn; the wallets the "device" has come from window.standInWallets (set by the test before the page
# loads), reported by the element's ready event as Stripe.js reports them (undefined: no wallet, no button).
STAND_IN_STRIPE_JS = """
(function () {
  var record = (window.standIn = { elementsOptions: [], created: [], submitted: 0, confirmations: [], failures: [], destroyed: 0 });
  function expressCheckout(group) {
    var handlers = {};
    var button;
    function fire(name, event) { (handlers[name] || []).forEach(function (handler) { handler(event); }); }
    return {
      on: function (name, handler) { (handlers[name] = handlers[name] || []).push(handler); },
      mount: function (target) {
        button = document.createElement("button");
        button.type = "button";
        button.id = "stand-in-wallet";
        button.textContent = "Pay with the stand-in wallet";
        button.addEventListener("click", function () {
          fire("confirm", {
            elementType: "expressCheckout",
            expressPaymentType: "apple_pay",
            paymentFailed: function (payload) { record.failures.push(payload); },
          });
        });
        target.appendChild(button);
        setTimeout(function () {
          fire("ready", { elementType: "expressCheckout", availablePaymentMethods: window.standInWallets });
        }, 0);
      },
      destroy: function () { record.destroyed += 1; if (button) button.remove(); },
      group: group,
    };
  }
  window.Stripe = function (key) {
    record.key = key;
    return {
      elements: function (options) {
        record.elementsOptions.push(options === undefined ? null : options);
        var group = { id: record.elementsOptions.length };
        group.create = function (type) {
          record.created.push({ type: type, group: group.id });
          if (type === "expressCheckout") return expressCheckout(group);
          return { mount: function (target) { document.querySelector(target).textContent = "stand-in card field"; }, on: function () {} };
        };
        group.submit = function () { record.submitted += 1; return Promise.resolve({}); };
        return group;
      },
      confirmCardPayment: function () { return Promise.resolve({ error: { message: "The stand-in takes no cards." } }); },
      confirmPayment: function (options) {
        record.confirmations.push({
          clientSecret: options.clientSecret,
          confirmParams: options.confirmParams,
          redirect: options.redirect,
          group: options.elements && options.elements.id,
        });
        return window.standInWalletPays(options.clientSecret).then(function (answer) {
          return answer.error ? { error: answer.error } : { paymentIntent: answer };
        });
      },
    };
  };
})();
"""


@pytest.fixture(scope="module")
def card_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CardServer]:
    """The demo site taking card payments through localstripe, with localstripe's webhook registered."""
    with run_localstripe(tmp_path_factory.mktemp("wallet-localstripe")) as localstripe:
        env = demo_environment(tmp_path_factory.mktemp("wallet-server"), **localstripe.environment())
        with live_server(env) as base_url:
            localstripe.register_webhook("wallet-server", f"{base_url}/webhooks/stripe")
            yield CardServer(base_url, localstripe)


async def new_phone_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    return context, page, page_errors


async def use_stand_in_stripe_js(page: Any, server: CardServer, wallets: dict[str, bool] | None, *, declines: bool = False) -> list[dict[str, Any]]:
    """Serve STAND_IN_STRIPE_JS where the page loads Stripe.js from, with a device holding `wallets`; its confirmPayment
    pays at localstripe (or, with `declines`, answers as Stripe does for a declined card). Returns what was paid."""
    paid: list[dict[str, Any]] = []

    async def serve(route: Any) -> None:
        await route.fulfill(status=200, content_type="text/javascript", body=STAND_IN_STRIPE_JS)

    async def wallet_pays(client_secret: str) -> dict[str, Any]:
        intent = await server.localstripe.retrieve_intent(client_secret.split("_secret_")[0])
        assert intent["client_secret"] == client_secret
        if declines:
            paid.append({"intent": intent, "status": 402})
            return {"error": {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}}
        answer = await server.localstripe.pay_with_wallet(intent["id"], {"name": "Stand-in Wallet"})
        paid.append({"intent": intent, "status": answer.status_code})
        return answer.json()

    await page.context.add_init_script(f"window.standInWallets = {json.dumps(wallets)};")
    await page.expose_function("standInWalletPays", wallet_pays)
    await page.route(server.localstripe.js_url, serve)
    return paid


async def test_without_wallet_elements_the_card_form_alone_takes_the_payment(browser, card_server: CardServer) -> None:  # type: ignore[no-untyped-def]
    context, page, page_errors = await new_phone_page(browser)
    confirmations = await confirm_with_typed_card(page, card_server.localstripe)
    await choose_two_tickets(page, card_server.base_url, "Nadia Rahimi", "nadia@example.org")
    await page.locator("#card-element input").first.wait_for()  # localstripe's Stripe.js mounted its card field

    assert await page.locator("#express-checkout").is_hidden()  # localstripe's Stripe.js has no Express Checkout Element
    assert await page.locator("#pay-by-card").is_hidden()
    assert await page.locator("#express-checkout").inner_html() == ""

    await type_card(page, "4242424242424242")
    await page.get_by_role("button", name="Pay £13").click()
    await page.get_by_role("button", name="Complete authentication").click()
    await page.wait_for_url(re.compile(r"/orders/[A-Z0-9]{3}-[A-Z0-9]{3}\?token="))
    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    assert [c["status"] for c in confirmations] == [200]
    assert page_errors == []
    await context.close()


async def test_a_phone_with_a_wallet_gets_its_button_above_the_card_form_and_pays_the_orders_payment_intent(  # type: ignore[no-untyped-def]
    browser, card_server: CardServer, artifacts_dir: Path
) -> None:
    context, page, page_errors = await new_phone_page(browser)
    paid = await use_stand_in_stripe_js(page, card_server, {"applePay": True, "googlePay": False, "link": False})
    await choose_two_tickets(page, card_server.base_url, "Karim Nouri", "karim@example.org")
    reference = re.search(r"/orders/([A-Z0-9-]+)/pay", page.url).group(1)  # type: ignore[union-attr]

    wallet = page.get_by_role("button", name="Pay with the stand-in wallet")
    await wallet.wait_for()
    await page.get_by_text("or pay by card").wait_for()
    assert await page.locator("#express-checkout").is_visible()
    assert await page.locator("#card-element").is_visible() and await page.get_by_role("button", name="Pay £13").is_visible()
    # The wallet comes first, then the divider, then the card form.
    order = await page.evaluate(
        "['#express-checkout', '#pay-by-card', '#payment-form'].map((s) => document.querySelector(s).getBoundingClientRect().top)"
    )
    assert order == sorted(order)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await assert_accessible(page, "wallet-checkout-phone", artifacts_dir)  # axe: the divider's contrast, the buttons' names
    await page.screenshot(path=str(artifacts_dir / "wallet-checkout-mobile.png"), full_page=True)

    record = await page.evaluate("window.standIn")
    # The wallet's Elements know the order's total, its currency and the PaymentIntent's only payment method type.
    assert {"mode": "payment", "amount": 1300, "currency": "gbp", "paymentMethodTypes": ["card"]} in record["elementsOptions"]
    assert [c["type"] for c in record["created"]] == ["card", "expressCheckout"]

    await wallet.click()
    await page.wait_for_url(re.compile(r"/orders/[A-Z0-9]{3}-[A-Z0-9]{3}\?token="))
    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    assert await page.locator(".ticket-card").count() == 2

    [payment] = paid
    intent = payment["intent"]
    assert payment["status"] == 200 and intent["metadata"]["order_reference"] == reference and intent["amount"] == 1300
    assert (await card_server.localstripe.retrieve_intent(intent["id"]))["status"] == "succeeded"
    assert page_errors == []
    await context.close()


async def test_the_wallet_confirms_with_the_orders_client_secret_and_a_decline_leaves_the_card_form_to_try(  # type: ignore[no-untyped-def]
    browser, card_server: CardServer
) -> None:
    context, page, page_errors = await new_phone_page(browser)
    paid = await use_stand_in_stripe_js(page, card_server, {"applePay": False, "googlePay": True, "link": False}, declines=True)
    await choose_two_tickets(page, card_server.base_url, "Samira Aziz", "samira@example.org")
    checkout_url = page.url

    await page.get_by_role("button", name="Pay with the stand-in wallet").click()
    await page.locator("#card-errors").filter(has_text="declined").wait_for()
    record = await page.evaluate("window.standIn")
    [confirmation] = record["confirmations"]
    [payment] = paid
    assert confirmation["clientSecret"] == payment["intent"]["client_secret"]  # the order's own PaymentIntent
    assert confirmation["redirect"] == "if_required"
    assert confirmation["confirmParams"]["return_url"].startswith(card_server.base_url + "/orders/")
    wallet_group = next(c["group"] for c in record["created"] if c["type"] == "expressCheckout")
    assert confirmation["group"] == wallet_group and record["submitted"] == 1  # submitted, then confirmed, as Stripe asks
    assert record["failures"] == [{"reason": "fail"}]  # the wallet sheet is told it failed
    assert page.url == checkout_url and await page.get_by_role("button", name="Pay £13").is_enabled()
    assert page_errors == []
    await context.close()


async def test_a_phone_without_a_wallet_shows_no_wallet_button(browser, card_server: CardServer) -> None:  # type: ignore[no-untyped-def]
    context, page, page_errors = await new_phone_page(browser)
    await use_stand_in_stripe_js(page, card_server, None)  # Stripe.js has the element, the device has no wallet
    await choose_two_tickets(page, card_server.base_url, "Yusuf Karimi", "yusuf@example.org")
    await page.wait_for_function("window.standIn && window.standIn.destroyed === 1")
    assert await page.locator("#express-checkout").is_hidden()
    assert await page.locator("#pay-by-card").is_hidden()
    assert await page.get_by_role("button", name="Pay with the stand-in wallet").count() == 0
    assert await page.locator("#card-element").inner_text() == "stand-in card field"
    assert page_errors == []
    await context.close()
