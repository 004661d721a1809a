"""The audit log pages for organisers: every action, or one event's, filtered by action and paged; and an
event's door scans as the doors recorded them. Here, not in audit/: they find events (catalogue) and read the
scan log (checkin), both above audit."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.audit import service
from events.catalogue.lookup import find_event
from events.checkin import scan_log
from events.templating import page_context

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class AuditPages(Controller):
    path = "/manage"
    include_in_schema = False
    guards = [requires_role(ORGANISER)]

    @get("/audit", name="audit_log", guards=[requires_role(ORGANISER, unrestricted=True)])
    async def all_entries(self, request: Request[CurrentUser, Any, Any], action: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
        context = page_context(await service.audit_page(request.user.organisation, None, action=action, page=page))
        return Template("audit/log.html", context=context, headers=PRIVATE)

    @get("/events/{slug:str}/audit", name="event_audit_log")
    async def event_entries(self, slug: FromPath[str], action: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
        event = await find_event(slug)
        context = page_context(await service.audit_page(event.organisation, event.id, action=action, page=page))
        return Template("audit/log.html", context={**context, "event": event}, headers=PRIVATE)

    @get("/events/{slug:str}/scans", name="event_scans")
    async def scans(self, slug: FromPath[str], page: FromQuery[int] = 1) -> Template:
        event = await find_event(slug)
        return Template("audit/scans.html", context={**page_context(await scan_log.scans_page(event.id, page=page)), "event": event}, headers=PRIVATE)
