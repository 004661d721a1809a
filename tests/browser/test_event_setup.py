"""An organiser sets up a supper club in real Chromium on a 360px phone: the event form (a mistake
first, so the error summary takes focus), two ticket types, two new partner projects split 70/30, publish."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support.server import demo_environment, live_server
from tests.support.setup_pages import add_ticket_types

pytestmark = pytest.mark.browser

ORGANISER = ("organiser@example.org", "organiser-demo-2026")
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
SLUG = "harvest-supper-club"  # the demo already has an August one


@pytest.fixture(scope="module")
def setup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: this test creates and publishes an event that other browser tests should not see."""
    var_dir = tmp_path_factory.mktemp("setup-server")
    env = demo_environment(var_dir)
    with live_server(env) as base_url:
        yield base_url


async def fits_the_phone(page: Any) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing is wider than the phone"


async def test_an_organiser_creates_and_publishes_an_event_from_a_phone(browser, setup_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = setup_server
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{base_url}/login?next=/manage")
    await page.get_by_label("Email").fill(ORGANISER[0])
    await page.get_by_label("Password").fill(ORGANISER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/manage")
    await page.get_by_role("link", name="New event").click()
    await page.wait_for_url("**/manage/events/new")

    await page.get_by_label("Title", exact=True).fill("Harvest Supper Club")
    await page.get_by_label("Venue", exact=True).fill("Community Hall")
    await page.get_by_label("Starts", exact=True).fill("2031-08-15T19:00")
    await page.get_by_label("Ends", exact=True).fill("2031-08-15T18:00")  # a slip: before it starts
    await page.get_by_label("Capacity", exact=True).fill("60")
    await page.get_by_label("Reserved free places").fill("10")
    await page.get_by_label("Value of one pay-it-forward place").fill("25")
    await page.get_by_role("button", name="Create the event").click()
    summary = page.locator("#error-summary")
    await expect(summary).to_contain_text("The event must end after it starts.")
    await expect(summary).to_be_focused()
    await expect(page.get_by_label("Ends", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Title", exact=True)).to_have_value("Harvest Supper Club")  # nothing typed is lost
    await page.screenshot(path=str(artifacts_dir / "setup-event-error.png"), full_page=True)
    await summary.get_by_role("link").first.click()
    await expect(page.get_by_label("Ends", exact=True)).to_be_focused()
    await page.get_by_label("Ends", exact=True).fill("2031-08-15T22:30")
    await page.get_by_role("button", name="Create the event").click()
    await page.wait_for_url(f"**/manage/events/{SLUG}/tickets?notice=created")

    await add_ticket_types(page, (("Supper", "30", "online and at the door"), ("Supper and drinks", "42.50", "online only")))
    rows = page.locator("table.ticket-types tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("£42.50")
    await fits_the_phone(page)
    await page.screenshot(path=str(artifacts_dir / "setup-ticket-types.png"), full_page=True)

    await page.get_by_role("link", name="Partners and costs").click()
    for partner in ("Sanctuary Kitchen", "Welcome Choir"):
        await page.get_by_label("Name", exact=True).fill(partner)
        await page.get_by_role("button", name="Add partner project").click()
        await page.wait_for_url("**/partners?notice=partner")
    await page.get_by_label("Partner project 1").select_option(label="Sanctuary Kitchen")
    await page.get_by_label("Share 1 (%)").fill("70")
    await page.get_by_label("Partner project 2").select_option(label="Welcome Choir")
    await page.get_by_label("Share 2 (%)").fill("20")
    await page.get_by_role("button", name="Save shares").click()
    await expect(page.locator("#error-summary")).to_contain_text("The shares add up to 90%")
    await page.get_by_label("Share 2 (%)").fill("30")
    await page.get_by_role("button", name="Save shares").click()
    await page.wait_for_url("**/partners?notice=shares")
    await expect(page.get_by_text("Sanctuary Kitchen 70%")).to_be_visible()
    await fits_the_phone(page)
    await page.screenshot(path=str(artifacts_dir / "setup-partner-split.png"), full_page=True)

    await page.get_by_role("link", name="Set up").click()
    await page.get_by_role("link", name="Publish").click()
    await page.get_by_role("button", name="Publish and open sales").click()
    await page.wait_for_url("**/edit?notice=publish")
    await expect(page.locator(".status-panel")).to_contain_text("On sale")
    await page.screenshot(path=str(artifacts_dir / "setup-published.png"), full_page=True)

    # Once on sale: a claim link for a referral partner, shown as a link to copy and a QR code to print.
    await page.get_by_role("link", name="Free places").click()
    await page.get_by_label("Partner group").fill("Women's Drop-in")
    await page.get_by_label("Places", exact=True).fill("5")
    await page.get_by_role("button", name="Create claim link").click()
    await page.wait_for_url("**/claims?notice=created*")
    link = page.locator("article.claim-link").first
    await expect(link).to_contain_text("0 of 5 places claimed")
    await link.get_by_text("Show QR code to print or show").click()
    await expect(link.locator("figure.qr svg")).to_be_visible()
    await expect(link.get_by_label("Link", exact=True)).to_have_value(re.compile(r"/claim/[a-z0-9]+$"))
    await fits_the_phone(page)
    await page.screenshot(path=str(artifacts_dir / "setup-claim-link.png"), full_page=True)
    await page.get_by_role("link", name="Door", exact=True).click()
    await expect(page.get_by_role("heading", name="Door team")).to_be_visible()
    await fits_the_phone(page)
    await page.screenshot(path=str(artifacts_dir / "setup-door-team.png"), full_page=True)

    async with httpx.AsyncClient(base_url=base_url) as http:
        public = (await http.get(f"/api/events/{SLUG}")).json()
    assert public["status"] == "on_sale"
    assert [(t["name"], t["price_pence"], t["channel"]) for t in public["ticket_types"]] == [
        ("Supper", 3000, "both"),
        ("Supper and drinks", 4250, "online"),
    ]
    assert sorted((b["name"], b["share_bp"]) for b in public["beneficiaries"]) == [("Sanctuary Kitchen", 7000), ("Welcome Choir", 3000)]
    await page.goto(f"{base_url}/events/{SLUG}")
    await expect(page.get_by_role("heading", name="Harvest Supper Club")).to_be_visible()
    await page.screenshot(path=str(artifacts_dir / "setup-public-page.png"), full_page=True)
    await context.close()
