"""The back-office page of an event's waiting lists: who is waiting and in what order, each person's offer, the free
list's counts per referral partner, and the organiser's buttons to offer places by hand, remove a person (after a
confirmation) and close or reopen the list. Each handler makes one service call and redirects, or shows the page
again with what went wrong."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.catalogue.lookup import find_event
from events.errors import EventsError, NotFound
from events.row_ids import RowIdParameter
from events.waitlist import organiser
from events.waitlist.organiser import ENTRY_NOT_FOUND

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
NOTICES = ("offered", "removed", "closed", "opened")
EntryId = RowIdParameter


async def _list_page(slug: str, *, notice: str = "", error: EventsError | None = None, removed: int | None = None) -> Template:
    return Template(
        "backoffice/waiting_list.html",
        context={
            "section": "waiting_list",
            "event": await find_event(slug),
            "waiting_list": await organiser.waiting_list(slug),
            "notice": notice if notice in NOTICES else "",
            "removed": removed,
            "error": error.message if error else "",
        },
        status_code=error.status_code if error else 200,
        headers=PRIVATE | (error.headers if error else {}),
    )


class WaitingListManagePages(Controller):
    path = "/manage/events/{slug:str}/waiting-list"
    include_in_schema = False
    guards = [requires_role(ORGANISER)]

    @get("/", name="event_waiting_list")
    async def show(self, slug: FromPath[str], notice: FromQuery[str] = "", removed: FromQuery[int | None] = None) -> Template:
        return await _list_page(slug, notice=notice, removed=removed)

    @post("/{entry_id:int}/offer", status_code=303)
    async def offer(self, slug: FromPath[str], entry_id: EntryId, now: NamedDependency[datetime]) -> Redirect | Template:
        try:
            await organiser.offer_by_hand(slug, entry_id, now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return await _list_page(slug, error=error)
        return Redirect(f"/manage/events/{slug}/waiting-list?notice=offered", status_code=303)

    @get("/{entry_id:int}/remove", name="waiting_entry_remove")
    async def confirm_remove(self, slug: FromPath[str], entry_id: EntryId) -> Template:
        listed = await organiser.waiting_list(slug)
        entry = next((entry for entry in listed.entries if entry.id == entry_id), None)
        if entry is None:
            raise NotFound(ENTRY_NOT_FOUND, code="waiting_entry_not_found")
        return Template(
            "backoffice/waiting_entry_remove.html",
            context={"section": "waiting_list", "event": await find_event(slug), "entry": entry, "offer_hours": listed.offer_hours},
            headers=PRIVATE,
        )

    @post("/{entry_id:int}/remove", status_code=303)
    async def remove(self, slug: FromPath[str], entry_id: EntryId, now: NamedDependency[datetime]) -> Redirect:
        await organiser.remove_entry(slug, entry_id, now=now)
        return Redirect(f"/manage/events/{slug}/waiting-list?notice=removed", status_code=303)

    @post("/close", status_code=303)
    async def close(self, slug: FromPath[str], data: URLEncodedBody[dict[str, str]], now: NamedDependency[datetime]) -> Redirect:
        closed = await organiser.close(slug, remove_waiting=data.get("remove_waiting") == "yes", now=now)
        return Redirect(f"/manage/events/{slug}/waiting-list?notice=closed&removed={closed.removed}", status_code=303)

    @post("/open", status_code=303)
    async def reopen(self, slug: FromPath[str], now: NamedDependency[datetime]) -> Redirect:
        await organiser.reopen(slug, now=now)
        return Redirect(f"/manage/events/{slug}/waiting-list?notice=opened", status_code=303)
