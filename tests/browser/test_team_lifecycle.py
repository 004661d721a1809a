"""A team member's whole life in real Chromium on a phone-sized screen: the owner invites someone by email (sent by
the server's own worker to a real SMTP server, aiosmtpd), the person opens the emailed link, chooses their name and
password and lands in that organisation's back office; later the owner deactivates them, and the browser they are
still signed in on is refused on its very next request. (A forgotten password reset by email is test_account's.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from tests.browser.test_account import ORGANISER, PHONE, sign_in
from tests.support.accessibility import assert_accessible
from tests.support.mail import MailServer, mailing_demo_environment, running_mail_server
from tests.support.server import live_server, run_cli

pytestmark = pytest.mark.browser

NEWCOMER = ("nadia@example.org", "Nadia", "a newcomer's long password")
ADMIN = ("platform@example.org", "the platform admin's password")


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory, mail: MailServer) -> Iterator[str]:
    """A server of its own (these tests add and remove people), running its worker, which mails to aiosmtpd."""
    var_dir = tmp_path_factory.mktemp("team-server")
    env = mailing_demo_environment(var_dir, mail)
    run_cli(
        env, "user", "create", ADMIN[0], "--role", "owner", "--org", "refugee-welcome", "--password-stdin", "--platform-admin", stdin=ADMIN[1] + "\n"
    )
    with live_server(env) as base_url:
        yield base_url


async def test_an_invited_volunteer_joins_by_email_and_is_signed_out_when_deactivated(
    browser: Any, team_server: str, mail: MailServer, artifacts_dir: Path
) -> None:
    base_url = team_server
    owner_phone = await browser.new_context(**PHONE)
    newcomer_phone = await browser.new_context(**PHONE)
    try:
        owner = await owner_phone.new_page()
        await sign_in(owner, base_url, ORGANISER, "/manage/people")
        invite = owner.get_by_role("region", name="Invite someone")
        await invite.get_by_label("Email").fill(NEWCOMER[0])
        await invite.get_by_label("Role").select_option("organiser")
        sent = len(mail.inbox.envelopes)
        await invite.get_by_role("button", name="Send invitation").click()
        await expect(owner.get_by_role("status")).to_contain_text("Invitation sent.")
        await expect(owner.locator(".invitation")).to_contain_text(NEWCOMER[0])
        await assert_accessible(owner, "a11y-team-invited", artifacts_dir)
        await owner.screenshot(path=str(artifacts_dir / "team-people-phone.png"), full_page=True)

        # The email's link is on EVENTS_BASE_URL (the default here): followed on this test's server.
        link = base_url + urlsplit(await mail.next_link(sent, "/invitations/", recipient=NEWCOMER[0])).path
        page = await newcomer_phone.new_page()
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Join Refugee Welcome Network")).to_be_visible()
        await assert_accessible(page, "a11y-invitation", artifacts_dir)
        await page.get_by_label("Your name").fill(NEWCOMER[1])
        await page.get_by_label("Password").fill("short")
        await page.get_by_role("button", name="Accept and sign in").click()
        await expect(page.locator("#error-summary")).to_contain_text("Passwords need at least 10 characters.")
        await page.screenshot(path=str(artifacts_dir / "team-invitation-phone.png"), full_page=True)
        await page.get_by_label("Password").fill(NEWCOMER[2])
        await page.get_by_role("button", name="Accept and sign in").click()
        await page.wait_for_url("**/manage")
        await expect(page.get_by_role("link", name=NEWCOMER[1])).to_be_visible()  # signed in: their name in the header
        await expect(page.get_by_role("navigation", name="Back office")).to_be_visible()
        await page.screenshot(path=str(artifacts_dir / "team-joined-phone.png"), full_page=True)

        # The link worked once.
        used = await newcomer_phone.new_page()
        await used.goto(link)
        await expect(used.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()
        await expect(used.get_by_text("This invitation has already been accepted.")).to_be_visible()
        await used.close()

        # The owner sees them on the team and deactivates them; their open browser is refused on its next request.
        await owner.reload()
        await expect(owner.locator(".invitation")).to_have_count(0)
        await owner.get_by_role("row").filter(has_text=NEWCOMER[0]).get_by_role("link").click()
        await expect(owner.get_by_role("heading", name=NEWCOMER[1])).to_be_visible()
        await expect(owner.get_by_label("Their role in this organisation")).to_have_value("organiser")
        await assert_accessible(owner, "a11y-team-person", artifacts_dir)
        await owner.screenshot(path=str(artifacts_dir / "team-person-phone.png"), full_page=True)
        await owner.get_by_role("button", name=f"Deactivate {NEWCOMER[1]}").click()
        await expect(owner.get_by_role("status")).to_contain_text("Deactivated: they are signed out everywhere")

        await page.get_by_role("link", name="People").click()
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert "/login" in page.url
        await page.get_by_label("Email").fill(NEWCOMER[0])
        await page.get_by_label("Password").fill(NEWCOMER[2])
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#login-error")).to_contain_text("do not match an account")
    finally:
        await owner_phone.close()
        await newcomer_phone.close()


KITCHEN_OWNER = ("kitchen@example.org", "kitchen-demo-2026")


async def test_someone_on_one_team_accepts_another_and_switches_between_them(
    browser: Any, team_server: str, mail: MailServer, artifacts_dir: Path
) -> None:
    base_url = team_server
    kitchen_context = await browser.new_context(viewport={"width": 1280, "height": 800})
    organiser_phone = await browser.new_context(**PHONE)
    try:
        kitchen = await kitchen_context.new_page()
        await sign_in(kitchen, base_url, KITCHEN_OWNER, "/manage/people")
        invite = kitchen.get_by_role("region", name="Invite someone")
        await invite.get_by_label("Email").fill(ORGANISER[0])
        await invite.get_by_label("Role").select_option("organiser")
        sent = len(mail.inbox.envelopes)
        await invite.get_by_role("button", name="Send invitation").click()
        await expect(kitchen.get_by_role("status")).to_contain_text("Invitation sent.")

        # Already signed in with the invited address: accepting needs no password.
        page = await organiser_phone.new_page()
        await sign_in(page, base_url, ORGANISER, "/account")
        link = base_url + urlsplit(await mail.next_link(sent, "/invitations/", recipient=ORGANISER[0])).path
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Join Open Kitchen Project")).to_be_visible()
        await expect(page.get_by_text("You are signed in with this address")).to_be_visible()
        await page.get_by_role("button", name="Accept and sign in").click()
        await page.wait_for_url("**/manage")
        await expect(page.get_by_role("link", name="Open Kitchen Sunday Lunch", exact=True)).to_be_visible()

        # The header's switcher lists both organisations; choosing the other acts for it.
        switcher = page.locator("details.organisations")
        await switcher.locator("summary").click()
        await expect(switcher.get_by_role("button")).to_have_count(2)
        await page.screenshot(path=str(artifacts_dir / "team-switcher-phone.png"), full_page=True)
        await assert_accessible(page, "a11y-organisation-switcher", artifacts_dir)
        await switcher.get_by_role("button", name="Refugee Welcome Network").click()
        await page.wait_for_url("**/manage")
        await expect(page.get_by_role("link", name="August Supper Club", exact=True)).to_be_visible()
        await expect(page.get_by_role("link", name="Open Kitchen Sunday Lunch", exact=True)).to_have_count(0)
        await page.goto(f"{base_url}/account")
        await expect(page.get_by_role("region", name="Your organisations")).to_contain_text("Open Kitchen Project")
        await page.screenshot(path=str(artifacts_dir / "team-account-organisations-phone.png"), full_page=True)
    finally:
        await kitchen_context.close()
        await organiser_phone.close()


async def test_a_platform_admin_creates_an_organisation_and_suspends_it(browser: Any, team_server: str, artifacts_dir: Path) -> None:
    base_url = team_server
    context = await browser.new_context(**PHONE)
    guest = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        await sign_in(page, base_url, ADMIN, "/platform")
        await expect(page.get_by_role("heading", name="Organisations")).to_be_visible()
        create = page.get_by_role("region", name="Create an organisation")
        await create.get_by_label("Name").fill("Refugee Choir")
        await create.get_by_label("Slug").fill("refugee-choir")
        await create.get_by_label("First owner's email").fill("conductor@example.org")
        await create.get_by_role("button", name="Create organisation").click()
        await expect(page.get_by_role("status")).to_contain_text("Organisation created.")
        await expect(page.get_by_role("row").filter(has_text="Refugee Choir")).to_contain_text("active")
        await assert_accessible(page, "a11y-platform", artifacts_dir)

        visitor = await guest.new_page()
        await visitor.goto(f"{base_url}/events/open-kitchen-sunday-lunch")
        await expect(visitor.get_by_role("heading", name="Open Kitchen Sunday Lunch")).to_be_visible()
        await page.get_by_role("button", name="Suspend Open Kitchen Project").click()
        await expect(page.get_by_role("status")).to_contain_text("Suspended")
        await page.screenshot(path=str(artifacts_dir / "team-platform-phone.png"), full_page=True)
        await visitor.reload()
        await expect(visitor.get_by_role("heading", name="Open Kitchen Sunday Lunch")).to_have_count(0)
        await page.get_by_role("button", name="Unsuspend Open Kitchen Project").click()
        await expect(page.get_by_role("status")).to_contain_text("Unsuspended")
        await visitor.reload()
        await expect(visitor.get_by_role("heading", name="Open Kitchen Sunday Lunch")).to_be_visible()
    finally:
        await context.close()
        await guest.close()
