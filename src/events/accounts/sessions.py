"""Web sessions kept in the database (a Litestar Store), with the session id renewed at sign-in and each sign-in
recorded (accounts.sign_ins) so that its person can see and end it."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from events.accounts.browsers import describe_browser
from events.accounts.sign_ins import record_sign_in
from events.accounts.tables import SessionRecord

RENEW_SESSION_FLAG = "renew_session_id"
_RENEWED_SESSION_ID = "_renewed_session_id"
SESSION_COOKIE = "session"
SESSION_STORE = "sessions"
SESSION_USER_KEY = "user_id"
# The organisation the person acts in (accounts.memberships): chosen at sign-in, changed by switching.
SESSION_ORGANISATION_KEY = "organisation_id"
SESSION_MAX_AGE = timedelta(hours=12)  # from the last request: each signed-in response writes the session again
SESSION_ID_BYTES = 32


async def start_session(request: Request[Any, Any, Any], user_id: int, *, now: datetime, organisation_id: int | None = None) -> None:
    """Sign ``user_id`` in on this browser: a session with a fresh id (one planted before sign-in is deleted, so it
    is worthless after it), and its sign-in recorded with a short description of the browser."""
    if planted := request.cookies.get(SESSION_COOKIE):
        await request.app.stores.get(SESSION_STORE).delete(planted)
    session_key = secrets.token_hex(SESSION_ID_BYTES)
    request.state[RENEW_SESSION_FLAG] = True
    request.state[_RENEWED_SESSION_ID] = session_key
    await record_sign_in(user_id, session_key, browser=describe_browser(request.headers.get("user-agent")), now=now)
    request.set_session({SESSION_USER_KEY: user_id, SESSION_ORGANISATION_KEY: organisation_id})


def _seconds(expires_in: int | timedelta | None) -> int | None:
    if expires_in is None:
        return None
    return int(expires_in.total_seconds()) if isinstance(expires_in, timedelta) else int(expires_in)


class DatabaseStore(Store):
    """Litestar's Store interface over the web_session table, shared by every worker and host."""

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        seconds = _seconds(expires_in)
        expires_at = int(time.time()) + seconds if seconds is not None else None
        data = value.encode() if isinstance(value, str) else value
        await SessionRecord.insert(SessionRecord(key=key, data=data, expires_at=expires_at)).on_conflict(
            target=SessionRecord.key, action="DO UPDATE", values=[SessionRecord.data, SessionRecord.expires_at]
        )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        now = int(time.time())
        row = await SessionRecord.select(SessionRecord.data, SessionRecord.expires_at).where(SessionRecord.key == key).first()
        if row is None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= now:
            await self.delete(key)
            return None
        if (seconds := _seconds(renew_for)) is not None and row["expires_at"] is not None:
            await SessionRecord.update({SessionRecord.expires_at: now + seconds}).where(SessionRecord.key == key)
        return bytes(row["data"])

    async def delete(self, key: str) -> None:
        await SessionRecord.delete().where(SessionRecord.key == key)

    async def delete_all(self) -> None:
        await SessionRecord.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await SessionRecord.select(SessionRecord.expires_at).where(SessionRecord.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return row["expires_at"] - int(time.time())

    async def delete_expired(self) -> None:
        await SessionRecord.delete().where(SessionRecord.expires_at < int(time.time()))


class RenewingSessionBackend(ServerSideSessionBackend):
    """Gives the session a fresh id when the request asks for it (at sign-in), so an id planted
    before sign-in is worthless after it; and writes a session only when something is in it."""

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        # Litestar stores even an empty session, so every anonymous page view would add a row (and set a cookie).
        # An empty session is no session: nothing is written, and one the browser still holds is ended.
        if scope_session is Empty or not scope_session:
            held = connection.cookies.get(self.config.key)
            if held and held != "null":
                await self.delete(held, store=self.config.get_store_from_app(connection.scope["app"]))
                params = extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
                MutableScopeHeaders.from_message(message).add(
                    "Set-Cookie", Cookie(key=self.config.key, value="null", expires=0, **dict(params)).to_header(header="")
                )
            return
        await super().store_in_message(scope_session, message, connection)

    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.get("state", {})
        if state.get(RENEW_SESSION_FLAG):
            if not state.get(_RENEWED_SESSION_ID):
                state[_RENEWED_SESSION_ID] = self.generate_session_id()
            return state[_RENEWED_SESSION_ID]
        return super().get_session_id(connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class: type[ServerSideSessionBackend] = field(default=RenewingSessionBackend, init=False)
