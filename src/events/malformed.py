"""Refusing malformed requests at the door, before any handler: a query string or cookies longer than any of ours,
control characters or broken UTF-8 in the path or the query, a NUL anywhere in the body, form fields with control
characters, JSON nested past what a parser can follow. The handlers' schemas then apply the finer rules (events.text) to each field.

PostgreSQL cannot store a NUL in text and refuses the whole statement, so none may reach a query: this is
the backstop for every field a schema or form reader does not check itself.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from events import text
from events.errors import InvalidInput
from events.i18n import N_

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# The longest query string, and the most cookie bytes, a request may carry. Litestar keeps the last 1,024 query strings
# and Cookie headers it parsed, with what it parsed from them (the caches in litestar._parsers), so their size times
# 1,024 is memory any anonymous client could fill in every worker: some 130 MB at the server's own limit of about 64 KB.
# No link or form of ours comes near either limit, nor do the few short cookies this site sets (a session id, the CSRF
# token, the language, a held order...).
MAX_QUERY_BYTES = 8 * 1024
MAX_COOKIE_BYTES = 8 * 1024


class RefuseMalformedRequests(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        _refuse_oversized(scope)
        path_problem = _path_problem(scope)
        if path_problem is not None:
            raise ClientException(path_problem)
        query_problems = _query_problems(scope.get("query_string", b""))
        if query_problems:
            raise ClientException(_sentence(query_problems), extra=query_problems)
        request: Request[Any, Any, Any] = Request(scope, receive)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await _check_body(request)
        await next_app(scope, receive, send)


def _refuse_oversized(scope: Scope) -> None:
    """414 for a query string past MAX_QUERY_BYTES, 431 for cookies past MAX_COOKIE_BYTES. What is refused is taken out
    of the request first, so that the error page (which reads the page's language from both) never parses it."""
    if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        scope["query_string"] = b""
        raise HTTPException(status_code=414, detail=N_("The address is too long."))
    if sum(len(value) for name, value in scope["headers"] if name == b"cookie") > MAX_COOKIE_BYTES:
        scope["headers"] = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
        raise HTTPException(
            status_code=431, detail=N_("This browser sent more cookies than the site ever sets. Clearing this site's cookies fixes it.")
        )


def _path_problem(scope: Scope) -> str | None:
    raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    if raw.isascii() and b"%" not in raw and raw.decode("ascii").isprintable() and scope["path"].isascii() and scope["path"].isprintable():
        # Nothing escaped and nothing beyond ASCII (every API call's path, a door scan's above all): valid UTF-8, and in
        # ASCII the control characters text.parameter_problem looks for are exactly what isprintable() refuses.
        return None
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return N_("The address is not valid UTF-8.")
    if text.parameter_problem(path) or text.parameter_problem(scope["path"]):
        return N_("The address contains a control character.")
    return None


def _query_problems(query: bytes) -> dict[str, str]:
    """Each query parameter (by name) that is not clean text."""
    problems: dict[str, str] = {}
    for pair in query.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            problems[_printable(raw_name)] = N_("This is not valid UTF-8.")
            continue
        problem = text.parameter_problem(name) or text.parameter_problem(value)
        if problem is not None:
            problems[_printable(name.encode("utf-8", "surrogatepass"))] = problem
    return problems


async def _check_body(request: Request[Any, Any, Any]) -> None:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in _FORMS:
        form = await request.form()
        problems: dict[str, str] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                problem = text.parameter_problem(key) or text.form_value_problem(value)
                if problem is not None:
                    problems[_printable(key.encode("utf-8", "surrogatepass"))] = problem
        if problems:
            raise InvalidInput(_sentence(problems), fields=problems)
        return
    body = await request.body()
    if not body:
        return
    if b"\x00" in body:
        raise ClientException(N_("The request contains a NUL character."))
    if "json" not in content_type and content_type != "":
        return
    if _plainly_clean(body):
        return
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        raise ClientException(N_("The JSON is nested too deeply.")) from None
    except msgspec.DecodeError:
        document = _lenient_json(body)
    if request.url.path.startswith("/webhooks/"):
        return  # a provider's event: its handler reads only what it needs, and answers 400 with the event's id
    problems = _bad_strings(document)
    if problems:
        raise InvalidInput(_sentence(problems), fields=problems)


# Fewer brackets than this and the document cannot be nested deeply enough for a parser's recursion limit.
_SHALLOW = 32


def _plainly_clean(body: bytes) -> bool:
    """Whether the JSON check below could not find anything, so the decode can be skipped (a door scan's body,
    decoded again by its handler). ASCII with no backslash holds no escape: no string or key can then hold a NUL,
    a lone surrogate, a C1 control or a line separator (each needs an escape or a non-ASCII byte), a raw C0
    control inside a string is malformed JSON that every parser refuses, and DEL is excluded. Few brackets
    means no deep nesting."""
    return body.isascii() and b"\\" not in body and b"\x7f" not in body and body.count(b"{") + body.count(b"[") < _SHALLOW


def _lenient_json(body: bytes) -> Any:
    """msgspec refuses a lone surrogate escape (``"\\ud800"``) as malformed; Python's parser takes it, so the
    answer can name the field. Anything else that does not parse is left to the handler's parser."""
    try:
        return json.loads(body)
    except RecursionError:
        raise ClientException(N_("The JSON is nested too deeply.")) from None
    except ValueError:
        return None


def _bad_strings(document: Any) -> dict[str, str]:
    """The JSON paths (``buyer.name``, ``items[0]``) of strings and keys holding a NUL or a lone surrogate
    (no recursion: a deep document must not exhaust the stack here either)."""
    problems: dict[str, str] = {}
    todo: list[tuple[str, Any]] = [("", document)]
    while todo and len(problems) < 20:
        where, value = todo.pop()
        if isinstance(value, str):
            if "\x00" in value:
                problems[_printable(where.encode("utf-8", "surrogatepass")) or "body"] = N_("This contains a NUL character.")
            elif (problem := text.parameter_problem(value)) == text.SURROGATE_PROBLEM:
                problems[_printable(where.encode("utf-8", "surrogatepass")) or "body"] = problem
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if text.parameter_problem(key) is not None:
                    problems[_printable(path.encode("utf-8", "surrogatepass"))] = N_("This name contains a control character.")
                todo.append((path, item))
        elif isinstance(value, list):
            todo.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return problems


def _printable(name: bytes) -> str:
    """A parameter's name as it can be shown back: controls escaped, at most 80 characters."""
    shown = name.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")
    return shown[:80]


def _sentence(problems: dict[str, str]) -> str:
    return "Some of the details are not valid: " + "; ".join(f"{name}: {problem}" for name, problem in problems.items())
