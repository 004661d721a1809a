"""An organiser runs an event end to end in real Chromium, through the pages alone (issue #8): signs in, creates
an event with two ticket types and a 70/30 partner split, publishes it; a guest (a browser of their own) buys a
ticket through the test payment page; the organiser scans it at the door, sees it on the dashboard, refunds it,
and sees the statement change. A screenshot of every step lands in test-artifacts/journey-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import expect

from tests.support.server import demo_environment, live_server
from tests.support.setup_pages import add_ticket_types

pytestmark = pytest.mark.browser

ORGANISER = ("organiser@example.org", "organiser-demo-2026")  # seeded by `events demo` in development
TITLE = "Harbour Lights Supper"
SLUG = "harbour-lights-supper"
PARTNERS = ("Sanctuary Kitchen", "Welcome Choir")
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: the journey creates, sells, admits and refunds, which other browser tests should not see."""
    var_dir = tmp_path_factory.mktemp("journey-server")
    env = demo_environment(var_dir)
    with live_server(env) as base_url:
        yield base_url


class Steps:
    """Numbered screenshots, so test-artifacts/ reads as the journey in order."""

    def __init__(self, artifacts_dir: Path) -> None:
        self.artifacts_dir = artifacts_dir
        self.count = 0

    async def shot(self, page: Any, name: str) -> Path:
        self.count += 1
        path = self.artifacts_dir / f"journey-{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


def row_value(scope: Any, heading: str) -> Any:
    """The cell beside a row heading in a table of figures (e.g. "Net due")."""
    return scope.locator("tr", has=scope.page.locator("th", has_text=re.compile(f"^{re.escape(heading)}$"))).locator("td")


def partner_card(page: Any, name: str) -> Any:
    return page.locator("section.statement-card", has=page.get_by_role("heading", name=name, exact=True))


async def partner_figures(page: Any) -> dict[str, dict[str, str]]:
    """What the statement page shows for each partner: tickets, refunds and net due, as text (e.g. "£29.75")."""
    figures = {}
    for name in PARTNERS:
        card = partner_card(page, name)
        await expect(card).to_be_visible()
        figures[name] = {label: (await row_value(card, label).inner_text()).strip() for label in ("Tickets", "Refunds", "Net due")}
    return figures


def decode_qr(png: Path) -> str:
    found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"one QR code in {png.name}"
    return found[0].text


async def test_an_organiser_runs_an_event_from_set_up_to_refund(browser, journey_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = journey_server
    steps = Steps(artifacts_dir)
    organiser = await browser.new_context(**DESKTOP)
    guest = await browser.new_context(**PHONE)
    page = await organiser.new_page()
    try:
        # 1. Sign in as an organiser.
        await page.goto(f"{base_url}/manage")
        await page.wait_for_url(re.compile(r"/login\?next=/manage$"))  # the back office asks who you are first
        await page.get_by_label("Email").fill(ORGANISER[0])
        await page.get_by_label("Password").fill(ORGANISER[1])
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url("**/manage")
        await expect(page.get_by_role("link", name="New event")).to_be_visible()
        await steps.shot(page, "signed-in")

        # 2. Create the event, with two ticket types and two partner projects sharing 70/30.
        await page.get_by_role("link", name="New event").click()
        await page.get_by_label("Title", exact=True).fill(TITLE)
        await page.get_by_label("Venue", exact=True).fill("Harbour Community Centre")
        await page.get_by_label("Starts", exact=True).fill("2031-09-12T19:00")
        await page.get_by_label("Ends", exact=True).fill("2031-09-12T22:30")
        await page.get_by_label("Capacity", exact=True).fill("40")
        await page.get_by_role("button", name="Create the event").click()
        await page.wait_for_url(f"**/manage/events/{SLUG}/tickets?notice=created")
        await add_ticket_types(page, (("Supper", "30", "online and at the door"), ("Supper and drinks", "42.50", "online only")))
        rows = page.locator("table.ticket-types tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("Supper")
        await expect(rows.nth(0)).to_contain_text("£30")
        await expect(rows.nth(1)).to_contain_text("Supper and drinks")
        await expect(rows.nth(1)).to_contain_text("£42.50")
        await steps.shot(page, "ticket-types")

        await page.get_by_role("link", name="Partners and costs").click()
        for partner in PARTNERS:
            await page.get_by_label("Name", exact=True).fill(partner)
            await page.get_by_role("button", name="Add partner project").click()
            await page.wait_for_url("**/partners?notice=partner")
        await page.get_by_label("Partner project 1").select_option(label=PARTNERS[0])
        await page.get_by_label("Share 1 (%)").fill("70")
        await page.get_by_label("Partner project 2").select_option(label=PARTNERS[1])
        await page.get_by_label("Share 2 (%)").fill("30")
        await page.get_by_role("button", name="Save shares").click()
        await page.wait_for_url("**/partners?notice=shares")
        await expect(page.get_by_text(f"{PARTNERS[0]} 70%")).to_be_visible()
        await expect(page.get_by_text(f"{PARTNERS[1]} 30%")).to_be_visible()
        await steps.shot(page, "partner-split")

        # 3. Publish it.
        await page.get_by_role("link", name="Set up").click()
        await page.get_by_role("link", name="Publish").click()
        await page.get_by_role("button", name="Publish and open sales").click()
        await page.wait_for_url("**/edit?notice=publish")
        await expect(page.locator(".status-panel")).to_contain_text("On sale")
        await steps.shot(page, "published")

        # 4. A guest, on their own phone, buys a ticket through the test payment page.
        shopper = await guest.new_page()
        await shopper.goto(f"{base_url}/")
        await shopper.get_by_role("link", name=TITLE).click()
        await expect(shopper.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
        drinks = shopper.locator("li.ticket-type", has=shopper.locator(".type-name", has_text=re.compile("^Supper and drinks$")))
        await expect(drinks.locator(".price")).to_have_text("£42.50")
        await drinks.get_by_label("How many?").select_option("1")
        await shopper.get_by_label("Your name").fill("Amira Nasser")
        await shopper.get_by_label("Email (for your tickets)").fill("amira@example.org")
        await expect(shopper.locator("#live-total")).to_have_text("£42.50")
        await shopper.get_by_role("button", name="Continue to payment").click()
        await shopper.wait_for_url("**/pay?token=*")
        summary = shopper.locator("table.summary")
        await expect(summary).to_contain_text("1 × Supper and drinks")
        await steps.shot(shopper, "guest-checkout")
        await shopper.get_by_role("button", name="Pay £42.50 (test)").click()
        await shopper.wait_for_url("**/orders/*?token=*")
        await expect(shopper.get_by_role("heading", level=1)).to_have_text("You're going!")
        reference = re.search(r"/orders/([^/?]+)\?", shopper.url).group(1)  # type: ignore[union-attr]
        await expect(shopper.locator(".ticket-card")).to_have_count(1)
        await steps.shot(shopper, "guest-confirmation")
        await shopper.get_by_role("link", name="Show ticket").click()
        await shopper.wait_for_url("**/tickets/*")
        await expect(shopper.locator(".holder")).to_have_text("Amira Nasser")
        await expect(shopper.locator(".qr svg")).to_be_visible()
        ticket_shot = await steps.shot(shopper, "guest-ticket")
        code = decode_qr(ticket_shot)  # what the door's scanner reads off the guest's screen

        # 5. Scan the ticket at the door, as a handheld scanner does: it types the QR's text and presses Enter.
        await page.goto(f"{base_url}/door/{SLUG}")
        await page.get_by_label("Device name").fill("Front door")
        await page.get_by_role("button", name="Use this device for scanning").click()
        await expect(page.locator("#door-scanner")).to_be_visible()
        await expect(page.locator("#door")).to_have_attribute("data-offline-ready", "true", timeout=15_000)
        await expect(page.locator("#door-code")).to_be_focused()
        await page.keyboard.type(code)
        await page.keyboard.press("Enter")
        verdict = page.locator("#door-result.door-result-ok")
        await expect(verdict).to_be_visible()
        await expect(verdict.locator(".door-verdict")).to_have_text("ADMIT")
        await expect(verdict.locator(".door-holder")).to_have_text("Amira Nasser")
        await expect(verdict.locator(".door-type")).to_have_text("Supper and drinks")
        await steps.shot(page, "door-admit")

        # 6. The dashboard: one sold, one checked in, £42.50 taken, split 70/30 between the partners.
        await page.goto(f"{base_url}/manage/events/{SLUG}")
        await expect(page.locator("dd.sold")).to_have_text("1")
        await expect(page.locator("dd.checked-in")).to_have_text("1 / 1")
        revenue = page.locator("table.event-figures")
        await expect(row_value(revenue, "Ticket income")).to_have_text("£42.50")
        await expect(row_value(revenue, "Refunds")).to_have_text("£0")
        funds = page.locator("table.partner-funds")
        await expect(row_value(funds, PARTNERS[0])).to_have_text("£29.75")
        await expect(row_value(funds, PARTNERS[1])).to_have_text("£12.75")
        await steps.shot(page, "dashboard-sold")

        await page.get_by_role("link", name="See how each amount is worked out in the statement").click()
        await page.wait_for_url(f"**/manage/events/{SLUG}/statement")
        before = await partner_figures(page)
        assert before == {
            PARTNERS[0]: {"Tickets": "£29.75", "Refunds": "£0", "Net due": "£29.75"},
            PARTNERS[1]: {"Tickets": "£12.75", "Refunds": "£0", "Net due": "£12.75"},
        }
        await steps.shot(page, "statement-before-refund")

        # 7. Refund it, in full, from the order's page (found by the guest's name).
        await page.goto(f"{base_url}/manage/events/{SLUG}/orders")
        await page.get_by_label("Find an order by name, email or reference").fill("Amira")
        await page.get_by_role("button", name="Search").click()
        await page.get_by_role("link", name=reference).click()
        await page.wait_for_url(f"**/manage/orders/{reference}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {reference}")
        await expect(page.locator(".refund-form")).to_be_visible()
        await expect(page.get_by_text("£42.50 can still be refunded.")).to_be_visible()
        await page.get_by_role("radio", name=re.compile(r"Everything left \(£42\.50\)")).check()
        await page.get_by_label("Reason").fill("The guest cannot come after all")
        await page.get_by_label("I want to refund this money; this cannot be undone.").check()
        await page.get_by_role("button", name="Refund", exact=True).click()
        await page.wait_for_url(f"**/manage/orders/{reference}*")
        await expect(page.get_by_text("The refund was recorded.")).to_be_visible()
        await expect(page.locator("dd.refunded")).to_have_text("£42.50")
        await expect(page.locator(".ticket-row .ticket-status")).not_to_have_text("valid")
        await expect(page.get_by_text("Nothing is left to refund on this order.")).to_be_visible()
        await steps.shot(page, "order-refunded")

        # 8. The statement changes: the refund comes off each partner's share, to the penny.
        await page.get_by_role("navigation", name="This event").get_by_role("link", name="Statement").click()
        await page.wait_for_url(f"**/manage/events/{SLUG}/statement")
        after = await partner_figures(page)
        assert after == {
            PARTNERS[0]: {"Tickets": "£29.75", "Refunds": "-£29.75", "Net due": "£0"},
            PARTNERS[1]: {"Tickets": "£12.75", "Refunds": "-£12.75", "Net due": "£0"},
        }, f"before the refund: {before}"
        await steps.shot(page, "statement-after-refund")
        await page.get_by_role("navigation", name="This event").get_by_role("link", name="Dashboard").click()
        await page.wait_for_url(f"**/manage/events/{SLUG}")
        await expect(page.locator("dd.sold")).to_have_text("0")
        await expect(row_value(page.locator("table.event-figures"), "Refunds")).to_have_text("-£42.50")
        await expect(row_value(page.locator("table.event-figures"), "Net due to partners")).to_have_text("£0")
        await steps.shot(page, "dashboard-refunded")
    finally:
        await guest.close()
        await organiser.close()
