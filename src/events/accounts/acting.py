"""Who is acting in the current task: set once per request by the authentication middleware, read by the audit
log (audit/context.py). It lives here, below audit, so that accounts never imports audit.

A context variable is per asyncio task, so concurrent requests in one process never see each other's actor;
nothing outlives the request."""

from __future__ import annotations

import contextvars

from events.accounts.roles import CurrentUser

ACTOR: contextvars.ContextVar[CurrentUser | None] = contextvars.ContextVar("audit_actor", default=None)


def set_acting_user(user: CurrentUser | None) -> None:
    ACTOR.set(user)
