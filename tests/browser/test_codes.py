"""Codes in Chromium: a volunteer applies the demo supper club's access code and books the hidden Volunteer ticket; a
wrong code is a message beside its field; an organiser makes a discount code and a guest sees its prices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from events.demo import VOLUNTEER_CODE

pytestmark = pytest.mark.browser

SUPPER = "august-supper-club"  # seeded by `events demo`: a hidden Volunteer type and its access code
CLUB = "choose-love-night"  # seeded by `events demo`: Advance tickets at £6 with a 50p booking fee
ORGANISER = ("organiser@example.org", "organiser-demo-2026")  # seeded by `events demo` in development


async def test_a_volunteer_applies_the_access_code_and_books_the_hidden_ticket(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{demo_server}/events/{SUPPER}")
    await expect(page.locator(".ticket-type")).to_have_count(1)  # the Volunteer ticket is nowhere to be seen

    await page.get_by_label("Have a code?").fill("not-the-code")
    await page.get_by_role("button", name="Apply code").click()
    code_field = page.get_by_label("Have a code?")
    await expect(code_field).to_be_focused()
    await expect(code_field).to_have_accessible_description(re.compile("That code does not work for this event"))
    await expect(page.locator(".ticket-type")).to_have_count(1)

    await code_field.fill(VOLUNTEER_CODE.lower())
    await page.get_by_role("button", name="Apply code").click()
    await expect(page.locator(".code-applied")).to_contain_text(f"Code {VOLUNTEER_CODE} applied.")
    volunteer = page.locator(".ticket-type", has_text="Volunteer")
    await expect(volunteer).to_contain_text("With your code")
    await page.screenshot(path=str(artifacts_dir / "event-page-with-access-code.png"), full_page=True)
    await volunteer.get_by_label("How many?").select_option("1")
    await page.get_by_label("Your name").fill("Yusuf Demir")
    await page.get_by_label("Email (for your tickets)").fill("yusuf@example.org")
    await page.get_by_role("button", name="Continue to payment").click()
    # The supper club asks its guests about dietary needs (optional) on a second page, the code carried along.
    await expect(page.get_by_role("heading", level=1)).to_have_text("A few questions before you pay")
    await page.get_by_label("Vegetarian").first.check()
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/orders/*?token=*")  # free: no payment to make
    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    await expect(page.locator(".ticket-card")).to_have_count(1)
    await context.close()


async def test_an_organiser_makes_a_discount_code_and_a_guest_sees_its_prices(browser, demo_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{demo_server}/login?next=/manage/events/{CLUB}/codes")
    await page.get_by_label("Email").fill(ORGANISER[0])
    await page.get_by_label("Password").fill(ORGANISER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**/manage/events/{CLUB}/codes")
    await page.get_by_label("Code", exact=True).fill("HALF-LOVE")
    await page.get_by_label("Who it is for").fill("Students")
    await page.get_by_label("a percentage off").check()
    await page.get_by_label("Percentage off", exact=True).fill("50")
    await page.get_by_label("How many orders may use it").fill("3")
    await page.get_by_role("button", name="Make code").click()
    await page.wait_for_url("**/codes?notice=created*")
    row = page.locator("tr", has_text="HALF-LOVE")
    await expect(row).to_contain_text("50% off tickets")
    await expect(row).to_contain_text("0 of 3")
    await page.screenshot(path=str(artifacts_dir / "manage-codes.png"), full_page=True)
    await context.close()

    guest = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await guest.new_page()
    await page.goto(f"{demo_server}/events/{CLUB}?code=half-love")
    advance = page.locator(".ticket-type").first
    await expect(advance.locator("del")).to_have_text("£6")
    await expect(advance.locator("ins")).to_have_text("£3")
    await advance.get_by_label("How many?").select_option("2")
    await page.get_by_label("Your name").fill("Lena Novak")
    await page.get_by_label("Email (for your tickets)").fill("lena@example.org")
    await expect(page.locator("#live-total")).to_have_text("£7")  # 2 × (£3 + the 50p fee, never discounted)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")
    assert "£7" in await page.locator("table.summary").inner_text()
    await guest.close()
