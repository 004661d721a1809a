"""A person's account in real Chromium: a forgotten password reset from the sign-in page through the emailed link
(sent by the server's own worker to a real SMTP server, aiosmtpd); ending another browser's sign-in; and an
organiser deactivating a volunteer, whose open browser is signed out on its next click."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from tests.support.accessibility import assert_accessible
from tests.support.mail import MailServer, mailing_demo_environment, running_mail_server
from tests.support.server import live_server, run_cli

pytestmark = pytest.mark.browser

ORGANISER = ("organiser@example.org", "organiser-demo-2026")
DOOR = ("door@example.org", "door-demo-2026")
HELPER = ("helper@example.org", "helper's first password")  # made for these tests: its password is reset
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "user_agent": FIREFOX_ANDROID}


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture(scope="module")
def account_server(tmp_path_factory: pytest.TempPathFactory, mail: MailServer) -> Iterator[str]:
    """A server of its own (these tests change the demo logins' passwords), running its worker, which mails to aiosmtpd."""
    var_dir = tmp_path_factory.mktemp("account-server")
    env = mailing_demo_environment(var_dir, mail)
    run_cli(env, "user", "create", HELPER[0], "--role", "organiser", "--org", "refugee-welcome", "--password-stdin", stdin=HELPER[1] + "\n")
    with live_server(env) as base_url:
        yield base_url


async def sign_in(page: Any, base_url: str, login: tuple[str, str], next_path: str = "/account") -> None:
    await page.goto(f"{base_url}/login?next={next_path}")
    await page.get_by_label("Email").fill(login[0])
    await page.get_by_label("Password").fill(login[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{next_path}")


async def test_a_forgotten_password_is_reset_through_the_emailed_link(
    browser: Any, account_server: str, mail: MailServer, artifacts_dir: Path
) -> None:
    base_url = account_server
    elsewhere = await browser.new_context(**PHONE)
    context = await browser.new_context(**PHONE)
    try:
        # Signed in on another device, which the reset will sign out.
        other = await elsewhere.new_page()
        await sign_in(other, base_url, HELPER, "/manage")

        page = await context.new_page()
        await page.goto(f"{base_url}/login")
        await page.get_by_role("link", name="Forgot your password?").click()
        await page.wait_for_url("**/forgot-password")
        await assert_accessible(page, "a11y-forgot-password", artifacts_dir)
        await page.get_by_label("Email").fill(HELPER[0])
        sent = len(mail.inbox.envelopes)
        await page.get_by_role("button", name="Email me a link").click()
        await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        await assert_accessible(page, "a11y-forgot-password-sent", artifacts_dir)

        # The email's link is on EVENTS_BASE_URL (the default here): followed on this test's server.
        link = base_url + urlsplit(await mail.next_link(sent, "/reset-password/")).path
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        await assert_accessible(page, "a11y-reset-password", artifacts_dir)
        await page.get_by_label("New password").fill("short")
        await page.get_by_role("button", name="Set password and sign in").click()
        await expect(page.locator("#error-summary")).to_contain_text("Passwords need at least 10 characters.")
        await page.get_by_label("New password").fill("a new demo password 2026")
        await page.get_by_role("button", name="Set password and sign in").click()
        await page.wait_for_url("**/account?notice=password_reset")
        await expect(page.get_by_role("status")).to_contain_text("Your new password is set and you are signed in.")
        await expect(page.locator(".sign-in")).to_have_count(1)  # the other device's sign-in has ended
        await page.screenshot(path=str(artifacts_dir / "account-after-reset.png"), full_page=True)

        await other.reload()
        await expect(other.get_by_role("button", name="Sign in")).to_be_visible()

        # The link was spent: opening it again says so clearly.
        await page.goto(link)
        await expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
        await expect(page.get_by_text("This link has already been used.")).to_be_visible()
        await assert_accessible(page, "a11y-reset-link-used", artifacts_dir)
    finally:
        await elsewhere.close()
        await context.close()


async def test_a_person_ends_the_sign_in_on_another_browser(browser: Any, account_server: str, artifacts_dir: Path) -> None:
    base_url = account_server
    phone = await browser.new_context(**PHONE)
    laptop = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        on_phone = await phone.new_page()
        await sign_in(on_phone, base_url, DOOR, "/account")
        on_laptop = await laptop.new_page()
        await sign_in(on_laptop, base_url, DOOR, "/account")
        await expect(on_laptop.locator(".sign-in")).to_have_count(2)
        await expect(on_laptop.locator(".sign-in").first).to_contain_text("(this browser)")
        await assert_accessible(on_laptop, "a11y-account-sessions", artifacts_dir)

        await on_laptop.get_by_role("button", name=re.compile(r"^Sign out there: Firefox on Android")).click()
        await expect(on_laptop.get_by_role("status")).to_contain_text("That sign-in has ended")
        await expect(on_laptop.locator(".sign-in")).to_have_count(1)

        await on_phone.reload()
        await expect(on_phone.get_by_role("button", name="Sign in")).to_be_visible()
        await on_laptop.reload()
        await expect(on_laptop.get_by_role("heading", name="Your account")).to_be_visible()
    finally:
        await phone.close()
        await laptop.close()


async def test_an_organiser_deactivates_a_volunteer(browser: Any, account_server: str, artifacts_dir: Path) -> None:
    base_url = account_server
    volunteer = await browser.new_context(**PHONE)
    organiser = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        theirs = await volunteer.new_page()
        await sign_in(theirs, base_url, DOOR, "/account")

        page = await organiser.new_page()
        await sign_in(page, base_url, ORGANISER, "/manage/people")
        await assert_accessible(page, "a11y-manage-people", artifacts_dir)
        await page.get_by_role("row").filter(has_text=DOOR[0]).get_by_role("link").click()
        await assert_accessible(page, "a11y-manage-person", artifacts_dir)
        await page.get_by_role("button", name=re.compile(r"^Deactivate ")).click()
        await expect(page.get_by_role("status")).to_contain_text("Deactivated: they are signed out everywhere")

        await theirs.reload()
        await expect(theirs.get_by_role("button", name="Sign in")).to_be_visible()
        await theirs.get_by_label("Email").fill(DOOR[0])
        await theirs.get_by_label("Password").fill(DOOR[1])
        await theirs.get_by_role("button", name="Sign in").click()
        await expect(theirs.locator("#login-error")).to_contain_text("do not match an account")

        await page.get_by_role("button", name=re.compile(r"^Reactivate ")).click()
        await expect(page.get_by_role("status")).to_contain_text("Reactivated")
    finally:
        await volunteer.close()
        await organiser.close()
