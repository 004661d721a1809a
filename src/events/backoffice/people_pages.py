"""The people pages under /manage and their JSON API: everyone with an account, one person's API tokens, and
switching an account off (offboarding a volunteer) or on again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Redirect, Template

from events.accounts import offboarding
from events.accounts.auth import requires_role
from events.accounts.offboarding import Person, TokenView
from events.accounts.roles import ORGANISER, CurrentUser
from events.backoffice import people
from events.dependencies import BEARER, error_responses
from events.errors import NotAllowed

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
GUARD = [requires_role(ORGANISER)]
RowId = Annotated[int, Parameter(ge=1, le=2_147_483_647)]


class PersonOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenOut(msgspec.Struct):
    """An API token, never its secret."""

    id: int
    label: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str
    door_token: bool


class DeactivatedOut(msgspec.Struct):
    active: bool
    sign_ins_ended: int
    tokens_revoked: int


def _person_out(person: Person) -> PersonOut:
    return PersonOut(person.id, person.email, person.display_name, person.role, person.active, person.created_at, person.last_login_at)


def _token_out(token: TokenView) -> TokenOut:
    return TokenOut(
        token.id,
        token.label,
        token.created_at,
        token.created_by,
        token.last_used_at,
        token.expires_at,
        token.revoked_at,
        str(token.state),
        token.door_token,
    )


class PeoplePages(Controller):
    path = "/manage/people"
    include_in_schema = False
    guards = GUARD

    @get("/", name="people")
    async def list_people(self, request: Request[CurrentUser, Any, Any]) -> Template:
        team = await offboarding.people(request.user.organisation)
        return Template("backoffice/people.html", context={"section": "people", "people": team}, headers=PRIVATE)

    @get("/{user_id:int}", name="person")
    async def show_person(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime], notice: FromQuery[str] = ""
    ) -> Template:
        return await _person_page(request.user, user_id, now=now, notice=notice)

    @post("/{user_id:int}/deactivate", status_code=303)
    async def deactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        try:
            await people.deactivate_person(request.user, user_id, now=now)
        except NotAllowed as exc:
            return await _person_page(request.user, user_id, now=now, error=exc.message, status_code=403)
        return Redirect(f"/manage/people/{user_id}?notice=deactivated", status_code=303)

    @post("/{user_id:int}/reactivate", status_code=303)
    async def reactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        try:
            await people.reactivate_person(request.user, user_id, now=now)
        except NotAllowed as exc:
            return await _person_page(request.user, user_id, now=now, error=exc.message, status_code=403)
        return Redirect(f"/manage/people/{user_id}?notice=reactivated", status_code=303)

    @post("/{user_id:int}/tokens/{token_id:int}/revoke", status_code=303)
    async def revoke_token(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], token_id: FromPath[RowId], now: NamedDependency[datetime]
    ) -> Redirect:
        await people.revoke_token(request.user, user_id, token_id, now=now)
        return Redirect(f"/manage/people/{user_id}?notice=token_revoked", status_code=303)


async def _person_page(actor: CurrentUser, user_id: int, *, now: datetime, notice: str = "", error: str = "", status_code: int = 200) -> Template:
    person = await offboarding.person(actor.organisation, user_id)
    context = {
        "section": "people",
        "person": person,
        "tokens": await offboarding.tokens_of(actor.organisation, user_id, now=now),
        "is_self": person.id == actor.id,
        "notice": notice,
        "error": error,
    }
    return Template("backoffice/person.html", context=context, status_code=status_code, headers=PRIVATE)


class PeopleApi(Controller):
    path = "/api/users"
    tags = ["People"]
    security = BEARER
    guards = GUARD

    @get("/", summary="The organisation's team, with each person's role (paired door phones left out)", responses=error_responses(401, 403))
    async def list_people(self, request: Request[CurrentUser, Any, Any]) -> list[PersonOut]:
        return [_person_out(person) for person in await offboarding.people(request.user.organisation)]

    @get(
        "/{user_id:int}/tokens",
        summary="A person's API tokens for this organisation, live and ended (never the secret)",
        responses=error_responses(401, 403, 404),
    )
    async def tokens(self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime]) -> list[TokenOut]:
        await offboarding.person(request.user.organisation, user_id)
        return [_token_out(token) for token in await offboarding.tokens_of(request.user.organisation, user_id, now=now)]

    @post(
        "/{user_id:int}/tokens/{token_id:int}/revoke",
        summary="Revoke one of a person's API tokens",
        status_code=200,
        responses=error_responses(401, 403, 404),
    )
    async def revoke_token(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], token_id: FromPath[RowId], now: NamedDependency[datetime]
    ) -> TokenOut:
        await people.revoke_token(request.user, user_id, token_id, now=now)
        [token] = [token for token in await offboarding.tokens_of(request.user.organisation, user_id, now=now) if token.id == token_id]
        return _token_out(token)

    @post(
        "/{user_id:int}/deactivate",
        summary="Switch a person's account off: their sign-ins end and their API tokens are revoked at once",
        status_code=200,
        responses=error_responses(401, 403, 404),
    )
    async def deactivate(self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime]) -> DeactivatedOut:
        result = await people.deactivate_person(request.user, user_id, now=now)
        return DeactivatedOut(active=False, sign_ins_ended=result.sign_ins_ended, tokens_revoked=result.tokens_revoked)

    @post(
        "/{user_id:int}/reactivate",
        summary="Let a person sign in again (revoked tokens stay revoked)",
        status_code=200,
        responses=error_responses(401, 403, 404),
    )
    async def reactivate(self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowId], now: NamedDependency[datetime]) -> PersonOut:
        await people.reactivate_person(request.user, user_id, now=now)
        return _person_out(await offboarding.person(request.user.organisation, user_id))
