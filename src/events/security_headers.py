"""Security headers on every response: a Content-Security-Policy that runs only this site's scripts and Stripe.js, and no framing, sniffing or referrer leaks.

The headers are added by a `before_send` hook, which Litestar calls for every message it sends: pages,
the API, static files, error pages and 404s for paths no route matches (a route middleware would miss
those). A page that needs an exception says so here, by path, so it can be read in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _policy(directives: dict[str, list[str]]) -> str:
    """Directive by directive; one with no sources allows nothing."""
    return "; ".join(f"{name} {' '.join(sources or [NONE])}" for name, sources in directives.items())


def content_security_policy(stripe: StripeSettings) -> str:
    """The policy for every page: scripts, styles, fonts and images from this site; Stripe.js (from the configured
    URL, so a test's localstripe works too) may load, frame its card fields and call its API."""
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
            "frame-ancestors": [],
        }
    )


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

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in common.items():
            headers[name] = value
        path = scope.get("path", "")
        is_api_reference = any(path == prefix or path.startswith(prefix + "/") for prefix in API_REFERENCE_PATHS)
        if is_api_reference and reference_policy and (headers.get("content-type") or "").startswith("text/html"):
            headers["Content-Security-Policy"] = reference_policy
        else:
            headers["Content-Security-Policy"] = page_policy

    return add_security_headers
