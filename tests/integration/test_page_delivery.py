"""How pages and files travel: versioned static files kept for a year, a favicon, compression, private pages kept out
of caches and search engines, and meta descriptions for search results."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import datetime

import httpx
import pytest

from events.config import Settings
from events.static_assets import IMMUTABLE, REVALIDATE
from tests.factories import make_event
from tests.support.orders import place_order

STATIC_REFERENCE = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


def meta(page: str, name: str) -> str | None:
    found = re.search(rf'<meta name="{name}" content="([^"]*)">', page)
    return html.unescape(found.group(1)) if found else None


async def test_a_pages_static_files_are_versioned_and_kept_for_a_year(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    page = (await client.get(f"/events/{slug}")).text
    references = STATIC_REFERENCE.findall(page)
    assert {"/static/css/site.css", "/static/js/buy.js", "/static/favicon.ico"} <= {url.split("?")[0] for url in references}
    for url in references:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == IMMUTABLE, url
        assert "set-cookie" not in response.headers, url  # a shared cache may keep it
    # The same file without its version (door.js's modules import each other so), or with an old page's version after
    # a deploy: the browser checks it each time.
    for url in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        response = await client.get(url)
        assert response.status_code == 200 and response.headers["cache-control"] == REVALIDATE, url


async def test_the_favicon_is_served_where_browsers_look_and_linked_from_pages(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "set-cookie" not in icon.headers
    assert re.search(r'<link rel="icon" href="/static/favicon\.ico\?v=[0-9a-f]+"', (await client.get("/")).text)


@pytest.mark.parametrize("path", ["/static/css/site.css", "/static/js/door.js", "/api/events/supper-club"])
async def test_responses_are_compressed_for_clients_that_accept_it(client: httpx.AsyncClient, now: datetime, path: str) -> None:
    await make_event(now, slug="supper-club")
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    compressed = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert compressed.status_code == 200 and compressed.headers["content-encoding"] == "gzip"
    assert int(compressed.headers["content-length"]) < len(plain.content)
    assert compressed.content == plain.content  # httpx undid the gzip: the same page
    assert "Accept-Encoding" in compressed.headers.get("vary", "")


@pytest.mark.parametrize("path", ["/login", "/events/supper-club?code=GUESS"])
async def test_pages_holding_the_csrf_token_are_not_compressed(client: httpx.AsyncClient, now: datetime, path: str) -> None:
    """BREACH: a compressed page's size tells an observer whether text the page shows back (the code) matches its
    secret (the form's CSRF token). Pages go uncompressed; the scripts and styles they load are compressed."""
    await make_event(now, slug="supper-club")
    page = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "csrf" in page.text.lower()
    assert "content-encoding" not in page.headers


def assert_private(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.request.url
    assert response.headers["x-robots-tag"] == "noindex", response.request.url
    assert meta(response.text, "robots") == "noindex", response.request.url


async def test_the_checkout_page_is_kept_by_no_cache_or_search_engine(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug)).json()
    checkout = await client.get(created["payment"]["url"])
    assert checkout.status_code == 200
    assert_private(checkout)


async def test_claim_pages_are_kept_by_no_cache_or_search_engine(client: httpx.AsyncClient, now: datetime, organiser: dict[str, str]) -> None:
    slug = await make_event(now)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()
    form = await client.get(f"/claim/{link['code']}")
    assert form.status_code == 200
    assert_private(form)
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    claimed = await client.post(f"/claim/{link['code']}", data={"_csrf_token": csrf.group(1), "name": "Leila", "email": ""}, follow_redirects=True)
    assert claimed.status_code == 200 and "Leila" in claimed.text
    assert_private(claimed)
    assert_private(await client.get(f"/claim/{link['code']}/places"))
    refused = await client.get("/claim/NOT-A-REAL-CODE")
    assert refused.status_code == 404
    assert refused.headers["cache-control"] == "no-store" and refused.headers["x-robots-tag"] == "noindex"


async def test_the_home_page_and_event_pages_describe_themselves_for_search_results(client: httpx.AsyncClient, now: datetime) -> None:
    assert meta((await client.get("/")).text, "description") == "Tickets for events that support refugee-led and refugee-support projects."
    description = 'A "night" of <b>music</b> & food,\n\ncooked by refugee chefs. ' + "Everyone is welcome at the table. " * 10
    slug = await make_event(now, title="Tom & Jerry's <Supper>", description=description)
    event_page = (await client.get(f"/events/{slug}")).text
    shown = meta(event_page, "description")
    assert shown is not None and shown.startswith('A "night" of <b>music</b> & food, cooked by refugee chefs.')
    assert len(shown) <= 160 and shown.endswith("…")
    assert "<b>" not in event_page.split("</head>")[0]  # escaped, never markup
    home = meta((await client.get("/")).text, "description")
    assert home is not None and "Tom & Jerry's <Supper>" in home


async def test_compression_is_left_to_the_proxy_when_the_app_is_told_to(settings: Settings) -> None:
    from events.app import create_app

    app = create_app(dataclasses.replace(settings, compress_responses=False))  # EVENTS_COMPRESS_RESPONSES=false
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})  # no database needed
    assert response.status_code == 200 and "content-encoding" not in response.headers


async def test_a_form_sent_after_its_cookie_was_lost_asks_the_guest_to_try_again_not_for_an_account(client: httpx.AsyncClient, now: datetime) -> None:
    """A phone that closed the tab and reopened it later sends the buy form without the cookie its token matches."""
    slug = await make_event(now)
    page = await client.get(f"/events/{slug}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    for language, heading in (("en", "Please try again"), ("ar", None)):
        sent = await client.post(
            f"/events/{slug}/buy", data={"_csrf_token": token, "name": "Sara", "email": "sara@example.org"}, headers={"accept-language": language}
        )
        assert sent.status_code == 403
        assert "account" not in sent.text.lower() and "You do not have access" not in sent.text
        if heading:
            assert f"<h1>{heading}</h1>" in sent.text and "nothing was saved" in sent.text
        else:
            assert 'lang="ar"' in sent.text and "Please try again" not in sent.text  # in the guest's language
