"""Back-office pages for organisers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.backoffice.service import event_overview
from events.config import Settings
from events.ledger import words
from events.organisations import service as organisations
from events.storefront import widget
from events.templating import page_context


class EventOverviewPages(Controller):
    path = "/manage/events"
    include_in_schema = False

    @get("/{slug:str}", name="event_overview", guards=[requires_role(ORGANISER)])
    async def overview(
        self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], now: NamedDependency[datetime], settings: NamedDependency[Settings]
    ) -> Template:
        overview = await event_overview(slug, now=now)
        context = page_context(overview) | {
            "money_words": words,
            # The ticket form for the organisation's own website, and the websites that may show it.
            "widget_snippet": widget.snippet(settings.base_url, overview.event.slug, overview.event.title),
            "widget_origins": (await organisations.by_id(request.user.organisation)).widget_origins.split(),
        }
        return Template("backoffice/event.html", context=context, headers={"Cache-Control": "no-store"})
