"""Trustworthy under attack, §1: no script a visitor sends runs in anyone's browser.

The sweep reads the app's route table (and the OpenAPI document) and the pages' own forms, and sends marked script
payloads in every path parameter, query parameter and form or JSON text field of every route, signed in as an
organiser and anonymously. Payloads that are stored (event titles, ticket-type and partner names, buyers' and
holders' names...) are shown later on the pages that display them. Every HTML answer is opened in Chromium, and the
test fails if any payload ran (a dialog, a global it sets, a javascript: URL rendered into a link or form), naming
the page and where the payload was put. JSON answers must say they are JSON, so no browser renders them as HTML.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest

from events.app import create_app
from tests.conftest import make_settings
from tests.support.script_injection import (
    CSRF_FIELD,
    FIELD_KINDS,
    PATH_KINDS,
    Answer,
    Form,
    Marks,
    Route,
    base_values,
    integer_selects,
    match_route,
    open_answers,
    parse_page,
    query_of,
    route_table,
    scripts_that_fetch,
    with_value,
)
from tests.support.server import demo_environment, live_server, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORGANISER = ("organiser@example.org", "organiser-demo-2026")  # seeded by `events demo` in development
STATIC = Path(__file__).resolve().parents[2] / "static"

# Routes the sweep leaves alone, and why. Everything else in the route table must be exercised.
EXCLUDED = {
    # Files from static/, served by Litestar's static router: no code of ours reads the path, and none is a page.
    "GET /static/{file_path}",
    "HEAD /static/{file_path}",
    # Reads nothing but the CSRF token (no path, query or form field to carry a payload), and its form is offered
    # only once the organisation has a logo, which the sweep's form posts (URL-encoded, not a file) cannot upload.
    "POST /manage/organisation/logo/remove",
    # Reads nothing but the CSRF token too, and its form is offered only while a Stripe account is connected, which
    # needs a Stripe server the sweep does not run (tests/integration/payments/test_organisation_stripe.py uses it).
    "POST /manage/organisation/stripe/disconnect",
}
# Page POST routes whose form the sweep cannot make a page show; their path parameters are swept all the same.
NO_FORM = {
    "POST /manage/events/{slug}/cancellation",  # offered only while a cancellation is unfinished (a refund failed)
    "POST /manage/events/{slug}/statement/stripe-import",  # offered only when Stripe is configured
    "POST /manage/people/{user_id}/reactivate",  # offered only once the person is deactivated (swept last)
    "POST /platform/organisations/{organisation_slug}/unsuspend",  # offered only once an organisation is suspended (swept last)
    "POST /manage/organisation/stripe/disconnect",  # offered only while a Stripe account is connected (needs Stripe)
    "POST /reset-password/{token}",  # offered only by the link in a password-reset email
    "POST /invitations/{token}",  # offered only by the link in an invitation email
    "POST /manage/people/invitations/{invitation_id}/resend",  # offered only once an invitation is pending
    "POST /manage/people/invitations/{invitation_id}/revoke",  # offered only once an invitation is pending
    "POST /manage/organisation/logo/remove",  # offered only once there is a logo (see EXCLUDED)
    "POST /waiting-list/{token}/accept",  # offered only by the link of an offer of freed places
    "POST /waiting-list/{token}/leave",  # offered only on a guest's own waiting-list page (its link, after joining)
    "POST /orders/{reference}/cancelled",  # offered only by the link in a cancelled event's message (guests choosing refund or donation)
    "POST /orders/{reference}/answers",  # offered only from the order page of an event that asks questions, reached by its link
    "POST /manage/events/{slug}/questions/{question_id}/move",  # offered only once an event asks two questions or more
    "POST /manage/events/{slug}/statement/pay-it-forward",  # offered only on a closed event's statement with unused money
    "POST /manage/orders/{reference}/refunds/{refund_id}/given-back",  # offered only under a refund Stripe refused
}
# Forms whose valid submission would end the sweep's own set-up (cancel the event, stop sales, refund the order, sign
# in or out, end sign-ins, deactivate a person, turn the browser into a paired door phone...):
# they are swept last, and never submitted with plain values while exploring.
DESTRUCTIVE = re.compile(
    r"/(status/[^/]+|cancellation|remove|revoke|refund|stop|erase|login|logout|door/pair/[^/]+|deactivate|end|end-others|suspend|unsuspend)$"
    r"|^/account/organisation$"
)
# Of those, the ones that take the organiser out of the organisation the sweep works in (suspending it, switching
# to the other): submitted at the very end, after the last look at every page.
LEAVING = re.compile(r"/(suspend|unsuspend)$|^/account/organisation$")
# Global query parameter every request may carry: the app reads it before any handler (the page's language).
GLOBAL_QUERY = ("lang",)
WHO = ("organiser", "guest")  # a signed-in organiser's browser, and an anonymous visitor's
# The embeddable ticket form too: no page links to it (organisers paste its snippet into their own websites).
GUEST_STARTS = ["/", "/login", "/embed/events/choose-love-night"]
ORGANISER_STARTS = ["/manage", "/manage/guests", "/manage/audit", "/platform", "/account", "/"]
JSON = re.compile(r"application/([\w.-]+\+)?json\b")  # application/json, application/vnd.oai.openapi+json
# A statement as an Excel workbook (a download no browser renders as a page).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def sweep_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A server of its own on SQLite, seeded with the demo: the sweep renames, buys, refunds and cancels."""
    var_dir = tmp_path_factory.mktemp("sweep-server")
    env = demo_environment(var_dir)
    # The organiser also runs the service and is on the kitchen's team too, so the pages offer every form there is:
    # the platform admin's and switching organisation.
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as database:
        database.execute("UPDATE app_user SET is_platform_admin = 1 WHERE email = ?", (ORGANISER[0],))
        database.execute(
            'INSERT INTO membership ("user", organisation, role, partner, restricted, created_at) '
            "SELECT u.id, o.id, 'organiser', NULL, 0, CURRENT_TIMESTAMP FROM app_user u, organisation o WHERE u.email = ? AND o.slug = ?",
            (ORGANISER[0], "open-kitchen"),
        )
    token = run_cli(env, "token", "create", ORGANISER[0], "--org", "refugee-welcome").strip().split()[-1]
    with live_server(env) as base_url:
        yield base_url, token, env


class Sweep:
    def __init__(self, base_url: str, routes: list[Route], clients: dict[str, httpx.AsyncClient], token: str) -> None:
        self.base_url = base_url
        self.api_headers = {"Authorization": f"Bearer {token}"}  # the organiser's API token
        self.routes = routes
        self.clients = clients
        self.marks = Marks()
        self.answers: list[Answer] = []
        self.problems: list[str] = []  # answers a browser could render as HTML although they are not pages
        self.exercised: set[str] = set()
        self.values: dict[tuple[str, str], str] = {}
        self.samples: dict[tuple[str, str], list[str]] = defaultdict(list)  # (who, route key) -> URLs seen
        self.forms: dict[str, list[Form]] = defaultdict(list)
        self.form_signatures: set[tuple[str, Any]] = set()
        self.submitted: set[tuple[str, Any]] = set()
        self.ticked: set[tuple[str, Any]] = set()  # forms a person submits with their checkboxes ticked
        self.query_fields: dict[str, set[str]] = defaultdict(set)  # GET forms' fields are query parameters
        self.form_routes: set[str] = set()
        self.log: list[str] = []

    # --- sending and keeping answers --------------------------------------------------------------------------

    async def send(self, who: str, method: str, url: str, label: str, form: list[tuple[str, str]] | None = None, **kwargs: Any) -> httpx.Response:
        if form is not None:
            kwargs.update(content=urlencode(form), headers={**kwargs.get("headers", {}), "Content-Type": "application/x-www-form-urlencoded"})
        response = await self.clients[who].request(method, url, **kwargs)
        content_type = response.headers.get("content-type", "")
        path = urlsplit(str(response.url)).path
        self.log.append(f"{who} {label} -> {response.status_code} {response.url}")
        if content_type.startswith("text/html"):
            self.answers.append(Answer(who, f"{who} {label}", str(response.url), response.status_code, dict(response.headers), response.content))
        found = match_route(self.routes, method, urlsplit(url).path)
        if found and found[0].json_api and not JSON.match(content_type):
            self.problems.append(f"{who} {label} -> {response.status_code} {path} answered {content_type!r}, not JSON")
        elif path.startswith("/api/") and not content_type.startswith(("application/json", "text/csv", "application/pdf", XLSX)):
            self.problems.append(f"{who} {label} -> {response.status_code} {path} answered {content_type!r}")
        return response

    def learn_url(self, who: str, method: str, url: str) -> None:
        # Any host: links the app builds from its configured public address (pairing, claim links) count too.
        parts = urlsplit(url)
        found = match_route(self.routes, method, parts.path)
        if not found:
            return
        route, params = found
        for name, value in params.items():
            self.values.setdefault((route.literal_before(name), name), value)
            self.values.setdefault(("", name), value)
        path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
        if path_and_query not in self.samples[(who, route.key)]:
            self.samples[(who, route.key)].append(path_and_query)

    def learn_page(self, who: str, response: httpx.Response) -> list[str]:
        """Remember the page's links and forms; return the links worth opening."""
        url = str(response.url)
        self.learn_url(who, "GET", url)
        if not response.headers.get("content-type", "").startswith("text/html"):
            return []
        page = parse_page(url, response.text)
        for link in page.links:
            self.learn_url(who, "GET", link)
        for form in page.forms:
            self.learn_url(who, form.method, form.action)
            found = match_route(self.routes, form.method, urlsplit(form.action).path)
            if found is None:
                continue
            if form.method == "GET":
                self.query_fields[found[0].key] |= {f.name for f in form.fields if f.kind != "submit"}
                continue
            self.form_routes.add(found[0].key)
            if (who, form.signature) not in self.form_signatures:
                self.form_signatures.add((who, form.signature))
                self.forms[who].append(form)
        return [self.local(link) for link in page.links if self.worth_opening(link)]

    @staticmethod
    def local(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def worth_opening(self, url: str) -> bool:
        parts = urlsplit(url)
        # Not the language switch (it would change the session's language) and no downloads: they hold no links.
        return not parts.path.startswith(("/language/", "/static/", "/schema")) and not re.search(r"\.(csv|pdf|ics|js)$", parts.path)

    # --- exploring: pages, and forms submitted as a person would ------------------------------------------------

    def base(self, who: str, form: Form) -> list[tuple[str, str]]:
        return base_values(form, tick_all=(who, form.signature) in self.ticked or self.destructive(form))

    async def explore(self, who: str, starts: list[str], *, submit: bool = True, label: str = "exploring", per_route_cap: int = 3) -> None:
        """Open pages from ``starts`` on, following links (a few per route); with ``submit``, submit each new form
        as a person would (ticking its checkboxes if it will not go through otherwise) and follow on from there."""
        queue = deque(starts)
        chosen = set(starts)  # opened whatever the cap
        opened: set[str] = set()
        per_route: dict[str, int] = defaultdict(int)
        while True:
            while queue:
                url = queue.popleft()
                path = urlsplit(url).path
                found = match_route(self.routes, "GET", path)
                capped = url not in chosen and per_route[found[0].key] >= per_route_cap if found else True
                if url in opened or capped or not self.worth_opening(url):
                    continue
                opened.add(url)
                per_route[found[0].key] += url not in chosen
                response = await self.send(who, "GET", url, f"GET {found[0].key} ({label})", headers=self.headers(who, found[0]))
                queue.extend(self.learn_page(who, response))
            form = next((f for f in self.forms[who] if (who, f.signature) not in self.submitted and not self.destructive(f)), None)
            if form is None or not submit:
                return
            self.submitted.add((who, form.signature))
            response = await self.send(who, form.method, form.action, f"{form.method} {form.action} ({label})", form=self.base(who, form))
            if response.status_code >= 400 and any(f.kind == "checkbox" and not f.checked for f in form.fields):
                self.ticked.add((who, form.signature))
                response = await self.send(who, form.method, form.action, f"{form.method} {form.action} ({label}, ticked)", form=self.base(who, form))
            queue.extend(self.learn_page(who, response))

    def handed_out(self) -> list[str]:
        """Pages a guest reaches through what the organiser hands out: order and ticket pages, claim links, pairing."""
        return [url for (_, key), urls in list(self.samples.items()) for url in urls if key.startswith("GET ") and not key.startswith("GET /manage")]

    @staticmethod
    def destructive(form: Form) -> bool:
        return bool(DESTRUCTIVE.search(urlsplit(form.action).path))

    def route_of(self, form: Form) -> Route:
        found = match_route(self.routes, form.method, urlsplit(form.action).path)
        assert found is not None
        return found[0]

    # --- the sweep ----------------------------------------------------------------------------------------------

    async def sweep_forms(self, who: str, forms: list[Form]) -> dict[tuple[int, str], bool]:
        """Each of a form's fields in turn gets each payload, the other fields what a person would send."""
        accepted: dict[tuple[int, str], bool] = {}
        for form in forms:
            route = self.route_of(form)
            base = self.base(who, form)
            fields = form.swept_fields()
            if not fields and not route.path_params:
                payload = self.marks.payload("attribute", f"{who} {route.key} query lang")
                await self.send(
                    who,
                    form.method,
                    form.action + ("&" if "?" in form.action else "?") + urlencode({"lang": payload}),
                    f"{route.key} ?lang=payload",
                    form=base,
                )
                self.exercised.add(route.key)
            for name in fields:
                for kind in FIELD_KINDS:
                    payload = self.marks.payload(kind, f"{who} {route.key} field {name}")
                    response = await self.send(who, form.method, form.action, f"{route.key} {name}={kind}", form=with_value(base, name, payload))
                    self.exercised.add(route.key)
                    if kind == "markup":
                        accepted[(id(form), name)] = response.status_code < 400
        return accepted

    async def store(self, who: str, forms: list[Form], accepted: dict[tuple[int, str], bool]) -> None:
        """Each form once more with the markup payload in every field that took it: stored, it shows later. Then
        each number-of-tickets select one past its last option, so the error message names the stored things."""
        for form in forms:
            route = self.route_of(form)
            values = self.base(who, form)
            for name in form.swept_fields():
                if accepted.get((id(form), name)):
                    values = with_value(values, name, self.marks.payload("markup", f"stored through {who} {route.key} field {name}"))
            await self.send(who, form.method, form.action, f"{route.key} (storing payloads)", form=values)
            for name, largest in integer_selects(form):
                await self.send(
                    who,
                    form.method,
                    form.action,
                    f"{route.key} {name}={largest + 1} (past the last option)",
                    form=with_value(values, name, str(largest + 1)),
                )

    def base_url_for(self, who: str, route: Route) -> tuple[dict[str, str], dict[str, str]]:
        """Path and query values that reach the handler: a URL seen on the pages, else values seen elsewhere."""
        for someone in (who, *WHO):
            if self.samples[(someone, route.key)]:
                sample = self.samples[(someone, route.key)][0]
                found = route.pattern.match(urlsplit(sample).path)
                assert found is not None
                return found.groupdict(), query_of(sample)
        params = {name: self.values.get((route.literal_before(name), name)) or self.values.get(("", name)) or "1" for name in route.path_params}
        return params, {}

    @staticmethod
    def url(route: Route, params: dict[str, str], query: dict[str, str]) -> str:
        path = route.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        return path + (f"?{urlencode(query)}" if query else "")

    def variants(self, who: str, route: Route) -> Iterator[tuple[str, str]]:
        """(label, URL) with one payload in one path or query parameter, for each parameter and payload."""
        params, query = self.base_url_for(who, route)
        for name in route.path_params:
            # With the query the page was seen with, and without it (a missing parameter is a different error).
            for kept in [query, {}] if query else [query]:
                for kind in PATH_KINDS:
                    payload = quote(self.marks.payload(kind, f"{who} {route.key} path {name}"), safe="")
                    yield f"{route.key} {name}={kind}", self.url(route, {**params, name: payload}, kept)
        names = dict.fromkeys([*route.query_params, *self.query_fields[route.key], *query, *GLOBAL_QUERY])
        for name in names:
            for kind in FIELD_KINDS:
                payload = self.marks.payload(kind, f"{who} {route.key} query {name}")
                yield f"{route.key} ?{name}={kind}", self.url(route, params, {**query, name: payload})

    async def sweep_gets(self, who: str, routes: list[Route]) -> None:
        for route in routes:
            for label, url in self.variants(who, route):
                await self.send(who, "GET", url, label, headers=self.headers(who, route))
                self.exercised.add(route.key)

    async def view(self, who: str, routes: list[Route], starts: list[str]) -> None:
        """Open every page again, and what their links lead to (events, partners and orders the sweep created),
        to show what was stored."""
        pages = [self.url(route, *self.base_url_for(who, route)) for route in routes]
        await self.explore(who, starts + pages, submit=False, label="showing what was stored", per_route_cap=8)

    def headers(self, who: str, route: Route) -> dict[str, str]:
        return self.api_headers if who == "organiser" and is_api(route) else {}

    async def sweep_posts_by_path(self, who: str, routes: list[Route]) -> None:
        """Page routes that take a form: a payload in each path parameter, with the form's values and CSRF token."""
        for route in routes:
            form = next((f for f in self.forms[who] if self.route_of(f) == route), None)
            data = self.base(who, form) if form else [(CSRF_FIELD, self.csrf_token(who))]
            params, query = self.base_url_for(who, route)
            for name in route.path_params:
                for kind in PATH_KINDS:
                    payload = quote(self.marks.payload(kind, f"{who} {route.key} path {name}"), safe="")
                    await self.send(who, route.method, self.url(route, {**params, name: payload}, query), f"{route.key} {name}={kind}", form=data)
                    self.exercised.add(route.key)

    def csrf_token(self, who: str) -> str:
        for form in self.forms[who]:
            for f in form.fields:
                if f.name == CSRF_FIELD:
                    return f.value
        return ""

    async def sweep_api(self, who: str, routes: list[Route], openapi: dict[str, Any]) -> None:
        """JSON routes: payloads in path parameters and in every string of the body the OpenAPI document describes."""
        for route in routes:
            params, query = self.base_url_for(who, route)
            operation = openapi["paths"].get(route.path, {}).get(route.method.lower(), {})
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            headers = self.api_headers if who == "organiser" else {}
            for kind in FIELD_KINDS:
                origin = f"{who} {route.key} JSON body"
                body = (
                    example(schema, openapi, lambda where, k=kind, o=origin: self.marks.payload(k, f"{o} {where}"))
                    if schema
                    else {"payload": self.marks.payload(kind, origin)}
                )
                await self.send(who, route.method, self.url(route, params, query), f"{route.key} body={kind}", json=body, headers=headers)
                self.exercised.add(route.key)
            for name in route.path_params:
                for kind in PATH_KINDS:
                    payload = quote(self.marks.payload(kind, f"{who} {route.key} path {name}"), safe="")
                    await self.send(
                        who, route.method, self.url(route, {**params, name: payload}, query), f"{route.key} {name}={kind}", headers=headers
                    )


def is_api(route: Route) -> bool:
    return route.json_api or route.path.startswith(("/api/", "/webhooks/"))


def example(schema: dict[str, Any], openapi: dict[str, Any], text: Any, where: str = "") -> Any:
    """A JSON value of the schema's shape: every string is a payload (``text(where)``), numbers are 1."""
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], openapi, text, where) if options else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return {name: example(sub, openapi, text, f"{where}.{name}") for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), openapi, text, f"{where}[0]")]
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    return text(where.lstrip(".") or "body")


async def sign_in(client: httpx.AsyncClient) -> None:
    opened = await client.get("/login")
    form = parse_page(str(opened.url), opened.text).forms[0]
    values = with_value(with_value(base_values(form), "email", ORGANISER[0]), "password", ORGANISER[1])
    response = await client.post(form.action, content=urlencode(values), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert urlsplit(str(response.url)).path != "/login", "the organiser is signed in"
    # They are on two teams: the sweep works in the network's, which has the supper club and the club night.
    account = await client.get("/account")
    network = re.search(r'name="organisation_id" value="(\d+)">\s*<button[^>]*aria-label="Switch to Refugee Welcome Network"', account.text)
    for switch in parse_page(str(account.url), account.text).forms:
        values = base_values(switch)
        if network and urlsplit(switch.action).path == "/account/organisation" and ("organisation_id", network.group(1)) in values:
            await client.post(switch.action, content=urlencode(values), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert 'aria-label="Switch to Refugee Welcome Network"' not in (await client.get("/account")).text, "the organiser acts for the network"


async def test_no_script_sent_to_any_route_runs_in_a_browser(browser, sweep_server, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url, token, env = sweep_server
    started = time.monotonic()
    clients = {who: httpx.AsyncClient(base_url=base_url, follow_redirects=True, timeout=60) for who in WHO}
    openapi = (await clients["guest"].get("/schema/openapi.json")).json()
    routes = route_table(create_app(make_settings(env["DATABASE_URL"], Path(env["EVENTS_VAR_DIR"]))), openapi)
    sweep = Sweep(base_url, routes, clients, token)
    try:
        await sign_in(clients["organiser"])
        # Signed in on a second browser too, so the organiser's account page offers ending the other sign-ins.
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=True, timeout=60) as elsewhere:
            await sign_in(elsewhere)
        # Explore as each person: open the pages, submit each form as a person would (buy and pay for a ticket,
        # add a claim link, register a door device...), and learn real values for every path parameter.
        await sweep.explore("guest", GUEST_STARTS)
        await sweep.explore("organiser", ORGANISER_STARTS)
        # A guest opens what the organiser hands out: the order and ticket pages, claim links, phone pairing.
        await sweep.explore("guest", sweep.handed_out())

        pages = [r for r in routes if r.method == "GET" and r.key not in EXCLUDED]
        safe_forms = {
            who: sorted((f for f in sweep.forms[who] if not sweep.destructive(f)), key=lambda f: not urlsplit(f.action).path.startswith("/manage"))
            for who in WHO
        }
        accepted = {who: await sweep.sweep_forms(who, safe_forms[who]) for who in WHO}
        for who in WHO:
            await sweep.store(who, safe_forms[who], accepted[who])
        for who in WHO:
            await sweep.sweep_gets(who, pages)
        # Every page again, and what its links lead to, showing what the forms stored.
        await sweep.view("organiser", pages, ORGANISER_STARTS)
        await sweep.view("guest", pages, GUEST_STARTS + sweep.handed_out())

        # Last, what cancels, refunds, removes or signs out, and the JSON API (which can cancel and refund too).
        posts = [r for r in routes if r.method != "GET" and not is_api(r) and r.path_params and r.key not in EXCLUDED]
        for who in WHO:
            await sweep.sweep_posts_by_path(who, posts)
        api = [r for r in routes if r.method != "GET" and is_api(r) and r.key not in EXCLUDED]
        for who in WHO:
            await sweep.sweep_api(who, api, openapi)
        for who in WHO:
            signing_out_last = sorted(
                (f for f in sweep.forms[who] if sweep.destructive(f) and not LEAVING.search(urlsplit(f.action).path)),
                key=lambda f: f.action.endswith(("/login", "/logout")),
            )
            await sweep.sweep_forms(who, signing_out_last)
        # The organiser signs in again; the guest is a new visitor (the login form may have signed them in).
        await sign_in(clients["organiser"])
        await clients["guest"].aclose()
        clients["guest"] = httpx.AsyncClient(base_url=base_url, follow_redirects=True, timeout=60)
        # Again, for what the last steps stored (the reasons given for refunds and cancellations).
        await sweep.view("organiser", pages, ORGANISER_STARTS)
        await sweep.view("guest", pages, GUEST_STARTS + sweep.handed_out())
        # Last of all, suspending organisations and switching to the other one.
        await sweep.sweep_forms("organiser", [f for f in sweep.forms["organiser"] if LEAVING.search(urlsplit(f.action).path)])
        cookies = {who: [{"name": c.name, "value": c.value or "", "url": base_url} for c in client.cookies.jar] for who, client in clients.items()}
    finally:
        for client in clients.values():
            await client.aclose()
    requested = time.monotonic() - started

    fetching = scripts_that_fetch(STATIC)
    assert "/static/js/door.js" in fetching  # the door page syncs its guest list
    findings, opened = await open_answers(browser, base_url, sweep.answers, sweep.marks, cookies, fetching=fetching)
    report = "\n".join(sorted(set(findings)))
    (artifacts_dir / "script-injection-requests.txt").write_text("\n".join(sweep.log) + "\n")
    (artifacts_dir / "script-injection.txt").write_text(
        f"{len(sweep.log)} requests, {len(sweep.answers)} HTML answers; {opened} distinct ones a payload could reach opened in Chromium; "
        f"requests took {requested:.0f}s, the whole sweep {time.monotonic() - started:.0f}s.\n\n{report}\n"
    )

    expected = {r.key for r in routes} - EXCLUDED
    assert sweep.exercised == expected, f"routes not swept: {sorted(expected - sweep.exercised)}; unknown: {sorted(sweep.exercised - expected)}"
    page_posts = {r.key for r in routes if r.method == "POST" and not is_api(r)} - NO_FORM
    assert page_posts <= sweep.form_routes, f"POST routes with no form found on any page: {sorted(page_posts - sweep.form_routes)}"
    assert not sweep.problems, "answers a browser could take for a page:\n" + "\n".join(sweep.problems)
    assert not findings, f"{len(set(findings))} payloads ran in Chromium:\n{report}"
