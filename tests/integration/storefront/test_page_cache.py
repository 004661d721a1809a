"""Anonymous event pages are rendered once and shared (events.page_cache): each visitor still gets a CSRF token of its
own that its form can be posted with, and a signed-in view or a code's view is never shared. Viewed one view at a
time, a page is exact: a changed database snapshot or an old page means a fresh render, so a change shows at once.
While views of a page overlap (in demand), they share one render, and a page at most PAGE_SECONDS old is shown
without a render; the buy form still answers 409 once the places have gone.

The database's snapshot is fixed here (page_cache._snapshot), as on a PostgreSQL server nothing else writes to: on a
shared test server other tests commit all the time, so whether a view is shared would be left to chance. So is the
cache's clock (page_cache._clock), and event pages can be held mid-render (``gate``), so that views overlap when a
test says so."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events import page_cache
from events.catalogue.tables import Event
from events.orders.tables import Order
from events.storefront import event_pages
from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import another_browser, ticket_type_id

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Snapshot:
    """The database snapshot the cache reads: change ``current`` to stand for a commit."""

    current: str = "100:100:"
    reads: int = 0


@pytest.fixture
def snapshot(monkeypatch: pytest.MonkeyPatch) -> Iterator[Snapshot]:
    fixed = Snapshot()

    async def read() -> str:
        fixed.reads += 1
        return fixed.current

    monkeypatch.setattr(page_cache, "_snapshot", read)
    page_cache.clear()
    yield fixed
    page_cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The cache's clock, in seconds: it moves only when a test moves it."""
    now = [1000.0]
    monkeypatch.setattr(page_cache, "_clock", lambda: now[0])
    return now


@pytest.fixture
def gate() -> asyncio.Event:
    """Open: event pages render at once. Closed: each render waits, after looking up its event, until it opens."""
    opened = asyncio.Event()
    opened.set()
    return opened


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch, gate: asyncio.Event) -> list[str]:
    """The event pages looked up in the database (each render of one)."""
    seen: list[str] = []
    original = event_pages.event_with_code

    async def counted(slug: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(slug)
        await gate.wait()
        return await original(slug, *args, **kwargs)

    monkeypatch.setattr(event_pages, "event_with_code", counted)
    return seen


@asynccontextmanager
async def browsers(app: Litestar, count: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``count`` visitors, each with cookies of its own, from addresses of their own."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(another_browser(app, f"127.0.1.{number + 1}")) for number in range(count)]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("not reached within 10 s")


async def retitle(slug: str, title: str, snapshot: Snapshot) -> None:
    """A change a guest would see, committed."""
    await Event.update({Event.title: title}).where(Event.slug == slug)
    snapshot.current = f"100:{int(snapshot.current.split(':')[1]) + 1}:"


def title(page: httpx.Response) -> str:
    found = re.search(r"<h1><bdi>([^<]*)</bdi></h1>", page.text)
    assert found, page.text[:2000]
    return found.group(1)


async def test_visitors_share_one_render_each_with_a_csrf_token_of_its_own(
    client: httpx.AsyncClient, app: Litestar, now: datetime, snapshot: Snapshot, clock: list[float], renders: list[str]
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
    client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], renders: list[str]
) -> None:
    slug = await make_event(now)
    await client.get(f"/events/{slug}")
    await client.get(f"/events/{slug}")
    assert len(renders) == 1
    snapshot.current = "100:101:"  # something committed
    await client.get(f"/events/{slug}")
    assert len(renders) == 2
    clock[0] += page_cache.PAGE_SECONDS * 0.9
    await client.get(f"/events/{slug}")
    assert len(renders) == 2
    clock[0] += page_cache.PAGE_SECONDS * 0.2  # the kept page is older than a page may be
    await client.get(f"/events/{slug}")
    assert len(renders) == 3


async def test_languages_codes_and_signed_in_views_are_not_shared(
    client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, renders: list[str]
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


async def test_viewed_one_view_after_another_a_page_shows_each_change_at_once(client: httpx.AsyncClient, now: datetime) -> None:
    """However often a page is viewed, views that do not overlap each read the snapshot: the real one here, on a
    server where other tests commit too. So what has just changed shows at once, even at dozens of views a second."""
    page_cache.clear()
    slug = await make_event(now)
    for round in range(10):
        await Event.update({Event.title: f"Supper Club {round}"}).where(Event.slug == slug)
        for _ in range(3):
            assert title(await client.get(f"/events/{slug}")) == f"Supper Club {round}"


async def test_views_that_overlap_share_one_render_and_a_page_in_demand_is_never_older_than_page_seconds(
    app: Litestar, client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], gate: asyncio.Event, renders: list[str]
) -> None:
    slug = await make_event(now, title="First")
    address = f"/events/{slug}"
    start = clock[0]
    async with browsers(app, 4) as visitors:
        # Views that arrive while the page is being rendered wait for that render; none renders it again.
        gate.clear()
        first = asyncio.create_task(visitors[0].get(address))
        await until(lambda: renders == [slug])
        others = [asyncio.create_task(visitor.get(address)) for visitor in visitors[1:]]
        await asyncio.sleep(0.1)
        assert not any(view.done() for view in others)
        gate.set()
        answers = await asyncio.gather(first, *others)
        assert renders == [slug]
        assert [answer.status_code for answer in answers] == [200] * 4 and {title(answer) for answer in answers} == {"First"}
        tokens = [TOKEN.findall(answer.text)[0] for answer in answers]
        assert tokens == [visitor.cookies["csrftoken"] for visitor in visitors] and len(set(tokens)) == 4

        # In demand, a change is not rendered at once: a page at most half PAGE_SECONDS old is shown as it is, without
        # even reading the snapshot.
        await retitle(slug, "Second", snapshot)
        reads = snapshot.reads
        clock[0] = start + page_cache.PAGE_SECONDS * 0.4
        assert title(await visitors[0].get(address)) == "First"
        assert renders == [slug] and snapshot.reads == reads

        # Older than that, the first view renders it again; the views that arrive meanwhile are shown the kept page
        # at once, neither waiting nor rendering.
        gate.clear()
        clock[0] = start + page_cache.PAGE_SECONDS * 0.6
        renewing = asyncio.create_task(visitors[0].get(address))
        await until(lambda: len(renders) == 2)
        meanwhile = await asyncio.wait_for(asyncio.gather(*(visitor.get(address) for visitor in visitors[1:])), timeout=10)
        assert {title(answer) for answer in meanwhile} == {"First"} and len(renders) == 2

        # A view that finds the kept page older than PAGE_SECONDS is not shown it: it waits for the render under way.
        clock[0] = start + page_cache.PAGE_SECONDS * 1.2
        late = asyncio.create_task(visitors[1].get(address))
        await asyncio.sleep(0.1)
        assert not late.done()
        gate.set()
        assert title(await renewing) == title(await late) == "Second"
        assert len(renders) == 2

        # Once views no longer overlap, a page is exact again: a change shows at the next view.
        clock[0] = start + page_cache.PAGE_SECONDS * 5
        await retitle(slug, "Third", snapshot)
        assert title(await visitors[2].get(address)) == "Third"
        assert len(renders) == 3


async def test_in_a_rush_a_page_is_rendered_at_most_twice_a_page_lifetime_and_never_shown_older(
    app: Litestar, client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], renders: list[str]
) -> None:
    """Two seconds of a rush, every 50 ms a sale committing and two guests viewing the page at once: rendered at
    each commit, as before, that would be 40 renders."""
    slug = await make_event(now, title="Sale 0")
    step = 0.05
    start = clock[0]
    async with browsers(app, 2) as guests:
        for sale in range(40):
            clock[0] = start + sale * step
            await retitle(slug, f"Sale {sale}", snapshot)
            for answer in await asyncio.gather(*(guest.get(f"/events/{slug}") for guest in guests)):
                assert answer.status_code == 200
                shown = int(title(answer).removeprefix("Sale "))
                assert (sale - shown) * step <= page_cache.PAGE_SECONDS, (sale, shown)
    # Once at the start, then once per half PAGE_SECONDS at most.
    assert 2 <= len(renders) <= 1 + 40 * step / (page_cache.PAGE_SECONDS / 2), renders


async def test_a_page_in_demand_that_still_offers_the_last_place_gets_a_clear_409_from_the_buy_form(
    app: Litestar, client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], gate: asyncio.Event, renders: list[str]
) -> None:
    slug = await make_event(now, capacity=21, reserved_free_places=20)  # one place on sale online
    type_id = await ticket_type_id(client, slug)
    address = f"/events/{slug}"
    async with browsers(app, 3) as (early, buyer, late):
        gate.clear()
        first = asyncio.create_task(early.get(address))
        await until(lambda: len(renders) == 1)
        second = asyncio.create_task(buyer.get(address))
        gate.set()
        await first
        page = await second
        form = {f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org"}
        bought = await buyer.post(f"{address}/buy", data={**form, "_csrf_token": TOKEN.findall(page.text)[0]})
        assert bought.status_code == 303
        snapshot.current = "100:101:"  # the sale committed

        # In demand, the page shown a moment later still offers the place that has gone ...
        clock[0] += page_cache.PAGE_SECONDS / 4
        stale = await late.get(address)
        assert f'name="quantity_{type_id}"' in stale.text and len(renders) == 1
        # ... and its buy form says clearly that it has gone, holding nothing.
        refused = await late.post(f"{address}/buy", data={**form, "email": "bilal@example.org", "_csrf_token": TOKEN.findall(stale.text)[0]})
        assert refused.status_code == 409 and "not enough places left" in refused.text
        assert await Order.count().where(Order.buyer_email == "bilal@example.org") == 0

        # Past PAGE_SECONDS, the page says it too.
        clock[0] += page_cache.PAGE_SECONDS
        assert f'name="quantity_{type_id}"' not in (await late.get(address)).text


async def test_the_pages_kept_never_take_more_memory_than_the_limit_the_oldest_going_first(
    client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """However long organisers' pages are, a process keeps at most MAX_BYTES of them: the page stored longest ago goes
    (and is rendered again when next viewed), the newest stay."""
    slugs = [await make_event(now, slug=f"supper-{number}") for number in range(4)]
    await client.get(f"/events/{slugs[0]}")
    one_page = page_cache.kept_bytes()
    assert one_page > 0
    monkeypatch.setattr(page_cache, "MAX_BYTES", int(one_page * 2.5))  # room for two of these pages
    monkeypatch.setattr(page_cache, "MAX_PAGE_BYTES", one_page * 2)
    for slug in slugs[1:]:
        await client.get(f"/events/{slug}")
        assert page_cache.kept_bytes() <= page_cache.MAX_BYTES
    assert page_cache.kept_bytes() >= 2 * one_page * 0.9
    renders.clear()
    for slug in reversed(slugs):  # the two newest are kept; the two oldest went
        await client.get(f"/events/{slug}")
    assert renders == [slugs[1], slugs[0]]


async def test_a_page_too_big_to_keep_is_rendered_for_each_view(
    client: httpx.AsyncClient, now: datetime, snapshot: Snapshot, clock: list[float], renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await make_event(now)
    monkeypatch.setattr(page_cache, "MAX_PAGE_BYTES", 1000)  # smaller than any event page
    first, second = await client.get(f"/events/{slug}"), await client.get(f"/events/{slug}")
    assert first.status_code == second.status_code == 200
    assert renders == [slug, slug] and page_cache.kept_bytes() == 0
