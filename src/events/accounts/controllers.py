"""Sign-in and sign-out pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts import service
from events.accounts.auth import SESSION_USER_KEY
from events.accounts.sessions import RENEW_SESSION_FLAG, SESSION_COOKIE, SESSION_STORE
from events.errors import TooManyAttempts
from events.i18n import N_


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


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
        client = request.client.host if request.client else "unknown"
        try:
            user = await service.authenticate(data.email, data.password, client=client, now=now)
        except TooManyAttempts as exc:
            return _form_again(data, target, exc.message, 429, headers=exc.headers, retry_after_seconds=exc.retry_after_seconds)
        if user is None:
            return _form_again(data, target, N_("That email and password do not match an account."), 401)
        if planted := request.cookies.get(SESSION_COOKIE):
            await request.app.stores.get(SESSION_STORE).delete(planted)
        request.state[RENEW_SESSION_FLAG] = True
        request.set_session({SESSION_USER_KEY: user.id})
        return Redirect(target, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)


def _form_again(
    data: LoginForm, target: str, error: str, status: int, *, headers: dict[str, str] | None = None, retry_after_seconds: int = 0
) -> Template:
    return Template(
        "accounts/login.html",
        context={"next": target, "email": data.email, "error": error, "retry_minutes": -(-retry_after_seconds // 60)},
        status_code=status,
        headers=headers,
    )
