"""Back-office pages for organisers."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.backoffice.service import event_overview
from events.ledger import words
from events.templating import page_context


class EventOverviewPages(Controller):
    path = "/manage/events"
    include_in_schema = False

    @get("/{slug:str}", name="event_overview", guards=[requires_role(ORGANISER)])
    async def overview(self, slug: FromPath[str], now: NamedDependency[datetime]) -> Template:
        overview = await event_overview(slug, now=now)
        context = page_context(overview) | {"money_words": words}
        return Template("backoffice/event.html", context=context, headers={"Cache-Control": "no-store"})
