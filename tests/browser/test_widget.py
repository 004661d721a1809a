"""The embeddable ticket form on a charity's own website: a page on another loopback origin (http://localhost:<port>,
a different site from the ticket service's http://127.0.0.1:<port>) frames the widget with the snippet, and a guest
buys through it, never leaving the host page: with the development test payment, and with a card through
localstripe's Stripe.js inside the frame (see tests/browser/test_card_purchase.py for what the test answers for
localstripe); a site not on the organisation's list is refused the frame."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.demo import DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD
from events.storefront.widget import snippet
from tests.browser.test_card_purchase import confirm_with_typed_card, type_card
from tests.support import csp
from tests.support.localstripe import LocalStripe, run_localstripe
from tests.support.server import demo_environment, free_port, live_server

pytestmark = pytest.mark.browser

EVENT = "choose-love-night"


@dataclass
class Sites:
    service: str  # the ticket service, http://127.0.0.1:<port>
    charity: str  # the organisation's website, listed: http://localhost:<port>
    stranger: str  # another website, not listed: http://localhost:<port>


def host_page(service: str) -> bytes:
    """The charity's page: its own words, in French, and the snippet as the back office gives it. A phone shows it at
    its own width, as any website made for phones asks (without the viewport line a phone lays a page out 980 pixels
    wide and zooms out, and Chromium's taps then missed the form's button now and then: what was under the point was
    another part of the form)."""
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Soirée Choose Love</title></head><body>'
        "<h1>Notre soirée</h1><p>Achetez vos billets ici :</p>"
        f"{snippet(service, EVENT, 'Choose Love Night')}<p>Merci !</p></body></html>"
    ).encode()


class _HostPage(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_host_page(page: bytes) -> tuple[ThreadingHTTPServer, int]:
    handler = type("HostPage", (_HostPage,), {"page": page})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def list_websites(service: str, origins: list[str]) -> None:
    """The organiser lists the charity's website in the back office (its settings page's form)."""
    with httpx.Client(base_url=service, follow_redirects=False) as browser:
        login = browser.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert token
        signed_in = browser.post("/login", data={"email": DEMO_ORGANISER_EMAIL, "password": DEMO_ORGANISER_PASSWORD, "_csrf_token": token.group(1)})
        assert signed_in.status_code == 303
        settings = browser.get("/manage/organisation")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', settings.text)
        assert token
        saved = browser.post("/manage/organisation/widget", data={"widget_origins": "\n".join(origins), "_csrf_token": token.group(1)})
        assert saved.status_code == 303, saved.text


@contextmanager
def charity_sites(env: dict[str, str]) -> Iterator[Sites]:
    """The ticket service, the charity's website (listed in the back office) and a stranger's (not listed)."""
    with live_server(env) as service:
        charity, charity_port = serve_host_page(host_page(service))
        stranger, stranger_port = serve_host_page(host_page(service))
        try:
            list_websites(service, [f"http://localhost:{charity_port}"])
            yield Sites(service, f"http://localhost:{charity_port}", f"http://localhost:{stranger_port}")
        finally:
            charity.shutdown()
            stranger.shutdown()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    with charity_sites(demo_environment(tmp_path_factory.mktemp("widget-server"))) as sites:
        yield sites


@pytest.fixture(scope="module")
def card_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sites, LocalStripe]]:
    """The same, with the service taking cards through localstripe."""
    with run_localstripe(tmp_path_factory.mktemp("widget-localstripe")) as localstripe:
        env = demo_environment(tmp_path_factory.mktemp("widget-card-server"), **localstripe.environment())
        with charity_sites(env) as sites:
            localstripe.register_webhook("widget-server", f"{sites.service}/webhooks/stripe")
            yield sites, localstripe


async def screenshot_whole(page: Any, path: Path) -> None:
    """The whole host page with the whole form in it, at the phone's width. A full-page screenshot leaves most of the
    frame blank: Chromium draws a frame from another site only where it is on screen, so the screen is made as tall as
    the page for the picture."""
    viewport = page.viewport_size
    height = await page.evaluate("Math.ceil(document.documentElement.scrollHeight)")
    await page.set_viewport_size({"width": viewport["width"], "height": height})
    await page.screenshot(path=str(path))
    await page.set_viewport_size(viewport)


class InTheFrame:
    """The page as the card helpers use it (its routes), with their locators looking inside the widget's frame."""

    def __init__(self, page: Any) -> None:
        self.route = page.route
        self.locator = page.frame_locator("iframe[data-events-widget]").locator


async def test_a_guest_buys_through_the_widget_on_the_charitys_own_website(browser, sites: Sites, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(sites.charity + "/")
    widget = page.frame_locator("iframe[data-events-widget]")
    # In the host page's language (its <html lang="fr">), passed on by embed.js.
    await widget.locator("html[lang='fr']").wait_for(state="attached")
    form = widget.locator("form.buy-form")
    await form.get_by_label("Combien ?").select_option("2")
    await form.locator("#name").fill("Sara Ahmadi")
    await form.locator("#email").fill("sara@example.org")

    # embed.js sized the frame to the form's page (its height came by postMessage from the frame).
    frame = page.frames[1]
    height = await frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
    await page.wait_for_function(f"document.querySelector('iframe[data-events-widget]').style.height === '{height}px'")
    assert height > 844  # the whole form shows, with nothing to scroll inside the frame
    # A message from anyone but the frame (here the host page itself) does not move it.
    after_forgery = await page.evaluate(
        """() => new Promise((resolve) => {
            const frame = document.querySelector("iframe[data-events-widget]");
            addEventListener("message", (event) => { if (event.data.forged) resolve(frame.style.height); });
            postMessage({ type: "events-widget:height", height: 5, forged: true }, "*");
        })"""
    )
    assert after_forgery == f"{height}px"
    await screenshot_whole(page, artifacts_dir / "widget-buy-form.png")

    await form.locator("button[type='submit']").click()
    summary = widget.locator("table.summary")
    await summary.wait_for()
    assert "2 ×" in await summary.inner_text()
    await screenshot_whole(page, artifacts_dir / "widget-payment.png")
    await widget.locator(".test-payment button[type='submit']").click()

    order_link = widget.locator("a[target='_blank'][href*='/orders/']")
    await order_link.wait_for()
    assert page.url == sites.charity + "/"  # the guest never left the charity's page
    assert await order_link.get_attribute("rel") == "noopener"
    await screenshot_whole(page, artifacts_dir / "widget-done.png")
    async with context.expect_page() as opened:
        await order_link.click()
    order_page = await opened.value
    await order_page.wait_for_load_state()
    assert order_page.url.startswith(sites.service + "/orders/")
    assert await order_page.locator(".ticket-card").count() == 2
    await context.close()


async def test_a_website_not_on_the_list_is_refused_the_frame(browser, sites: Sites) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    async with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        await page.goto(sites.stranger + "/")
    assert await page.frame_locator("iframe[data-events-widget]").locator("form.buy-form").count() == 0
    await page.wait_for_load_state("load")
    # Chromium reports the refusal twice over (tests/support/csp.py), the second report maybe after the first was
    # awaited above: the violations are read once the context is closed, so none arrives after they are taken.
    await context.close()
    # What the browser reported is the refusal, and nothing else went against the policy.
    refused = csp.take()
    assert refused and all("frame-ancestors" in violation for violation in refused)


async def test_a_guest_pays_by_card_inside_the_widget(browser, card_sites: tuple[Sites, LocalStripe], artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    sites, localstripe = card_sites
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    frame = InTheFrame(page)
    confirmations = await confirm_with_typed_card(frame, localstripe)
    await page.goto(sites.charity + "/")
    form = frame.locator("form.buy-form")
    await form.get_by_label("Combien ?").select_option("2")
    await form.locator("#name").fill("Sara Ahmadi")
    await form.locator("#email").fill("sara@example.org")
    await form.locator("button[type='submit']").click()

    await frame.locator("#card-element input").first.wait_for()  # Stripe.js (localstripe's) mounted its card element in the frame
    await type_card(frame, "4242424242424242")
    await screenshot_whole(page, artifacts_dir / "widget-card.png")
    await frame.locator("#pay-button").click()
    await frame.locator("button", has_text="Complete authentication").click()  # localstripe's 3-D Secure prompt

    order_link = frame.locator("a[target='_blank'][href*='/orders/']")
    await order_link.wait_for()
    assert page.url == sites.charity + "/"
    [confirmation] = confirmations
    intent = await localstripe.retrieve_intent(confirmation["intent"])
    assert (intent["status"], intent["amount"]) == ("succeeded", 1300)  # 2 × (£6 + 50p booking fee)
    async with context.expect_page() as opened:
        await order_link.click()
    order_page = await opened.value
    await order_page.wait_for_load_state()
    assert await order_page.locator(".ticket-card").count() == 2
    await context.close()
