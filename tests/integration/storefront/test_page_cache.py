"""Anonymous event pages are rendered once and shared (events.page_cache) only while nothing has changed: each visitor
still gets a CSRF token of its own that its form can be posted with, a signed-in view or a code's view is never
shared, and a changed database snapshot or an old page means a fresh render.

The database's snapshot is fixed here (page_cache._snapshot), as on a PostgreSQL server nothing else writes to: on a
shared test server other tests commit all the time, so whether a view is shared would be left to chance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events import page_cache
from events.storefront import event_pages
from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import another_browser

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def snapshot(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The database snapshot the cache reads: change its one item to stand for a commit."""
    current = ["100:100:"]

    async def fixed() -> str:
        return current[0]

    monkeypatch.setattr(page_cache, "_snapshot", fixed)
    page_cache.clear()
    yield current
    page_cache.clear()


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The event pages looked up in the database (each render of one)."""
    seen: list[str] = []
    original = event_pages.event_with_code

    async def counted(slug: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(slug)
        return await original(slug, *args, **kwargs)

    monkeypatch.setattr(event_pages, "event_with_code", counted)
    return seen


async def test_visitors_share_one_render_each_with_a_csrf_token_of_its_own(
    client: httpx.AsyncClient, app: Litestar, now: datetime, snapshot: list[str], renders: list[str]
) -> None:
    slug = await make_event(now)
    first = await client.get(f"/events/{slug}")
    async with another_browser(app, "127.0.0.2") as other:
        second = await other.get(f"/events/{slug}")
        assert first.status_code == second.status_code == 200
        assert renders == [slug]  # the second visitor got the kept page
        first_token, second_token = TOKEN.findall(first.text)[0], TOKEN.findall(second.text)[0]
        assert first_token != second_token
        assert first_token == client.cookies["csrftoken"] and second_token == other.cookies["csrftoken"]
        # Apart from the token, the same page.
        assert TOKEN.sub("", first.text) == TOKEN.sub("", second.text)
        # The kept page's form can be posted with the visitor's own token.
        bought = await other.post(f"/events/{slug}/buy", data={"_csrf_token": second_token, "buyer_name": "Amal", "buyer_email": "amal@example.org"})
        assert bought.status_code != 403


async def test_a_commit_or_an_old_page_means_a_fresh_render(
    client: httpx.AsyncClient, now: datetime, snapshot: list[str], renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await make_event(now)
    await client.get(f"/events/{slug}")
    await client.get(f"/events/{slug}")
    assert len(renders) == 1
    snapshot[0] = "100:101:"  # something committed
    await client.get(f"/events/{slug}")
    assert len(renders) == 2
    monkeypatch.setattr(page_cache, "PAGE_SECONDS", 0.0)  # the kept page is older than a page may be
    await client.get(f"/events/{slug}")
    assert len(renders) == 3


async def test_languages_codes_and_signed_in_views_are_not_shared(
    client: httpx.AsyncClient, now: datetime, snapshot: list[str], renders: list[str]
) -> None:
    slug = await make_event(now)
    english = await client.get(f"/events/{slug}")
    french = await client.get(f"/events/{slug}?lang=fr")
    assert english.text != french.text and 'lang="fr"' in french.text
    await client.get(f"/events/{slug}?code=NOSUCHCODE")
    assert len(renders) == 3
    await sign_in_organiser(client)
    signed_in = await client.get(f"/events/{slug}")
    assert len(renders) == 4
    assert "/logout" in signed_in.text and "/logout" not in english.text
