""" "Can't come?" on a phone in headless Chromium, against a real server whose own worker sends the messages: a paid
ticket refunded within the window, a paid ticket donated, a ticket passed to a friend (whose new ticket goes by
text), and a free place given back. Each path is two taps and a confirmation from the ticket page, ends on a page
that says what happened, and each guest's confirmation arrives (SMTP test server, Twilio stand-in)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from events import i18n
from tests.support.accessibility import assert_accessible, assert_touch_targets
from tests.support.mail import MailServer, running_mail_server
from tests.support.orders import pay_with_test_page
from tests.support.server import demo_environment, live_server, run_cli
from tests.support.twilio import TwilioStandIn, running_twilio

pytestmark = pytest.mark.browser

ORGANISER = "organiser@example.org"  # seeded by `events demo` in development
SUPPER = "august-supper-club"  # months away: inside its refund window
LUNCH = "open-kitchen-sunday-lunch"  # made to offer no refunds below: donate or pass on
PHONE = {"width": 390, "height": 844}
FRIENDS_MOBILE = "07912 345678"
FRIENDS_MOBILE_E164 = "+447912345678"


@dataclass
class Server:
    base_url: str
    token: str
    mail: MailServer
    twilio: TwilioStandIn
    database: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo, served with its worker sending email to an SMTP test server and texts to the Twilio stand-in."""
    with running_mail_server() as mail, running_twilio() as twilio:
        var_dir = tmp_path_factory.mktemp("cant-come-server")
        env = demo_environment(
            var_dir,
            EVENTS_RUN_WORKER_IN_PROCESS="true",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(mail.port),
            SMTP_STARTTLS="false",
            SMTP_FROM="Events <tickets@events.test>",
            EVENTS_TWILIO_ACCOUNT_SID=twilio.account_sid,
            EVENTS_TWILIO_AUTH_TOKEN=twilio.auth_token,
            EVENTS_TWILIO_FROM=twilio.sender,
            EVENTS_TWILIO_BASE_URL=twilio.url,
        )
        # The lunch offers no refunds, so its paid tickets can be donated or passed on.
        connection = sqlite3.connect(var_dir / "events.sqlite3")
        try:
            connection.execute("UPDATE event SET refund_days_before = NULL WHERE slug = ?", (LUNCH,))
            connection.commit()
        finally:
            connection.close()
        token = run_cli(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        with live_server(env) as base_url:
            yield Server(base_url, token, mail, twilio, var_dir / "events.sqlite3")


async def bought_ticket(server: Server, slug: str, email: str) -> str:
    """A paid ticket of ``slug`` for a buyer at ``email``, paid on the test payment page: its page's key."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        event = (await http.get(f"/api/events/{slug}")).json()
        ticket_type = next(t["id"] for t in event["ticket_types"] if t["price_pence"] > 0)
        body = {"buyer": {"name": "Amal Haddad", "email": email}, "items": [{"ticket_type": ticket_type, "quantity": 1}]}
        created = (await http.post(f"/api/events/{slug}/orders", json=body)).json()
        assert (await pay_with_test_page(http, created)).status_code == 303
        order = (await http.get(f"/api/orders/{created['reference']}", headers={"Authorization": f"Bearer {created['access_token']}"})).json()
    [ticket] = order["tickets"]
    return str(ticket["url"]).removeprefix("/tickets/")


async def claimed_ticket(server: Server, email: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        code = await http.post(
            f"/api/events/{SUPPER}/claim-codes",
            json={"partner_name": "Refugee Women's Group", "places": 2},
            headers={"Authorization": f"Bearer {server.token}"},
        )
        claimed = await http.post("/api/claims", json={"code": code.json()["code"], "name": "Leila", "email": email})
    assert claimed.status_code == 201, claimed.text
    return str(claimed.json()["url"]).removeprefix("/tickets/")


async def email_to(mail: MailServer, recipient: str, subject: str, timeout: float = 90) -> EmailMessage:
    """The email to ``recipient`` whose subject starts with ``subject``, once the server's worker has sent it."""
    deadline = time.monotonic() + timeout
    while True:
        for message in mail.inbox.messages():
            if message["To"] == recipient and str(message["Subject"]).startswith(subject):
                return message
        assert time.monotonic() < deadline, f"no email {subject!r} to {recipient} arrived"
        await asyncio.sleep(0.5)


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def phone_page(browser: Any) -> tuple[Any, Any]:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    return context, await context.new_page()


async def choose(page: Any, base_url: str, secret: str, choice: str) -> None:
    """From the ticket page: tap "Can't come?", then the choice (two taps); the confirmation page is next."""
    await page.goto(f"{base_url}/tickets/{secret}")
    await page.get_by_role("link", name="Can't come?").tap()
    await page.wait_for_url(f"**/tickets/{secret}/cant-come")
    await page.get_by_role("link", name=re.compile(choice)).tap()
    await page.wait_for_url(re.compile(rf"/tickets/{secret}/cant-come/\w+$"))


async def confirm(page: Any, button: str, secret: str) -> str:
    """The confirmation's one tap; the page that says what happened. Returns its heading."""
    await page.get_by_role("button", name=button).tap()
    await page.wait_for_url(f"**/tickets/{secret}/cant-come/done")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    return (await page.get_by_role("heading", level=1).inner_text()).strip()


async def test_a_paid_ticket_is_refunded_within_the_window_on_a_phone(browser, server: Server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    secret = await bought_ticket(server, SUPPER, "refund@example.org")
    context, page = await phone_page(browser)
    await choose(page, server.base_url, secret, "Get a refund")
    # Only what applies: inside the window, a refund or a donation; never passing on or a free place's release.
    await page.go_back()
    links = [text.strip() for text in await page.locator(".cant-come-choices a").all_inner_texts()]
    assert len(links) == 2 and links[0].startswith("Get a refund of £30") and links[1] == "Donate my ticket", links
    await assert_accessible(page, "a11y-cant-come-choices", artifacts_dir)
    await assert_touch_targets(page, "the Can't come? choices")
    await page.go_forward()
    assert await confirm(page, "Yes, refund my ticket", secret) == "Your ticket is refunded"
    assert "5 to 10 working days" in await page.locator("main").inner_text()
    notice = await email_to(server.mail, "refund@example.org", "Your refund for")
    assert "Refunded: £30" in plain(notice)
    await page.goto(f"{server.base_url}/tickets/{secret}")
    assert await page.get_by_role("link", name="Can't come?").count() == 0
    await context.close()


async def test_a_paid_ticket_is_donated_on_a_phone(browser, server: Server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    secret = await bought_ticket(server, LUNCH, "donor@example.org")
    context, page = await phone_page(browser)
    await choose(page, server.base_url, secret, "Donate my ticket")
    # No refund was on offer (the lunch offers none), so no Gift Aid either.
    assert await page.locator("#gift_aid").count() == 0
    await assert_accessible(page, "a11y-cant-come-donate", artifacts_dir)
    await assert_touch_targets(page, "the donation's confirmation")
    assert await confirm(page, "Yes, donate my ticket", secret) == "Thank you for your donation"
    await page.screenshot(path=str(artifacts_dir / "cant-come-donated.png"), full_page=True)
    thanks = await email_to(server.mail, "donor@example.org", "Thank you for donating your ticket")
    assert "Your donation: £12" in plain(thanks)
    await context.close()


async def test_a_ticket_is_passed_to_a_friend_whose_new_ticket_goes_by_text(browser, server: Server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    secret = await bought_ticket(server, LUNCH, "passer@example.org")
    context, page = await phone_page(browser)
    await choose(page, server.base_url, secret, "Pass it to a friend")
    await page.get_by_label("Your friend's name").fill("Sam Okoro")
    await page.get_by_label("Or their mobile number").fill(FRIENDS_MOBILE)
    await assert_accessible(page, "a11y-cant-come-transfer", artifacts_dir)
    assert await confirm(page, "Send the ticket to my friend", secret) == "Your ticket is passed on"
    await page.screenshot(path=str(artifacts_dir / "cant-come-passed-on.png"), full_page=True)
    # The guest who passed it on is told by email; the friend gets their new ticket's link by text.
    told = await email_to(server.mail, "passer@example.org", "Your ticket for")
    assert "passed your ticket on" in plain(told)
    deadline = time.monotonic() + 90
    while not [text for text in server.twilio.delivered if text.to == FRIENDS_MOBILE_E164] and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    [text] = [text for text in server.twilio.delivered if text.to == FRIENDS_MOBILE_E164]
    [link] = re.findall(r"https?://\S+", text.body)
    new_path = re.sub(r"^https?://[^/]+", "", link)
    assert new_path.startswith("/tickets/") and secret not in new_path
    # The friend's ticket works; the old one no longer does.
    await page.goto(server.base_url + new_path)
    assert (await page.locator(".holder").inner_text()).strip() == "Sam Okoro"
    assert await page.locator("figure.qr svg").is_visible()
    await page.goto(f"{server.base_url}/tickets/{secret}")
    assert await page.locator("figure.qr").count() == 0
    await context.close()


async def test_a_free_place_is_given_back_on_a_phone(browser, server: Server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    secret = await claimed_ticket(server, "leila@example.org")
    context, page = await phone_page(browser)
    await choose(page, server.base_url, secret, "Give my place back")
    assert "Your free place goes to someone who is waiting for one." in await page.locator("main").inner_text()
    assert await confirm(page, "Yes, give my place back", secret) == "You gave back your place"
    await page.screenshot(path=str(artifacts_dir / "cant-come-free-place.png"), full_page=True)
    confirmation = await email_to(server.mail, "leila@example.org", "You gave back your place")
    assert "someone else can come instead" in plain(confirmation)

    # The same pages in Arabic read right to left.
    await page.goto(f"{server.base_url}/tickets/{secret}/cant-come/done?lang=ar")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await context.close()


async def test_the_confirmation_pages_back_link_is_big_enough_for_a_fingertip_in_arabic(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    """ "رجوع" (Back) alone was a 33px wide target: links that stand on their own are 44px each way."""
    secret = await bought_ticket(server, LUNCH, "back@example.org")
    context, page = await phone_page(browser)
    await page.goto(f"{server.base_url}/tickets/{secret}/cant-come?lang=ar")
    await page.locator(".cant-come-choices a").first.tap()
    await page.wait_for_url(re.compile(rf"/tickets/{secret}/cant-come/\w+"))
    await page.goto(page.url.split("?")[0] + "?lang=ar")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    back = page.get_by_role("link", name=i18n.translations("ar").gettext("Back"), exact=True)
    box = await back.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    await assert_touch_targets(page, "the Arabic confirmation page", min_width=44)
    await context.close()
