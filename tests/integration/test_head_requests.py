"""HEAD is answered wherever GET is (events.head): the same status and headers as the GET, and no body. A sweep over
every GET route of the app, with the demo's real objects in the paths, anonymous and signed in as its organiser."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from events.catalogue.tables import Event, Partner, Series, TicketType
from events.demo import DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD, seed_demo
from events.orders.tables import Order
from events.organisations.tables import Organisation
from events.questions.tables import Question
from events.tickets.tables import Ticket
from events.waitlist.tables import WaitingEntry
from tests.integration.accounts.test_login import sign_in
from tests.support.server import demo_environment, live_server

# Headers that differ between any two responses to the same request.
VOLATILE = {"date", "set-cookie"}
# What the sweep must find answering 200 to an anonymous GET (and so to HEAD): guest pages, the API, static files,
# the favicon, the service worker and the health check.
MUST_ANSWER = [
    "/",
    "/events/{slug:str}",
    "/api/events",
    "/api/events/{slug:str}",
    "/favicon.ico",
    "/sw.js",
    "/healthz",
    "/login",
    "/static/css/site.css",
]
PARAMETER = re.compile(r"{(\w+):\w+}")


async def demo_values(now: datetime) -> dict[str, str]:
    """A real value for each path parameter the demo has an object for; anything else gets a placeholder (a 404 or
    422, which HEAD must then answer alike)."""
    await seed_demo(now, with_demo_login=True, with_demo_sales=True)
    event = await Event.select(Event.id, Event.slug).where(Event.slug == "welcome-cinema-screening").first()
    assert event is not None
    order = await Order.select(Order.reference).where(Order.event == event["id"]).first()
    ticket = await Ticket.select(Ticket.id).first()
    ticket_type = await TicketType.select(TicketType.id).where(TicketType.event == event["id"]).first()
    entry = await WaitingEntry.select(WaitingEntry.id).first()
    question = await Question.select(Question.id).first()
    found = {
        "slug": event["slug"],
        "reference": order["reference"] if order else "NOREFERENCE",
        "ticket_id": str(ticket["id"]) if ticket else "1",
        "type_id": str(ticket_type["id"]) if ticket_type else "1",
        "entry_id": str(entry["id"]) if entry else "1",
        "question_id": str(question["id"]) if question else "1",
        "partner_slug": (await Partner.select(Partner.slug).first() or {"slug": "none"})["slug"],
        "series_slug": (await Series.select(Series.slug).first() or {"slug": "none"})["slug"],
        "file_path": "css/site.css",
    }
    return found


def concrete(path: str, values: dict[str, str], organisation: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug" and path.startswith(("/organisations/", "/api/organisations/")):
            return organisation
        return values.get(name, "x")

    return PARAMETER.sub(value, path)


def get_paths(app: Litestar, values: dict[str, str], organisation: str) -> list[str]:
    paths = sorted({route.path for route in app.routes if isinstance(route, HTTPRoute) and "GET" in route.methods})
    return [concrete(path, values, organisation) for path in paths]


def comparable(response: httpx.Response) -> dict[str, str]:
    headers = {name: value for name, value in response.headers.items() if name not in VOLATILE}
    # The cookies set (by name): their values (a fresh CSRF token each time) differ.
    headers["set-cookie names"] = ",".join(sorted(cookie.split("=", 1)[0] for cookie in response.headers.get_list("set-cookie")))
    return headers


async def assert_head_like_get(client: httpx.AsyncClient, path: str) -> int:
    # Both from the same cookies: the first response's (a new CSRF cookie) must not change what the second sets.
    cookies = httpx.Cookies(client.cookies)
    got = await client.get(path)
    client.cookies = httpx.Cookies(cookies)
    head = await client.head(path)
    assert head.status_code == got.status_code, f"HEAD {path}: {head.status_code}, GET: {got.status_code}"
    assert head.content == b"", f"HEAD {path} sent a body"
    assert comparable(head) == comparable(got), f"HEAD {path}: headers differ from GET's"
    return got.status_code


async def test_head_is_answered_like_get_on_every_get_route(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    values = await demo_values(now)
    organisation = (await Organisation.select(Organisation.slug).where(Organisation.slug == "refugee-welcome").first() or {"slug": "x"})["slug"]
    paths = get_paths(app, values, organisation)
    assert len(paths) > 100  # every GET route of the app, not a hand-picked few

    statuses = {path: await assert_head_like_get(client, path) for path in paths}
    for path in MUST_ANSWER:
        assert statuses[concrete(path, values, organisation)] == 200, path
    assert sum(status == 200 for status in statuses.values()) >= 20

    organiser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with organiser:
        assert (await sign_in(organiser, DEMO_ORGANISER_EMAIL, DEMO_ORGANISER_PASSWORD)).status_code == 303
        signed_in = {path: await assert_head_like_get(organiser, path) for path in paths}
    # The back office's pages answer the organiser (HEAD as GET), not only its sign-in redirect.
    assert sum(status == 200 for status in signed_in.values()) > sum(status == 200 for status in statuses.values())


@pytest.mark.parametrize("path", ["/", "/api/events", "/no-such-page"])
async def test_a_head_response_has_the_get_responses_length_and_no_body(client: httpx.AsyncClient, path: str) -> None:
    got = await client.get(path, headers={"Accept-Encoding": "identity"})
    head = await client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == got.status_code
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))


def test_head_through_the_real_server_keeps_the_connection_and_logs_no_error(tmp_path: Path) -> None:
    """Through uvicorn as `events serve` runs it: the server reads its own record of the request after the app has
    answered, so a HEAD must still be a HEAD to it (no body expected, no "content shorter than Content-Length" error),
    and the connection stays open for the next request."""
    env = demo_environment(tmp_path)
    with live_server(env) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        sockets = set()
        for path in ("/", "/events/welcome-cinema-screening", "/api/events", "/healthz", "/static/css/site.css"):
            response = client.head(path)
            assert response.status_code == 200, path
            assert response.content == b""
            assert int(response.headers["content-length"]) > 0
            sockets.add(id(response.extensions["network_stream"]))
        assert client.get("/healthz").status_code == 200
    log = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert "Traceback" not in log
    assert "shorter than Content-Length" not in log
    assert len(sockets) == 1  # one keep-alive connection served every HEAD
