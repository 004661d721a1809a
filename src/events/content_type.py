"""The JSON API takes JSON bodies only: anything else sent to /api/ is refused with 415, once for every route.

A web page on another site can make its visitors' browsers send a form (application/x-www-form-urlencoded,
multipart/form-data) or text/plain to any address without asking first (a CORS "simple request"), and a
JSON parser would read a text/plain body that happens to be JSON. application/json cannot be sent that way
without the browser asking the API first, which it never allows. So, for example, a third-party page cannot
drive its visitors' browsers to hold places.
"""

from __future__ import annotations

from typing import cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from events.errors import EventsError

API_PREFIX = "/api/"
JSON_MEDIA_TYPE = b"application/json"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnsupportedMediaType(EventsError):
    status_code = 415
    code = "unsupported_media_type"


def is_json(content_type: bytes) -> bool:
    """application/json, whatever the case, with or without parameters (charset=utf-8)."""
    return content_type.split(b";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


def sends_a_body(headers: dict[bytes, bytes]) -> bool:
    return headers.get(b"content-length", b"0").strip() not in (b"0", b"") or b"transfer-encoding" in headers


class JsonBodiesOnly(ASGIMiddleware):
    """On /api/: a request that carries a Content-Type, or a body, must say application/json."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["path"].startswith(API_PREFIX) and cast("HTTPScope", scope)["method"] in _WITH_BODY:  # `scopes` admits HTTP only
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type")
            if (content_type is not None or sends_a_body(headers)) and not is_json(content_type or b""):
                raise UnsupportedMediaType("Send the request body as JSON, with Content-Type: application/json.")
        await next_app(scope, receive, send)
