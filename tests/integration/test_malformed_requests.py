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


async def test_an_address_longer_than_any_of_ours_is_refused_before_anything_reads_it(client: httpx.AsyncClient) -> None:
    """Litestar keeps the last 1,024 query strings it parsed: an anonymous client sending long ones would fill every
    worker's memory (some 120 MB at the server's own limit, measured), so a query past 8 KB is refused at once."""
    from events.malformed import MAX_QUERY_BYTES

    longest = "q=" + "x" * (MAX_QUERY_BYTES - 2)
    assert (await client.get(f"/?{longest}")).status_code == 200
    page = await client.get(f"/?{longest}x", headers={"Accept-Language": "fr"})
    assert page.status_code == 414
    assert "text/html" in page.headers["content-type"] and "L'adresse est trop longue" in page.text.replace("&#39;", "'")
    api = await client.get(f"/api/events?{longest}x")
    assert api.status_code == 414 and api.json()["error"] == "address_too_long"


async def test_more_cookies_than_the_site_sets_are_refused_with_a_way_out(client: httpx.AsyncClient) -> None:
    from events.malformed import MAX_COOKIE_BYTES

    assert (await client.get("/", headers={"Cookie": "pad=" + "y" * (MAX_COOKIE_BYTES - 4)})).status_code == 200
    page = await client.get("/", headers={"Cookie": "pad=" + "y" * MAX_COOKIE_BYTES})
    assert page.status_code == 431 and "Clearing this site" in page.text.replace("&#39;", "'")
    api = await client.get("/api/events", headers={"Cookie": "a=1; pad=" + "y" * MAX_COOKIE_BYTES})
    assert api.status_code == 431 and api.json()["error"] == "cookies_too_large"


async def test_a_page_that_does_not_exist_says_so_in_the_guests_language(client: httpx.AsyncClient) -> None:
    """No handler chose a language for an address nothing answers: the error page takes the guest's remembered choice,
    else their browser's, as every page does."""
    from events.i18n import LOCALE_COOKIE

    in_french = await client.get("/events/no-such-supper", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert in_french.status_code == 404 and '<html lang="fr" dir="ltr">' in in_french.text
    assert "Nous n&#39;avons pas trouvé cette page" in in_french.text
    remembered = await client.get("/no/such/page", headers={"Accept-Language": "fr", "Cookie": f"{LOCALE_COOKIE}=ar"})
    assert remembered.status_code == 404 and '<html lang="ar" dir="rtl">' in remembered.text
    assert "لم نعثر على هذه الصفحة" in remembered.text


async def test_an_address_nothing_answers_never_parses_oversized_cookies_for_its_error_page(client: httpx.AsyncClient) -> None:
    """No route, no middleware: the 404 page reads its language from the raw header, never through Litestar's cache of
    parsed Cookie headers, which big cookies sent to made-up addresses would otherwise fill in every worker."""
    import litestar._parsers

    from events.i18n import LOCALE_COOKIE

    cache = litestar._parsers.parse_cookie_string
    before = cache.cache_info().currsize
    for n in range(5):
        page = await client.get(f"/no/such/page/{n}", headers={"Cookie": f"pad{n}=" + "y" * 60_000 + f"; {LOCALE_COOKIE}=fr"})
        assert page.status_code == 404 and '<html lang="fr"' in page.text
    assert cache.cache_info().currsize == before
