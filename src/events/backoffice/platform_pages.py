"""The platform admin's page, /platform: every organisation (members, events, whether suspended), creating one
with an invitation for its first owner, and suspending or unsuspending one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_platform_admin
from events.accounts.roles import CurrentUser
from events.backoffice import platform
from events.errors import EventsError
from events.organisations.rules import OrganisationDetails

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class OrganisationForm(msgspec.Struct):
    slug: str = ""
    name: str = ""
    owner_email: str = ""


class PlatformPages(Controller):
    path = "/platform"
    include_in_schema = False
    guards = [requires_platform_admin]

    @get("/", name="platform")
    async def organisations(self, notice: FromQuery[str] = "") -> Template:
        return await _page(notice=notice)

    @post("/organisations", status_code=303)
    async def create(
        self, request: Request[CurrentUser, Any, Any], data: URLEncodedBody[OrganisationForm], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        client = request.client.host if request.client else "unknown"
        try:
            await platform.create(
                data.slug,
                OrganisationDetails(name=data.name),
                owner_email=data.owner_email,
                admin=request.user,
                client=client,
                locale=request.state.locale,
                now=now,
            )
        except EventsError as exc:
            errors = exc.fields or {"slug": exc.message}
            if "role" in errors or "email" in errors:
                errors = {"owner_email": errors.get("email") or exc.message}
            return await _page(form=msgspec.structs.asdict(data), errors=errors, status_code=exc.status_code)
        return Redirect("/platform?notice=created", status_code=303)

    @post("/organisations/{organisation_slug:str}/suspend", status_code=303)
    async def suspend(self, request: Request[CurrentUser, Any, Any], organisation_slug: FromPath[str], now: NamedDependency[datetime]) -> Redirect:
        await platform.set_suspended(organisation_slug, suspended=True, admin=request.user, now=now)
        return Redirect("/platform?notice=suspended", status_code=303)

    @post("/organisations/{organisation_slug:str}/unsuspend", status_code=303)
    async def unsuspend(self, request: Request[CurrentUser, Any, Any], organisation_slug: FromPath[str], now: NamedDependency[datetime]) -> Redirect:
        await platform.set_suspended(organisation_slug, suspended=False, admin=request.user, now=now)
        return Redirect("/platform?notice=unsuspended", status_code=303)


async def _page(*, notice: str = "", form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    context = {"organisations": await platform.overview(), "notice": notice, "form": form or {}, "errors": errors or {}}
    return Template("backoffice/platform.html", context=context, status_code=status_code, headers=PRIVATE)
