"""The people pages under /manage and their JSON API: the team with each person's role, inviting people and the
invitations still out, changing a role, one person's API tokens, and switching an account off (offboarding a
volunteer) or on again. Organisers see the team; owners manage it (invitations and roles)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta

from events import text
from events.accounts import invitations as account_invitations
from events.accounts import offboarding
from events.accounts.auth import requires_role
from events.accounts.invitations import InvitationView
from events.accounts.offboarding import Person, TokenView
from events.accounts.roles import ORGANISER, OWNER, ROLE_NAMES, ROLES, CurrentUser
from events.backoffice import invitations, people
from events.backoffice.invitations import InvitationRequest
from events.dependencies import BEARER, error_responses
from events.errors import EventsError, InvalidInput, NotAllowed
from events.forms import read_form
from events.orders.schemas import Email
from events.row_ids import RowIdParameter

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
# The team is the whole organisation's: an organiser limited to chosen events does not see it.
GUARD = [requires_role(ORGANISER, unrestricted=True)]
OWNERS = [requires_role(OWNER)]
Slug = Annotated[str, Meta(min_length=1, max_length=60), text.LINE]


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


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Literal["owner", "organiser", "treasurer", "door", "partner_viewer"]
    # Slugs of the organisation's events an organiser or door member is limited to (none: every event).
    events: Annotated[list[Slug], Meta(max_length=200)] = []
    # A partner viewer's partner project (its slug).
    partner: Annotated[str, Meta(max_length=60), text.OPTIONAL_LINE] = ""


class InvitationOut(msgspec.Struct):
    """An invitation, never its link (only the invited person's email has it)."""

    id: int
    email: str
    role: str
    events: list[int]
    partner_id: int | None
    invited_by: str
    created_at: datetime
    expires_at: datetime
    state: str


class InviteForm(msgspec.Struct):
    email: str = ""
    role: str = ""
    events: list[str] = []
    partner: str = ""


class RoleForm(msgspec.Struct):
    role: str = ""


def _invitation_out(invitation: InvitationView) -> InvitationOut:
    return InvitationOut(
        invitation.id,
        invitation.email,
        invitation.role,
        invitation.event_ids,
        invitation.partner_id,
        invitation.invited_by,
        invitation.created_at,
        invitation.expires_at,
        str(invitation.state),
    )


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


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
    async def list_people(self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await _people_page(request.user, now=now, notice=notice)

    @post("/invitations", status_code=303, guards=OWNERS)
    async def invite(self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime]) -> Redirect | Template:
        form = await read_form(request, InviteForm)
        wanted = InvitationRequest(form.email, form.role, tuple(form.events), form.partner)
        try:
            await invitations.invite(
                request.user.organisation, wanted, invited_by=request.user, client=_client(request), locale=request.state.locale, now=now
            )
        except EventsError as exc:
            errors = exc.fields or {"email": exc.message}
            return await _people_page(request.user, now=now, form=form, errors=errors, status_code=exc.status_code, headers=exc.headers)
        return Redirect("/manage/people?notice=invited", status_code=303)

    @post("/invitations/{invitation_id:int}/resend", status_code=303, guards=OWNERS)
    async def resend(
        self, request: Request[CurrentUser, Any, Any], invitation_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        try:
            await invitations.resend(request.user, invitation_id, client=_client(request), locale=request.state.locale, now=now)
        except EventsError as exc:
            return await _people_page(request.user, now=now, error=exc.message, status_code=exc.status_code, headers=exc.headers)
        return Redirect("/manage/people?notice=resent", status_code=303)

    @post("/invitations/{invitation_id:int}/revoke", status_code=303, guards=OWNERS)
    async def revoke(
        self, request: Request[CurrentUser, Any, Any], invitation_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> Redirect:
        await invitations.revoke(request.user, invitation_id, now=now)
        return Redirect("/manage/people?notice=revoked", status_code=303)

    @post("/{user_id:int}/role", status_code=303, guards=OWNERS)
    async def change_role(
        self,
        request: Request[CurrentUser, Any, Any],
        user_id: FromPath[RowIdParameter],
        data: URLEncodedBody[RoleForm],
        now: NamedDependency[datetime],
    ) -> Redirect | Template:
        try:
            await people.change_role(request.user, user_id, data.role, now=now)
        except (NotAllowed, InvalidInput) as exc:
            return await _person_page(request.user, user_id, now=now, error=exc.message, status_code=exc.status_code)
        return Redirect(f"/manage/people/{user_id}?notice=role_changed", status_code=303)

    @get("/{user_id:int}", name="person")
    async def show_person(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime], notice: FromQuery[str] = ""
    ) -> Template:
        return await _person_page(request.user, user_id, now=now, notice=notice)

    @post("/{user_id:int}/deactivate", status_code=303, guards=OWNERS)
    async def deactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        try:
            await people.deactivate_person(request.user, user_id, now=now)
        except NotAllowed as exc:
            return await _person_page(request.user, user_id, now=now, error=exc.message, status_code=403)
        return Redirect(f"/manage/people/{user_id}?notice=deactivated", status_code=303)

    @post("/{user_id:int}/reactivate", status_code=303, guards=OWNERS)
    async def reactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> Redirect | Template:
        try:
            await people.reactivate_person(request.user, user_id, now=now)
        except NotAllowed as exc:
            return await _person_page(request.user, user_id, now=now, error=exc.message, status_code=403)
        return Redirect(f"/manage/people/{user_id}?notice=reactivated", status_code=303)

    @post("/{user_id:int}/tokens/{token_id:int}/revoke", status_code=303, guards=OWNERS)
    async def revoke_token(
        self,
        request: Request[CurrentUser, Any, Any],
        user_id: FromPath[RowIdParameter],
        token_id: FromPath[RowIdParameter],
        now: NamedDependency[datetime],
    ) -> Redirect:
        await people.revoke_token(request.user, user_id, token_id, now=now)
        return Redirect(f"/manage/people/{user_id}?notice=token_revoked", status_code=303)


async def _people_page(
    actor: CurrentUser,
    *,
    now: datetime,
    notice: str = "",
    form: InviteForm | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    context = {
        "section": "people",
        "people": await offboarding.people(actor.organisation),
        "invitations": await account_invitations.pending_invitations(actor.organisation, now=now),
        "can_manage": actor.role == OWNER,
        "choices": await invitations.choices(actor.organisation),
        "roles": ROLES,
        "role_names": ROLE_NAMES,
        "form": msgspec.structs.asdict(form) if form else {"role": ORGANISER, "events": []},
        "errors": errors or {},
        "error": error,
        "notice": notice,
    }
    return Template("backoffice/people.html", context=context, status_code=status_code, headers={**PRIVATE, **(headers or {})})


async def _person_page(actor: CurrentUser, user_id: int, *, now: datetime, notice: str = "", error: str = "", status_code: int = 200) -> Template:
    person = await offboarding.person(actor.organisation, user_id)
    context = {
        "section": "people",
        "person": person,
        "tokens": await offboarding.tokens_of(actor.organisation, user_id, now=now),
        "is_self": person.id == actor.id,
        "can_manage": actor.role == OWNER,
        "roles": ROLES,
        "role_names": ROLE_NAMES,
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
    async def tokens(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> list[TokenOut]:
        await offboarding.person(request.user.organisation, user_id)
        return [_token_out(token) for token in await offboarding.tokens_of(request.user.organisation, user_id, now=now)]

    @post(
        "/{user_id:int}/tokens/{token_id:int}/revoke",
        summary="Revoke one of a person's API tokens (owner)",
        status_code=200,
        guards=OWNERS,
        responses=error_responses(401, 403, 404),
    )
    async def revoke_token(
        self,
        request: Request[CurrentUser, Any, Any],
        user_id: FromPath[RowIdParameter],
        token_id: FromPath[RowIdParameter],
        now: NamedDependency[datetime],
    ) -> TokenOut:
        await people.revoke_token(request.user, user_id, token_id, now=now)
        [token] = [token for token in await offboarding.tokens_of(request.user.organisation, user_id, now=now) if token.id == token_id]
        return _token_out(token)

    @post(
        "/{user_id:int}/deactivate",
        summary="Take a person off the organisation's team: their sign-ins end and its API tokens are revoked at once (owner)",
        status_code=200,
        guards=OWNERS,
        responses=error_responses(401, 403, 404),
    )
    async def deactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> DeactivatedOut:
        result = await people.deactivate_person(request.user, user_id, now=now)
        return DeactivatedOut(active=False, sign_ins_ended=result.sign_ins_ended, tokens_revoked=result.tokens_revoked)

    @post(
        "/{user_id:int}/reactivate",
        summary="Put a person back on the team (revoked tokens stay revoked) (owner)",
        status_code=200,
        guards=OWNERS,
        responses=error_responses(401, 403, 404),
    )
    async def reactivate(
        self, request: Request[CurrentUser, Any, Any], user_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> PersonOut:
        await people.reactivate_person(request.user, user_id, now=now)
        return _person_out(await offboarding.person(request.user.organisation, user_id))


class InvitationsApi(Controller):
    """Inviting people by API (owners): the invitation's email carries the link; the answer never does."""

    path = "/api/invitations"
    tags = ["People"]
    security = BEARER
    guards = OWNERS

    @get("/", summary="The organisation's invitations not yet accepted or revoked", responses=error_responses(401, 403))
    async def list_invitations(self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime]) -> list[InvitationOut]:
        return [_invitation_out(invitation) for invitation in await account_invitations.pending_invitations(request.user.organisation, now=now)]

    @post(
        "/",
        summary="Invite someone by email with a role (optionally limited to events, or a partner viewer's project); re-inviting replaces the old link",
        status_code=201,
        responses=error_responses(401, 403, 409, 422, 429),
    )
    async def invite(self, request: Request[CurrentUser, Any, Any], data: JSONBody[InvitationIn], now: NamedDependency[datetime]) -> InvitationOut:
        wanted = InvitationRequest(data.email, data.role, tuple(data.events), data.partner)
        invitation = await invitations.invite(
            request.user.organisation, wanted, invited_by=request.user, client=_client(request), locale=request.state.locale, now=now
        )
        return _invitation_out(invitation)

    @delete("/{invitation_id:int}", summary="Revoke an invitation: its link stops working", status_code=200, responses=error_responses(401, 403, 404))
    async def revoke(
        self, request: Request[CurrentUser, Any, Any], invitation_id: FromPath[RowIdParameter], now: NamedDependency[datetime]
    ) -> InvitationOut:
        await invitations.revoke(request.user, invitation_id, now=now)
        return _invitation_out(await account_invitations.invitation(request.user.organisation, invitation_id, now=now))
