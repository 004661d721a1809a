"""Anonymous guest pages (the home page, an event page) rendered once and shared while the database is unchanged.

Under a rush most page views are of the same few pages by people who are not signed in, and each view cost a dozen
queries and a template render (bench/README.md, "Guest pages"). A page is kept, per process, under its path and
language, with the PostgreSQL snapshot read just before it was rendered (``pg_current_snapshot()``: the transactions
finished and still running). A later view reads the snapshot again, in one query that touches no table; only when it
is the same, so that no transaction has committed anywhere since, is the kept page shown. Every sale, claim or edit
commits, so the next view renders afresh: a kept page never shows what the database no longer says. What changes with
time alone (a ticket type's sales window opening or closing, a hold running out) is covered by a lifetime of at most
PAGE_SECONDS. The buy form's POST checks availability itself in any case (409 when sold out).

Per request, always: the CSRF token (put into the kept page in place of a placeholder that nobody outside this process
knows), cookies, and every middleware. Never shared: signed-in views, pages opened with a code, any answer but a
200 without cookies, and anything on SQLite (no snapshot to compare; every view renders as before).
"""

from __future__ import annotations

import asyncio
import html
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.enums import MediaType
from litestar.response import Response, Template
from litestar.utils.scope.state import ScopeState

from events import db

# The longest a kept page is shown, even with the database unchanged: the time a sales window may take to show open
# or closed.
PAGE_SECONDS = 1.0
# Kept pages per process (paths times languages); beyond it the oldest go.
MAX_PAGES = 1000
_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
_SNAPSHOT = "SELECT pg_current_snapshot()::text AS snapshot"


@dataclass(frozen=True, slots=True)
class _Kept:
    snapshot: str
    stored_at: float
    body: str
    headers: dict[str, str]


_kept: dict[tuple[str, str], _Kept] = {}
# The render in progress for a page (with the snapshot it is for): views that arrive meanwhile wait for it, rather than
# each rendering the same page.
_rendering: dict[tuple[str, str], tuple[str, asyncio.Future[_Kept | None]]] = {}


def clear() -> None:
    _kept.clear()


async def _snapshot() -> str | None:
    if db.is_sqlite():
        return None
    rows = await db.run(_SNAPSHOT)
    return str(rows[0]["snapshot"])


def _shareable(request: Request[Any, Any, Any]) -> bool:
    return request.scope.get("user") is None and request.method == "GET"


async def anonymous_page(request: Request[Any, Any, Any], render: Callable[[], Awaitable[Template]]) -> Template | Response[str]:
    """The page ``render`` gives, shared with other anonymous views of the same path and language while the database
    is unchanged (see the module's docstring). ``render`` must depend on nothing of the request but its path, its
    language and that it is anonymous."""
    snapshot = await _snapshot() if _shareable(request) else None
    if snapshot is None:
        return await render()
    key = (request.url.path, str(request.state.get("locale", "")))
    kept = _kept.get(key)
    if kept is None or kept.snapshot != snapshot or time.monotonic() - kept.stored_at > PAGE_SECONDS:
        kept, rendered = await _render_once(request, key, snapshot, render)
        if kept is None:
            return rendered or await render()
    token = html.escape(str(ScopeState.from_scope(request.scope).csrf_token or ""))
    return Response(kept.body.replace(_PLACEHOLDER, token), media_type=MediaType.HTML, headers=kept.headers)


async def _render_once(
    request: Request[Any, Any, Any], key: tuple[str, str], snapshot: str, render: Callable[[], Awaitable[Template]]
) -> tuple[_Kept | None, Template | None]:
    """The page rendered for ``snapshot``, by this view or by one already rendering it; None when it may not be kept,
    with this view's own answer if it rendered one."""
    pending = _rendering.get(key)
    if pending is not None and pending[0] == snapshot:
        return await asyncio.shield(pending[1]), None
    done: asyncio.Future[_Kept | None] = asyncio.get_running_loop().create_future()
    _rendering[key] = (snapshot, done)
    kept: _Kept | None = None
    try:
        template = await render()
        if (template.status_code or 200) == 200 and not template.cookies and template.template_name:
            engine = request.app.template_engine
            assert engine is not None
            context = {**template.context, "request": request, "csrf_input": f'<input type="hidden" name="_csrf_token" value="{_PLACEHOLDER}" />'}
            body = engine.get_template(template.template_name).render(**context)
            own_token = str(ScopeState.from_scope(request.scope).csrf_token or "")
            # A page that carries this visitor's own token anyway (a template calling csrf_token(), which reads the
            # request) is theirs alone: it is never shown to anyone else.
            if not own_token or own_token not in body:
                kept = _Kept(snapshot, time.monotonic(), body, dict(template.headers))
                _kept.pop(key, None)  # re-stored at the end, so the first in the dictionary is the oldest stored
                if len(_kept) >= MAX_PAGES:
                    _kept.pop(next(iter(_kept)))
                _kept[key] = kept
    finally:
        done.set_result(kept)
        if _rendering.get(key, (None,))[0] == snapshot:
            del _rendering[key]
    return kept, template
