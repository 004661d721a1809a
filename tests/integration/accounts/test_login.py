"""Signing in and out: CSRF on the form, sessions in the database, and rate-limited attempts."""

import re

import httpx

from events.accounts import service
from events.accounts.tables import SessionRecord
from events.errors import TooManyAttempts


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    page = await client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str, next_path: str = "/") -> httpx.Response:
    token = await csrf_token(client)
    return await client.post("/login", data={"email": email, "password": password, "next": next_path, "_csrf_token": token})


async def test_an_organiser_signs_in_and_out(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password", display_name="Sam")
    response = await sign_in(client, "Sam@Test.Example ", "a long password", next_path="/events/x")
    assert response.status_code == 303 and response.headers["location"] == "/events/x"
    assert await SessionRecord.count() == 1  # kept in the database, so any worker can serve the next request
    home = await client.get("/")
    assert "Sam" in home.text and "Sign out" in home.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
    out = await client.post("/logout", data={"_csrf_token": token})
    assert out.status_code == 303
    assert "Sign out" not in (await client.get("/")).text


async def test_signing_in_gives_a_new_session_id(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    client.cookies.set("session", "planted-by-someone-else", domain="testserver.local")
    await sign_in(client, "sam@test.example", "a long password")
    [session_id] = [cookie.value for cookie in client.cookies.jar if cookie.name == "session"]
    assert session_id != "planted-by-someone-else" and len(session_id) >= 64


async def test_a_wrong_password_shows_a_message_on_the_form(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    response = await sign_in(client, "sam@test.example", "not the password")
    assert response.status_code == 401
    assert "do not match an account" in response.text
    assert 'value="sam@test.example"' in response.text  # the email is kept, the password is not
    unknown = await sign_in(client, "nobody@test.example", "whatever password")
    assert unknown.status_code == 401


async def test_a_form_without_its_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    response = await client.post("/login", data={"email": "sam@test.example", "password": "a long password"})
    assert response.status_code == 403
    assert await SessionRecord.count() == 0


async def test_guessing_passwords_is_rate_limited_per_account(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    statuses = [(await sign_in(client, "sam@test.example", f"guess number {n}")).status_code for n in range(10)]
    assert statuses == [401] * 10
    blocked = await sign_in(client, "sam@test.example", "a long password")  # even the right one, for now
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.text
    retry_after = int(blocked.headers["retry-after"])
    assert retry_after > 0  # when to try again, for browsers and password managers
    assert f"Try again in {-(-retry_after // 60)} minute" in blocked.text  # and for the person


async def test_a_right_password_after_a_few_wrong_ones_works_and_clears_them(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    for n in range(service.LOGIN_ATTEMPTS_PER_EMAIL - 1):
        assert (await sign_in(client, "sam@test.example", f"guess number {n}")).status_code == 401
    assert (await sign_in(client, "sam@test.example", "a long password")).status_code == 303
    # The failures before it no longer count: a few more typos do not lock the account.
    for n in range(service.LOGIN_ATTEMPTS_PER_EMAIL - 1):
        assert (await sign_in(client, "sam@test.example", f"another typo {n}")).status_code == 401
    assert (await sign_in(client, "sam@test.example", "a long password")).status_code == 303


async def test_signing_in_many_times_never_locks_anyone_out(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    attempts = service.LOGIN_ATTEMPTS_PER_CLIENT + 5  # more than either limit, from one address
    statuses = [(await sign_in(client, "sam@test.example", "a long password")).status_code for _ in range(attempts)]
    assert statuses == [303] * attempts


async def test_the_right_password_once_a_lockout_is_over_starts_afresh(client: httpx.AsyncClient) -> None:
    from datetime import datetime, timedelta, timezone

    await service.create_user("sam@test.example", role="organiser", password="a long password")
    start = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # the start of a 15-minute window
    for n in range(service.LOGIN_ATTEMPTS_PER_EMAIL):
        assert await service.authenticate("sam@test.example", f"guess {n}", client="10.0.0.1", now=start) is None
    try:
        await service.authenticate("sam@test.example", "a long password", client="10.0.0.1", now=start + timedelta(minutes=1))
    except TooManyAttempts as locked:
        assert 0 < locked.retry_after_seconds <= service.LOGIN_WINDOW_SECONDS
        over = start + timedelta(minutes=1, seconds=locked.retry_after_seconds)
    else:
        raise AssertionError("the account should be locked")
    assert await service.authenticate("sam@test.example", "a long password", client="10.0.0.1", now=over) is not None
    # Each right password starts the account afresh: rounds of typos that add up to more than the limit, each
    # ended by the right password, never lock it again.
    for round_ in range(3):
        for n in range(service.LOGIN_ATTEMPTS_PER_EMAIL - 1):
            assert await service.authenticate("sam@test.example", f"typo {round_} {n}", client="10.0.0.1", now=over) is None
        assert await service.authenticate("sam@test.example", "a long password", client="10.0.0.1", now=over) is not None


async def test_the_api_ignores_session_cookies(client: httpx.AsyncClient) -> None:
    """A signed-in browser cannot be tricked into calling the organiser API: it needs a bearer token."""
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    response = await client.post("/api/partners", json={"name": "Sneaky"})
    assert response.status_code == 401
