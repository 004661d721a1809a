"""The script-injection sweep's machinery: the app's route table, pages' links and forms, marked payloads, and
opening answers in Chromium to see whether any payload ran."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from litestar import Litestar
from litestar.constants import RESERVED_KWARGS

# Each payload carries a number that says where it was put, so a script that runs names its source. The numbers
# start high so that no figure on a page (a price, an id) is mistaken for one.
FIRST_MARK = 770_001
PAYLOADS = {
    # Closes whatever it lands in (a quoted attribute, a title, a textarea, an inline script), then opens a dialog.
    "markup": "'\"></title></textarea></script><svg onload=alert({n})>",
    # Short, for fields with a length limit, and without a slash, for path parameters (a slash would end the
    # segment, so the router would never hand the markup payload to the handler). It sets a global.
    "attribute": "'\"><svg onload=__xss={n}>",
    # Runs if a link, image or form is ever pointed at it.
    "url": "javascript:alert({n})",
}
FIELD_KINDS = ("markup", "attribute", "url")
PATH_KINDS = ("attribute", "url")
MARK = re.compile(r"\b(7\d{5})\b")


DIGITS = re.compile(rb"\d{6,}")


class Marks:
    """Hands out numbered payloads and remembers where each was put."""

    def __init__(self) -> None:
        self.origins: list[str] = []

    def carried_by(self, data: bytes) -> bool:
        """Whether ``data`` holds any mark handed out (in any run of digits: a percent-encoded payload's "%28770001%29"
        too), so a payload may be in it."""
        last = FIRST_MARK + len(self.origins)
        for run in DIGITS.findall(data):
            for start in range(len(run) - 5):
                if FIRST_MARK <= int(run[start : start + 6]) < last:
                    return True
        return False

    def payload(self, kind: str, origin: str) -> str:
        self.origins.append(f"{origin} ({kind} payload)")
        return PAYLOADS[kind].format(n=FIRST_MARK + len(self.origins) - 1)

    def origin(self, mark: int) -> str:
        index = mark - FIRST_MARK
        return self.origins[index] if 0 <= index < len(self.origins) else f"unknown mark {mark}"


# --- the route table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # e.g. /orders/{reference}/pay
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    pattern: re.Pattern[str]
    json_api: bool  # answers with JSON (its handler's media type)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def literal_before(self, name: str) -> str:
        """The path segment before a parameter ("partners" in /api/partners/{slug}): which kind of thing it names."""
        segments = self.path.strip("/").split("/")
        index = segments.index("{" + name + "}")
        return segments[index - 1] if index else ""


def route_table(app: Litestar, openapi: dict[str, Any]) -> list[Route]:
    """Every (method, path) the app answers, with the query parameters its handler declares and the OpenAPI
    document lists. Litestar's automatic OPTIONS answers are left out: they run no code of ours."""
    routes = []
    for route in app.routes:
        for handler in route.route_handlers:
            methods = sorted(set(getattr(handler, "http_methods", ())) - {"OPTIONS"})
            if not methods:
                continue
            path_params = tuple(route.path_parameters)
            dependencies = set(handler.resolve_dependencies())
            query = []
            for name, definition in handler.parsed_fn_signature.parameters.items():
                if name in RESERVED_KWARGS or name in dependencies or name in path_params:
                    continue
                kwarg = definition.kwarg_definition
                if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
                    continue
                query.append(getattr(kwarg, "query", None) or name)
            for method in methods:
                operation = openapi.get("paths", {}).get(route.path_format, {}).get(method.lower(), {})
                query += [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
                media_type = str(getattr(handler, "media_type", ""))
                routes.append(
                    Route(
                        method=method,
                        path=route.path_format,
                        path_params=path_params,
                        query_params=tuple(dict.fromkeys(query)),
                        pattern=_pattern(route.path_format, path_params, route.path),
                        json_api="json" in media_type.lower(),
                    )
                )
    # Fixed paths first, so /manage/events/new is not read as an event called "new".
    return sorted(routes, key=lambda r: (r.path.count("{"), r.path, r.method))


def _pattern(path_format: str, names: tuple[str, ...], raw_path: str) -> re.Pattern[str]:
    regex = re.escape(path_format)
    for name in names:
        any_text = f"{{{name}:path}}" in raw_path
        regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>{'.+' if any_text else '[^/]+'})")
    return re.compile(f"^{regex}$")


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None


# --- pages: links and forms ---------------------------------------------------------------------------------

CSRF_FIELD = "_csrf_token"
NOT_TEXT = {"checkbox", "radio", "submit", "button", "image", "reset", "file"}


@dataclass
class FormField:
    name: str
    kind: str  # text (every input that takes typed or hidden text, and textarea), select, radio, checkbox, submit
    input_type: str = "text"
    value: str = ""
    required: bool = False
    inputmode: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # (value, selected)


@dataclass
class Form:
    action: str  # a path with any query
    method: str
    fields: list[FormField]
    page: str

    @property
    def signature(self) -> tuple[str, str, tuple[str, ...]]:
        return self.method, urlsplit(self.action).path, tuple(sorted({f.name for f in self.fields}))

    def swept_fields(self) -> list[str]:
        """The fields a person's typing reaches the server through (a crafted request can send anything in a
        select, a radio button or a checkbox too); never the CSRF token, or the request would not reach the handler."""
        swept = {"text", "select", "radio", "checkbox"}
        return list(dict.fromkeys(f.name for f in self.fields if f.kind in swept and f.name != CSRF_FIELD))


class PageParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: FormField | None = None
        self._select: FormField | None = None
        self._option: list[Any] | None = None
        self._formactions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "option" and self._select is not None:
            self._end_option()
            self._option = [a.get("value"), "selected" in a, ""]
            return
        if tag == "a":
            if a.get("href"):
                self.links.append(urljoin(self.page_url, a["href"]))
            return
        if tag == "form":
            self._formactions = []
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self._form = Form(action=action, method=(a.get("method") or "get").upper(), fields=[], page=self.page_url)
            self.forms.append(self._form)
            return
        if tag == "input" and a.get("value", "").startswith(("http://", "https://")):
            self.links.append(a["value"])  # an address shown to copy (a claim link)
        if self._form is None:
            return
        if tag in {"button", "input"} and a.get("formaction"):
            # A button that sends the same fields somewhere else (e.g. "export" and "erase" under one list).
            self._formactions.append(urljoin(self.page_url, a["formaction"]))
        if not a.get("name"):
            return
        if tag == "input":
            input_type = (a.get("type") or "text").lower()
            kind = input_type if input_type in NOT_TEXT else "text"
            self._form.fields.append(
                FormField(
                    a["name"],
                    "submit" if kind in {"submit", "image"} else kind,
                    input_type,
                    a.get("value", ""),
                    "required" in a,
                    a.get("inputmode", ""),
                    "checked" in a,
                )
            )
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self._form.fields.append(FormField(a["name"], "submit", "submit", a.get("value", "")))
        elif tag == "textarea":
            self._textarea = FormField(a["name"], "text", "textarea", "", "required" in a)
            self._form.fields.append(self._textarea)
        elif tag == "select":
            self._select = FormField(a["name"], "select", "select", "", "required" in a)
            self._form.fields.append(self._select)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            for action in dict.fromkeys(self._formactions):
                self.forms.append(Form(action=action, method="POST", fields=list(self._form.fields), page=self.page_url))
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._end_option()
            self._select = None
        elif tag == "option":
            self._end_option()

    def _end_option(self) -> None:
        if self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select.options.append((value if value is not None else text.strip(), selected))
        self._option = None


def parse_page(url: str, html: str) -> PageParser:
    parser = PageParser(url)
    parser.feed(html)
    parser.close()
    return parser


def base_values(form: Form, *, tick_all: bool = False) -> list[tuple[str, str]]:
    """What a person would send: what the page filled in, a first real choice in each select, and something
    plausible in each required field left empty; with ``tick_all``, every checkbox ticked (an "I confirm")."""
    values: list[tuple[str, str]] = []
    radios_done: set[str] = set()
    submitted = False
    for f in form.fields:
        if f.kind == "text":
            values.append((f.name, f.value or _plausible(f)))
        elif f.kind == "select" and f.options:
            chosen = next((v for v, selected in f.options if selected and v not in ("", "0")), None)
            chosen = chosen or next((v for v, _ in f.options if v not in ("", "0")), f.options[0][0])
            values.append((f.name, chosen))
        elif f.kind == "radio" and f.name not in radios_done:
            group = [g for g in form.fields if g.kind == "radio" and g.name == f.name]
            values.append((f.name, next((g.value for g in group if g.checked), group[0].value)))
            radios_done.add(f.name)
        elif f.kind == "checkbox" and (f.checked or tick_all):
            values.append((f.name, f.value or "on"))
        elif f.kind == "submit" and not submitted:
            values.append((f.name, f.value))
            submitted = True
    return values


def _plausible(f: FormField) -> str:
    if not f.required:
        return ""
    if f.input_type == "email" or f.name in {"email", "contact"}:  # a guest is found by their email
        return "sweep@example.org"
    if f.input_type == "password":
        return "a long sweep password"
    if f.input_type == "datetime-local":
        return "2031-09-12T19:00"
    if f.input_type == "date":
        return "2031-09-12"
    if f.input_type == "tel":
        return "07911 123456"  # a mobile number: the claim form takes no other
    if f.input_type == "number" or f.inputmode in {"numeric", "decimal"}:
        return "2"
    return "Sweep"


def with_value(values: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    if any(n == name for n, _ in values):
        return [(n, value if n == name else v) for n, v in values]
    return [*values, (name, value)]


def integer_selects(form: Form) -> list[tuple[str, int]]:
    """Selects offering whole numbers (how many tickets), with their largest option."""
    found = []
    for f in form.fields:
        numbers = [v for v, _ in f.options]
        if f.kind == "select" and numbers and all(v.isdigit() for v in numbers):
            found.append((f.name, max(int(v) for v in numbers)))
    return found


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# --- opening answers in Chromium ----------------------------------------------------------------------------


@dataclass
class Answer:
    """An HTML answer to open, whose browser got it, and what was sent to get it."""

    who: str
    label: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


CSRF_VALUE = re.compile(rb'(name="_csrf_token" value=")[^"]*')
HOP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "set-cookie"}
FINDINGS_SCRIPT = """() => {
  const urls = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      if (/^(href|src|action|formaction|xlink:href|data|poster|srcdoc)$/i.test(attribute.name)
          && /^\\s*javascript:/i.test(attribute.value)) {
        urls.push(`<${element.tagName.toLowerCase()} ${attribute.name}="${attribute.value}">`);
      }
    }
  }
  return {globals: [].concat(window.__xss ?? []).map(String), urls};
}"""


# What a script of ours does that brings a page data from elsewhere than its body and address, and how it names the
# scripts it imports (static imports, bare imports and dynamic ones).
FETCHES = re.compile(r"\b(fetch|XMLHttpRequest|EventSource|WebSocket)\b")
IMPORTS = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+\.js)["']""")


def scripts_that_fetch(static_dir: Path) -> frozenset[str]:
    """The app's scripts, by their /static/ paths, that fetch data from the server or import one that does: a page that
    loads one can show what it did not carry in its body or address (the door page's guest list, synced)."""
    sources = {"/static/" + path.relative_to(static_dir).as_posix(): path.read_text(encoding="utf-8") for path in static_dir.rglob("*.js")}
    fetching = {path for path, text in sources.items() if FETCHES.search(text)}
    while True:
        importing = {
            path for path, text in sources.items() if path not in fetching and any(urljoin(path, name) in fetching for name in IMPORTS.findall(text))
        }
        if not importing:
            return frozenset(fetching)
        fetching |= importing


# What any payload starts to run with, should one be cut short (a name kept to its first 80 characters) before its
# mark: markup opened unescaped, or a javascript: address.
PAYLOAD_FRAGMENTS = (b"<svg", b"javascript:")


def may_run_a_payload(answer: Answer, marks: Marks, fetching: frozenset[str]) -> bool:
    """Whether a payload may reach this page in a browser: its mark in the body, the address (which scripts can read)
    or a header, any payload's opening in the body, or a script of ours that fetches data (scripts_that_fetch; the
    app's other scripts read only the page and its address, and service workers are blocked while answers are
    opened). Only a page with none of these is left unopened."""
    return (
        marks.carried_by(answer.body)
        or marks.carried_by(unquote(answer.url).encode())
        or any(marks.carried_by(unquote(value).encode()) for value in answer.headers.values())
        or any(fragment in answer.body.lower() for fragment in PAYLOAD_FRAGMENTS)
        or any(script.encode() in answer.body for script in fetching)
    )


# Pages that must be found out, opened with the sweep's answers: if any of them is not reported, the way answers are
# opened and looked at has stopped seeing what a payload does, and the sweep would pass whatever the app does.
CONTROL_MARK = FIRST_MARK - 1
CONTROLS = {  # what each control page does, and the start of what must be reported
    "a dialog": (f"<svg onload=alert({CONTROL_MARK})>", "a alert opened"),
    "a global": (f"<svg onload=__xss={CONTROL_MARK}>", f"window.__xss was set to {CONTROL_MARK}"),
    "a javascript: URL": (f'<a href="javascript:alert({CONTROL_MARK})">link</a>', "a javascript: URL was rendered"),
}


def control_answers(base_url: str, who: str) -> list[Answer]:
    return [
        Answer(
            who,
            f"control: {what} for {who}",
            f"{base_url}/sweep-control-{n}",
            200,
            {"content-type": "text/html; charset=utf-8"},
            f"<!doctype html><title>control</title>{body}".encode(),
        )
        for n, (what, (body, _)) in enumerate(CONTROLS.items())
    ]


async def open_answers(
    browser: Any,
    base_url: str,
    answers: list[Answer],
    marks: Marks,
    cookies: dict[str, list[dict[str, str]]],
    *,
    fetching: frozenset[str] = frozenset(),
    tabs: int = 4,
) -> tuple[list[str], int]:
    """Open each answer a payload may run in (may_run_a_payload) at the URL it came from, in a browser context per
    person holding their cookies (so the page's own scripts fetch what that person would see), a few tabs at a time,
    and return what ran: dialogs, globals set by payloads, and javascript: URLs put into links, sources or forms.
    Answers that differ only in their CSRF token are opened once. Each person's tabs also open the control pages
    (CONTROLS), and AssertionError says which of them was not found out; their findings are not returned."""
    unique: dict[tuple[str, bytes], Answer] = {}
    for answer in answers:
        if may_run_a_payload(answer, marks, fetching):
            unique.setdefault((answer.who, hashlib.sha256(CSRF_VALUE.sub(rb"\1", answer.body)).digest()), answer)
    for who in cookies:
        for control in control_answers(base_url, who):
            unique[(who, control.label.encode())] = control
    findings: list[str] = []
    scripts: dict[str, tuple[int, dict[str, str], bytes]] = {}  # the app's own scripts, fetched once

    def describe(answer: Answer, what: str) -> str:
        marked = MARK.search(what)
        source = f" (from {marks.origin(int(marked.group(1)))})" if marked else ""
        return f"{answer.label} -> {answer.status} {answer.url}: {what}{source}"

    async def tab(context: Any, queue: asyncio.Queue[Answer]) -> None:
        page = await context.new_page()
        current: dict[str, Any] = {}

        async def serve(route: Any) -> None:
            request = route.request
            if request.is_navigation_request() and request.frame == page.main_frame and "answer" in current:
                answer = current.pop("answer")
                headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
                await route.fulfill(status=answer.status, headers=headers, body=answer.body)
            elif not request.url.startswith(base_url + "/"):
                await route.abort()  # nothing from elsewhere (the OpenAPI page's viewer comes from a CDN)
            elif request.resource_type == "script":
                if request.url not in scripts:
                    fetched = await route.fetch()
                    scripts[request.url] = (fetched.status, fetched.headers, await fetched.body())
                status, headers, body = scripts[request.url]
                await route.fulfill(status=status, headers=headers, body=body)
            elif request.resource_type in {"image", "media", "font", "stylesheet", "document"}:
                await route.abort()  # a failed image still fires onerror; a page does not get to navigate away
            else:
                await route.continue_()  # what the page's own scripts fetch, from the live server

        async def on_dialog(dialog: Any) -> None:
            findings.append(describe(current["opened"], f"a {dialog.type} opened: {dialog.message!r}"))
            await dialog.dismiss()

        await page.route("**/*", serve)
        page.on("dialog", on_dialog)
        while not queue.empty():
            answer = queue.get_nowait()
            current.update(answer=answer, opened=answer)
            try:
                await page.goto(answer.url, wait_until="load", timeout=10_000)
                seen = await page.evaluate(FINDINGS_SCRIPT)
            except Exception as error:  # noqa: BLE001 - a page that will not load is reported, not skipped
                findings.append(describe(answer, f"could not be opened: {error}"))
                continue
            findings.extend(describe(answer, f"window.__xss was set to {value}") for value in seen["globals"])
            findings.extend(describe(answer, f"a javascript: URL was rendered: {url}") for url in seen["urls"])
        await page.close()

    for who, jar in cookies.items():
        queue: asyncio.Queue[Answer] = asyncio.Queue()
        for (owner, _), answer in unique.items():
            if owner == who:
                queue.put_nowait(answer)
        context = await browser.new_context(service_workers="block")
        try:
            await context.add_cookies(jar)
            await asyncio.gather(*(tab(context, queue) for _ in range(tabs)))
        finally:
            await context.close()
    for who in cookies:
        for control, (_, reported) in zip(control_answers(base_url, who), CONTROLS.values(), strict=True):
            expected = f"{control.label} -> 200 {control.url}: {reported}"
            assert any(finding.startswith(expected) for finding in findings), f"{control.label} was not found out"
    return [finding for finding in findings if not finding.startswith("control: ")], len(unique) - len(cookies) * len(CONTROLS)
