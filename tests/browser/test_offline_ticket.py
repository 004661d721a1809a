"""The page a text message links to works with no signal from its first visit, in headless Chromium: a ticket page
(one ticket), and an order page with the ticket pages it lists (several). Opened once, the page asks the service
worker (static/js/sw.js) to keep it; then, offline, it reloads from the cache with its QR code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support.orders import get_order, pay_with_test_page, place_order

pytestmark = pytest.mark.browser

SLUG = "august-supper-club"  # seeded by `events demo`
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


async def bought(base_url: str, quantity: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await place_order(http, SLUG, quantity=quantity, buyer={"name": "Leila Haddad", "email": "leila@example.org"})
        assert response.status_code == 201, response.text
        created = response.json()
        assert (await pay_with_test_page(http, created)).status_code == 303
        order = await get_order(http, created)
    return {**order, "access_token": created["access_token"]}


async def network_is_off(page: Any) -> bool:
    """Whether a request the service worker does not keep (the health check) fails: the signal is really gone."""
    return await page.evaluate("fetch('/healthz', {cache: 'no-store'}).then(() => false, () => true)")


async def test_a_ticket_page_opened_once_shows_its_ticket_with_no_signal(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    order = await bought(demo_server, 1)
    [ticket] = order["tickets"]
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        assert (await page.goto(demo_server + ticket["url"])) is not None
        await expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
        await context.set_offline(True)
        assert await network_is_off(page)
        await page.reload()
        await expect(page.locator(".holder")).to_have_text("Leila Haddad")
        await expect(page.locator(".qr svg")).to_be_visible()
    finally:
        await context.close()


async def test_an_order_page_opened_once_lists_and_shows_its_tickets_with_no_signal(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    order = await bought(demo_server, 2)
    link = f"{demo_server}/orders/{order['reference']}?token={order['access_token']}"
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(link)
        await expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
        await context.set_offline(True)
        assert await network_is_off(page)
        await page.reload()
        await expect(page.get_by_role("link", name="Show ticket")).to_have_count(2)
        await page.get_by_role("link", name="Show ticket").nth(1).click()
        await expect(page.locator(".qr svg")).to_be_visible()
        await expect(page.locator(".ticket-code")).to_contain_text(order["tickets"][1]["secret"])
    finally:
        await context.close()
