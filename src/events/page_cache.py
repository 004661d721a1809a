"""Anonymous guest pages (the home page, an event page) rendered once and shared: exact while a page is viewed one view
at a time, at most PAGE_SECONDS old while views of it overlap.

Under a rush most page views are of the same few pages by people who are not signed in, and each view cost a dozen
queries and a template render (bench/README.md, "Guest pages"). A page is kept, per process, under its path and
language, with the PostgreSQL snapshot read just before it was rendered (``pg_current_snapshot()``: the transactions
finished and still running) and the time of that read, from which the page's age is counted.

Quiet (no other view of the page in progress in this process when a view arrives): the view reads the snapshot again,
in one query that touches no table, and is shown the kept page only when the snapshot is the same, so that no
transaction has committed anywhere since; otherwise it renders afresh. A page viewed one view after another is exact:
what has just been changed (a sale, an edit) shows at once.

In demand (within PAGE_SECONDS of a view arriving while another view of the same page was in progress): during a sale
every purchase commits, so under the snapshot rule alone nearly every view would render. As with nginx's
microcaching (``proxy_cache_lock``, ``proxy_cache_use_stale updating``), views are then shown the kept page as it is,
without the snapshot query, while it is at most half PAGE_SECONDS old. The first view that finds it older renders it
again, and the views that arrive meanwhile are still shown the kept page; a view that finds no kept page young enough
waits for the render in progress rather than render the page too. So a page in demand is rendered at most once per
half PAGE_SECONDS per process (unless a render takes longer than PAGE_SECONDS), and never shown older than
PAGE_SECONDS. Overlap, not a count of views per second, decides: a process that keeps up with its views renders each
afresh, and one that falls behind, which is when rendering costs most, shares them.

So a page in demand may show places that have just gone. The buy form's POST checks availability itself, in its own
transaction, and answers 409 with the event page saying so. What changes with time alone (a ticket type's sales window
opening or closing, a hold running out) is covered by the same limit: no page is shown older than PAGE_SECONDS.

Per request, always: the CSRF token (put into the kept page in place of a placeholder that nobody outside this process
knows), cookies, and every middleware. Never shared: signed-in views, pages opened with a code, any answer but a
200 without cookies, and anything on SQLite (no snapshot to compare; every view renders as before).
"""

from __future__ import annotations

import asyncio
import html
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Response, Template
from litestar.utils.scope.state import ScopeState

from events import db

# The oldest a kept page is shown: how long a sale, an edit or a sales window opening or closing may take to show on a
# page in demand (a quiet page shows a change at once).
PAGE_SECONDS = 1.0
# Kept pages per process (paths times languages), and the memory their texts may take; beyond either the oldest go.
# An event page is 10 to 100 kB (a long description in Arabic takes four bytes a character in Python's memory), so the
# bytes bind first once pages are long: 16 MiB keeps a worker's share bounded whatever organisers write.
MAX_PAGES = 1000
MAX_BYTES = 16 * 2**20
MAX_PAGE_BYTES = MAX_BYTES // 8  # a page bigger than this would crowd out the rest: it is rendered for each view
_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
_SNAPSHOT = "SELECT pg_current_snapshot()::text AS snapshot"
_clock = time.monotonic  # the tests' to set


@dataclass(frozen=True, slots=True)
class _Kept:
    snapshot: str
    read_at: float  # when the snapshot was read, just before the render: the page's age counts from here
    body: str
    headers: dict[str, str]
    size: int  # the body's bytes in memory


@dataclass(frozen=True, slots=True)
class _Finding:
    """A view finding out what the page is now: reading the snapshot and, unless the kept page is still exact,
    rendering. Views that arrive meanwhile are shown what it finds (None: a page that may not be kept)."""

    started: float
    done: asyncio.Future[_Kept | None]


@dataclass(slots=True)
class _Page:
    kept: _Kept | None = None
    finding: _Finding | None = None
    views: int = 0  # views of it in progress in this process, not counting those shown the kept page at once
    demand_until: float = 0.0  # a view arrived while another was in progress, PAGE_SECONDS before this


_pages: dict[tuple[str, str], _Page] = {}
_kept_bytes = 0  # the sizes of the pages kept in _pages


def clear() -> None:
    global _kept_bytes  # noqa: PLW0603 - the process's one cache
    _pages.clear()
    _kept_bytes = 0


def kept_bytes() -> int:
    """The memory the kept pages' texts take in this process: at most MAX_BYTES, unless every page kept is in use at
    the moment one is stored (they are forgotten as the next pages are stored)."""
    return _kept_bytes


async def _snapshot() -> str | None:
    if db.is_sqlite():
        return None
    rows = await db.run(_SNAPSHOT)
    return str(rows[0]["snapshot"])


def _shareable(request: Request[Any, Any, Any]) -> bool:
    return request.scope.get("user") is None and request.method == "GET"


async def anonymous_page(request: Request[Any, Any, Any], render: Callable[[], Awaitable[Template]]) -> Template | Response[str]:
    """The page ``render`` gives, shared with other anonymous views of the same path and language (see the module's
    docstring). ``render`` must depend on nothing of the request but its path, its language and that it is
    anonymous."""
    if not _shareable(request):
        return await render()
    key = (request.url.path, str(request.state.get("locale", "")))
    page = _pages.get(key)
    if page is None:
        page = _pages[key] = _Page()
    now = _clock()
    if page.views:
        page.demand_until = now + PAGE_SECONDS
    in_demand = now < page.demand_until
    kept = page.kept
    if in_demand and kept is not None and now - kept.read_at <= (PAGE_SECONDS if page.finding else PAGE_SECONDS / 2):
        return _shown(request, kept)
    page.views += 1
    try:
        finding = page.finding
        if finding is not None and now - finding.started <= PAGE_SECONDS:
            # In demand (its finder is a view in progress): this view is shown what it finds.
            kept, rendered = await asyncio.shield(finding.done), None
        else:
            kept, rendered = await _find(request, key, page, render, in_demand=in_demand)
    finally:
        page.views -= 1
        if not page.views and page.kept is None and page.finding is None and _pages.get(key) is page:
            del _pages[key]  # nothing kept (a page that may not be): no room taken
    if kept is None:
        return rendered or await render()
    return _shown(request, kept)


def _shown(request: Request[Any, Any, Any], kept: _Kept) -> Response[str]:
    token = html.escape(str(ScopeState.from_scope(request.scope).csrf_token or ""))
    return Response(kept.body.replace(_PLACEHOLDER, token), media_type=MediaType.HTML, headers=kept.headers)


async def _find(
    request: Request[Any, Any, Any], key: tuple[str, str], page: _Page, render: Callable[[], Awaitable[Template]], *, in_demand: bool
) -> tuple[_Kept | None, Template | None]:
    """The page as it is now, for this view and the views that arrive meanwhile: the kept page when the snapshot shows
    nothing committed since it was rendered (and it is young enough), else a fresh render; in demand, always a fresh
    render (the kept page is too old to be shown, or old enough to be renewed). None when the page may not be kept,
    with this view's own answer."""
    finding = _Finding(_clock(), asyncio.get_running_loop().create_future())
    page.finding = finding
    kept: _Kept | None = None
    template: Template | None = None
    try:
        snapshot = await _snapshot()
        previous = page.kept
        if snapshot is None:  # SQLite: nothing to compare, nothing kept
            template = await render()
        elif not in_demand and previous is not None and previous.snapshot == snapshot and _clock() - previous.read_at <= PAGE_SECONDS:
            kept = previous
        else:
            template = await render()
            kept = _keepable(request, template, snapshot, finding.started)
            if kept is not None:
                if _pages.get(key) is page:
                    _store(key, page, kept)
                else:  # forgotten meanwhile: its views are shown it, and it is kept nowhere
                    page.kept = kept
    finally:
        finding.done.set_result(kept)
        if page.finding is finding:
            page.finding = None
    return kept, template


def _keepable(request: Request[Any, Any, Any], template: Template, snapshot: str, read_at: float) -> _Kept | None:
    if (template.status_code or 200) != 200 or template.cookies or not template.template_name:
        return None
    engine = request.app.template_engine
    assert engine is not None
    context = {**template.context, "request": request, "csrf_input": f'<input type="hidden" name="_csrf_token" value="{_PLACEHOLDER}" />'}
    body = engine.get_template(template.template_name).render(**context)
    own_token = str(ScopeState.from_scope(request.scope).csrf_token or "")
    # A page that carries this visitor's own token anyway (a template calling csrf_token(), which reads the request) is
    # theirs alone: it is never shown to anyone else.
    if own_token and own_token in body:
        return None
    size = sys.getsizeof(body)
    if size > MAX_PAGE_BYTES:
        return None
    return _Kept(snapshot, read_at, body, dict(template.headers), size)


def _store(key: tuple[str, str], page: _Page, kept: _Kept) -> None:
    """``kept`` as ``page``'s, the page moved to the end, so that the first in the dictionary is the one stored longest
    ago; beyond MAX_PAGES or MAX_BYTES, the oldest that no view is using go (never this one: its view is using it)."""
    global _kept_bytes  # noqa: PLW0603 - as in clear()
    _kept_bytes += kept.size - (page.kept.size if page.kept else 0)
    page.kept = kept
    del _pages[key]
    _pages[key] = page
    while len(_pages) > MAX_PAGES or _kept_bytes > MAX_BYTES:
        oldest = next((old for old, other in _pages.items() if not other.views and other.finding is None), None)
        if oldest is None:
            return  # all in use: they go once they are stored again
        forgotten = _pages.pop(oldest)
        _kept_bytes -= forgotten.kept.size if forgotten.kept else 0
