"""Who is asking: a bearer API token or the signed-in session; and guards that check roles on every route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from events.accounts import service, sign_ins
from events.accounts.acting import set_acting_user
from events.accounts.roles import CurrentUser
from events.accounts.sessions import SESSION_COOKIE, SESSION_USER_KEY
from events.errors import NotAllowed
from events.i18n import N_

# A route handler's (or controller's) opt key: True where a door device's scoped token may be used. Every other
# route refuses such a token, whatever its holder's role; the route then checks the token's event itself
# (checkin.scanning.door_event compares CurrentUser.door_event_id).
DOOR_TOKEN_ROUTE = "door_token_route"
DOOR_TOKEN_REFUSED = N_("This is a door device's token: it works only for its event's door check-in and door sales.")


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``connection.user`` to a CurrentUser or None. Guards decide what anonymous users may see."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        result = await self._authenticate(connection)
        set_acting_user(result.user)  # the audit log's "who", for this request's task only
        return result

    async def _authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Send the API token as 'Authorization: Bearer <token>'.")
            if not token.strip().startswith(service.TOKEN_PREFIX):
                # Not an account token (e.g. an order's access token): the route checks it itself.
                return AuthenticationResult(user=None, auth=None)
            user = await service.user_for_token(token.strip())
            if user is None:
                raise NotAuthorizedException("That API token is not valid or has been revoked.")
            if user.door_event_id is not None and not connection.route_handler.opt.get(DOOR_TOKEN_ROUTE):
                raise NotAllowed(DOOR_TOKEN_REFUSED, code="door_token_only")
            return AuthenticationResult(user=user, auth="token")
        session = connection.scope.get("session")
        user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
        if isinstance(user_id, int):
            session_key = connection.cookies.get(SESSION_COOKIE)
            user = await sign_ins.user_for_session(session_key, user_id, now=datetime.now(timezone.utc)) if session_key else None
            if user is not None:
                return AuthenticationResult(user=user, auth="session")
            # Its sign-in was ended (from another browser, by a password reset, by deactivating the person): the
            # session is cleared, so the response removes it from the database and the browser.
            connection.clear_session()
        return AuthenticationResult(user=None, auth=None)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return connection.scope.get("user")


def requires_role(*roles: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: signed in, and holding one of ``roles`` (admins pass every guard)."""

    # async, so Litestar calls it in the event loop: it wraps a plain function in sync_to_thread, a thread-pool
    # hop on every guarded request for what is a dictionary lookup.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if not user.has_role(*roles):
            raise PermissionDeniedException()

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    return guard
