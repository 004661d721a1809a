"""Who is acting in the current request, for the audit log: set once by the authentication middleware (through
accounts/acting.py, which holds the context variable, so that accounts does not import audit).

A context variable is per asyncio task, so concurrent requests in one process never see each other's actor;
nothing outlives the request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from events.accounts.acting import ACTOR as _actor
from events.accounts.roles import CurrentUser


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
