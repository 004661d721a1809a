"""A real issued ticket on a phone, in headless Chromium: the QR code on screen scans and carries a genuine
signature, the page names the holder, type and event, links to a map and a calendar file, and still shows
the QR code when printed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from icalendar import Calendar
from PIL import Image

from events.tickets.signing import TicketClaims, public_key_from_text, read_claims, verify_ticket
from tests.support.accessibility import assert_touch_targets
from tests.support.orders import get_order, pay_with_test_page, place_order

pytestmark = pytest.mark.browser

SLUG = "august-supper-club"  # seeded by `events demo`
HOLDER = "ليلى حداد"


async def buy_one_ticket(base_url: str) -> dict[str, Any]:
    """Through the demo server's API and its test payment page, as a guest's phone would."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await place_order(http, SLUG, quantity=1, buyer={"name": HOLDER, "email": "layla@example.org"})
        assert response.status_code == 201, response.text
        created = response.json()
        assert (await pay_with_test_page(http, created)).status_code == 303
        order = await get_order(http, created)
    assert order["status"] == "paid"
    [ticket] = order["tickets"]
    assert ticket["status"] == "valid"
    return {**ticket, "event_title": order["event_title"]}


def demo_public_keys(tmp_path_factory: pytest.TempPathFactory, event_slug: str) -> dict[str, Any]:
    """The event's public keys, read from the demo server's SQLite file (there is no public-keys endpoint).

    The demo_server fixture keeps its database in a 'demo-server*' folder of this session's temp dir."""
    databases = sorted(tmp_path_factory.getbasetemp().glob("demo-server*/events.sqlite3"))
    assert databases, "the demo server's SQLite database"
    keys: dict[str, Any] = {}
    for database in databases:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT k.key_id, k.public_key FROM event_signing_key k JOIN event e ON e.id = k.event WHERE e.slug = ?",
                (event_slug,),
            ).fetchall()
        keys.update({key_id: public_key_from_text(text) for key_id, text in rows})
    return keys


def decode_qr(png: Path) -> str:
    found = zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [result.format for result in found] == [zxingcpp.BarcodeFormat.QRCode], f"one QR code in {png.name}"
    return found[0].text


def assert_genuine(code: str, keys: dict[str, Any], ticket: dict[str, Any]) -> TicketClaims:
    unverified = read_claims(code)
    assert (unverified.ticket_id, unverified.secret) == (ticket["id"], ticket["secret"])
    claims = verify_ticket(code, keys)
    assert (claims.ticket_id, claims.secret) == (ticket["id"], ticket["secret"])
    return claims


async def test_a_ticket_on_a_phone_scans_links_out_and_prints(  # type: ignore[no-untyped-def]
    browser, demo_server: str, artifacts_dir: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ticket = await buy_one_ticket(demo_server)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, accept_downloads=True)
    page = await context.new_page()
    response = await page.goto(demo_server + ticket["url"])
    assert response is not None and response.status == 200

    # What is on the screen: event, holder, ticket type, order, and no sideways scrolling.
    assert (await page.get_by_role("heading", level=1).inner_text()).strip() == ticket["event_title"]
    assert (await page.locator(".holder").inner_text()).strip() == HOLDER
    assert (await page.locator(".ticket-type-name").inner_text()).strip() == ticket["type"]
    assert ticket["secret"] in await page.locator(".ticket-code").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert await page.locator(".qr svg").is_visible()

    # The QR code as the screen shows it scans, and its signature is the event's.
    screenshot = artifacts_dir / "ticket-page-mobile.png"
    await page.screenshot(path=str(screenshot), full_page=True)
    code = decode_qr(screenshot)
    assert_genuine(code, demo_public_keys(tmp_path_factory, SLUG), ticket)

    # A map link for the venue.
    map_link = page.get_by_role("link", name="Map")
    href = await map_link.get_attribute("href")
    assert href is not None and urlsplit(href).netloc == "www.openstreetmap.org"
    assert "St Margaret's Community Hall" in parse_qs(urlsplit(href).query)["query"][0]

    # 'Add to calendar' downloads an .ics file for the event.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Add to calendar").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".ics")
    ics = tmp_path / download.suggested_filename
    await download.save_as(str(ics))
    events = [component for component in Calendar.from_ical(ics.read_bytes()).walk() if component.name == "VEVENT"]
    assert [str(event["summary"]) for event in events] == [f"{ticket['event_title']} (your ticket)"]  # in the order's language
    assert HOLDER not in ics.read_text(encoding="utf-8")  # no personal data in a file people forward

    # Printed, the QR code is still there (and still scans); the buttons and links are not.
    await page.emulate_media(media="print")
    assert await page.locator(".qr svg").is_visible()
    assert not await page.locator(".ticket-actions").is_visible()
    box = await page.locator(".qr svg").bounding_box()
    assert box is not None and box["width"] >= 200  # CSS pixels: about 5 cm or more on paper
    printed = artifacts_dir / "ticket-page-print.png"
    await page.screenshot(path=str(printed), full_page=True)
    assert decode_qr(printed) == code
    await context.close()


@pytest.mark.parametrize("locale", ["fa", "ar", "en"])
async def test_every_control_on_the_ticket_page_is_big_enough_for_a_fingertip(browser, demo_server: str, locale: str) -> None:  # type: ignore[no-untyped-def]
    """44px each way: "Print" in one short word ("چاپ", "طباعة") was a 32 to 39px wide target."""
    ticket = await buy_one_ticket(demo_server)
    context = await browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{demo_server}{ticket['url']}?lang={locale}")
    box = await page.locator("[data-print]").bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    await assert_touch_targets(page, f"the ticket page in {locale}", min_width=44)
    await context.close()
