"""Catalogue HTTP: public event pages, the public events API and the organiser API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.catalogue import service
from events.catalogue.schemas import EventCreate, EventDetailOut, EventPatch, EventSummaryOut, PartnerIn, PartnerOut
from events.dependencies import BEARER, error_responses

TypeId = Annotated[int, Parameter(ge=1, le=2_147_483_647)]


class EventPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="event_list")
    async def event_list(self, now: NamedDependency[datetime]) -> Template:
        events = await service.list_upcoming_events(now)
        return Template("catalogue/event_list.html", context={"events": events})

    @get("/events/{slug:str}", name="event_page")
    async def event_page(self, slug: FromPath[str], now: NamedDependency[datetime]) -> Template:
        event = await service.get_event_detail(slug, now)
        return Template("catalogue/event_detail.html", context={"event": event, "now": now})


class EventsApi(Controller):
    path = "/api"
    tags = ["Events"]

    @get("/events", summary="Upcoming events on sale")
    async def list_events(self, now: NamedDependency[datetime]) -> list[EventSummaryOut]:
        return await service.list_upcoming_events(now)

    @get("/events/{slug:str}", summary="One event with prices, availability and beneficiaries", responses=error_responses(404))
    async def get_event(self, slug: FromPath[str], now: NamedDependency[datetime]) -> EventDetailOut:
        return await service.get_event_detail(slug, now)

    @post(
        "/events",
        summary="Create an event (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_event(self, data: JSONBody[EventCreate], now: NamedDependency[datetime]) -> EventDetailOut:
        return await service.create_event(data, now)

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

    @get("/", summary="Partner projects")
    async def list_partners(self) -> list[PartnerOut]:
        return await service.list_partners()

    @post(
        "/",
        summary="Create a partner project (organiser)",
        guards=[requires_role(ORGANISER)],
        security=BEARER,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_partner(self, data: JSONBody[PartnerIn], now: NamedDependency[datetime]) -> PartnerOut:
        return await service.create_partner(data, now=now)
