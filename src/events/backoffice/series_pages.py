"""Back-office pages for repeat events: the organisation's series (list, new, change) and "Copy this event" (a form
offering the same weekday of next month, landing on the new draft). Each handler reads its form, makes one service
call and redirects, or shows the form again with each problem next to its field and the person's values kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, TREASURER, CurrentUser
from events.backoffice import forms
from events.catalogue import rules
from events.catalogue.lookup import find_event
from events.errors import EventsError
from events.series import copying
from events.series import service as series_service
from events.series.schemas import EventCopyIn, SeriesIn, SeriesPatch

NO_STORE = {"Cache-Control": "no-store"}
# Series are the whole organisation's, and a copy is a new event of it: not for an organiser limited to chosen events.
GUARD = [requires_role(ORGANISER, unrestricted=True)]
Form = URLEncodedBody[dict[str, str]]
SERIES_FIELDS = ("title", "slug", "description")


def _page(template: str, *, section: str, event: Any = None, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"backoffice/{template}",
        context={"section": section, "event": event, "errors": {}, "form": {}, "notice": "", **context},
        status_code=status_code,
        headers=NO_STORE,
    )


def _errors(error: EventsError) -> dict[str, str]:
    fields = {forms.form_field(name): message for name, message in error.fields.items()}
    return fields or {"form": error.message}


def _series_values(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The series form's fields, trimmed (the web address in lower case), and a message for each missing one."""
    values = {name: (data.get(name) or "").strip() for name in SERIES_FIELDS}
    values["slug"] = values["slug"].lower()
    problems = {} if values["title"] else {"title": "Give the series a title, e.g. First Thursday supper club."}
    if values["slug"] and (problem := rules.slug_problem(values["slug"])):
        problems["slug"] = problem
    return values, problems


class SeriesManagePages(Controller):
    """The organisation's series: the list with a form for a new one, and each series' page to change it. A treasurer
    sees the list too, for each series' statement, and nothing that changes a series."""

    path = "/manage/series"
    include_in_schema = False

    async def _list(self, organisation_id: int, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Template:
        return _page(
            "series_list.html",
            section="series",
            series=await series_service.list_series(organisation_id),
            form=form or {},
            errors=errors or {},
            status_code=422 if errors else 200,
        )

    @get("/", name="series_list", guards=[requires_role(ORGANISER, TREASURER, unrestricted=True)])
    async def list_series(self, request: Request[CurrentUser, Any, Any]) -> Template:
        return await self._list(request.user.organisation)

    @post("/", guards=GUARD)
    async def create_series(self, request: Request[CurrentUser, Any, Any], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        values, errors = _series_values(data)
        if not errors:
            series, errors = forms.convert({**values, "slug": values["slug"] or None}, SeriesIn)
            if series is not None:
                try:
                    created = await series_service.create_series(series, organisation_id=request.user.organisation, now=now)
                except EventsError as error:
                    errors = _errors(error)
                else:
                    return Redirect(f"/manage/series/{created.slug}?notice=created", status_code=303)
        return await self._list(request.user.organisation, form=data, errors=errors)

    @get("/{series_slug:str}", name="series_edit", guards=GUARD)
    async def edit_series(self, series_slug: FromPath[str], notice: FromQuery[str] = "") -> Template:
        series = await series_service.series_for_organisers(series_slug)
        form = {"title": series.title, "slug": series.slug, "description": series.description}
        return _page("series_form.html", section="series", series=series, form=form, notice=notice)

    @post("/{series_slug:str}", guards=GUARD)
    async def update_series(self, series_slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        values, errors = _series_values(data)
        if not values["slug"]:
            errors.setdefault("slug", "Give the series a web address, e.g. first-thursday-supper-club.")
        if not errors:
            patch, errors = forms.convert(values, SeriesPatch)
            if patch is not None:
                try:
                    saved = await series_service.update_series(series_slug, patch, now=now)
                except EventsError as error:
                    errors = _errors(error)
                else:
                    return Redirect(f"/manage/series/{saved.slug}?notice=saved", status_code=303)
        series = await series_service.series_for_organisers(series_slug)
        return _page("series_form.html", section="series", series=series, form=data, errors=errors, status_code=422)


class EventCopyPages(Controller):
    """ "Copy this event": a new draft with the event's set-up on new dates."""

    path = "/manage/events/{slug:str}/copy"
    include_in_schema = False
    guards = GUARD

    @get("/", name="event_copy")
    async def show(self, slug: FromPath[str]) -> Template:
        event = await find_event(slug)
        suggestion = await copying.suggest_copy(slug)
        form = {
            "title": suggestion.title,
            "slug": suggestion.slug,
            "starts_at": suggestion.starts_at.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": suggestion.ends_at.strftime("%Y-%m-%dT%H:%M"),
        }
        return _page("event_copy.html", section="copy", event=event, form=form)

    @post("/")
    async def copy(
        self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], data: Form, now: NamedDependency[datetime]
    ) -> Template | Redirect:
        event = await find_event(slug)
        values: dict[str, Any] = {name: (data.get(name) or "").strip() for name in ("title", "slug")}
        values["slug"] = values["slug"].lower()
        errors: dict[str, str] = {}
        if not values["title"]:
            errors["title"] = "Give the new event a title."
        if not values["slug"]:
            errors["slug"] = "Give the new event a web address, e.g. september-supper-club."
        elif problem := rules.slug_problem(values["slug"]):
            errors["slug"] = problem
        for name in ("starts_at", "ends_at"):
            text = (data.get(name) or "").strip()
            values[name] = forms.parse_local_time(text)
            if values[name] is None:
                errors[name] = "Enter a date and time like 2026-08-15 19:00." if text else "Enter a date and time."
        if not errors:
            copy, errors = forms.convert(values, EventCopyIn)
            if copy is not None:
                try:
                    created = await copying.copy_event(slug, copy, organisation_id=request.user.organisation, now=now)
                except EventsError as error:
                    errors = _errors(error)
                else:
                    return Redirect(f"/manage/events/{created.slug}/edit?notice=copied", status_code=303)
        return _page("event_copy.html", section="copy", event=event, form=data, errors=errors, status_code=422)
