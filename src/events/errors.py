"""Domain errors, and the one place that turns any error into an HTTP answer (JSON for the API, a page for people)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

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

from events import text
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


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/webhooks/", "/schema")) or path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Map every exception to one shape: {"error", "detail"[, "fields"]} or the friendly error page."""
    status, code, detail, fields, headers = _describe(exc)
    if isinstance(exc, EventsError) and status >= 500:
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
    return Template(
        template_name="errors/error.html",
        context={"status_code": status, "code": code, "detail": detail},
        status_code=status,
        headers=headers,
    )


def _describe(exc: Exception) -> tuple[int, str, str, dict[str, str], dict[str, str]]:
    if isinstance(exc, EventsError):
        return exc.status_code, exc.code, exc.message, exc.fields, exc.headers
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc.extra)
        detail = "Some of the details are not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()) if fields else str(exc.detail)
        return 422, "invalid", detail, fields, {}
    if isinstance(exc, NotAuthorizedException):
        return 401, "not_signed_in", N_("Please sign in (or send a valid API token)."), {}, {}
    if isinstance(exc, PermissionDeniedException):
        return 403, "forbidden", N_("Your account does not have access to this."), {}, {}
    if isinstance(exc, NotFoundException):
        return 404, "not_found", N_("We could not find that page."), {}, {}
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        code = {405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}.get(
            exc.status_code, "bad_request" if exc.status_code < 500 else "server_error"
        )
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
