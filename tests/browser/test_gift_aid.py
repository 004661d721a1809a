"""A guest adds Gift Aid to a donation on a phone: offered once there is a donation, details shown when ticked."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


async def test_gift_aid_is_offered_with_a_donation_and_its_details_show_when_ticked(  # type: ignore[no-untyped-def]
    browser, demo_server: str, artifacts_dir: Path
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(demo_server + "/events/choose-love-night")
    gift_aid = page.locator("fieldset.gift-aid")
    await page.get_by_label("How many?").select_option("1")
    assert not await gift_aid.is_visible()  # tickets alone: nothing Gift Aid could cover
    await page.get_by_label("Donation (£)").fill("10")
    assert await gift_aid.is_visible()
    assert not await page.get_by_label("Postcode").is_visible()
    await page.get_by_label("I want to Gift Aid my donation").check()
    await page.get_by_label("First name").fill("Sara")
    await page.get_by_label("Last name").fill("Ahmadi")
    await page.get_by_label("House name or number").fill("4")
    await page.get_by_label("Postcode").fill("e8 1dy")
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await page.screenshot(path=str(artifacts_dir / "buy-form-gift-aid.png"), full_page=True)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    await context.close()
