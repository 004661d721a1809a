"""A guest with a referral partner's link claims a free place on a phone, in Arabic, in headless Chromium:
the page reads right to left, says when and where before they claim, the form and the ticket are in Arabic,
the language is remembered, and a guest who leaves only a mobile number gets an Arabic text with their ticket's
link and an Arabic ticket PDF."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.dates import format_date

from events import i18n
from tests.support.server import demo_environment, live_server, run_cli
from tests.support.ticket_pdfs import lines_read_right_to_left, rasterise
from tests.support.twilio import TwilioStandIn, running_twilio

pytestmark = pytest.mark.browser

SLUG = "august-supper-club"  # seeded by `events demo`, with places kept free for refugee guests
ORGANISER = "organiser@example.org"  # seeded by `events demo` in development
GUEST = "ليلى"
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")
PHONE = {"width": 390, "height": 844}


def arabic(message: str) -> str:
    """The Arabic the page should show for ``message``, read from locale/ar like the server does."""
    translated = i18n.translations("ar").gettext(message)
    assert translated != message and ARABIC_LETTERS.search(translated), f"{message!r} is translated into Arabic"
    return translated


def has_arabic(text: str) -> bool:
    return ARABIC_LETTERS.search(text) is not None


@pytest.fixture(scope="module")
def claim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server seeded with the demo, and an organiser's API token for it."""
    var_dir = tmp_path_factory.mktemp("claim-server")
    env = demo_environment(var_dir)
    token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
    with live_server(env) as base_url:
        yield base_url, token


async def create_claim_link(base_url: str, token: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            f"/api/events/{SLUG}/claim-codes",
            json={"partner_name": "Refugee Women's Group", "places": 5},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def test_a_guest_claims_a_free_place_in_arabic_on_a_phone(  # type: ignore[no-untyped-def]
    browser, claim_server: tuple[str, str], artifacts_dir: Path
) -> None:
    base_url, token = claim_server
    code = await create_claim_link(base_url, token)
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = await context.new_page()

    # The partner's link, in Arabic: the whole page is Arabic and right to left.
    response = await page.goto(f"{base_url}/claim/{code}?lang=ar")
    assert response is not None and response.status == 200
    assert await page.evaluate("document.documentElement.lang") == "ar"
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    heading = page.get_by_role("heading", level=1)
    assert (await heading.inner_text()).strip() == arabic("Your free place")
    submit = page.locator("form.form button[type=submit]")
    assert (await submit.inner_text()).strip() == arabic("Get my ticket")
    assert await page.get_by_label(arabic("Your first name")).is_visible()
    assert arabic("You are welcome. This place is free. You do not need to show any papers.") in await page.locator("main").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling

    # Right to left on the screen, not just in the markup: the heading sits against the right-hand side.
    layout = await page.evaluate(
        """() => {
            const h1 = document.querySelector("main h1");
            const box = h1.getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(h1);
            const text = range.getBoundingClientRect();
            const main = getComputedStyle(document.querySelector("main"));
            return {viewport: window.innerWidth, right: box.right, left: box.left, textRight: text.right,
                    textLeft: text.left, padding: parseFloat(main.paddingRight)};
        }"""
    )
    assert abs(layout["right"] - (layout["viewport"] - layout["padding"])) <= 2, layout
    assert abs(layout["textRight"] - layout["right"]) <= 2, layout  # the words start at the right edge…
    assert layout["textLeft"] > layout["left"] + 40, layout  # …and the space left over is on the left
    await page.screenshot(path=str(artifacts_dir / "claim-arabic-form.png"), full_page=True)

    # The guest writes their first name in Arabic and gets their ticket, in Arabic, with its QR code.
    await page.locator("#name").fill(GUEST)
    await submit.click()
    await page.wait_for_load_state()
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert (await page.get_by_role("heading", level=1).inner_text()).strip() == arabic("Here is your ticket")
    assert (await page.locator(".holder").inner_text()).strip() == GUEST
    assert await page.locator("figure.qr svg").is_visible()
    # The event's English title keeps its own direction but lines up with the Arabic page: on the right.
    title = await page.locator("#ticket-event").evaluate(
        """h2 => { const range = document.createRange(); range.selectNodeContents(h2);
                   return {right: h2.getBoundingClientRect().right, textRight: range.getBoundingClientRect().right}; }"""
    )
    assert abs(title["textRight"] - title["right"]) <= 2, title
    main_text = await page.locator("main").inner_text()
    assert arabic("Show this QR code at the door. You can print it or save a screenshot.") in main_text
    for label in ("Name", "When", "Where"):
        assert arabic(label) in main_text
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await page.screenshot(path=str(artifacts_dir / "claim-arabic-ticket.png"), full_page=True)

    # The same link again without ?lang=ar: the choice was remembered.
    response = await page.goto(f"{base_url}/claim/{code}")
    assert response is not None and response.status == 200
    assert await page.evaluate("document.documentElement.lang") == "ar"
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert (await page.get_by_role("heading", level=1).inner_text()).strip() == arabic("Your free place")
    assert has_arabic(await page.locator("form.form button[type=submit]").inner_text())
    await context.close()


MOBILE = "07911 123456"  # a UK mobile number, as a guest would type it
MOBILE_E164 = "+447911123456"


@pytest.fixture(scope="module")
def texting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, TwilioStandIn]]:
    """A demo server whose own worker sends texts through the Twilio SDK to a stand-in on loopback."""
    with running_twilio() as twilio:
        var_dir = tmp_path_factory.mktemp("texting-server")
        env = demo_environment(
            var_dir,
            EVENTS_RUN_WORKER_IN_PROCESS="true",
            EVENTS_TWILIO_ACCOUNT_SID=twilio.account_sid,
            EVENTS_TWILIO_AUTH_TOKEN=twilio.auth_token,
            EVENTS_TWILIO_FROM=twilio.sender,
            EVENTS_TWILIO_BASE_URL=twilio.url,
        )
        token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        with live_server(env) as base_url:
            yield base_url, token, twilio


async def test_an_arabic_claim_by_phone_tells_when_and_where_and_sends_an_arabic_ticket_pdf_and_text(  # type: ignore[no-untyped-def]
    browser, texting_server: tuple[str, str, TwilioStandIn], artifacts_dir: Path, tmp_path: Path
) -> None:
    base_url, token, twilio = texting_server
    code = await create_claim_link(base_url, token)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        event = (await http.get(f"/api/events/{SLUG}")).json()
    starts_at = datetime.fromisoformat(event["starts_at"]).astimezone(ZoneInfo(event["timezone"]))
    month = format_date(starts_at, "MMMM", locale="ar")  # the event's month, as Arabic names it
    assert has_arabic(month)
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = await context.new_page()

    # Before claiming, the guest sees what they are claiming: when and where (with a map), in Arabic.
    await page.goto(f"{base_url}/claim/{code}?lang=ar")
    main_text = await page.locator("main").inner_text()
    assert month in main_text and str(starts_at.day) in main_text, main_text
    assert event["venue"] in main_text
    assert await page.locator("main a[href^='https://www.openstreetmap.org/']").count() >= 1
    assert "£" not in main_text and arabic("Pay for your order") not in main_text  # nothing about paying
    await page.screenshot(path=str(artifacts_dir / "claim-arabic-when-where.png"), full_page=True)

    # A first name and a mobile number, no email: the ticket, and a link to it by text.
    await page.locator("#name").fill(GUEST)
    await page.locator("#phone").fill(MOBILE)
    await page.locator("form.form button[type=submit]").click()
    await page.wait_for_load_state()
    assert (await page.get_by_role("heading", level=1).inner_text()).strip() == arabic("Here is your ticket")
    pdf_link = await page.get_by_role("link", name=arabic("Download PDF")).get_attribute("href")
    assert pdf_link is not None

    # The PDF speaks Arabic, whatever language a later page is read in: Arabic labels and an Arabic date.
    async with httpx.AsyncClient(base_url=base_url, timeout=30, cookies={i18n.LOCALE_COOKIE: "en"}) as http:
        response = await http.get(pdf_link)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "ticket.pdf"
    path.write_bytes(response.content)
    day = format_date(starts_at, format="full", locale="ar")
    [lines] = lines_read_right_to_left(path)
    assert day in lines and arabic("Name") in lines, lines
    for png in rasterise(response.content, tmp_path):
        png.replace(artifacts_dir / "claim-arabic-ticket-pdf.png")

    # The server's own worker sends the text through the Twilio SDK: to the number in E.164, in Arabic, with the
    # ticket's link, which opens the same ticket.
    deadline = time.monotonic() + 60
    while not twilio.delivered and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    [text] = twilio.delivered
    assert text.problems == [] and text.to == MOBILE_E164
    assert has_arabic(text.body), text.body
    [link] = re.findall(r"https?://\S+", text.body)
    ticket_path = urlsplit(link).path  # the link is on EVENTS_BASE_URL; this server listens on a port of its own
    assert ticket_path.startswith("/tickets/")
    await page.goto(base_url + ticket_path)
    assert (await page.locator(".holder").inner_text()).strip() == GUEST
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    (artifacts_dir / "claim-arabic-text.txt").write_text(f"To: {text.to}\n\n{text.body}\n", encoding="utf-8")
    await context.close()
