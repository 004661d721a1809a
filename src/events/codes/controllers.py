"""Codes HTTP: the organiser's API for an event's access and discount codes."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.codes import service
from events.codes.schemas import CodeIn, CodeOut
from events.dependencies import BEARER, error_responses


class CodesApi(Controller):
    path = "/api/events/{slug:str}/codes"
    tags = ["Codes"]
    guards = [requires_role(ORGANISER)]
    security = BEARER

    @post(
        "/",
        summary="Make an access or discount code (organiser)",
        responses=error_responses(401, 403, 404, 409, 422),
        description=(
            "Without `code`, one is made up (10 capitals and digits, nothing to mistake). `unlocks` lists hidden "
            "ticket types of the event it opens; `discount_percent` or `discount_pence` (not both) comes off the "
            "order's ticket prices, never below zero and never off booking fees, pay it forward or donations. 409 "
            "`code_taken` when the event has that code already."
        ),
    )
    async def create_code(self, slug: FromPath[str], data: JSONBody[CodeIn], now: NamedDependency[datetime]) -> CodeOut:
        return await service.create_code(slug, data, now=now)

    @get("/", summary="The event's codes, each with its uses (organiser)", responses=error_responses(401, 403, 404))
    async def list_codes(self, slug: FromPath[str]) -> list[CodeOut]:
        return await service.list_codes(slug)

    @delete(
        "/{code:str}",
        summary="Revoke a code: no new order can use it (organiser)",
        responses=error_responses(401, 403, 404),
        description="Holds already placed with it may still be paid; paid orders keep their tickets and prices.",
    )
    async def revoke_code(self, slug: FromPath[str], code: FromPath[str], now: NamedDependency[datetime]) -> None:
        await service.revoke_code(slug, code, now=now)
