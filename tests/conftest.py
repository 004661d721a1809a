"""Shared fixtures: each integration test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

The app runs in the test's own event loop (httpx ASGITransport inside the app's lifespan), so
concurrency in a test is real concurrency in the app.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from litestar import Litestar

from events import db
from events.accounts import passwords
from events.config import Settings, load_settings
from events.organisations import service as organisations
from events.piccolo_app import APP_CONFIG
from tests.support import csp, databases
from tests.support.lifespan import AppLifespan
from tests.support.server import demo_environment, live_server

BACKENDS = ["sqlite", "postgres"]


# --- pytest-xdist -----------------------------------------------------------------------------------------------------
# `make test` runs the suite on several workers (`-n auto --dist loadgroup`); each is a process of its own with its own
# session fixtures (databases, var dirs, servers on ports of its own: see tests/support/server.py's free_port).
# `pytest` alone, `-n 0` and `-p no:xdist` run it in this one process as before.

# Session-scoped servers whose tests share the server's state (what one test bought from the demo is gone for the
# next): their tests run on one worker, in the order they run without xdist, and the server starts once.
SHARED_SERVERS = frozenset({"demo_server", "stripe_server", "stripe_pg_server"})
# Fixtures that pick one of those servers when the test runs (request.getfixturevalue), which collection cannot see.
SERVER_CHOOSERS = {"racing_server": ("stripe_server", "stripe_pg_server")}
# Tests so marked start servers of their own (browsers, races, several servers, faults): longer than in-process ones.
SLOW_MARKS = ("browser", "postgres_only")
# Beyond this many workers the servers and browsers they start outrun the machine's memory and CPUs (and the
# PostgreSQL server's 100 connections: a race's two server processes and the soak take about 20 each).
MAX_WORKERS = 8


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per CPU this process may use and one more, at most MAX_WORKERS (PYTEST_XDIST_AUTO_NUM_WORKERS
    overrides). The one more because a worker spends much of its time waiting rather than computing: on PostgreSQL,
    on the servers and browsers its tests start, on a job's interval, a lease or a retry; with a worker per CPU, CPUs
    sat idle for a third of the run or more."""
    if count := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(count)
    return max(1, min(len(os.sched_getaffinity(0)) + 1, MAX_WORKERS))


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Iterator[None]:
    """Under `--dist loadgroup`, tests that share an expensive fixture instance go to one worker as one group: the
    tests of a module with a module-scoped fixture (a server or race database of the module's own), and the tests of
    a SHARED_SERVERS server (and, transitively, whatever shares one with them). Any other test goes to whichever
    worker is free. (A wrapper: the marks are made before xdist's hook reads them, and checked after every hook.)"""
    if not config.getoption("loadgroup", False):  # what an xdist worker is told of `--dist loadgroup`
        return (yield)
    _group_by_shared_fixtures(items)
    result = yield
    _slow_modules_first(items)  # after pytest's own order, which keeps each backend's tests together
    for item in items:  # a grouped test whose node id lost its group would run on any worker: make it say so
        if any(item.iter_markers("xdist_group")) and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item.stash[GROUP_LOST] = True
    return result


GROUP_LOST = pytest.StashKey[bool]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(GROUP_LOST, False):
        pytest.fail("--dist loadgroup: this test's xdist group never reached the scheduler (pytest or pytest-xdist changed?)")


def _slow_modules_first(items: list[pytest.Item]) -> None:
    """The order xdist hands out work in (the Makefile turns its own off, which put groups of many tests first): the
    tests marked slow first, each starting at once on a worker of its own rather than last, alone; then the groups
    that share a server and the modules that start servers (SLOW_MARKS), in their order; the many quick in-process
    tests fill the end. A test on the in-process app's backends stays where pytest put it, among the others on its
    backend: one app per backend."""
    servers = {item.path for item in items if any(item.get_closest_marker(mark) for mark in SLOW_MARKS)}

    def rank(item: pytest.Item) -> int:
        if "backend" in getattr(item, "fixturenames", ()):
            return 2
        if item.get_closest_marker("slow"):
            return 0
        return 1 if item.path in servers or item.get_closest_marker("xdist_group") else 2

    items.sort(key=rank)


def _group_by_shared_fixtures(items: list[pytest.Item]) -> None:
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    shares: dict[pytest.Item, list[str]] = {}
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is None:
            continue
        servers = {server for name in fixtures.name2fixturedefs for server in SERVER_CHOOSERS.get(name, (name,)) if server in SHARED_SERVERS}
        keys = [f"server:{name}" for name in sorted(servers)]
        if any(defs[-1].scope == "module" for defs in fixtures.name2fixturedefs.values()):
            keys.append(f"module:{item.nodeid.split('::')[0]}")
        if keys:
            shares[item] = keys
            for key in keys[1:]:
                parent[find(key)] = find(keys[0])
    for item, keys in shares.items():
        item.add_marker(pytest.mark.xdist_group(find(keys[0]).split(":", 1)[1]))
    for item in items:
        if names := {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in item.iter_markers("xdist_group")}:
            _name_group_in_node_id(item, "_".join(sorted(names)))


def _name_group_in_node_id(item: pytest.Item, group: str) -> None:
    """xdist's scheduler learns a test's group from a "@group" suffix of the node id the worker reports, which xdist's
    own hook writes into `item._nodeid`. Since pytest 9.2 the node id is the structured `item._id` and `_nodeid` is
    read by nobody, so the groups were silently dropped (pytest-xdist issue #1386): a module's tests were spread over
    both workers, each starting the module's servers (a whole cluster for test_several_servers.py). The suffix goes
    into the structured id here; its path, names and parameters stay as they are. Older pytest: xdist's hook does it."""
    node_id = getattr(item, "_id", None)
    if node_id is None or isinstance(node_id, str) or str(node_id).endswith(f"@{group}"):
        return
    suffixed = dataclasses.replace(node_id)
    object.__setattr__(suffixed, "_str_cache", f"{node_id}@{group}")
    item._id = suffixed


def make_settings(database_url: str, var_dir: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
            **extra,
        }
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        databases.require_postgres("The PostgreSQL runs of these tests")
    return request.param


@pytest.fixture(scope="session")
async def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield databases.sqlite_url(tmp_path_factory.mktemp("sqlite"))
        return
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


@pytest.fixture(scope="module")
async def race_database() -> AsyncIterator[str]:
    """A PostgreSQL database of the module's own, for a race run through real servers (uvicorn subprocesses); never
    the session's shared one. Skipped without PostgreSQL, failed in CI (see databases.require_postgres)."""
    databases.require_postgres("The race tests")
    url = await databases.create_postgres_database()
    try:
        yield url
    finally:
        await databases.drop_postgres_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("var"))


# The in-process app hashes passwords with Argon2id at its lowest cost. At the real parameters (events.accounts.passwords;
# argon2-cffi's default of 64 MiB, 3 passes and 4 lanes before the soak), each hash or check costs about a tenth of a second of CPU, and the app's tests make hundreds of
# them: they were most of the CPU the database tests used. Passwords are still Argon2id hashes that are checked; the
# real parameters are what tests/unit/accounts/test_passwords.py and every server process a test starts use.
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    from events.app import create_app

    application = create_app(settings)
    lifespan = AppLifespan(application)
    await lifespan.start()
    await db.migrate()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", CHEAP_PASSWORD_HASHER)
        passwords._dummy_hash.cache_clear()
        yield application
    passwords._dummy_hash.cache_clear()
    await lifespan.stop()


@pytest.fixture
async def clean_database(app: Litestar) -> None:
    """Each test starts from empty tables (the schema stays) and the one organisation a new installation has, so
    tests that never name an organisation act in it, as a single-organisation installation does. One transaction: on
    SQLite a commit per table cost a third of a second a test."""
    async with db.write_transaction():
        # One statement says which tables hold rows (a test fills a few of the many): a statement per table, each a
        # round trip to PostgreSQL or a thread hop for SQLite, was most of this fixture's tenth of a second.
        filled = {row["name"] for row in await db.run(_FILLED_TABLES)}
        for table in reversed(APP_CONFIG.table_classes):
            if table._meta.tablename not in filled:
                continue
            # A row that refers to another of its table (a payout's reversal, ON DELETE RESTRICT) goes first.
            for column in table._meta.foreign_key_columns:
                if column._foreign_key_meta.resolved_references is table:
                    await table.delete().where(column.is_not_null())
            await table.delete(force=True)
    await organisations.ensure_default_organisation()


_FILLED_TABLES = " UNION ALL ".join(
    f"SELECT '{table._meta.tablename}' AS name WHERE EXISTS (SELECT 1 FROM \"{table._meta.tablename}\")" for table in APP_CONFIG.table_classes
)


@pytest.fixture
async def client(app: Litestar, clean_database: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
async def organiser_token(client: httpx.AsyncClient, now: datetime) -> str:
    from events.accounts import service

    await service.create_user("organiser@test.example", role="organiser", password="organiser-password")
    return await service.create_api_token("organiser@test.example", now=now)


@pytest.fixture
def organiser(organiser_token: str) -> dict[str, str]:
    """Headers that authenticate as an organiser."""
    return {"Authorization": f"Bearer {organiser_token}"}


# --- a real server process, seeded with the demo, for browser tests -------------------------------------


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("demo-server")
    env = demo_environment(var_dir)
    with live_server(env) as base_url:
        yield base_url


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("EVENTS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("EVENTS_TEST_REQUIRE_BROWSER=1 but chromium is not installed")
        pytest.skip("Browser tests need Debian's chromium")
    from playwright.async_api import async_playwright

    from tests.support.screenshots import captured_on_a_busy_machine

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            with captured_on_a_busy_machine():
                # Every context reports Content-Security-Policy violations; tests/browser fails the test that caused one.
                yield csp.WatchedBrowser(chromium)
        finally:
            await chromium.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """Screenshots land here so a person can look at what the tests saw."""
    path = Path(__file__).resolve().parents[1] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
