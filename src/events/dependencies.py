"""Values handlers ask for by name: the clock, the settings, every organisation's payment gateway (a
payments.gateways.Gateways: ask it for the gateway of the event's or order's organisation), and the documented
error responses."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
from litestar import Request
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec

from events.config import Settings


class ErrorBody(msgspec.Struct):
    """Every API error: a stable code for programs, a sentence for people, and field messages on 422."""

    error: str
    detail: str
    fields: dict[str, str] | None = None


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (an order's access token, for the guests' API)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def provide_now() -> datetime:
    return datetime.now(timezone.utc)


def provide_settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


def provide_gateways(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.gateways


DEPENDENCIES = {
    "gateways": Provide(provide_gateways, sync_to_thread=False),
    "now": Provide(provide_now, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    descriptions = {
        401: "No valid API token",
        403: "The token's role may not do this",
        404: "Not found",
        409: "Conflicts with the current state (e.g. sold out, slug taken)",
        410: "No longer there (e.g. an offer that ran out)",
        422: "Input does not validate; `fields` names each problem",
        429: "Too many attempts; see Retry-After",
    }
    return {code: ResponseSpec(data_container=ErrorBody, description=descriptions[code]) for code in codes}


BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]
