"""Who is acting in the current request, for the audit log: set once by the authentication middleware.

A context variable is per asyncio task, so concurrent requests in one process never see each other's actor;
nothing outlives the request."""

from __future__ import annotations

import contextvars

from events.accounts.roles import CurrentUser

_actor: contextvars.ContextVar[CurrentUser | None] = contextvars.ContextVar("audit_actor", default=None)


def set_actor(user: CurrentUser | None) -> None:
    _actor.set(user)


def current_actor() -> CurrentUser | None:
    return _actor.get()
