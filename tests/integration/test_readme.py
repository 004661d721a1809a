"""The README cannot drift: its API examples run against a real server, and its layout matches the source tree.

API examples. Every fenced block in README.md that mentions curl is read as a shell script and its commands run
in order, against one server seeded with the demo, as a reader following the README would run them. A command may
continue over lines with a trailing backslash or inside quotes. Two kinds of command are understood:

- ``NAME=$(events ARGS…)`` runs the `events` command on the test server's database and sets ``$NAME`` to what it
  prints (e.g. ``TOKEN=$(events token create organiser@example.org)``);
- ``curl [options] URL`` becomes one HTTP request. Options: ``-X``/``--request``, ``-H``/``--header``,
  ``-d``/``--data``/``--data-raw`` (sent byte for byte, and POST unless ``-X`` says otherwise) and the output
  switches ``-s`` ``-S`` ``-f`` ``-i`` (and their long forms). The URL must start with the documented address,
  http://127.0.0.1:8000, which becomes the test server's.

``$NAME`` and ``${NAME}`` are replaced as a shell would (not inside single quotes) by a variable set earlier. A comment
line straight after a command, ``# → 201 …``, names the status it answers; without one any 2xx will do. Anything
else (another command, an unknown curl option, an unset variable, another address) fails the test and names the
README line, so a new example is never skipped; and every mention of curl in the README must be one of the
commands run, so an example written some other way fails too.

API tables. The routes in the first column of the "## API" tables are exactly the API's (/api/…) routes in the
OpenAPI document; see documented_routes() for the shorthand (``…/more``, ``(`.csv`)``).

Commands. The "## Commands" block names every `events` command, and only options they have.

Layout. The first fenced block under "## Layout" lists paths: each line starts with one or more paths (a folder ends
in ``/``, a file has an extension), then optionally says what they hold. Unindented paths are from the repository
root; indented ones are inside the unindented folder above them (``src/events/`` then ``  catalogue/``). Every path
named must exist, and every package in src/events/ must be named.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import demo_environment, live_server, run_cli

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCUMENTED_ORIGIN = "http://127.0.0.1:8000"
PACKAGE_ROOT = "src/events/"


# --- reading the README ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, as an editor shows it
    text: str


@dataclass(frozen=True)
class Block:
    language: str
    heading: str  # the "## " section it is in
    lines: list[Line]


def readme_lines() -> list[Line]:
    return [Line(number, text) for number, text in enumerate(README.read_text(encoding="utf-8").splitlines(), start=1)]


def fenced_blocks(lines: list[Line]) -> list[Block]:
    blocks: list[Block] = []
    heading = ""
    opened: tuple[str, list[Line]] | None = None
    for line in lines:
        fence = line.text.startswith("```")
        if opened is None:
            if fence:
                opened = (line.text[3:].strip(), [])
            elif line.text.startswith("## "):
                heading = line.text[3:].strip()
        elif fence:
            blocks.append(Block(opened[0], heading, opened[1]))
            opened = None
        else:
            opened[1].append(line)
    assert opened is None, "README.md has a fenced block that is never closed"
    return blocks


# --- API examples: shell commands into steps ---------------------------------------------------------

# Where "$NAME" stood; the NUL bytes keep it one shell word and cannot come from the README.
PLACEHOLDER = re.compile("\x00([A-Za-z_][A-Za-z0-9_]*)\x00")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=\$\((events\b[^()#]*)\)(?:\s+#.*)?")
EXPECTED_STATUS = re.compile(r"#\s*→\s*(\d{3})\b")
SWITCHES = {"-s", "--silent", "-S", "--show-error", "-f", "--fail", "-i", "--include"}
SHORT_SWITCH_LETTERS = set("sSfi")


class UnreadableExample(Exception):
    """A README example the test cannot run as written; the message names its line."""


@dataclass(frozen=True)
class Assignment:
    line: int
    name: str
    argv: list[str]


@dataclass(frozen=True)
class Request:
    line: int
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str | None
    expected_status: int | None


Step = Assignment | Request


def shell_prepare(text: str) -> tuple[str, bool]:
    """Remove line continuations and mark variables (outside single quotes) as placeholders, as a shell would expand
    them. Returns the text and whether the command is complete (no open quote, no trailing backslash)."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote == "'":
            out.append(char)
            if char == "'":
                quote = ""
        elif char == "\\":
            if i + 1 == len(text):
                return "".join(out), False
            if text[i + 1] != "\n":
                out.append(text[i : i + 2])
            i += 2
            continue
        elif char == "$" and (match := VARIABLE.match(text, i)):
            out.append(f"\x00{match.group(1) or match.group(2)}\x00")
            i = match.end()
            continue
        else:
            out.append(char)
            if char in "'\"" and (not quote or quote == char):
                quote = "" if quote else char
        i += 1
    return "".join(out), not quote


def shell_commands(block: Block) -> list[tuple[int, str, str | None]]:
    """The block's commands: (first line, text with placeholders, the comment line straight after it, if any)."""
    commands: list[tuple[int, str, str | None]] = []
    pending: list[Line] = []
    waiting_for_comment: tuple[int, str] | None = None
    for line in block.lines:
        stripped = line.text.strip()
        if not pending:
            if waiting_for_comment is not None:
                comment = stripped if stripped.startswith("#") else None
                commands.append((*waiting_for_comment, comment))
                waiting_for_comment = None
            if not stripped or stripped.startswith("#"):
                continue
        pending.append(line)
        prepared, complete = shell_prepare("\n".join(part.text for part in pending))
        if complete:
            waiting_for_comment = (pending[0].number, prepared)
            pending = []
    if pending:
        raise UnreadableExample(f"README line {pending[0].number}: the command never ends (an open quote or a trailing backslash)")
    if waiting_for_comment is not None:
        commands.append((*waiting_for_comment, None))
    return commands


def read_step(line: int, text: str, comment: str | None) -> Step:
    stripped = text.strip()
    if assignment := ASSIGNMENT.fullmatch(stripped):
        return Assignment(line, assignment.group(1), shlex.split(assignment.group(2), comments=True)[1:])
    try:
        words = shlex.split(text, comments=True)
    except ValueError as error:
        raise UnreadableExample(f"README line {line}: {error}") from error
    if not words or words[0] != "curl":
        raise UnreadableExample(
            f"README line {line}: an API example block may only hold curl commands and NAME=$(events …) lines, not {stripped.splitlines()[0]!r}"
        )
    status = EXPECTED_STATUS.match(comment) if comment else None
    return read_curl(line, words[1:], int(status.group(1)) if status else None)


def read_curl(line: int, args: list[str], expected_status: int | None) -> Request:
    method: str | None = None
    headers: list[tuple[str, str]] = []
    body: str | None = None
    urls: list[str] = []
    words = iter(args)
    for word in words:
        if word in SWITCHES or (re.fullmatch(r"-[a-zA-Z]{2,}", word) and set(word[1:]) <= SHORT_SWITCH_LETTERS):
            continue
        if word in ("-X", "--request", "-H", "--header", "-d", "--data", "--data-raw"):
            value = next(words, None)
            if value is None:
                raise UnreadableExample(f"README line {line}: curl's {word} needs a value")
            if word in ("-X", "--request"):
                method = value
            elif word in ("-H", "--header"):
                name, colon, header_value = value.partition(":")
                if not colon:
                    raise UnreadableExample(f"README line {line}: the header {value!r} has no ':'")
                headers.append((name.strip(), header_value.strip()))
            else:
                if body is not None:
                    raise UnreadableExample(f"README line {line}: give one -d per curl command")
                if word != "--data-raw" and value.startswith("@"):
                    raise UnreadableExample(f"README line {line}: -d @file is not supported; put the JSON in the command")
                body = value
        elif word.startswith("-"):
            raise UnreadableExample(
                f"README line {line}: curl option {word} is not one this test understands "
                f"(-X, -H, -d, --data-raw, -s, -S, -f, -i); add it to tests/integration/test_readme.py or write the "
                f"example without it"
            )
        else:
            urls.append(word)
    if len(urls) != 1:
        raise UnreadableExample(f"README line {line}: a curl example needs exactly one URL, found {urls}")
    if not urls[0].startswith(DOCUMENTED_ORIGIN + "/"):
        raise UnreadableExample(f"README line {line}: the URL {urls[0]!r} should start with {DOCUMENTED_ORIGIN}/, the address `make run` serves")
    return Request(line, method or ("POST" if body is not None else "GET"), urls[0], headers, body, expected_status)


def api_examples(lines: list[Line]) -> list[Step]:
    steps: list[Step] = []
    for block in fenced_blocks(lines):
        if block.language == "http":
            raise UnreadableExample(f"README line {block.lines[0].number - 1}: write HTTP examples as curl commands, which this test runs")
        if not any(re.search(r"\bcurl\b", line.text) for line in block.lines):
            continue
        steps.extend(read_step(*command) for command in shell_commands(block))
    defined: set[str] = set()
    for step in steps:
        words = step.argv if isinstance(step, Assignment) else [step.url, *(value for _, value in step.headers), step.body or ""]
        for name in PLACEHOLDER.findall("".join(words)):
            if name not in defined:
                raise UnreadableExample(f"README line {step.line}: ${name} is used before the README sets it (e.g. {name}=$(events …))")
        if isinstance(step, Assignment):
            defined.add(step.name)
    return steps


def resolve(text: str, variables: dict[str, str]) -> str:
    """The text with each variable's value (api_examples has made sure each is set before it is used)."""
    return PLACEHOLDER.sub(lambda match: variables[match.group(1)], text)


# --- API examples: the tests ---------------------------------------------------------------------------


def test_every_curl_in_the_readme_is_an_example_the_test_runs() -> None:
    lines = readme_lines()
    steps = api_examples(lines)
    requests = [step for step in steps if isinstance(step, Request)]
    assert requests, "README.md shows no API example (a curl command in a fenced block)"
    mentioned = Counter(line.number for line in lines for _ in re.finditer(r"\bcurl\b", line.text))
    run = Counter(request.line for request in requests)
    not_run = sorted((mentioned - run).elements())
    assert not not_run, (
        f"README.md mentions curl on line(s) {not_run} outside the examples this test runs; write each API example "
        f"as a curl command in a fenced block (see tests/integration/test_readme.py) so it is checked"
    )
    assert sum(mentioned.values()) == len(requests), f"README.md mentions curl {sum(mentioned.values())} times but has {len(requests)} curl examples"


@pytest.fixture
async def readme_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database for the README's server: SQLite, then PostgreSQL when TEST_DATABASE_URL is set."""
    if backend == "sqlite":
        yield databases.sqlite_url(tmp_path)
        return
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


def test_the_readme_api_examples_work_against_a_live_server(readme_database: str, tmp_path: Path) -> None:
    steps = api_examples(readme_lines())
    env = demo_environment(tmp_path, readme_database)
    variables: dict[str, str] = {}
    with live_server(env) as base_url, httpx.Client(timeout=30) as http:
        for step in steps:
            if isinstance(step, Assignment):
                argv = [resolve(word, variables) for word in step.argv]
                output = run_cli(env, *argv).strip()
                assert output and "\n" not in output, f"README line {step.line}: `events {' '.join(argv)}` printed {output!r}, not one value"
                variables[step.name] = output
                continue
            url = base_url + resolve(step.url, variables).removeprefix(DOCUMENTED_ORIGIN)
            headers = [(name, resolve(value, variables)) for name, value in step.headers]
            body = resolve(step.body, variables) if step.body is not None else None
            if body is not None and not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # what curl -d sends
            response = http.request(step.method, url, headers=headers, content=body.encode() if body is not None else None)
            expected = f"{step.expected_status}" if step.expected_status else "2xx"
            ok = response.status_code == step.expected_status if step.expected_status else response.is_success
            assert ok, (
                f"README line {step.line}: {step.method} {url.removeprefix(base_url)} answered {response.status_code}, "
                f"the README expects {expected}:\n{response.text[:2000]}"
            )


def test_the_example_reader_understands_the_shell_it_documents() -> None:
    """The parts of shell the examples rely on, read as a shell would, so the live test runs what a reader runs."""
    readme = [
        "## API",
        "```sh",
        "TOKEN=$(events token create someone@example.org --label 'Door 1')  # shown once",
        "# a comment between commands",
        "curl -sS -X PATCH http://127.0.0.1:8000/api/events/x \\",
        '  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
        """  -d '{"title": "Costs $5",""",
        """       "venue": "#1"}'""",
        "# → 200 the changed event",
        "",
        "curl http://127.0.0.1:8000/api/events/${TOKEN}/orders -d 'a=1'  # trailing comment",
        "```",
    ]
    steps = api_examples([Line(number, text) for number, text in enumerate(readme, start=1)])
    assert steps[0] == Assignment(3, "TOKEN", ["token", "create", "someone@example.org", "--label", "Door 1"])
    patch = steps[1]
    assert isinstance(patch, Request) and (patch.line, patch.method, patch.expected_status) == (5, "PATCH", 200)
    assert resolve(patch.headers[0][1], {"TOKEN": "evt_abc"}) == "Bearer evt_abc"
    assert json.loads(patch.body or "") == {"title": "Costs $5", "venue": "#1"}  # single quotes keep $ and #
    order = steps[2]
    assert isinstance(order, Request) and (order.method, order.body, order.expected_status) == ("POST", "a=1", None)
    assert resolve(order.url, {"TOKEN": "t"}) == "http://127.0.0.1:8000/api/events/t/orders"

    refused = {
        "curl --json '{}' http://127.0.0.1:8000/api/events": "not one this test understands",
        "curl https://example.org/api/events": "should start with http://127.0.0.1:8000/",
        'curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/events': "$TOKEN is used before",
        "rm -rf var": "may only hold curl commands",
        'curl -d \'{"open": 1} http://127.0.0.1:8000/api/events': "never ends",
    }
    for command, reason in refused.items():
        try:
            api_examples([Line(1, "```sh"), Line(2, "curl -s http://127.0.0.1:8000/api/events"), Line(3, command), Line(4, "```")])
        except UnreadableExample as error:
            assert "README line 3" in str(error) and reason in str(error), str(error)
        else:
            raise AssertionError(f"{command!r} should be refused, not skipped")


# --- API tables: the routes the README lists are the API's routes -------------------------------------

ROUTE = re.compile(r"([A-Z]+(?:/[A-Z]+)*) (\S+)")
VARIANT = re.compile(r"\.[a-z]+")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # parameters written as {}, since the README names them for people ({id}, not {type_id})


def route(method: str, path: str) -> Route:
    return Route(method.upper(), re.sub(r"\{[^}]*\}", "{}", path))


def expand(path: str, previous: str | None, line: int) -> str:
    """``…/rest`` continues the path before it in the same cell: from where ``rest`` begins in it (``…/claim-codes/{code}``
    after ``/api/events/{slug}/claim-codes``), else beside its last part (``…/counts`` after ``/api/…/offline``)."""
    if not path.startswith("…/"):
        return path
    if previous is None:
        raise UnreadableExample(f"README line {line}: {path} continues no path before it in its cell")
    rest = path.removeprefix("…")
    first = rest.split("/")[1]
    parts = previous.split("/")
    stem = "/".join(parts[: parts.index(first)]) if first in parts else "/".join(parts[:-1])
    return stem + rest


def documented_routes(lines: list[Line]) -> dict[Route, int]:
    """Each route the "## API" tables list (first cell: `METHOD /path`, `METHOD/METHOD /path`, `…/more`, and
    (`.csv`) for the same route with that extension), with the README line that lists it."""
    routes: dict[Route, int] = {}
    heading = ""
    for line in lines:
        if line.text.startswith("## "):
            heading = line.text[3:].strip()
        if heading != "API" or not line.text.startswith("| `"):
            continue
        previous: tuple[list[str], str] | None = None
        for span in re.findall(r"`([^`]*)`", line.text.split("|")[1]):
            if match := ROUTE.fullmatch(span):
                methods = match.group(1).split("/")
                path = expand(match.group(2).split("?")[0], previous[1] if previous else None, line.number)
            elif span.startswith("…/") and previous:
                methods, path = previous[0], expand(span.split("?")[0], previous[1], line.number)
            elif VARIANT.fullmatch(span) and previous:
                methods, path = previous[0], previous[1] + span
            else:
                raise UnreadableExample(f"README line {line.number}: cannot read `{span}` as `METHOD /path`, `…/more` or `.ext`")
            for method in methods:
                routes.setdefault(route(method, path), line.number)
            if not VARIANT.fullmatch(span):
                previous = (methods, path)
    return routes


async def test_the_readme_api_tables_list_exactly_the_api_routes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    served = {
        route(method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    documented = documented_routes(readme_lines())
    unknown = [f"{r.method} {r.path} (README line {number})" for r, number in sorted(documented.items(), key=lambda item: item[1]) if r not in served]
    undocumented = sorted(f"{r.method} {r.path}" for r in served if r.path.startswith("/api/") and r not in documented)
    problems = [f"{line} is listed but the API has no such route" for line in unknown]
    problems += [f"{line} is missing: add a row for it" for line in undocumented]
    assert not problems, "README.md's API tables differ from the API's routes:\n  " + "\n  ".join(problems)


def test_the_route_reader_expands_the_readme_shorthand() -> None:
    row = "| `GET /api/a/{slug}/one` (`.csv`), `…/two?q=`, `POST/DELETE …/one/{id}/stop` | Words |"
    assert documented_routes([Line(1, "## API"), Line(2, row)]) == {
        route("GET", "/api/a/{}/one"): 2,
        route("GET", "/api/a/{}/one.csv"): 2,
        route("GET", "/api/a/{}/two"): 2,
        route("POST", "/api/a/{}/one/{}/stop"): 2,
        route("DELETE", "/api/a/{}/one/{}/stop"): 2,
    }


# --- Commands: the `events` commands the README lists are the CLI's ------------------------------------


def documented_commands(lines: list[Line]) -> dict[tuple[str, ...], tuple[int, list[str]]]:
    """The first fenced block under "## Commands": per line, `events NAME [NAME…]` then arguments, options
    (``--name``, optionally in brackets) and a ``#`` comment. Each command with its README line and options."""
    blocks = [block for block in fenced_blocks(lines) if block.heading == "Commands"]
    assert blocks, 'README.md has no fenced block under "## Commands"'
    commands: dict[tuple[str, ...], tuple[int, list[str]]] = {}
    for line in blocks[0].lines:
        words = line.text.split("#")[0].split()
        if not words:
            continue
        assert words[0] == "events", f"README line {line.number}: a line of the Commands block should start with `events`"
        names: list[str] = []
        for word in words[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            names.append(word)
        options = re.findall(r"(?:^|\s|\[)(--[a-z][a-z-]*)", line.text.split("#")[0])
        commands[tuple(names)] = (line.number, options)
    return commands


def cli_commands() -> dict[tuple[str, ...], set[str]]:
    """Every runnable `events` command (groups' subcommands, not the groups) with its options."""
    import click

    from events.cli import main

    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command: click.Command, names: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, (*names, name))
        else:
            found[names] = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")}

    walk(main, ())
    return found


def test_the_readme_commands_are_the_cli_commands() -> None:
    documented = documented_commands(readme_lines())
    actual = cli_commands()
    problems = [
        f"`events {' '.join(names)}` (README line {number}) is not a command" for names, (number, _) in documented.items() if names not in actual
    ]
    problems += [
        f"`events {' '.join(names)}` (README line {number}) has no option {option}"
        for names, (number, options) in documented.items()
        if names in actual
        for option in options
        if option not in actual[names]
    ]
    problems += [f"`events {' '.join(names)}` is missing from the Commands block" for names in sorted(actual) if names not in documented]
    assert not problems, "README.md's Commands block differs from the `events` command:\n  " + "\n  ".join(problems)


# --- the layout ------------------------------------------------------------------------------------------

PATH_WORD = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*(?:/|\.[A-Za-z0-9]+)")


@dataclass(frozen=True)
class NamedPath:
    line: int
    path: str  # from the repository root; folders end in "/"


def layout_paths() -> list[NamedPath]:
    blocks = [block for block in fenced_blocks(readme_lines()) if block.heading == "Layout"]
    assert blocks, 'README.md has no fenced block under "## Layout"'
    named: list[NamedPath] = []
    parent: str | None = None
    for line in blocks[0].lines:
        if not line.text.strip():
            continue
        indented = line.text[0].isspace()
        words = line.text.split()
        paths: list[str] = []
        for word in words:
            if not PATH_WORD.fullmatch(word):
                break
            paths.append(word)
        assert paths, f"README line {line.number}: a layout line should start with the path(s) it describes: {line.text!r}"
        if indented:
            assert parent, f"README line {line.number}: an indented layout line must follow the unindented folder it is inside"
            named.extend(NamedPath(line.number, parent + path) for path in paths)
        else:
            named.extend(NamedPath(line.number, path) for path in paths)
            parent = paths[0] if len(paths) == 1 and paths[0].endswith("/") else None
    return named


def test_every_path_the_readme_layout_names_exists() -> None:
    missing = [
        f"{named.path} (README line {named.line})"
        for named in layout_paths()
        if not ((ROOT / named.path).is_dir() if named.path.endswith("/") else (ROOT / named.path).is_file())
    ]
    assert not missing, "README.md's layout names paths that are not in the tree; fix or remove them:\n  " + "\n  ".join(missing)


def test_the_readme_layout_names_every_package() -> None:
    named = {named.path for named in layout_paths()}
    packages = sorted(f"{PACKAGE_ROOT}{path.name}/" for path in (ROOT / PACKAGE_ROOT).iterdir() if (path / "__init__.py").is_file())
    assert packages, f"no packages found under {PACKAGE_ROOT}"
    unnamed = [package for package in packages if package not in named]
    assert not unnamed, (
        f"README.md's layout does not mention these packages; add a line for each under {PACKAGE_ROOT} "
        f"(e.g. '  {unnamed[0].removeprefix(PACKAGE_ROOT):<12} what it holds'):\n  " + "\n  ".join(unnamed)
    )
