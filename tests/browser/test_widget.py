"""The embeddable ticket form on a charity's own website: a page on another loopback origin (http://localhost:<port>,
a different site from the ticket service's http://127.0.0.1:<port>) frames the widget with the snippet, and a guest
buys through it with the development test payment, never leaving the host page; a site not on the organisation's list
is refused the frame."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.demo import DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD
from events.storefront.widget import snippet
from tests.support import csp
from tests.support.server import demo_environment, free_port, live_server

pytestmark = pytest.mark.browser

EVENT = "choose-love-night"


@dataclass
class Sites:
    service: str  # the ticket service, http://127.0.0.1:<port>
    charity: str  # the organisation's website, listed: http://localhost:<port>
    stranger: str  # another website, not listed: http://localhost:<port>


def host_page(service: str) -> bytes:
    """The charity's page: its own words, in French, and the snippet as the back office gives it."""
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Soirée Choose Love</title></head><body>'
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


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    env = demo_environment(tmp_path_factory.mktemp("widget-server"))
    with live_server(env) as service:
        charity, charity_port = serve_host_page(host_page(service))
        stranger, stranger_port = serve_host_page(host_page(service))
        try:
            list_websites(service, [f"http://localhost:{charity_port}"])
            yield Sites(service, f"http://localhost:{charity_port}", f"http://localhost:{stranger_port}")
        finally:
            charity.shutdown()
            stranger.shutdown()


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
    await page.screenshot(path=str(artifacts_dir / "widget-buy-form.png"), full_page=True)

    await form.locator("button[type='submit']").click()
    summary = widget.locator("table.summary")
    await summary.wait_for()
    assert "2 ×" in await summary.inner_text()
    await page.screenshot(path=str(artifacts_dir / "widget-payment.png"), full_page=True)
    await widget.locator(".test-payment button[type='submit']").click()

    order_link = widget.locator("a[target='_blank'][href*='/orders/']")
    await order_link.wait_for()
    assert page.url == sites.charity + "/"  # the guest never left the charity's page
    assert await order_link.get_attribute("rel") == "noopener"
    await page.screenshot(path=str(artifacts_dir / "widget-done.png"), full_page=True)
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
    # What the browser reported is the refusal, and nothing else went against the policy.
    refused = csp.take()
    assert refused and all("frame-ancestors" in violation for violation in refused)
    assert await page.frame_locator("iframe[data-events-widget]").locator("form.buy-form").count() == 0
    await context.close()
