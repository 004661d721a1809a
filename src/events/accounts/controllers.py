"""Sign-in and sign-out pages; a person's own account (changing their password, seeing and ending their sign-ins);
and resetting a forgotten password by email."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts import memberships, resets, service, sign_ins
from events.accounts.auth import requires_sign_in
from events.accounts.door_pages import door_pages_of
from events.accounts.roles import BACK_OFFICE_ROLES, DOOR, ROLE_NAMES, CurrentUser
from events.accounts.rules import RESET_LINK_LIFETIME, ResetLinkState
from events.accounts.sessions import SESSION_MAX_AGE, SESSION_ORGANISATION_KEY, start_session
from events.errors import InvalidInput, NotFound, TooManyAttempts
from events.i18n import N_
from events.row_ids import RowIdParameter

NO_STORE = {"Cache-Control": "no-store"}
RESET_MINUTES = int(RESET_LINK_LIFETIME.total_seconds() // 60)
# What a reset link that cannot be used says, and the status it is answered with.
UNUSABLE_LINKS: dict[ResetLinkState, tuple[str, int]] = {
    ResetLinkState.used: (N_("This link has already been used. Each link sets a password once."), 410),
    ResetLinkState.expired: (N_("This link has expired: links work for an hour."), 410),
    ResetLinkState.unknown: (N_("This link is not valid. Check that you opened the whole link from the email."), 404),
}


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


class PasswordChangeForm(msgspec.Struct):
    current_password: str = ""
    new_password: str = ""


class OrganisationForm(msgspec.Struct):
    organisation_id: int = 0


class ForgotForm(msgspec.Struct):
    email: str = ""


class ResetForm(msgspec.Struct):
    password: str = ""


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class LoginPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(self, next: FromQuery[str] = "/") -> Template:
        return Template("accounts/login.html", context={"next": safe_next(next), "email": "", "error": None})

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm], now: NamedDependency[datetime]) -> Template | Redirect:
        target = safe_next(data.next)
        if not data.email.strip() or not data.password:
            return _form_again(data, target, N_("Enter your email and password."), 422)
        try:
            user = await service.authenticate(data.email, data.password, client=_client(request), now=now)
        except TooManyAttempts as exc:
            return _form_again(data, target, exc.message, 429, headers=exc.headers, retry_after_seconds=exc.retry_after_seconds)
        if user is None:
            return _form_again(data, target, N_("That email and password do not match an account."), 401)
        await start_session(request, user.id, now=now, organisation_id=user.organisation_id)
        return Redirect(_landing(user, target), status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        if isinstance(user, CurrentUser) and user.sign_in_id is not None:
            await sign_ins.end_sign_in(user, user.sign_in_id)
        request.clear_session()
        return Redirect("/", status_code=303)


def _landing(user: CurrentUser, target: str) -> str:
    """Where signing in leads: where the person was going; with nowhere in particular, someone who runs events goes to
    the back office (a treasurer too, to the statements), and a door member who does not to their account page, which
    links to their door pages: neither to the public list of events."""
    if target == "/" and user.has_role(*BACK_OFFICE_ROLES):
        return "/manage"
    if target == "/" and user.has_role(DOOR):
        return "/account"
    return target


def _form_again(
    data: LoginForm, target: str, error: str, status: int, *, headers: dict[str, str] | None = None, retry_after_seconds: int = 0
) -> Template:
    return Template(
        "accounts/login.html",
        context={"next": target, "email": data.email, "error": error, "retry_minutes": -(-retry_after_seconds // 60)},
        status_code=status,
        headers=headers,
    )


class AccountPages(Controller):
    """The signed-in person's own account: their password and where they are signed in."""

    path = "/account"
    include_in_schema = False
    guards = [requires_sign_in]

    @get("/", name="account")
    async def account(self, request: Request[CurrentUser, Any, Any], now: NamedDependency[datetime], notice: FromQuery[str] = "") -> Template:
        return await _account_page(request.user, now=now, notice=notice)

    @post("/sessions/{sign_in_id:int}/end", status_code=303)
    async def end_session(self, request: Request[CurrentUser, Any, Any], sign_in_id: FromPath[RowIdParameter]) -> Redirect:
        if sign_in_id == request.user.sign_in_id:  # this browser's: that is signing out
            return Redirect("/account", status_code=303)
        ended = await sign_ins.end_sign_in(request.user, sign_in_id)
        return Redirect("/account?notice=" + ("ended" if ended else "gone"), status_code=303)

    @post("/sessions/end-others", status_code=303)
    async def end_other_sessions(self, request: Request[CurrentUser, Any, Any]) -> Redirect:
        await sign_ins.end_other_sign_ins(request.user.id, keep=request.user.sign_in_id)
        return Redirect("/account?notice=ended_others", status_code=303)

    @post("/organisation", status_code=303)
    async def switch_organisation(self, request: Request[CurrentUser, Any, Any], data: URLEncodedBody[OrganisationForm]) -> Redirect:
        """Act for another of the person's organisations from the next request on; only one they are an active
        member of (not suspended), else 404 as for an organisation that does not exist."""
        joined = await memberships.memberships_of(request.user.id)
        chosen = next((membership for membership in joined if membership.organisation_id == data.organisation_id), None)
        if chosen is None:
            raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
        request.session[SESSION_ORGANISATION_KEY] = chosen.organisation_id
        acting = await memberships.acting_as(request.user.id, chosen.organisation_id)
        return Redirect("/manage" if acting is not None and acting.has_role(*BACK_OFFICE_ROLES) else "/account?notice=switched", status_code=303)

    @get("/password")
    async def password_form(self) -> Template:
        return Template("accounts/password.html", context={"errors": {}}, headers=NO_STORE)

    @post("/password", status_code=303)
    async def change_password(
        self, request: Request[CurrentUser, Any, Any], data: URLEncodedBody[PasswordChangeForm], now: NamedDependency[datetime]
    ) -> Template | Redirect:
        try:
            await resets.change_password(request.user, data.current_password, data.new_password, now=now)
        except InvalidInput as exc:
            return Template("accounts/password.html", context={"errors": exc.fields or {"form": exc.message}}, status_code=422, headers=NO_STORE)
        except TooManyAttempts as exc:
            return Template(
                "accounts/password.html",
                context={"errors": {"form": exc.message}, "retry_minutes": -(-exc.retry_after_seconds // 60)},
                status_code=429,
                headers={**NO_STORE, **exc.headers},
            )
        return Redirect("/account?notice=password_changed", status_code=303)


async def _account_page(user: CurrentUser, *, now: datetime, notice: str = "") -> Template:
    sessions = await sign_ins.sign_ins_of(user, now=now, max_age=SESSION_MAX_AGE)
    context = {
        "sessions": sessions,
        "notice": notice,
        "memberships": await memberships.memberships_of(user.id),
        "role_names": ROLE_NAMES,
        "door_pages": await door_pages_of(user, now=now),
    }
    return Template("accounts/account.html", context=context, headers=NO_STORE)


class PasswordResetPages(Controller):
    """A forgotten password: ask for a link by email, then set a new password with it."""

    path = "/"
    include_in_schema = False

    @get("/forgot-password", name="forgot_password")
    async def forgot_form(self) -> Template:
        return Template("accounts/forgot.html", context={"email": "", "error": None}, headers=NO_STORE)

    @post("/forgot-password", status_code=200)
    async def forgot(self, request: Request[Any, Any, Any], data: URLEncodedBody[ForgotForm], now: NamedDependency[datetime]) -> Template:
        email = data.email.strip()
        if "@" not in email or len(email) > 254:
            return Template("accounts/forgot.html", context={"email": email, "error": N_("Enter your email address.")}, status_code=422)
        try:
            await resets.request_password_reset(email, client=_client(request), locale=request.state.locale, now=now)
        except TooManyAttempts as exc:
            context = {"email": email, "error": exc.message, "retry_minutes": -(-exc.retry_after_seconds // 60)}
            return Template("accounts/forgot.html", context=context, status_code=429, headers=exc.headers)
        # The same answer whether or not the address has an account.
        return Template("accounts/forgot_sent.html", context={"email": email, "minutes": RESET_MINUTES}, headers=NO_STORE)

    @get("/reset-password/{token:str}", name="reset_password")
    async def reset_form(self, token: FromPath[str], now: NamedDependency[datetime]) -> Template:
        # Opening the link only looks: a mail scanner or link preview spends nothing.
        state = await resets.reset_link_state(token, now=now)
        if state is not ResetLinkState.valid:
            return _unusable_link(state)
        return Template("accounts/reset.html", context={"token": token, "errors": {}}, headers=NO_STORE)

    @post("/reset-password/{token:str}", status_code=303)
    async def reset(
        self, request: Request[Any, Any, Any], token: FromPath[str], data: URLEncodedBody[ResetForm], now: NamedDependency[datetime]
    ) -> Template | Redirect:
        try:
            outcome = await resets.use_reset_link(token, data.password, now=now)
        except InvalidInput as exc:
            return Template("accounts/reset.html", context={"token": token, "errors": exc.fields or {}}, status_code=422, headers=NO_STORE)
        if outcome.user is None:
            return _unusable_link(outcome.state)
        await start_session(request, outcome.user.id, now=now, organisation_id=outcome.user.organisation_id)
        return Redirect("/account?notice=password_reset", status_code=303)


def _unusable_link(state: ResetLinkState) -> Template:
    message, status = UNUSABLE_LINKS[state]
    return Template("accounts/reset_unusable.html", context={"message": message}, status_code=status, headers=NO_STORE)
