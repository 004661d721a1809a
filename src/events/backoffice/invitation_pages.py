"""The page an invitation's link opens: a new person chooses their name and password, someone with an account
proves it is theirs (or is signed in already), and either way they are signed in acting for the organisation that
invited them. A link that was used, revoked or has expired says so plainly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts import invitations as account_invitations
from events.accounts.invitations import Accepted, InvitationLink
from events.accounts.roles import BACK_OFFICE_ROLES, OWNER, ROLE_NAMES, CurrentUser
from events.accounts.rules import InvitationState
from events.accounts.sessions import SESSION_ORGANISATION_KEY, start_session
from events.backoffice import invitations
from events.errors import InvalidInput, TooManyAttempts
from events.i18n import N_

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
# What a link that cannot be used says, and the status it is answered with.
UNUSABLE: dict[InvitationState, tuple[str, int]] = {
    InvitationState.accepted: (N_("This invitation has already been accepted. Sign in with your email and password."), 410),
    InvitationState.revoked: (
        N_("This invitation was withdrawn, or replaced by a newer one: use the link in the newest email, or ask the person who invited you."),
        410,
    ),
    InvitationState.expired: (N_("This invitation has expired: links work for 7 days. Ask the person who invited you to send it again."), 410),
    InvitationState.unknown: (N_("This link is not valid. Check that you opened the whole link from the email."), 404),
}


class AcceptForm(msgspec.Struct):
    display_name: str = ""
    password: str = ""


def _signed_in(request: Request[Any, Any, Any]) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) and user.sign_in_id is not None else None


class InvitationPages(Controller):
    path = "/invitations"
    include_in_schema = False

    @get("/{token:str}", name="invitation")
    async def offer(self, request: Request[Any, Any, Any], token: FromPath[str], now: NamedDependency[datetime]) -> Template:
        # Opening the link only looks: a mail scanner or link preview spends nothing.
        link = await account_invitations.link(token, now=now)
        if link.state is not InvitationState.pending:
            return _unusable(link.state)
        return _page(request, token, link)

    @post("/{token:str}", status_code=303)
    async def accept(
        self, request: Request[Any, Any, Any], token: FromPath[str], data: URLEncodedBody[AcceptForm], now: NamedDependency[datetime]
    ) -> Template | Redirect:
        signed_in = _signed_in(request)
        try:
            accepted = await invitations.accept(
                token, now=now, display_name=data.display_name, password=data.password, signed_in_user_id=signed_in.id if signed_in else None
            )
        except (InvalidInput, TooManyAttempts) as exc:
            link = await account_invitations.link(token, now=now)
            if link.state is not InvitationState.pending:
                return _unusable(link.state)
            return _page(
                request, token, link, form=data, errors=exc.fields or {"password": exc.message}, status_code=exc.status_code, headers=exc.headers
            )
        if not isinstance(accepted, Accepted):
            return _unusable(accepted)
        if signed_in is not None and signed_in.id == accepted.user_id:
            request.session[SESSION_ORGANISATION_KEY] = accepted.organisation_id
        else:
            await start_session(request, accepted.user_id, now=now, organisation_id=accepted.organisation_id)
        # Owners, organisers and treasurers land in the back office; the door team and partner viewers on their
        # account page, which lists where they can go.
        target = "/manage" if accepted.role in (OWNER, *BACK_OFFICE_ROLES) else "/account?notice=joined"
        return Redirect(target, status_code=303)


def _page(
    request: Request[Any, Any, Any],
    token: str,
    link: InvitationLink,
    *,
    form: AcceptForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    signed_in = _signed_in(request)
    context = {
        "token": token,
        "invitation": link,
        "role_name": ROLE_NAMES.get(link.role, link.role),
        "signed_in_as_invited": signed_in is not None and signed_in.email == link.email,
        "form": {"display_name": form.display_name} if form else {},
        "errors": errors or {},
    }
    return Template("accounts/invitation.html", context=context, status_code=status_code, headers={**NO_STORE, **(headers or {})})


def _unusable(state: InvitationState) -> Template:
    message, status = UNUSABLE[state]
    return Template("accounts/invitation_unusable.html", context={"message": message}, status_code=status, headers=NO_STORE)
