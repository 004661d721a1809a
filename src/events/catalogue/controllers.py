"""Catalogue HTTP: the public pages of events and organisations, the public events API and the organiser API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Response, Template

from events import page_cache
from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER, CurrentUser
from events.catalogue import service
from events.catalogue.schemas import EventCreate, EventDetailOut, EventPatch, EventSummaryOut, OrganisationOut, PartnerIn, PartnerOut
from events.dependencies import BEARER, error_responses
from events.organisations import rules as organisation_rules
from events.organisations import service as organisations
from events.row_ids import RowIdParameter

TypeId = RowIdParameter


class EventPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="event_list")
    async def event_list(self, request: Request[Any, Any, Any], now: NamedDependency[datetime]) -> Template | Response[str]:
        async def render() -> Template:
            return Template("catalogue/event_list.html", context={"events": await service.list_upcoming_events(now)})

        return await page_cache.anonymous_page(request, render)

    # The event page itself, with its buy form and access codes, is storefront.event_pages.EventPage.

    @get("/organisations/{slug:str}", name="organisation_page")
    async def organisation_page(self, slug: FromPath[str], now: NamedDependency[datetime]) -> Template:
        """An organisation's public page: who they are, how to reach them, and their upcoming events."""
        organisation = await organisations.find_active(slug)
        events = await service.list_upcoming_events(now, organisation_id=organisation.id)
        context = {"organisation": organisation, "events": events, "series": service.upcoming_series(events)}
        return Template("catalogue/organisation.html", context=context)

    @get("/organisations/{slug:str}/logo", name="organisation_logo")
    async def organisation_logo(self, slug: FromPath[str]) -> Response[bytes]:
        data, content_type = await organisations.logo(slug)
        return Response(data, media_type=content_type, headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    @get("/organisations/{slug:str}/theme.css", name="organisation_theme")
    async def organisation_theme(self, slug: FromPath[str]) -> Response[str]:
        """The organisation's accent colour as a stylesheet (the pages allow no inline style). The colour is
        checked as #rrggbb when it is saved, and again here (a row written some other way falls back to the site's
        own colour), so nothing but a colour can reach this text."""
        organisation = await organisations.find_active(slug)
        css = f":root {{ --accent: {organisation_rules.theme_colour(organisation.accent_colour)}; }}\n"
        return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


class EventsApi(Controller):
    path = "/api"
    tags = ["Events"]

    @get("/events", summary="Upcoming events on sale, of every organisation, each with who runs it")
    async def list_events(self, now: NamedDependency[datetime]) -> list[EventSummaryOut]:
        return await service.list_upcoming_events(now)

    @get(
        "/organisations/{slug:str}",
        summary="An organisation's public details and upcoming events",
        responses=error_responses(404),
    )
    async def get_organisation(self, slug: FromPath[str], now: NamedDependency[datetime]) -> OrganisationOut:
        organisation = await organisations.find_active(slug)
        return service.organisation_out(organisation, await service.list_upcoming_events(now, organisation_id=organisation.id))

    @get("/events/{slug:str}", summary="One event with prices, availability and beneficiaries", responses=error_responses(404))
    async def get_event(self, slug: FromPath[str], now: NamedDependency[datetime]) -> EventDetailOut:
        return await service.get_event_detail(slug, now)

    @post(
        "/events",
        summary="Create an event in the token's organisation (organiser)",
        guards=[requires_role(ORGANISER, unrestricted=True)],
        security=BEARER,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_event(
        self, request: Request[CurrentUser, Any, Any], data: JSONBody[EventCreate], now: NamedDependency[datetime]
    ) -> EventDetailOut:
        return await service.create_event(data, now, organisation_id=request.user.organisation)

    @patch(
        "/events/{slug:str}",
        summary="Change an event (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def update_event(self, slug: FromPath[str], data: JSONBody[EventPatch], now: NamedDependency[datetime]) -> EventDetailOut:
        return await service.update_event(slug, data, now)

    @delete(
        "/events/{slug:str}/ticket-types/{type_id:int}",
        summary="Remove a ticket type nobody has ordered (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404, 409),
        description="409 `ticket_type_in_use` once it has been ordered: stop its sales instead.",
    )
    async def remove_ticket_type(self, slug: FromPath[str], type_id: TypeId, now: NamedDependency[datetime]) -> None:
        await service.remove_ticket_type(slug, type_id, now=now)

    @post(
        "/events/{slug:str}/ticket-types/{type_id:int}/stop-sales",
        status_code=200,
        summary="End a ticket type's sales now; tickets sold stay valid (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 404),
    )
    async def stop_ticket_type_sales(self, slug: FromPath[str], type_id: TypeId, now: NamedDependency[datetime]) -> EventDetailOut:
        await service.stop_ticket_type_sales(slug, type_id, now=now)
        return await service.get_event_detail(slug, now, include_drafts=True)


class PartnersApi(Controller):
    path = "/api/partners"
    tags = ["Partners"]

    @get("/", summary="Partner projects, each with the organisation that added it")
    async def list_partners(self) -> list[PartnerOut]:
        return await service.list_partners()

    @post(
        "/",
        summary="Create a partner project in the token's organisation (organiser)",
        guards=[requires_role(ORGANISER, unrestricted=True)],
        security=BEARER,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_partner(self, request: Request[CurrentUser, Any, Any], data: JSONBody[PartnerIn], now: NamedDependency[datetime]) -> PartnerOut:
        return await service.create_partner(data, organisation_id=request.user.organisation, now=now)
