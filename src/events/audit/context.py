"""Who is acting in the current request, for the audit log: set once by the authentication middleware.

A context variable is per asyncio task, so concurrent requests in one process never see each other's actor;
nothing outlives the request."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from events.accounts.roles import CurrentUser

_actor: contextvars.ContextVar[CurrentUser | None] = contextvars.ContextVar("audit_actor", default=None)


def set_actor(user: CurrentUser | None) -> None:
    _actor.set(user)


def current_actor() -> CurrentUser | None:
    return _actor.get()


@contextlib.contextmanager
def acting_as_system() -> Iterator[None]:
    """For work the service does by itself (the worker's jobs): entries name "system", whoever started the task."""
    token = _actor.set(None)
    try:
        yield
    finally:
        _actor.reset(token)
