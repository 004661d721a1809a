"""A name on every ticket, in real headless Chromium on a 390 px phone: a guest buys two tickets naming both guests,
pays through localstripe's card form (Stripe.js's stand-in, answered as tests/browser/test_card_purchase.py
explains), finds each name on its ticket page and PDF, then changes a holder from the order page; the door refuses
the old code and admits the new one."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.test_card_purchase import PHONE, confirm_with_typed_card, type_card
from tests.support.localstripe import LocalStripe, run_localstripe
from tests.support.server import demo_environment, live_server, run_cli
from tests.support.ticket_codes import ticket_codes
from tests.support.ticket_pdfs import PDF_TIMEOUT_MS

pytestmark = pytest.mark.browser

SLUG = "choose-love-night"
ORGANISER = "organiser@example.org"  # seeded by `events demo`; organisers may scan at the door too


@dataclass
class NamesServer:
    base_url: str
    env: dict[str, str]
    localstripe: LocalStripe
    token: str  # an organiser's API token, for the door's scans


@pytest.fixture(scope="module")
def names_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamesServer]:
    """The demo site taking card payments through localstripe, with its webhook registered."""
    with run_localstripe(tmp_path_factory.mktemp("names-localstripe")) as localstripe:
        env = demo_environment(tmp_path_factory.mktemp("names-server"), **localstripe.environment())
        token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        with live_server(env) as base_url:
            localstripe.register_webhook("names-server", f"{base_url}/webhooks/stripe")
            yield NamesServer(base_url, env, localstripe, token)


def pdf_text(content: bytes, directory: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed")
    path = directory / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def door_scan(server: NamesServer, code: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post(
            "/api/checkin/redeem",
            json={"event": SLUG, "secret": code, "nonce": uuid.uuid4().hex},
            headers={"Authorization": f"Bearer {server.token}"},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_two_named_tickets_bought_by_card_and_a_holder_changed_from_the_order_page(  # type: ignore[no-untyped-def]
    browser, names_server: NamesServer, artifacts_dir: Path, tmp_path: Path
) -> None:
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    confirmations = await confirm_with_typed_card(page, names_server.localstripe)

    await page.goto(f"{names_server.base_url}/events/{SLUG}")
    names = page.locator("#guest-names")
    await expect(names).to_be_hidden()  # no ticket chosen yet: nothing to name
    await page.get_by_label("How many?").select_option("1")
    await expect(names).to_be_visible()
    await expect(page.get_by_label("Name on the ticket (optional)")).to_be_visible()  # one ticket: not "ticket 1"
    await page.get_by_label("How many?").select_option("2")
    await expect(page.get_by_label("Name on the ticket (optional)")).to_have_count(0)
    await expect(page.get_by_label("Name on ticket 3 (optional)")).to_have_count(0)
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await page.get_by_label("Name on ticket 1 (optional)").fill("Leila Karimi")
    await page.get_by_label("Name on ticket 2 (optional)").fill("Omid Rahimi")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    await page.locator("#guest-names").screenshot(path=str(artifacts_dir / "names-buy-form-mobile.png"))
    await page.screenshot(path=str(artifacts_dir / "names-event-page-mobile.png"), full_page=True)
    await page.get_by_role("button", name="Continue to payment").click()
    await page.wait_for_url("**/pay?token=*")

    await page.locator("#card-element input").first.wait_for()  # localstripe's Stripe.js mounted the card element
    await type_card(page, "4242424242424242")
    await page.get_by_role("button", name="Pay £13").click()
    await page.get_by_role("button", name="Complete authentication").click()  # localstripe's 3-D Secure prompt
    await page.wait_for_url(re.compile(r"/orders/[A-Z0-9]{3}-[A-Z0-9]{3}\?token="))
    [confirmation] = confirmations
    assert confirmation["status"] == 200

    assert await page.get_by_role("heading", level=1).inner_text() == "You're going!"
    cards = page.locator(".ticket-card")
    await expect(cards).to_have_count(2)
    await expect(cards.nth(0)).to_contain_text("Leila Karimi")
    await expect(cards.nth(1)).to_contain_text("Omid Rahimi")
    await page.screenshot(path=str(artifacts_dir / "names-order-page-mobile.png"), full_page=True)
    order_url = page.url
    reference = re.search(r"/orders/([A-Z0-9-]+)\?", order_url).group(1)  # type: ignore[union-attr]
    token = re.search(r"token=([^&#]+)", order_url).group(1)  # type: ignore[union-attr]

    # Each name on its ticket's page and PDF, and both in the order's PDF.
    for holder, card in (("Leila Karimi", cards.nth(0)), ("Omid Rahimi", cards.nth(1))):
        ticket_url = await card.get_by_role("link", name=re.compile("^Show ticket")).get_attribute("href")
        ticket_page = await context.new_page()
        await ticket_page.goto(names_server.base_url + ticket_url)
        await expect(ticket_page.locator("main")).to_contain_text(holder)
        pdf = await ticket_page.request.get(f"{names_server.base_url}{ticket_url}/ticket.pdf", timeout=PDF_TIMEOUT_MS)
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        assert holder in pdf_text(await pdf.body(), tmp_path)
        await ticket_page.close()
    order_pdf = await page.request.get(f"{names_server.base_url}/orders/{reference}/tickets.pdf?token={token}", timeout=PDF_TIMEOUT_MS)
    text = pdf_text(await order_pdf.body(), tmp_path)
    assert "Leila Karimi" in text and "Omid Rahimi" in text

    # Omid cannot come; Yusuf goes instead. The ticket is re-issued.
    before = {code["holder"]: code for code in ticket_codes(names_server.env, reference)}
    await page.get_by_role("link", name=re.compile(r"^Change name \(ticket 2, .*Omid Rahimi")).click()
    await page.wait_for_url("**/holder?token=*")
    field = page.get_by_label("Guest's name")
    await expect(field).to_have_value("Omid Rahimi")
    await field.fill("Yusuf Ali")
    await page.get_by_role("button", name="Change the name").click()
    await expect(page.locator("#holder-changed")).to_contain_text("Yusuf Ali")
    await page.screenshot(path=str(artifacts_dir / "names-holder-changed-mobile.png"), full_page=True)
    await page.get_by_role("link", name="Back to my order").click()
    await expect(page.locator(".ticket-card").nth(1)).to_contain_text("Yusuf Ali")

    after = {code["holder"]: code for code in ticket_codes(names_server.env, reference)}
    assert set(after) == {"Leila Karimi", "Yusuf Ali"}
    assert after["Leila Karimi"]["code"] == before["Leila Karimi"]["code"]  # the other ticket is untouched
    refused = await door_scan(names_server, str(before["Omid Rahimi"]["code"]))
    assert refused["status"] == "error"
    admitted = await door_scan(names_server, str(after["Yusuf Ali"]["code"]))
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Yusuf Ali"
    await context.close()


async def test_switching_language_half_way_through_the_buy_form_keeps_what_was_typed(  # type: ignore[no-untyped-def]
    browser, names_server: NamesServer, artifacts_dir: Path
) -> None:
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{names_server.base_url}/events/{SLUG}")
    await page.get_by_label("How many?").select_option("2")
    await page.get_by_label("Your name").fill("Sara Ahmadi")
    await page.get_by_label("Email (for your tickets)").fill("sara@example.org")
    await page.get_by_label("Name on ticket 2 (optional)").fill("Omid Rahimi")
    await page.locator("details.languages summary").click()
    await page.locator("details.languages a[lang='fa']").click()
    await page.wait_for_function("document.documentElement.lang === 'fa'")
    form = page.locator("form.buy-form")
    await expect(form.locator("select[name^='quantity_']")).to_have_value("2")
    await expect(form.locator("input[name='name']")).to_have_value("Sara Ahmadi")
    await expect(form.locator("input[name='email']")).to_have_value("sara@example.org")
    await expect(form.locator("input[name='guest_name_1']")).to_have_value("Omid Rahimi")
    await page.screenshot(path=str(artifacts_dir / "names-kept-after-language-fa.png"), full_page=True)
    # Kept once: a later visit to the page starts empty.
    await page.reload()
    await expect(form.locator("input[name='name']")).to_have_value("")
    await context.close()
