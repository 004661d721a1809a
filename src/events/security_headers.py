"""Security headers on every response: a Content-Security-Policy that runs only this site's scripts and Stripe.js, and no framing, sniffing or referrer leaks.

The headers are added by a `before_send` hook, which Litestar calls for every message it sends: pages,
the API, static files, error pages and 404s for paths no route matches (a route middleware would miss
those). A page that needs an exception says so here, by path, so it can be read in one place.

The one framing exception: the embeddable ticket form's pages (under FRAMED_PREFIX) may be framed by the websites
their organisation lists. Its handler names them (allow_framing); this hook honours that only under the prefix, so
no other page can be framed whatever a handler does, and a widget page with no websites listed keeps 'none'.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from events.api_reference import CONFIGURATION_SCRIPT_HASH
from events.config import Settings, StripeSettings

STRIPE_JS_ORIGIN = "https://js.stripe.com"
NONE = "'none'"
HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600
# The API reference under /schema is Litestar's Scalar page: its script and stylesheet come from a CDN and it
# writes its own <style> elements, so it gets a policy of its own (still no inline script). It shows only
# the OpenAPI document, never anything a person typed.
API_REFERENCE_PATHS = ("/schema",)
# The embeddable ticket form's pages: the only ones that may be framed (by the origins their handler allows).
FRAMED_PREFIX = "/embed/"
_FRAME_ANCESTORS = "frame_ancestors"
# An origin as the back office stores it (organisations.rules.widget_origins); anything else is left out of the
# header rather than trusted, so a hand-edited row cannot inject another directive.
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(?::\d{1,5})?")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _policy(directives: dict[str, list[str]]) -> str:
    """Directive by directive; one with no sources allows nothing."""
    return "; ".join(f"{name} {' '.join(sources or [NONE])}" for name, sources in directives.items())


def content_security_policy(stripe: StripeSettings, frame_ancestors: tuple[str, ...] = ()) -> str:
    """The policy for every page: scripts, styles, fonts and images from this site; Stripe.js (from the configured
    URL, so a test's localstripe works too) may load, frame its card fields and call its API. Framed by nobody, or by
    ``frame_ancestors`` (a widget page's allowed websites)."""
    stripe_js = origin(stripe.js_url)
    scripts = ["'self'", stripe_js]
    frames = [stripe_js]
    connect = ["'self'", origin(stripe.api_base)]
    images = ["'self'"]
    if stripe_js == STRIPE_JS_ORIGIN:
        # What Stripe documents for Stripe.js: its card fields and 3-D Secure run in frames from these hosts,
        # and it talks to api.stripe.com whatever our server's API base is.
        scripts.append("https://*.js.stripe.com")
        frames += ["https://*.js.stripe.com", "https://hooks.stripe.com"]
        connect.append("https://api.stripe.com")
        images.append("https://*.stripe.com")
    return _policy(
        {
            "default-src": ["'self'"],
            "script-src": _unique(scripts),
            "style-src": ["'self'"],
            "img-src": images,
            "font-src": ["'self'"],
            "connect-src": _unique(connect),
            "frame-src": _unique(frames),
            "worker-src": ["'self'"],
            "object-src": [],
            "base-uri": [],
            "form-action": ["'self'"],
            "frame-ancestors": list(frame_ancestors),
        }
    )


def allow_framing(scope: Any, origins: Iterable[str]) -> None:
    """Let these origins frame the response to this request (a widget page's handler calls it). Honoured only for
    paths under FRAMED_PREFIX; without origins the page keeps frame-ancestors 'none'."""
    scope.setdefault("state", {})[_FRAME_ANCESTORS] = tuple(origin for origin in origins if _ORIGIN.fullmatch(origin))


def _frame_ancestors(scope: Any) -> tuple[str, ...]:
    if not str(scope.get("path", "")).startswith(FRAMED_PREFIX):
        return ()
    return tuple((scope.get("state") or {}).get(_FRAME_ANCESTORS, ()))


def api_reference_policy(script_url: str, stylesheet_url: str) -> str:
    """The policy for the Scalar API reference: its one script and stylesheet by full URL, its empty configuration
    element by hash (events.api_reference), its own inline styles."""
    return _policy(
        {
            "default-src": ["'self'"],
            "script-src": [script_url, CONFIGURATION_SCRIPT_HASH],
            "style-src": ["'self'", "'unsafe-inline'", stylesheet_url],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'", "data:", "https://fonts.scalar.com"],
            "connect-src": ["'self'"],
            "object-src": [],
            "base-uri": [],
            "form-action": ["'self'"],
            "frame-ancestors": [],
        }
    )


def _unique(sources: list[str]) -> list[str]:
    return list(dict.fromkeys(sources))


def security_headers(settings: Settings, *, reference_policy: str | None = None) -> Callable[[Message, Scope], Awaitable[None]]:
    """A `before_send` hook adding the headers to the start of every HTTP response."""
    common = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if settings.is_production:
        common["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_SECONDS}"
    page_policy = content_security_policy(settings.stripe)

    @lru_cache(maxsize=256)
    def framed_policy(ancestors: tuple[str, ...]) -> str:
        return content_security_policy(settings.stripe, ancestors)

    # Most answers (the API's above all: a door scan's) are neither framed nor the API reference: their headers are
    # fixed, so they are encoded once and added in one pass rather than looked up and set one by one.
    plain = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in {**common, "Content-Security-Policy": page_policy}.items()]
    plain_names = frozenset(name for name, _ in plain)

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope.get("path", "")
        if not path.startswith(FRAMED_PREFIX) and not any(path == prefix or path.startswith(prefix + "/") for prefix in API_REFERENCE_PATHS):
            raw = message.get("headers")
            if raw is not None:
                listed = raw if isinstance(raw, list) else list(raw)
                if any(name.lower() in plain_names for name, _ in listed):
                    listed = [(name, value) for name, value in listed if name.lower() not in plain_names]
                listed.extend(plain)
                message["headers"] = listed
                return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in common.items():
            headers[name] = value
        path = scope.get("path", "")
        is_api_reference = any(path == prefix or path.startswith(prefix + "/") for prefix in API_REFERENCE_PATHS)
        if is_api_reference and reference_policy and (headers.get("content-type") or "").startswith("text/html"):
            headers["Content-Security-Policy"] = reference_policy
        elif ancestors := _frame_ancestors(scope):
            # CSP's frame-ancestors names who may frame the page; X-Frame-Options can only say DENY or SAMEORIGIN, and
            # browsers that know frame-ancestors ignore it, but an old one would refuse the frame: so it goes.
            headers["Content-Security-Policy"] = framed_policy(ancestors)
            del headers["X-Frame-Options"]
        else:
            headers["Content-Security-Policy"] = page_policy

    return add_security_headers
