"""Domain errors, and the one place that turns any error into an HTTP answer (JSON for the API, a page for people)."""

from __future__ import annotations

import logging
import re
import time
from types import TracebackType
from typing import Any
from urllib.parse import quote

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from events import i18n, text
from events.i18n import N_

logger = logging.getLogger("events.errors")


class EventsError(Exception):
    """An error a person can act on. ``code`` is stable for API clients; ``message`` is for people."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.fields = fields or {}

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that go with this error, wherever it is answered (the error page, a form shown again)."""
        return {}


class NotFound(EventsError):
    status_code = 404
    code = "not_found"


class Conflict(EventsError):
    status_code = 409
    code = "conflict"


class Gone(EventsError):
    """Something that was there and is no longer (e.g. an offer that ran out)."""

    status_code = 410
    code = "gone"


class InvalidInput(EventsError):
    """Input that parses but breaks a rule (e.g. shares that do not sum to 100%)."""

    status_code = 422
    code = "invalid"


class NotAllowed(EventsError):
    status_code = 403
    code = "forbidden"


class TooManyAttempts(EventsError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, self.retry_after_seconds))}


class DatabaseUnavailable(EventsError):
    """The database cannot be reached (restarting, failed over, or too busy to take a connection): asking again in a
    few seconds works. Raised by nothing; the connection errors below are answered as this."""

    status_code = 503
    code = "database_unavailable"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


class DatabaseBusy(EventsError):
    """A statement waited longer than the database's lock timeout (db.POSTGRES_LOCK_TIMEOUT) for rows another
    transaction held: the server is overloaded, nothing was written (the transaction rolled back), and asking again in
    a few seconds works. Raised by nothing; asyncpg's LockNotAvailableError is answered as this."""

    status_code = 503
    code = "database_busy"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}


# How long a client is asked to wait while the database is away: a restart takes a few seconds.
DATABASE_RETRY_AFTER_SECONDS = 5
# What asyncpg raises when the server went away mid-statement, is shutting down or starting up, refuses more
# connections, or the connection was lost (08xxx). Not the other 57xxx errors: a cancelled statement is not an outage.
_DATABASE_GONE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Logged once a while per process, not once per request: an outage fails every request, and each would say the same.
_OUTAGE_LOG_SECONDS = 30.0
_outage_logged_at: float | None = None
_outage_unlogged = 0


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, rather than that a statement was wrong: a connection
    refused or reset while asyncpg connected or talked to the server, a connection closed under a query, or one of
    the server's own connection and shutdown errors."""
    if isinstance(exc, _DATABASE_GONE):
        return True
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        # asyncpg's protocol state broken under a statement, as when the server's goodbye arrives during one.
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return "connection is closed" in str(exc)
    # Socket errors only from asyncpg's own code: the same OSError from a file or another service is something else.
    return isinstance(exc, OSError) and _raised_in_asyncpg(exc.__traceback__)


def _raised_in_asyncpg(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        traceback = traceback.tb_next
    return False


def _log_outage(request: Request[Any, Any, Any], exc: BaseException) -> None:
    """One line now and then while the database is away: the route and the error's kind, never its text (a
    connection error can quote the database's address) nor the request's data."""
    global _outage_logged_at, _outage_unlogged  # noqa: PLW0603 - a log throttle, per process by design
    now = time.monotonic()
    if _outage_logged_at is not None and now - _outage_logged_at < _OUTAGE_LOG_SECONDS:
        _outage_unlogged += 1
        return
    logger.error(
        "Database unavailable (%s) on %s %s: answering 503 until it is back (%d more such answers since the last line)",
        type(exc).__name__,
        request.method,
        _loggable(request.url.path),
        _outage_unlogged,
    )
    _outage_logged_at, _outage_unlogged = now, 0


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/webhooks/", "/schema")) or path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Map every exception to one shape: {"error", "detail"[, "fields"]} or the friendly error page."""
    if is_database_unavailable(exc):
        _log_outage(request, exc)
        exc = DatabaseUnavailable(N_("The service is briefly unavailable. Please try again in a few seconds."))
    elif isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
        exc = DatabaseBusy(N_("The service is briefly unavailable. Please try again in a few seconds."))
    status, code, detail, fields, headers = _describe(exc)
    if isinstance(exc, DatabaseUnavailable):
        pass  # logged above, at most once in a while (_log_outage)
    elif isinstance(exc, EventsError) and status >= 500:
        # An outage the service expected and explained (a payment provider out of reach): one line, no traceback, so a
        # minute of it does not bury the log.
        logger.warning("%s on %s %s", code, request.method, _loggable(request.url.path))
    elif status >= 500:
        logger.error("Unhandled error on %s %s", request.method, _loggable(request.url.path), exc_info=exc)
    if wants_json(request):
        body: dict[str, Any] = {"error": code, "detail": detail}
        if fields:
            body["fields"] = fields
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    if status == 401:
        return Redirect(f"/login?next={quote(request.url.path)}")
    _choose_page_language(request)
    return Template(
        template_name="errors/error.html",
        context={"status_code": status, "code": code, "detail": detail},
        status_code=status,
        headers=headers,
    )


def _choose_page_language(request: Request[Any, Any, Any]) -> None:
    """The error page's language where the page's own handler never chose one (no such page, a malformed request, a
    guard that refused it): the guest's remembered choice, else their browser's; a staff page's, English. Not the
    query's ``lang``, which may be what was refused."""
    state = request.scope.setdefault("state", {})
    if "locale" in state:
        return
    handler = request.scope.get("route_handler")
    if handler is not None and handler.opt.get(i18n.STAFF_PAGE):
        state["locale"] = i18n.STAFF_LOCALE
        return
    state["locale"] = i18n.negotiate_locale(None, _remembered_language(request), request.headers.get("accept-language"))


# The language cookie's value, read from the raw Cookie header: an address no route answers reaches the error handler
# without the middleware that refuses oversized cookies (events.malformed), and Litestar's own cookie parser keeps the
# last 1,024 headers it parsed, whatever their size. A language is two letters.
_LANGUAGE_COOKIE = re.compile(rf"(?:^|;)\s*{i18n.LOCALE_COOKIE}=([A-Za-z]{{2}})\s*(?:;|$)")


def _remembered_language(request: Request[Any, Any, Any]) -> str | None:
    for name, value in request.scope.get("headers", ()):
        if name == b"cookie" and (found := _LANGUAGE_COOKIE.search(value.decode("latin-1"))):
            return found.group(1)
    return None


# What Litestar's CSRF middleware says when a form's token does not match its cookie (litestar.middleware.csrf).
CSRF_REFUSED = "CSRF token verification failed"


def _describe(exc: Exception) -> tuple[int, str, str, dict[str, str], dict[str, str]]:
    if isinstance(exc, EventsError):
        return exc.status_code, exc.code, exc.message, exc.fields, exc.headers
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc.extra)
        detail = "Some of the details are not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()) if fields else str(exc.detail)
        return 422, "invalid", detail, fields, {}
    if isinstance(exc, NotAuthorizedException):
        return 401, "not_signed_in", N_("Please sign in (or send a valid API token)."), {}, {}
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_REFUSED:
        # Most often a guest's form sent after the browser dropped its session cookie (a phone that closed the tab and
        # reopened it hours later): not a question of access, and guests have no account.
        return (
            403,
            "form_expired",
            N_(
                "This form was open too long, or your browser did not keep its cookie, so nothing was saved. Please go back, reload the page and send it again."
            ),
            {},
            {},
        )
    if isinstance(exc, PermissionDeniedException):
        return 403, "forbidden", N_("Your account does not have access to this."), {}, {}
    if isinstance(exc, NotFoundException):
        return 404, "not_found", N_("We could not find that page."), {}, {}
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        code = {
            405: "method_not_allowed",
            413: "too_large",
            414: "address_too_long",
            415: "unsupported_media_type",
            429: "rate_limited",
            431: "cookies_too_large",
        }.get(exc.status_code, "bad_request" if exc.status_code < 500 else "server_error")
        detail = exc.detail if exc.status_code < 500 else N_("Something went wrong on our side.")
        return exc.status_code, code, detail, {}, headers
    return HTTP_500_INTERNAL_SERVER_ERROR, "server_error", N_("Something went wrong on our side. Please try again."), {}, {}


def _validation_fields(extra: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                fields[key] = text.explain(str(item.get("message", "is not valid")))
    elif isinstance(extra, dict):
        fields = {str(key): str(value) for key, value in extra.items()}
    return fields


# Paths whose last segment is a secret (an invitation or reset link, a pairing code, a ticket's or claim link's code):
# the log keeps the route, never the secret.
_SECRET_PATHS = re.compile(r"^/(invitations|reset-password|door/pair|claim|t|tickets|orders|waiting-list|api/waiting-list)/[^/]+")


def _loggable(path: str) -> str:
    return _SECRET_PATHS.sub(lambda match: f"/{match.group(1)}/…", path)
