"""A person sees where they are signed in and ends any or all of the other sign-ins; an ended session is refused on
its very next request (the state is in the database, so whichever server serves it knows)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
from litestar import Litestar

from events.accounts import service
from events.accounts.tables import SessionRecord, SignIn
from tests.integration.accounts.test_login import sign_in

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
CHROME_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@asynccontextmanager
async def another_browser(app: Litestar, user_agent: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser on the same service: its own cookies."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers={"User-Agent": user_agent}) as http:
        yield http


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


async def signed_in_as(client: httpx.AsyncClient) -> bool:
    page = await client.get("/account")
    return page.status_code == 200 and "Where you are signed in" in page.text


async def test_a_person_sees_their_sign_ins_and_ends_another(client: httpx.AsyncClient, app: Litestar) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password", display_name="Sam")
    client.headers["User-Agent"] = CHROME_WINDOWS
    await sign_in(client, "sam@test.example", "a long password")
    async with another_browser(app, FIREFOX_ANDROID) as phone:
        await sign_in(phone, "sam@test.example", "a long password")
        assert await signed_in_as(phone)

        page = await client.get("/account")
        assert page.status_code == 200
        assert "Chrome on Windows" in page.text and "Firefox on Android" in page.text
        assert page.text.index("Chrome on Windows") < page.text.index("(this browser)") < page.text.index("Firefox on Android")
        [phone_sign_in] = re.findall(r'action="/account/sessions/(\d+)/end"', page.text)  # only the other one has an end button

        ended = await client.post(f"/account/sessions/{phone_sign_in}/end", data={"_csrf_token": csrf(page.text)})
        assert ended.status_code == 303 and ended.headers["location"] == "/account?notice=ended"
        assert "That sign-in has ended" in (await client.get("/account?notice=ended")).text

        # The phone's very next request finds itself signed out, and its session is cleared from the database.
        refused = await phone.get("/manage")
        assert refused.status_code == 302 and refused.headers["location"] == "/login?next=/manage"
        assert any(header.startswith("session=null") for header in refused.headers.get_list("set-cookie"))
        assert await SessionRecord.count() == 1 and await SignIn.count() == 1
        assert await signed_in_as(client)


async def test_ending_every_other_sign_in_keeps_this_one(client: httpx.AsyncClient, app: Litestar) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    async with another_browser(app, FIREFOX_ANDROID) as phone, another_browser(app, CHROME_WINDOWS) as laptop:
        for other in (phone, laptop):
            await sign_in(other, "sam@test.example", "a long password")
        page = await client.get("/account")
        assert len(re.findall(r'action="/account/sessions/\d+/end"', page.text)) == 2
        ended = await client.post("/account/sessions/end-others", data={"_csrf_token": csrf(page.text)})
        assert ended.status_code == 303
        assert not await signed_in_as(phone) and not await signed_in_as(laptop)
        assert await signed_in_as(client)
        assert "Sign out everywhere else" not in (await client.get("/account")).text


async def test_a_person_cannot_end_someone_elses_sign_in(client: httpx.AsyncClient, app: Litestar) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await service.create_user("kim@test.example", role="door", password="another long password")
    await sign_in(client, "sam@test.example", "a long password")
    async with another_browser(app, FIREFOX_ANDROID) as kims:
        await sign_in(kims, "kim@test.example", "another long password")
        [kims_sign_in] = await SignIn.select(SignIn.id).where(SignIn.user.email == "kim@test.example")
        page = await client.get("/account")
        answer = await client.post(f"/account/sessions/{kims_sign_in['id']}/end", data={"_csrf_token": csrf(page.text)})
        assert answer.headers["location"] == "/account?notice=gone"
        assert await signed_in_as(kims)


async def test_signing_out_ends_the_sign_in(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    assert await SignIn.count() == 1
    page = await client.get("/account")
    await client.post("/logout", data={"_csrf_token": csrf(page.text)})
    assert await SignIn.count() == 0 and await SessionRecord.count() == 0


async def test_the_sign_in_table_keeps_no_session_id_and_no_address(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    client.headers["User-Agent"] = FIREFOX_ANDROID
    await sign_in(client, "sam@test.example", "a long password")
    [session_id] = [cookie.value for cookie in client.cookies.jar if cookie.name == "session"]
    [row] = await SignIn.select()
    assert session_id not in str(row.values()) and row["key_hash"] != session_id
    assert row["browser"] == "Firefox on Android"  # the description only, not the User-Agent header


async def test_last_seen_is_written_at_most_once_a_minute(client: httpx.AsyncClient, now: datetime) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    [row] = await SignIn.select(SignIn.id, SignIn.last_seen_at)
    await client.get("/account")
    [unchanged] = await SignIn.select(SignIn.last_seen_at)
    assert unchanged["last_seen_at"] == row["last_seen_at"]  # seen moments ago: no write

    long_ago = now - timedelta(minutes=5)
    await SignIn.update({SignIn.last_seen_at: long_ago}).where(SignIn.id == row["id"])
    await client.get("/account")
    [seen] = await SignIn.select(SignIn.last_seen_at)
    assert seen["last_seen_at"] > long_ago + timedelta(minutes=4)


async def test_a_session_from_before_sign_ins_were_recorded_must_sign_in_again(client: httpx.AsyncClient) -> None:
    """A session whose sign-in is missing (ended, or made before this was recorded) is not trusted."""
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    await SignIn.delete(force=True)
    assert not await signed_in_as(client)
    assert await SessionRecord.count() == 0
