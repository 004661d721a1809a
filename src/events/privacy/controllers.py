"""The guest data page: find what is held about a guest by email address or phone number, download it, or
erase it on request. Every step is a POST, so a guest's contact details never appear in a URL or an access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.errors import EventsError, InvalidInput
from events.forms import read_form
from events.i18n import N_
from events.privacy import rules, service
from events.privacy.forms import GuestForm

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _page(
    contact: str = "",
    *,
    guest: service.Guest | None = None,
    error: EventsError | None = None,
    form: str = "find",
    erased: service.Erased | None = None,
    ticked: list[str] | None = None,
) -> Template:
    """``ticked``: the orders to show ticked. When the guest was just found: all of them, unless they carry
    different names (a shared phone number or address), when the organiser has to choose."""
    if guest is not None and ticked is None:
        ticked = [] if guest.several_names else [order.reference for order in guest.orders] + [str(entry.id) for entry in guest.waiting]
    return Template(
        "privacy/guests.html",
        context={
            "contact": contact,
            "guest": guest,
            "ticked": set(ticked or ()),
            "error": {"form": form, "message": error.message, "fields": error.fields} if error else None,
            "erased": erased,
            "keep_years": rules.GIFT_AID_KEEP_YEARS,
        },
        status_code=error.status_code if error else 200,
        headers=PRIVATE,
    )


class GuestDataPages(Controller):
    path = "/manage/guests"
    include_in_schema = False
    # A guest's data is the whole organisation's, so an organiser limited to chosen events may not search it.
    guards = [requires_role(ORGANISER, unrestricted=True)]

    @get("/", name="guest_data")
    async def start(self) -> Template:
        return _page()

    @post("/", status_code=200)
    async def find(self, request: Request[Any, Any, Any]) -> Template:
        form = await read_form(request, GuestForm)
        try:
            return _page(form.contact, guest=await service.find_guest(form.contact, organisation_id=request.user.organisation))
        except EventsError as error:
            return _page(form.contact, error=error)

    @post("/export", status_code=200)
    async def export(self, request: Request[Any, Any, Any], now: NamedDependency[datetime]) -> Response[Any] | Template:
        form = await read_form(request, GuestForm)
        try:
            document = await service.export_guest(form.contact, form.orders, organisation_id=request.user.organisation, now=now, waiting=form.waiting)
        except EventsError as error:
            return await _again(form, error, "orders", request.user.organisation)
        return Response(
            document,
            media_type="application/json",
            headers={**PRIVATE, "Content-Disposition": f'attachment; filename="guest-data-{now:%Y%m%d}.json"'},
        )

    @post("/erase", status_code=200)
    async def erase(self, request: Request[Any, Any, Any], now: NamedDependency[datetime]) -> Template:
        form = await read_form(request, GuestForm)
        if not form.confirm:
            message = N_("Tick the box to confirm: erasing cannot be undone.")
            return await _again(form, InvalidInput(message, fields={"confirm": message}), "erase", request.user.organisation)
        try:
            erased = await service.erase_guest(form.contact, form.orders, organisation_id=request.user.organisation, now=now, waiting=form.waiting)
        except EventsError as error:
            return await _again(form, error, "orders", request.user.organisation)
        return _page(erased=erased)


async def _again(form: GuestForm, error: EventsError, where: str, organisation_id: int) -> Template:
    """The guest's orders shown again, as ticked, with what was wrong; or the search, if they cannot be found."""
    if "orders" not in error.fields and "confirm" not in error.fields:
        return _page(form.contact, error=error)
    try:
        guest = await service.find_guest(form.contact, organisation_id=organisation_id)
    except EventsError as not_found:
        return _page(form.contact, error=not_found)
    return _page(form.contact, guest=guest, form=where, error=error, ticked=form.orders + form.waiting)
