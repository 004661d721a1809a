"""Who is asking: a bearer API token or the signed-in session; and guards that check roles on every route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import MethodNotAllowedException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from events.accounts import service, sign_ins
from events.accounts.acting import set_acting_user
from events.accounts.roles import CurrentUser
from events.accounts.sessions import SESSION_COOKIE, SESSION_ORGANISATION_KEY, SESSION_USER_KEY
from events.errors import NotAllowed, NotFound
from events.i18n import N_
from events.row_ids import MAX_ROW_ID

# A route handler's (or controller's) opt key: True where a door device's scoped token may be used. Every other
# route refuses such a token, whatever its holder's role; the route then checks the token's event itself
# (checkin.scanning.door_event compares CurrentUser.door_event_id).
DOOR_TOKEN_ROUTE = "door_token_route"
# The attribute of a guard (every one made here) that answers, without a request, whether it lets a person through
# on their role alone: what may_open asks.
PERMITS = "permits"
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
            organisation_id = session.get(SESSION_ORGANISATION_KEY) if isinstance(session, dict) else None
            organisation_id = organisation_id if isinstance(organisation_id, int) else None
            user = await sign_ins.user_for_session(session_key, user_id, organisation_id, now=datetime.now(timezone.utc)) if session_key else None
            if user is not None:
                return AuthenticationResult(user=user, auth="session")
            # Its sign-in was ended (from another browser, by a password reset, by deactivating the person): the
            # session is cleared, so the response removes it from the database and the browser.
            connection.clear_session()
        return AuthenticationResult(user=None, auth=None)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    return connection.scope.get("user")


# Whether the person may reach the object a path parameter names ("slug" an event, "reference" an order, ...):
# it must be their organisation's (and, for someone limited to chosen events, one of those). Each package that owns
# such an object registers its check at import (catalogue, orders, tickets, accounts.ownership), as payments does
# its bookkeeping: this layer cannot import theirs. A guarded route with a path parameter that has no check and is
# not a child of one that has (CHILD_PARAMETERS) fails closed.
OwnershipCheck = Callable[[CurrentUser, Any], Awaitable[bool]]
# parameter -> (check, the 404's message, its code): the answer is the one a missing object gets.
OWNERSHIP_CHECKS: dict[str, tuple[OwnershipCheck, str, str]] = {}
# Parameters that name something inside an object checked by another parameter of the same path (a claim code of
# an event, a ticket type of an event, a token of a person, one of the person's own sign-ins): the service looks
# them up within that parent.
# "action" names no object at all (an event's status change: publish, close, ...). A question of an event
# (question_id) is looked up within its event (events.questions.service), a refund (refund_id) within its order.
CHILD_PARAMETERS = frozenset({"code", "type_id", "token_id", "sign_in_id", "action", "question_id", "refund_id"})


def register_ownership_check(parameter: str, check: OwnershipCheck, *, message: str, code: str) -> None:
    """``check`` decides whether a person may reach the object ``parameter`` names; when not, the route answers 404
    with ``message`` and ``code``, exactly as for an object that does not exist."""
    OWNERSHIP_CHECKS[parameter] = (check, message, code)


def requires_role(*roles: str, unrestricted: bool = False) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard: signed in, holding one of ``roles`` in the organisation acted in (owners pass every role guard),
    and every object the path names belongs to that organisation (else 404, as if it did not exist).
    ``unrestricted``: the route covers the whole organisation (partner statements, the Gift Aid schedule, the
    team), so someone limited to chosen events may not use it."""

    def permits(user: CurrentUser) -> bool:
        return user.has_role(*roles) and not (unrestricted and user.restricted)

    # async, so Litestar calls it in the event loop: it wraps a plain function in sync_to_thread, a thread-pool
    # hop on every guarded request for what is a dictionary lookup.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if not permits(user):
            raise PermissionDeniedException()
        await check_ownership(user, connection.path_params)

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    setattr(guard, PERMITS, permits)
    return guard


async def check_ownership(user: CurrentUser, path_params: dict[str, Any]) -> None:
    """404 unless every object named by ``path_params`` is within what ``user`` may reach."""
    for name, value in path_params.items():
        registered = OWNERSHIP_CHECKS.get(name)
        if registered is None:
            if name in CHILD_PARAMETERS:
                continue
            raise RuntimeError(f"No ownership check for the path parameter {name!r}: register one (accounts.auth).")
        check, message, code = registered
        # Guards run before the handler's parameters are checked: an id beyond what the database stores names
        # nothing (and must not reach a query, where it would overflow).
        out_of_range = isinstance(value, int) and not 0 < value <= MAX_ROW_ID
        if out_of_range or not await check(user, value):
            raise NotFound(message, code=code)


async def requires_sign_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: signed in, in whatever organisation or none (a person's own account pages)."""
    if current_user(connection) is None:
        raise NotAuthorizedException()


setattr(requires_sign_in, PERMITS, lambda user: True)


async def requires_platform_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: signed in as someone who runs the service (creates and suspends organisations)."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException()
    if not user.is_platform_admin:
        raise PermissionDeniedException()


setattr(requires_platform_admin, PERMITS, lambda user: user.is_platform_admin)


def may_open(connection: ASGIConnection[Any, Any, Any, Any] | None, path: str) -> bool:
    """Whether the signed-in person would get past the role guards of the page at ``path`` (a GET): the same
    decision the guards make, asked by a page before it links there, so nobody is shown a link that answers 403.
    Only the role half: the links name the acting organisation's own objects, which the ownership checks pass.
    A route that is not found, or has a guard that cannot say (not one of these), is not linked."""
    user = current_user(connection) if connection is not None else None
    if user is None:
        return False
    try:
        handler = connection.app.asgi_router.handle_routing(path, "GET")[1]  # type: ignore[union-attr]
    except (NotFoundException, MethodNotAllowedException):
        return False
    return all(getattr(guard, PERMITS, _says_no)(user) for guard in handler.resolve_guards())


def _says_no(_: CurrentUser) -> bool:
    return False
