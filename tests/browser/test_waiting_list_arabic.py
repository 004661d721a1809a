"""A guest joins a sold-out event's waiting list on a phone, in Arabic, in headless Chromium: the form (and its
mistakes) and their place in the queue read right to left and pass axe; a refund frees a place, the server's own
worker offers it by email in Arabic with the guest's private link, and the link opens the offer, whose "Take the
places" goes on to the payment page."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import expect

from tests.support.accessibility import assert_accessible, assert_touch_targets
from tests.support.mail import MailServer, mailing_demo_environment, running_mail_server
from tests.support.orders import pay_with_test_page
from tests.support.server import live_server, run_cli

pytestmark = pytest.mark.browser

ORGANISER = "organiser@example.org"  # seeded by `events demo` in development
PARTNER = "welcome-kitchen"  # seeded by `events demo`
SLUG = "waiting-list-supper"
GUEST = "ليلى"
GUEST_EMAIL = "leila@example.org"
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, MailServer]]:
    """A demo server whose own worker runs the waiting list's offers and sends email to a real SMTP server."""
    with running_mail_server() as mail:
        env = mailing_demo_environment(tmp_path_factory.mktemp("waiting-list-server"), mail)
        token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        with live_server(env) as base_url:
            yield base_url, token, mail


async def sold_out_event(http: httpx.AsyncClient, organiser: dict[str, str]) -> dict[str, object]:
    """A supper with two places online, both bought and paid for. Returns the paid order."""
    starts = (datetime.now(timezone.utc) + timedelta(days=20)).replace(microsecond=0)
    created = await http.post(
        "/api/events",
        json={
            "slug": SLUG,
            "title": "Waiting List Supper",
            "venue": "Community Hall",
            "address": "1 High Street, London",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": 2,
            "reserved_free_places": 0,
            "status": "on_sale",
            "ticket_types": [{"name": "Supper", "price_pence": 2500, "max_per_order": 4}],
            "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
        },
        headers=organiser,
    )
    assert created.status_code == 201, created.text
    type_id = created.json()["ticket_types"][0]["id"]
    order = await http.post(
        f"/api/events/{SLUG}/orders",
        json={"buyer": {"name": "Sam Buyer", "email": "sam@example.org"}, "items": [{"ticket_type": type_id, "quantity": 2}]},
    )
    assert order.status_code == 201, order.text
    assert (await pay_with_test_page(http, order.json())).status_code == 303
    return order.json()


async def offer_email(mail: MailServer, recipient: str, *, timeout: float = 90) -> EmailMessage:
    """The first email to ``recipient`` (the server's worker sends what the outbox holds every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in mail.inbox.messages():
            if message["To"] and recipient in message["To"]:
                return message
        assert time.monotonic() < deadline, f"no email to {recipient} arrived"
        await asyncio.sleep(0.5)


async def assert_right_to_left_without_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert await page.evaluate("document.documentElement.lang") == "ar"
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    assert await page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_a_guest_joins_the_waiting_list_in_arabic_and_takes_a_freed_place_to_payment(  # type: ignore[no-untyped-def]
    browser, mailing_server: tuple[str, str, MailServer], artifacts_dir: Path
) -> None:
    base_url, token, mail = mailing_server
    organiser = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        paid = await sold_out_event(http, organiser)
    context = await browser.new_context(**PHONE)
    page = await context.new_page()

    # The sold-out event page, in Arabic (chosen from the language menu, so remembered), offers the waiting list.
    response = await page.goto(f"{base_url}/language/ar?next=/events/{SLUG}")
    assert response is not None and response.status == 200
    await assert_right_to_left_without_sideways_scroll(page)
    form = page.locator("form.waiting-list-form")
    assert await form.is_visible()
    assert await page.locator("#wl-locale").input_value() == "ar"  # the page's language, unless they choose another
    assert await page.locator("#wl-quantity option").count() == 4  # up to the type's max_per_order
    await assert_accessible(page, "a11y-waiting-list-join-phone", artifacts_dir)
    await assert_touch_targets(page, "waiting-list-join")

    # Sent without a way to reach them: the form again, the message beside the field, the focus on it.
    await page.locator("#wl-name").fill(GUEST)
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state()
    assert await page.locator(".error-summary").is_visible()
    assert await page.locator("#wl-email").get_attribute("aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.id") == "wl-email"
    assert await page.locator("#wl-name").input_value() == GUEST  # what they typed is kept
    await assert_right_to_left_without_sideways_scroll(page)
    await assert_accessible(page, "a11y-waiting-list-join-errors-phone", artifacts_dir)

    await page.locator("#wl-email").fill(GUEST_EMAIL)
    await page.locator("#wl-quantity").select_option("2")
    await page.locator("form.waiting-list-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/waiting-list/[A-Za-z0-9_-]+\?joined=1$"))
    await assert_right_to_left_without_sideways_scroll(page)
    entry_path = urlsplit(page.url).path
    assert "1" in await page.locator(".position").inner_text()  # first in the queue
    assert entry_path in await page.locator(".private-link-url").inner_text()  # the private link, to keep
    await assert_accessible(page, "a11y-waiting-list-entry-phone", artifacts_dir)

    # The organiser refunds the paid order: the freed places go to the waiting list first, and the server's worker
    # emails the offer, in Arabic, with the guest's own link.
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        refund = await http.post(f"/api/orders/{paid['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund.status_code == 201, refund.text
    message = await offer_email(mail, GUEST_EMAIL)
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert ARABIC_LETTERS.search(plain), plain
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    [link] = [found for found in re.findall(r"https?://\S+", plain) if "/waiting-list/" in found]
    assert urlsplit(link).path == entry_path  # the link is on EVENTS_BASE_URL; this server listens on its own port
    (artifacts_dir / "waiting-list-offer-email.txt").write_text(plain, encoding="utf-8")

    # The link opens the offer: the place held, until when, in Arabic, right to left.
    response = await page.goto(base_url + entry_path)
    assert response is not None and response.status == 200
    await assert_right_to_left_without_sideways_scroll(page)
    take = page.locator("form.take-offer button[type=submit]")
    assert await take.is_visible()
    assert ARABIC_LETTERS.search(await page.locator(".offer").inner_text())  # the time, in Arabic
    # The price of one place, and a total that follows the number of places chosen (static/js/offer.js).
    assert "25" in await page.locator(".offer-price").inner_text()
    total = page.locator("#offer-total")
    await expect(total).to_have_text(re.compile(r"^50\s£$"))
    await page.locator("#wl-quantity").select_option("1")
    await expect(total).to_have_text(re.compile(r"^25\s£$"))  # as money.py writes it in Arabic
    await assert_accessible(page, "a11y-waiting-list-offer-phone", artifacts_dir)
    await assert_touch_targets(page, "waiting-list-offer")
    await page.goto(base_url + entry_path + "/leave")  # the confirmation before leaving (not sent)
    await assert_right_to_left_without_sideways_scroll(page)
    await assert_accessible(page, "a11y-waiting-list-leave-phone", artifacts_dir)
    await page.go_back()

    # "Take the places": on to the payment page of the guest's order.
    await page.locator("form.take-offer button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/orders/[A-Z0-9-]+/pay\?token="))
    await assert_right_to_left_without_sideways_scroll(page)
    assert "Supper" in await page.locator("main").inner_text()  # the order of the place they took
    await page.screenshot(path=str(artifacts_dir / "waiting-list-arabic-pay.png"), full_page=True)
    await context.close()
