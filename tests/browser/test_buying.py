"""A guest buys on a phone through the pages, with the development test payment provider."""

from pathlib import Path

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_a_guest_buys_two_tickets_on_a_phone(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(demo_server + "/events/choose-love-night")
    await page.get_by_label("How many?").select_option("2")
    await page.get_by_label("Donation (£)").fill("4")
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await expect(page.locator("#live-total")).to_have_text("£17")  # 2 × (£6 + 50p fee) + £4, written as the checkout writes it
    await page.screenshot(path=str(artifacts_dir / "buy-form-mobile.png"), full_page=True)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    summary = await page.locator("table.summary").inner_text()
    assert "2 × Advance" in summary and "£17" in summary
    await page.screenshot(path=str(artifacts_dir / "checkout-test-provider.png"), full_page=True)
    await page.get_by_role("button", name="Pay £17 (test)").click()
    await page.wait_for_url("**/orders/*?token=*")
    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    assert await page.locator(".ticket-card").count() == 2
    await page.screenshot(path=str(artifacts_dir / "order-confirmation.png"), full_page=True)
    await context.close()


async def test_going_back_from_the_payment_page_and_buying_again_holds_one_order(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    """The back button and the form sent again: the new choice replaces the hold, it does not add a second."""
    import httpx

    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(demo_server + "/events/choose-love-night")
    before = httpx.get(demo_server + "/api/events/choose-love-night").json()["places_left"]
    await page.get_by_label("How many?").select_option("2")
    await page.get_by_label("Your name").fill("Nadia Karimi")
    await page.get_by_label("Email (for your tickets)").fill("nadia@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    first = page.url
    assert httpx.get(demo_server + "/api/events/choose-love-night").json()["places_left"] == before - 2

    await page.go_back()
    await page.wait_for_url("**/events/choose-love-night")
    await page.get_by_label("How many?").select_option("3")
    await page.get_by_label("Your name").fill("Nadia Karimi")
    await page.get_by_label("Email (for your tickets)").fill("nadia@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    assert page.url != first
    assert "3 × Advance" in await page.locator("table.summary").inner_text()
    # Three places held for her in all, not five.
    assert httpx.get(demo_server + "/api/events/choose-love-night").json()["places_left"] == before - 3
    await context.close()


async def test_a_donation_typed_with_arabic_or_persian_digits_counts_in_the_live_total(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    """The total on the page reads a donation as the server will charge it: 12.50 in Eastern Arabic or Persian digits with
    the Arabic decimal separator is £12.50, their 5 is £5 (JavaScript's \\d alone took none of them: no donation shown)."""
    context = await browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True)
    page = await context.new_page()
    for locale, typed, written in (
        ("ar", "١٢٫٥٠", "12.50 £"),
        ("fa", "۱۲٫۵۰", "£ 12.50"),
        ("ar", "٥", "5 £"),
        ("fa", "۵", "£ 5"),
        ("fr", "12,50", "12,50 £"),
    ):
        await page.goto(f"{demo_server}/events/choose-love-night?lang={locale}")
        await page.locator("#donation").fill(typed)
        await expect(page.locator("#live-total")).to_have_text(written)
    await context.close()


async def test_the_order_reference_never_breaks_at_its_hyphen_on_a_narrow_french_payment_page(browser, demo_server: str) -> None:  # type: ignore[no-untyped-def]
    """ "Commande 8NJ-" then "RAD" on the next line, at 360px in French: each reference on the page stays on one line."""
    context = await browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True)
    page = await context.new_page()
    await page.goto(demo_server + "/events/choose-love-night?lang=fr")
    await page.locator("select[name^=quantity_]").first.select_option("1")
    await page.locator("#name").fill("Camille Martin")
    await page.locator("#email").fill("camille@example.org")
    await page.locator("form.buy-form button[type=submit]").click()
    await page.wait_for_url("**/pay?token=*")
    reference = page.url.split("/orders/")[1].split("/")[0]
    references = page.locator(".order-reference", has_text=reference)
    assert await references.count() >= 1, "the line under the heading"
    for line_boxes in await references.evaluate_all("spans => spans.map(span => span.getClientRects().length)"):
        assert line_boxes == 1
    await context.close()
