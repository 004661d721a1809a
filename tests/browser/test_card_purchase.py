"""A guest buys with a card on a phone, in real headless Chromium, through Stripe.js (localstripe's stand-in).

localstripe's Stripe.js renders its card element as plain inputs (number, exp_month, exp_year, cvc,
postal_code), but its confirmCardPayment ignores them: it shows a "3D Secure" modal and then calls
POST /v1/payment_intents/{id}/_authenticate, which only works for a PaymentIntent already waiting for 3D
Secure. Real Stripe.js instead confirms the PaymentIntent with the card the guest typed. So the test
answers that one request itself (`confirm_with_typed_card`): it reads the card typed into the element,
checks the publishable key and client secret the page sent, and does what Stripe would do with them
(a PaymentMethod for that card, attached and confirmed at localstripe), replying with localstripe's answer.
Everything else is real: our pages, checkout.js, localstripe's Stripe.js, the Stripe SDK, localstripe's
state and its signed webhook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.localstripe import LocalStripe, run_localstripe
from tests.support.server import demo_environment, live_server

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@dataclass
class CardServer:
    base_url: str
    localstripe: LocalStripe


@pytest.fixture(scope="module")
def card_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CardServer]:
    """The demo site taking card payments through localstripe, with localstripe's webhook registered."""
    with run_localstripe(tmp_path_factory.mktemp("browser-localstripe")) as localstripe:
        var_dir = tmp_path_factory.mktemp("card-server")
        env = demo_environment(var_dir, **localstripe.environment())
        with live_server(env) as base_url:
            localstripe.register_webhook("browser-server", f"{base_url}/webhooks/stripe")
            yield CardServer(base_url, localstripe)


async def confirm_with_typed_card(page: Any, localstripe: LocalStripe) -> list[dict[str, Any]]:
    """Answer localstripe's Stripe.js confirm request as Stripe would: with the card typed into the element."""
    confirmations: list[dict[str, Any]] = []

    async def handle(route: Any, request: Any) -> None:
        if "success=true" not in request.url:  # the guest pressed "Fail authentication": localstripe handles it
            await route.continue_()
            return
        intent_id = re.search(r"/v1/payment_intents/(pi_\w+)/_authenticate", request.url).group(1)  # type: ignore[union-attr]
        sent = json.loads(request.post_data)
        card = {
            field: await page.locator(f"#card-element input[placeholder={field}]").input_value()
            for field in ("number", "exp_month", "exp_year", "cvc")
        }
        intent = await localstripe.retrieve_intent(intent_id)
        if sent.get("key") != localstripe.publishable_key or sent.get("client_secret") != intent["client_secret"]:
            status, body = 401, {"error": {"message": "The page sent the wrong key or client secret."}}
        else:
            payment_method = await localstripe.create_card_payment_method(
                card["number"], exp_month=int(card["exp_month"]), exp_year=2000 + int(card["exp_year"]), cvc=card["cvc"]
            )
            await localstripe.request("POST", f"/v1/payment_intents/{intent_id}", {"payment_method": payment_method})
            answer = await localstripe.request("POST", f"/v1/payment_intents/{intent_id}/confirm", check=False)
            status, body = answer.status_code, answer.json()
        confirmations.append({"intent": intent_id, "card": card, "status": status})
        origin = request.headers.get("origin", "*")
        await route.fulfill(status=status, json=body, headers={"Access-Control-Allow-Origin": origin})

    await page.route("**/v1/payment_intents/*/_authenticate*", handle)
    return confirmations


async def choose_two_tickets(page: Any, base_url: str, name: str, email: str) -> None:
    await page.goto(base_url + "/events/choose-love-night")
    await page.get_by_label("How many?").select_option("2")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Email (for your tickets)").fill(email)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")


async def type_card(page: Any, number: str) -> None:
    element = page.locator("#card-element")
    await element.locator("input[placeholder=number]").fill(number)
    await element.locator("input[placeholder=exp_month]").fill("12")
    await element.locator("input[placeholder=exp_year]").fill("34")
    await element.locator("input[placeholder=cvc]").fill("123")
    await element.locator("input[placeholder=postal_code]").fill("E8 1AA")


async def test_a_guest_pays_by_card_on_a_phone_and_gets_tickets(browser, card_server: CardServer, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    confirmations = await confirm_with_typed_card(page, card_server.localstripe)

    await choose_two_tickets(page, card_server.base_url, "Sara Ahmadi", "sara@example.org")
    assert await page.get_by_role("heading", level=1).inner_text() == "Pay for your order"
    summary = await page.locator("table.summary").inner_text()
    assert "2 × Advance" in summary and "Booking fees" in summary and re.search(r"Total\s+£13\b", summary)
    pay_button = page.get_by_role("button", name="Pay £13")
    assert await pay_button.is_visible()
    await page.locator("#card-element input").first.wait_for()  # Stripe.js (localstripe's) mounted the card element
    assert "localstripe" in await page.locator("#card-element").inner_text()

    await type_card(page, "4242424242424242")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    await page.screenshot(path=str(artifacts_dir / "card-checkout-mobile.png"), full_page=True)

    await pay_button.click()
    await page.get_by_role("button", name="Complete authentication").click()  # localstripe's 3D Secure prompt
    await page.wait_for_url(re.compile(r"/orders/[A-Z0-9]{3}-[A-Z0-9]{3}\?token="))

    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    tickets = page.locator(".ticket-card")
    assert await tickets.count() == 2
    assert (await tickets.first.inner_text()).startswith("Advance")
    assert "Sara Ahmadi" in await tickets.first.inner_text()
    await page.screenshot(path=str(artifacts_dir / "card-confirmation-mobile.png"), full_page=True)

    [confirmation] = confirmations
    assert confirmation["status"] == 200 and confirmation["card"]["number"] == "4242424242424242"
    intent = await card_server.localstripe.retrieve_intent(confirmation["intent"])
    assert (intent["status"], intent["amount"]) == ("succeeded", 1300)  # the guest was charged exactly £13
    await context.close()


async def test_a_declined_card_is_explained_on_the_checkout_page(browser, card_server: CardServer, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    confirmations = await confirm_with_typed_card(page, card_server.localstripe)
    await choose_two_tickets(page, card_server.base_url, "Omar Said", "omar@example.org")
    checkout_url = page.url

    await type_card(page, "4000000000000341")  # Stripe's test card whose charge is declined
    await page.get_by_role("button", name="Pay £13").click()
    await page.get_by_role("button", name="Complete authentication").click()
    error = page.locator("#card-errors")
    await error.filter(has_text="declined").wait_for()
    assert await error.inner_text() == "Your card was declined."
    assert page.url == checkout_url  # still on the checkout page, free to try again
    assert await page.get_by_role("button", name="Pay £13").is_enabled()
    await page.screenshot(path=str(artifacts_dir / "card-declined-mobile.png"), full_page=True)
    assert [c["status"] for c in confirmations] == [402]
    await context.close()
