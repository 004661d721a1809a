"""The security headers' policy follows the configured Stripe.js, and production adds HSTS."""

from pathlib import Path
from typing import Any

from events.config import load_settings
from events.security_headers import content_security_policy, security_headers

PRODUCTION = {
    "EVENTS_ENV": "production",
    "DATABASE_URL": "postgresql://u:p@db/events",
    "EVENTS_SECRET_KEY": "x" * 40,
    "EVENTS_BASE_URL": "https://tickets.example.org",
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "SMTP_HOST": "smtp.example.org",
}


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources.split() for name, sources in (part.strip().split(" ", 1) for part in policy.split(";"))}


def test_scripts_come_from_this_site_and_the_configured_stripe_js_only(tmp_path: Path) -> None:
    settings = load_settings(
        {"EVENTS_VAR_DIR": str(tmp_path), "STRIPE_JS_URL": "http://127.0.0.1:8420/js.stripe.com/v3/", "STRIPE_API_BASE": "http://127.0.0.1:8420"}
    )
    policy = directives(content_security_policy(settings.stripe))
    assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]


def test_real_stripe_may_frame_its_card_fields_and_call_its_api(tmp_path: Path) -> None:
    settings = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    policy = directives(content_security_policy(settings.stripe))
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert "https://hooks.stripe.com" in policy["frame-src"] and "https://js.stripe.com" in policy["frame-src"]
    assert "https://api.stripe.com" in policy["connect-src"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


async def send_through(settings: Any, message: dict[str, Any], path: str = "/") -> dict[str, str]:
    hook = security_headers(settings)
    await hook(message, {"type": "http", "path": path})  # type: ignore[arg-type]
    return {name.decode().lower(): value.decode() for name, value in message.get("headers", [])}


async def test_production_answers_insist_on_https(tmp_path: Path) -> None:
    production = await send_through(
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), **PRODUCTION}), {"type": "http.response.start", "status": 200, "headers": []}
    )
    assert production["strict-transport-security"].startswith("max-age=")
    assert int(production["strict-transport-security"].removeprefix("max-age=")) >= 180 * 24 * 3600
    development = await send_through(load_settings({"EVENTS_VAR_DIR": str(tmp_path)}), {"type": "http.response.start", "status": 200, "headers": []})
    assert "strict-transport-security" not in development
    assert development["x-frame-options"] == "DENY" and "content-security-policy" in development


async def test_a_header_the_handler_set_is_replaced_not_doubled(tmp_path: Path) -> None:
    message = {"type": "http.response.start", "status": 200, "headers": [(b"x-frame-options", b"SAMEORIGIN")]}
    await send_through(load_settings({"EVENTS_VAR_DIR": str(tmp_path)}), message)
    assert [value for name, value in message["headers"] if name.lower() == b"x-frame-options"] == [b"DENY"]


async def test_body_messages_are_left_alone(tmp_path: Path) -> None:
    message = {"type": "http.response.body", "body": b"hello"}
    await send_through(load_settings({"EVENTS_VAR_DIR": str(tmp_path)}), message)
    assert message == {"type": "http.response.body", "body": b"hello"}


async def framed_headers(tmp_path: Path, path: str, origins: list[str]) -> dict[str, str]:
    from events.security_headers import allow_framing

    scope: dict[str, Any] = {"type": "http", "path": path}
    allow_framing(scope, origins)
    message = {"type": "http.response.start", "status": 200, "headers": []}
    await security_headers(load_settings({"EVENTS_VAR_DIR": str(tmp_path)}))(message, scope)  # type: ignore[arg-type]
    return {name.decode().lower(): value.decode() for name, value in message["headers"]}  # type: ignore[attr-defined]


async def test_a_widget_page_may_be_framed_by_the_websites_its_handler_names(tmp_path: Path) -> None:
    headers = await framed_headers(tmp_path, "/embed/events/supper-club", ["https://charity.example.org", "http://localhost:8123"])
    assert directives(headers["content-security-policy"])["frame-ancestors"] == ["https://charity.example.org", "http://localhost:8123"]
    assert "x-frame-options" not in headers


async def test_no_other_page_may_be_framed_whatever_its_handler_says(tmp_path: Path) -> None:
    for path in ("/events/supper-club", "/orders/ABC/pay", "/embed", "/embedded/x"):
        headers = await framed_headers(tmp_path, path, ["https://charity.example.org"])
        assert directives(headers["content-security-policy"])["frame-ancestors"] == ["'none'"], path
        assert headers["x-frame-options"] == "DENY", path


async def test_what_is_not_an_origin_never_reaches_the_header(tmp_path: Path) -> None:
    headers = await framed_headers(tmp_path, "/embed/events/x", ["https://a.example.org; script-src *", "*", "'self'", "https://b.example.org"])
    assert directives(headers["content-security-policy"])["frame-ancestors"] == ["https://b.example.org"]
    assert "script-src *" not in headers["content-security-policy"]
    nothing = await framed_headers(tmp_path, "/embed/events/x", ["javascript:alert(1)"])
    assert directives(nothing["content-security-policy"])["frame-ancestors"] == ["'none'"] and nothing["x-frame-options"] == "DENY"
