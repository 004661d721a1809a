"""Series HTTP: the series API (organisers create, change and list their series; anyone reads one), copying an
event through the API, and a series' public page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.catalogue.schemas import EventDetailOut
from events.dependencies import BEARER, error_responses
from events.series import copying, service
from events.series.schemas import EventCopyIn, SeriesIn, SeriesOut, SeriesPageOut, SeriesPatch


class SeriesApi(Controller):
    path = "/api/series"
    tags = ["Series"]

    @get(
        "/",
        summary="The token's organisation's series, each with every event in it (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403),
    )
    async def list_series(self, request: Request[CurrentUser, Any, Any]) -> list[SeriesOut]:
        return await service.list_series(request.user.organisation)

    @post(
        "/",
        summary="Create a series in the token's organisation (organiser)",
        guards=[requires_role(ORGANISER, unrestricted=True)],
        security=BEARER,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_series(self, request: Request[CurrentUser, Any, Any], data: JSONBody[SeriesIn], now: NamedDependency[datetime]) -> SeriesOut:
        return await service.create_series(data, organisation_id=request.user.organisation, now=now)

    @get("/{series_slug:str}", summary="A series with its upcoming events on sale, and who runs it", responses=error_responses(404))
    async def get_series(self, series_slug: FromPath[str], now: NamedDependency[datetime]) -> SeriesPageOut:
        return await service.series_page(series_slug, now)

    @patch(
        "/{series_slug:str}",
        summary="Change a series' title, description or web address (organiser)",
        guards=[requires_role(ORGANISER, unrestricted=True)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def update_series(self, series_slug: FromPath[str], data: JSONBody[SeriesPatch], now: NamedDependency[datetime]) -> SeriesOut:
        return await service.update_series(series_slug, data, now=now)


class EventCopyApi(Controller):
    path = "/api/events"
    tags = ["Events"]

    @post(
        "/{slug:str}/copy",
        summary="Copy an event's set-up into a new draft with new dates (organiser)",
        description=(
            "Ticket types, partner shares, costs, questions, free-place allocation, door team and every setting are copied; "
            "orders, tickets, codes, claim links, waiting lists and answers are not. Sales windows move with the event. "
            "409 `slug_taken` when the web address is in use."
        ),
        guards=[requires_role(ORGANISER, unrestricted=True)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def copy_event(
        self, request: Request[CurrentUser, Any, Any], slug: FromPath[str], data: JSONBody[EventCopyIn], now: NamedDependency[datetime]
    ) -> EventDetailOut:
        return await copying.copy_event(slug, data, organisation_id=request.user.organisation, now=now)


class SeriesPages(Controller):
    path = "/series"
    include_in_schema = False

    @get("/{series_slug:str}", name="series_page")
    async def series_page(self, series_slug: FromPath[str], now: NamedDependency[datetime]) -> Template:
        """A series' public page: what it is, who runs it, and its upcoming dates."""
        return Template("series/series.html", context={"series": await service.series_page(series_slug, now)})
