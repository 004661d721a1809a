"""Signing in and out: CSRF on the form, sessions in the database, and rate-limited attempts."""

import re

import httpx

from events.accounts import service
from events.accounts.tables import SessionRecord


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
    assert int(blocked.headers["retry-after"]) > 0  # when to try again, for browsers and password managers


async def test_the_api_ignores_session_cookies(client: httpx.AsyncClient) -> None:
    """A signed-in browser cannot be tricked into calling the organiser API: it needs a bearer token."""
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    response = await client.post("/api/partners", json={"name": "Sneaky"})
    assert response.status_code == 401
