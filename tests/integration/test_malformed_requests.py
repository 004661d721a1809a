"""Requests no parser can use get a 400 or 404, never a 500: JSON nested past any sensible depth, a NUL in a
static file's path, a broken session cookie or API token."""

from __future__ import annotations

import logging

import httpx
import pytest


@pytest.mark.parametrize("opening", ["[", '{"a":'], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/api/partners", "/api/events/no-such-event/orders", "/api/checkin/sync", "/webhooks/stripe"])
async def test_deeply_nested_json_is_a_bad_request(
    client: httpx.AsyncClient, organiser: dict[str, str], caplog: pytest.LogCaptureFixture, path: str, opening: str
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await client.post(path, content=(opening * 100_000).encode(), headers={**organiser, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("name", ["%00", "%00.css", "app.css%00", "a%00/b.css", "%0A.css", "%ED%A0%80.css", "%FF.css", "..%2F%00"])
async def test_a_nul_or_broken_character_in_a_static_path_is_not_an_error(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/static/{name}")
    assert response.status_code in (400, 404), response.text
    assert (await client.get("/static/css/site.css")).status_code == 200  # the static files still answer


async def test_a_nul_in_a_page_path_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/events/a%00b")
    assert response.status_code == 400
    api = await client.get("/api/events/a%00b")
    assert api.status_code == 400 and api.json()["error"] == "bad_request"


@pytest.mark.parametrize("value", ["a%00b", "%ED%A0%80", "%FF%FE", "a%0D%0Ab"])
async def test_a_broken_session_cookie_or_token_is_not_an_error(client: httpx.AsyncClient, value: str) -> None:
    from events.accounts.sessions import SESSION_COOKIE

    page = await client.get("/manage/events", headers={"Cookie": f"{SESSION_COOKIE}={value}"})
    assert page.status_code in (200, 302, 303, 400, 401, 404), page.text[:300]
    api = await client.post("/api/partners", json={"name": "Kitchen"}, headers={"Authorization": f"Bearer {value}"})
    assert api.status_code in (400, 401), api.text[:300]
