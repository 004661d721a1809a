"""Passwords: a signed-in person changes theirs; a forgotten one is reset through a single-use emailed link (sent
to a real SMTP server, aiosmtpd), which answers the same whether or not the account exists and is rate-limited."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar

from events.accounts import service
from events.accounts.tables import AccountMessage, PasswordReset, SignIn, User
from events.config import Settings, SmtpSettings
from events.tickets.outbox import drain_outbox
from tests.integration.accounts.test_login import sign_in
from tests.integration.accounts.test_sign_ins import FIREFOX_ANDROID, another_browser, csrf, signed_in_as
from tests.integration.tickets.test_email import Inbox, SmtpServer
from tests.support.server import free_port

PASSWORD = "a long password"


@pytest.fixture
def mail(settings: Settings) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), and the app's settings sending to it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp = SmtpSettings(host="127.0.0.1", port=port, user=None, password=None, sender="Events <accounts@events.test>", starttls=False)
    controller.start()
    try:
        yield SmtpServer(controller, inbox, dataclasses.replace(settings, smtp=smtp))
    finally:
        controller.stop()


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/forgot-password")
    return await client.post("/forgot-password", data={"email": email, "_csrf_token": csrf(page.text)})


async def reset_link_from_inbox(mail: SmtpServer) -> str:
    """The link in the one email sent (the worker's job, run now)."""
    assert await drain_outbox(datetime.now(timezone.utc), settings=mail.settings) == 1
    [message] = mail.inbox.messages()
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"http://\S+/reset-password/(\S+)", text)
    assert match, text
    return "/reset-password/" + match.group(1)


async def test_a_person_changes_their_password(client: httpx.AsyncClient, app: Litestar) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD)
    await sign_in(client, "sam@test.example", PASSWORD)
    async with another_browser(app, FIREFOX_ANDROID) as phone:
        await sign_in(phone, "sam@test.example", PASSWORD)
        form = await client.get("/account/password")
        assert form.status_code == 200 and 'autocomplete="current-password"' in form.text

        wrong = await client.post(
            "/account/password", data={"current_password": "not my password", "new_password": "a brand new password", "_csrf_token": csrf(form.text)}
        )
        assert wrong.status_code == 422 and "That is not your current password." in wrong.text
        short = await client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short", "_csrf_token": csrf(form.text)})
        assert short.status_code == 422 and "Passwords need at least 10 characters." in short.text

        changed = await client.post(
            "/account/password", data={"current_password": PASSWORD, "new_password": "a brand new password", "_csrf_token": csrf(form.text)}
        )
        assert changed.status_code == 303 and changed.headers["location"] == "/account?notice=password_changed"
        assert await signed_in_as(client)  # this browser stays signed in
        assert not await signed_in_as(phone)  # every other one is signed out

    assert (await sign_in(client, "sam@test.example", PASSWORD)).status_code == 401
    assert (await sign_in(client, "sam@test.example", "a brand new password")).status_code == 303


async def test_changing_a_password_needs_a_signed_in_person(client: httpx.AsyncClient) -> None:
    assert (await client.get("/account/password")).headers["location"] == "/login?next=/account/password"
    assert (await client.get("/account")).headers["location"] == "/login?next=/account"


async def test_the_answer_is_the_same_whether_or_not_the_account_exists(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD)
    sign_in_page = await client.get("/login")
    assert 'href="/forgot-password"' in sign_in_page.text and "Forgot your password?" in sign_in_page.text

    known = await forgot(client, "Sam@Test.Example")
    unknown = await forgot(client, "nobody@test.example")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("Sam@Test.Example", "EMAIL") == unknown.text.replace("nobody@test.example", "EMAIL")
    assert "we have sent it a link" in known.text
    # Only the real account gets an email.
    assert [row["recipient"] for row in await AccountMessage.select(AccountMessage.recipient)] == ["sam@test.example"]


async def test_no_email_for_a_deactivated_person_a_token_only_account_or_a_door_phone(client: httpx.AsyncClient) -> None:
    await service.create_user("gone@test.example", role="organiser", password=PASSWORD)
    await User.update({User.is_active: False}).where(User.email == "gone@test.example")
    await service.create_user("robot@test.example", role="organiser", password=None)
    for email in ("gone@test.example", "robot@test.example", "device-1234@devices.invalid"):
        assert (await forgot(client, email)).status_code == 200
    assert await AccountMessage.count() == 0


async def test_asking_is_rate_limited_per_email_and_per_address(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD)
    answers = [(await forgot(client, "sam@test.example")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert await AccountMessage.count() == 3
    limited = await forgot(client, "sam@test.example")
    assert "Too many password reset requests." in limited.text and int(limited.headers["retry-after"]) > 0

    # One address asking for many emails (whether or not they exist) is stopped too: 20 an hour (5 asked so far).
    answers = [(await forgot(client, f"someone-{n}@test.example")).status_code for n in range(16)]
    assert answers == [200] * 15 + [429]


async def test_a_forgotten_password_is_reset_through_the_emailed_link(
    client: httpx.AsyncClient, app: Litestar, mail: SmtpServer, now: datetime
) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD, display_name="Sam")
    async with another_browser(app, FIREFOX_ANDROID) as phone:
        await sign_in(phone, "sam@test.example", PASSWORD)
        await forgot(client, "sam@test.example")
        link = await reset_link_from_inbox(mail)
        [message] = mail.inbox.messages()
        assert message["To"] == "sam@test.example" and message["Subject"] == "Set a new password"
        assert "Hello Sam," in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

        # Only the token's hash is stored.
        token = link.rsplit("/", 1)[1]
        [stored] = await PasswordReset.select(PasswordReset.token_hash)
        assert token not in stored["token_hash"]

        form = await client.get(link)
        assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
        assert (await client.get(link)).status_code == 200  # opening it twice (a mail scanner, say) spends nothing

        short = await client.post(link, data={"password": "short", "_csrf_token": csrf(form.text)})
        assert short.status_code == 422 and "Passwords need at least 10 characters." in short.text

        done = await client.post(link, data={"password": "my new long password", "_csrf_token": csrf(form.text)})
        assert done.status_code == 303 and done.headers["location"] == "/account?notice=password_reset"
        account = await client.get(done.headers["location"])
        assert account.status_code == 200 and "Your new password is set and you are signed in." in account.text
        assert not await signed_in_as(phone)  # the other session has ended
        assert await SignIn.count() == 1

    assert (await sign_in(client, "sam@test.example", PASSWORD)).status_code == 401
    assert (await sign_in(client, "sam@test.example", "my new long password")).status_code == 303

    # The link is single-use.
    used = await client.get(link)
    assert used.status_code == 410 and "already been used" in used.text and 'href="/forgot-password"' in used.text
    again = await client.post(link, data={"password": "yet another long password", "_csrf_token": csrf(form.text)})
    assert again.status_code == 410
    assert (await sign_in(client, "sam@test.example", "my new long password")).status_code == 303


async def test_an_expired_or_made_up_link_gives_a_clear_page(client: httpx.AsyncClient, mail: SmtpServer, now: datetime) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD)
    await forgot(client, "sam@test.example")
    link = await reset_link_from_inbox(mail)
    await PasswordReset.update({PasswordReset.expires_at: now - timedelta(seconds=1)}, force=True)
    expired = await client.get(link)
    assert expired.status_code == 410 and "This link has expired" in expired.text
    page = await client.get("/login")
    refused = await client.post(link, data={"password": "my new long password", "_csrf_token": csrf(page.text)})
    assert refused.status_code == 410
    assert (await sign_in(client, "sam@test.example", PASSWORD)).status_code == 303  # the password is unchanged

    made_up = await client.get("/reset-password/not-a-real-token")
    assert made_up.status_code == 404 and "This link is not valid" in made_up.text


async def test_a_link_stops_working_when_its_person_is_deactivated(client: httpx.AsyncClient, mail: SmtpServer, now: datetime) -> None:
    await service.create_user("sam@test.example", role="organiser", password=PASSWORD)
    await forgot(client, "sam@test.example")
    link = await reset_link_from_inbox(mail)
    await User.update({User.is_active: False}).where(User.email == "sam@test.example")
    assert (await client.get(link)).status_code == 404
