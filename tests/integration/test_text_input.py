"""Malformed text is refused at the door: every text field of every JSON body (found in the OpenAPI document,
not listed by hand), every path and query parameter and every posted form refuses NUL, control characters,
lone surrogates and text with nothing visible in it, and one-line fields refuse line breaks. A 4xx that
names the field, never a 500, and nothing written. Names in any script still pass."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from events import text
from events.catalogue.tables import Event
from events.orders.tables import Order
from tests.factories import event_payload, make_event, make_partner

BAD_TEXT = {
    "NUL": "ab\x00cd",
    "bell (C0 control)": "ab\x07cd",
    "escape sequence": "\x1b[31mred",
    "DEL": "ab\x7fcd",
    "C1 control": "ab\x9bcd",
    "lone surrogate": "ab\ud800cd",
    "empty after trimming": "   ",
    "only invisible characters": "\u200b\u200c\u2060\ufeff",
}
LINE_BREAKS = {"LF": "ab\ncd", "CR": "ab\rcd", "CRLF": "ab\r\ncd", "line separator": "ab\u2028cd"}
MULTI_LINE_PATTERNS = {text.TEXT_PATTERN, text.OPTIONAL_TEXT_PATTERN}
PATH_VALUES = {
    "slug": "no-such-event", "partner_slug": "no-such-partner", "reference": "NOSUCHREF", "code": "nocode", "ticket_id": "1", "type_id": "1", "user_id": "1", "token_id": "1", "sign_in_id": "1",
    "question_id": "1", "refund_id": "1",
    "series_slug": "no-such-series",
    "invitation_id": "1", "organisation_slug": "no-such-organisation", "organisation": "no-such-organisation", "action": "publish", "secret": "nosecret", "page_secret": "nosecret", "token": "notoken", "name": "name", "file_path": "x.css", "path": "x.css", "choice": "refund", "entry_id": "1", "payout_id": "1",
}  # fmt: skip

# A valid value for each kind of string the API takes (the field under test is then the only wrong one).
VALID_BY_PATTERN = {
    text.LINE_PATTERN: "Valid text",
    text.OPTIONAL_LINE_PATTERN: "Valid text",
    text.TEXT_PATTERN: "Valid text",
    text.OPTIONAL_TEXT_PATTERN: "Valid text",
}


def _valid_string(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date-time":
        return "2030-01-01T10:00:00+00:00"
    if schema.get("format") == "date":
        return "2030-01-01"
    pattern = schema.get("pattern")
    if pattern is None:
        return "Valid text"
    if pattern in VALID_BY_PATTERN:
        return VALID_BY_PATTERN[pattern]
    for candidate in ("valid-slug", "GBP", "https://example.org", "guest@example.org"):
        if re.search(pattern, candidate):
            return candidate
    raise AssertionError(f"No valid example for the pattern {pattern!r}: add one")


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with $ref followed and oneOf narrowed to its non-null choice (Litestar puts a
    union's constraints beside the oneOf)."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "oneOf" in schema:
        choice = next(option for option in schema["oneOf"] if option.get("type") != "null")
        merged = {**_resolve(choice, components), **{k: v for k, v in schema.items() if k != "oneOf"}}
        return merged
    return schema


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A valid value with every property filled in (and one item in every list)."""
    schema = _resolve(schema, components)
    kind = schema.get("type")
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    if kind == "object" or "properties" in schema:
        return {name: example(sub, components) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema["items"], components)]
    if kind == "string":
        return _valid_string(schema)
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    raise AssertionError(f"Unexpected schema {schema}")


def text_fields(schema: dict[str, Any], components: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(JSON path as the API names it, schema) of every free-text string in a body."""
    schema = _resolve(schema, components)
    if schema.get("type") == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from text_fields(sub, components, f"{where}.{name}" if where else name)
    elif schema.get("type") == "array":
        yield from text_fields(schema["items"], components, f"{where}[0]")
    elif schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        yield where, schema


def _set(body: Any, path: str, value: str) -> Any:
    keys = [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", path)]
    target = body
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return body


def _fill(path: str, existing: dict[str, str] | None = None) -> str:
    values = PATH_VALUES | (existing or {})
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda match: values[match.group(1)], path)


def _operations() -> list[Any]:
    """Every API operation that takes a JSON body, with its text fields, from the OpenAPI document."""
    import tempfile
    from pathlib import Path

    from events.app import create_app
    from tests.conftest import make_settings

    var = Path(tempfile.mkdtemp())
    app = create_app(make_settings(f"sqlite:///{var}/openapi.sqlite3", var))
    document = json.loads(json.dumps(app.openapi_schema.to_schema(), default=str))
    components = document["components"]["schemas"]
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            body_schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            if body_schema is not None:
                fields = dict(text_fields(body_schema, components))
                operations.append(pytest.param(method.upper(), path, body_schema, components, fields, id=f"{method.upper()} {path}"))
    return operations


OPERATIONS = _operations()


def test_every_json_text_field_is_covered() -> None:
    """The cases really span the API: each body with text has its fields here (a new field joins by itself)."""
    fields = {(operation.values[1], field) for operation in OPERATIONS for field in operation.values[4]}
    for expected in [
        ("/api/events", "title"), ("/api/events", "ticket_types[0].name"), ("/api/events/{slug}/orders", "buyer.name"),
        ("/api/events/{slug}/orders", "gift_aid.first_name"), ("/api/claims", "name"), ("/api/partners", "name"),
        ("/api/checkin/sync", "scans[0].secret"), ("/api/tickets/{ticket_id}", "holder"), ("/api/events/{slug}/cancel", "reason"),
    ]:  # fmt: skip
        assert expected in fields
    assert len({path for path, _ in fields}) >= 14


@pytest.fixture
async def owner(client: httpx.AsyncClient, now: datetime) -> dict[str, str]:
    """Headers of an owner, whom every JSON route's role guard lets in (inviting people is for owners only)."""
    from events.accounts import service

    await service.create_user("owner@test.example", role="owner", password=None)
    return {"Authorization": f"Bearer {await service.create_api_token('owner@test.example', now=now)}"}


@pytest.mark.parametrize(("method", "path", "schema", "components", "fields"), OPERATIONS)
async def test_bad_text_in_any_json_field_is_refused_naming_it(
    client: httpx.AsyncClient,
    owner: dict[str, str],
    method: str,
    path: str,
    schema: dict[str, Any],
    components: dict[str, Any],
    fields: dict[str, dict[str, Any]],
) -> None:
    """Each text field of the body in turn, with each bad value (line breaks too for one-line fields), the rest valid,
    on real objects (the role guards answer 404 for a path naming nothing, before the body is read)."""
    existing = await _real_objects()
    wrong = []
    for field, field_schema in fields.items():
        bad = BAD_TEXT | ({} if field_schema.get("pattern") in MULTI_LINE_PATTERNS else LINE_BREAKS)
        for label, value in bad.items():
            body = _set(example(schema, components), field, value)
            # Python's json escapes a lone surrogate as \ud800, as a client's would.
            response = await client.request(
                method, _fill(path, existing), content=json.dumps(body).encode(), headers={**owner, "Content-Type": "application/json"}
            )
            if response.status_code != 422 or field not in response.json().get("fields", {}):
                wrong.append((field, label, response.status_code, response.text[:200]))
    assert not wrong
    assert await Event.count() == 1 and await Order.count() == 1  # nothing was made
    assert [event["title"] for event in await Event.select(Event.title)] == ["Supper Club"]  # nor changed


async def _real_objects() -> dict[str, str]:
    """An event with its partners and a free place's order and ticket, as path values."""
    from events.catalogue.lookup import partner_id
    from events.ledger.tables import Payout
    from events.orders import claims
    from events.organisations import service as organisations
    from events.series import service as series_service
    from events.series.schemas import SeriesIn
    from events.tickets.issuing import issue_and_confirm

    now = datetime.now().astimezone()
    slug = await make_event(now)
    place = await claims.give_free_place(slug, name="Amal Haddad", email="amal@example.org", issue=issue_and_confirm, now=now)
    series = await series_service.create_series(SeriesIn(title="Supper series"), organisation_id=(await organisations.resolve(None)).id, now=now)
    payout = Payout(partner=await partner_id("welcome-kitchen"), amount_pence=100, paid_on=now, bank_reference="BACS 1", override_reason="Agreed")
    await payout.save()
    return {
        "slug": slug,
        "partner_slug": "welcome-kitchen",
        "reference": place.order_reference,
        "ticket_id": str(place.ticket_id),
        "series_slug": series.slug,
        "payout_id": str(payout.id),
    }


async def make_partners() -> None:
    for slug in ("welcome-kitchen", "welcome-cinema"):
        await make_partner(slug)


NAMES = {
    "Arabic": "أمل حداد",
    "Farsi with a ZWNJ": "می\u200cخواهم شیرین",
    "CJK": "王小明",
    "Japanese": "山田 花子",
    "emoji ZWJ family": "Ana 👨\u200d👩\u200d👧",
    "flag and skin tone": "Kemi 🇳🇬 👋🏾",
    "accents and apostrophe": "Zoë O'Brien-Núñez",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
async def test_names_in_any_script_pass(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, name: str) -> None:
    await make_partners()
    created = await client.post("/api/events", json=event_payload(now, title=name, slug="names", venue=name), headers=organiser)
    assert created.status_code == 201, created.text
    assert created.json()["title"] == name
    slug = created.json()["slug"]
    type_id = created.json()["ticket_types"][0]["id"]
    order = await client.post(
        f"/api/events/{slug}/orders",
        json={"buyer": {"name": name, "email": "guest@example.org"}, "items": [{"ticket_type": type_id, "quantity": 1}]},
    )
    assert order.status_code == 201, order.text
    assert (await Order.select(Order.buyer_name).first())["buyer_name"] == name


async def test_multi_line_fields_keep_their_lines(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await make_partners()
    description = "Doors at seven.\r\nBring a dish to share.\n\tVegetarian food."
    created = await client.post("/api/events", json=event_payload(now, description=description, address="1 High St\nLeeds"), headers=organiser)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == description


async def test_an_event_title_with_a_line_break_is_refused(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """Today's bug: a title with a line break went in, and every email of the event then failed."""
    await make_partners()
    response = await client.post("/api/events", json=event_payload(now, title="Supper\r\nBcc: everyone@example.org"), headers=organiser)
    assert response.status_code == 422
    assert "title" in response.json()["fields"]
    assert await Event.count() == 0


# --- path and query parameters ---------------------------------------------------------------------------

BAD_PARAMETERS = {
    "NUL": "a%00b",
    "line feed": "a%0Ab",
    "escape": "%1B%5B31m",
    "C1 control": "a%C2%9Bb",
    "UTF-8 of a lone surrogate": "a%ED%A0%80b",
    "not UTF-8": "a%FFb",
}


def _routes(app: Litestar) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path) for route in app.routes if isinstance(route, HTTPRoute) for method in route.methods if method not in ("HEAD", "OPTIONS")
    )


@pytest.mark.parametrize("value", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
async def test_bad_path_parameters_are_refused_on_every_route(
    app: Litestar, client: httpx.AsyncClient, organiser: dict[str, str], value: str
) -> None:
    await make_event(datetime.now().astimezone())
    tried = 0
    for method, path in _routes(app):
        for name in re.findall(r"\{(\w+)", path):
            url = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path)
            url = _fill(url)
            response = await client.request(method, url, headers=organiser)
            assert response.status_code in (400, 404), (method, url, response.status_code, response.text[:300])
            tried += 1
    assert tried > 30
    response = await client.get(f"/static/{value}")
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("value", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
async def test_bad_query_parameters_are_refused_on_every_route(
    app: Litestar, client: httpx.AsyncClient, organiser: dict[str, str], value: str
) -> None:
    slug = await make_event(datetime.now().astimezone())
    for method, path in _routes(app):
        url = _fill(path.replace("{slug:str}", slug).replace("{slug}", slug))
        for query in (f"q={value}", f"lang={value}", f"{value}=1"):
            response = await client.request(method, f"{url}?{query}", headers=organiser)
            assert response.status_code in (400, 404), (method, url, query, response.status_code, response.text[:300])
            if response.status_code == 400 and url.startswith("/api/"):
                assert response.json()["error"] == "bad_request"


# --- posted forms ----------------------------------------------------------------------------------------

BAD_FORM_VALUES = {"NUL": "ab%00cd", "bell": "ab%07cd", "escape": "%1B%5B31m", "C1": "a%C2%85b"}


@pytest.mark.parametrize("value", BAD_FORM_VALUES.values(), ids=BAD_FORM_VALUES.keys())
async def test_every_form_post_refuses_control_characters_naming_the_field(
    app: Litestar, client: httpx.AsyncClient, now: datetime, value: str
) -> None:
    slug = await make_event(now)
    posts = [path for method, path in _routes(app) if method == "POST" and not path.startswith(("/api/", "/webhooks/"))]
    assert len(posts) > 10
    for path in posts:
        url = _fill(path.replace("{slug:str}", slug))
        body = f"title=Fine&name={value}&csrf_token=x"
        response = await client.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 422, (url, response.status_code, response.text[:300])
        assert "name: This contains a control character." in response.text, response.text[:500]
    assert await Order.count() == 0
    assert [event["title"] for event in await Event.select(Event.title)] == [event_payload(now)["title"]]


async def test_a_nul_anywhere_in_a_body_is_refused(client: httpx.AsyncClient, organiser: dict[str, str]) -> None:
    raw = await client.post("/api/partners", content=b'{"name": "a\x00b"}', headers={**organiser, "Content-Type": "application/json"})
    assert raw.status_code == 400
    escaped = await client.post("/api/partners", content=b'{"name": "Kitchen", "description": "x\\u0000"}', headers=organiser)
    assert escaped.status_code == 422 and "description" in escaped.json()["fields"]
    key = await client.post("/api/partners", content=b'{"name\\u0000": "Kitchen"}', headers=organiser)
    assert key.status_code == 422
    other = await client.post("/api/partners", content=b"name=a\x00b", headers={**organiser, "Content-Type": "text/plain"})
    assert other.status_code == 400
