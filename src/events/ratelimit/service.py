"""Atomic fixed-window counters in the database, so every worker and host shares one limit."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from events import db
from events.errors import TooManyAttempts
from events.i18n import N_
from events.ratelimit import queries
from events.ratelimit.tables import RateLimitBucket


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    hits: int
    retry_after_seconds: int


async def hit(scope: str, subject: str, *, limit: int, window_seconds: int, now_epoch: int) -> Decision:
    """Count one attempt by ``subject`` (an IP, an email) against ``limit`` per window.

    Subjects are stored only as a hash: the table never holds an address or an email.
    """
    key = _key(scope, subject)
    window_start = now_epoch - now_epoch % window_seconds
    rows = await db.run(queries.HIT, key, window_start)
    hits = int(rows[0]["hits"])
    return Decision(allowed=hits <= limit, hits=hits, retry_after_seconds=window_start + window_seconds - now_epoch)


async def add_many(scope: str, counts: Mapping[str, int], *, window_seconds: int, now_epoch: int) -> dict[str, int]:
    """Count ``counts[subject]`` attempts for each subject at once; returns each subject's hits in the current
    window, these included. Joins the caller's transaction, so a rolled-back attempt is not counted."""
    keys = {_key(scope, subject): subject for subject in counts}
    hits = await _add({key: counts[subject] for key, subject in keys.items()}, window_start=now_epoch - now_epoch % window_seconds)
    return {keys[key]: n for key, n in hits.items()}


async def _add(counts: Mapping[str, int], *, window_start: int) -> dict[str, int]:
    """Add ``counts[key]`` to each bucket, atomically, in one statement (PostgreSQL); each bucket's hits after."""
    ordered = sorted(counts)
    if not ordered:
        return {}
    if db.is_sqlite():  # no arrays: one statement per bucket
        hits = {}
        for key in ordered:
            rows = await db.run(queries.ADD, key, window_start, counts[key])
            hits[key] = int(rows[0]["hits"])
        return hits
    rows = await db.run(queries.ADD_MANY, window_start, ordered, [counts[key] for key in ordered])
    return {row["key"]: int(row["hits"]) for row in rows}


@dataclass(frozen=True, slots=True)
class Budget:
    """How many wrong tries ``subject`` may make in a window, counted under ``scope``."""

    scope: str
    subject: str
    limit: int


@contextlib.asynccontextmanager
async def wrong_tries_limited(
    budgets: Sequence[Budget], *, window_seconds: int, now_epoch: int, is_wrong: Callable[[BaseException], bool]
) -> AsyncIterator[None]:
    """Try a secret (a claim code, an access code, a waiting-list token) within the budgets of wrong tries.

    Only a wrong try writes: the budgets are read before the secret is looked up (over any budget, TooManyAttempts
    with the wait until the window ends), and a try whose block raises an error that ``is_wrong`` is counted under
    every budget by one atomic upsert, before the error (the guesser's answer) goes on. A right secret, or a page
    that looks one up, writes nothing (tests/integration/test_anonymous_views_write_nothing.py).

    Tries sent in parallel could each read a budget with room left before any of them is counted. So a subject's
    tries take turns in each process (_one_try_at_a_time: a lock per budget, held from the read to the count; a
    waiting try holds no database connection), and each reads a count that holds every earlier wrong try this
    process made for it. Only tries in other processes (workers, hosts) at the same moment can be missed: a budget
    is overshot by at most one try per other process of the installation, once per window (a cluster of two
    processes, tests/integration/test_several_servers.py; one process, none: tests/integration/ratelimit/)."""
    window_start = now_epoch - now_epoch % window_seconds
    keys = {_key(budget.scope, budget.subject): budget.limit for budget in budgets}
    async with _one_try_at_a_time(keys):
        rows = await RateLimitBucket.select(RateLimitBucket.key, RateLimitBucket.hits).where(
            RateLimitBucket.key.is_in(list(keys)), RateLimitBucket.window_start == window_start
        )
        if any(row["hits"] >= keys[row["key"]] for row in rows):
            raise TooManyAttempts(
                N_("Too many tries. Please wait a few minutes and try again."),
                retry_after_seconds=window_left(window_seconds=window_seconds, now_epoch=now_epoch),
            )
        try:
            yield
        except Exception as error:
            if is_wrong(error):
                await _add(dict.fromkeys(keys, 1), window_start=window_start)
            raise


@dataclass(slots=True)
class _Turns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding or waiting for the lock: the entry goes when none is left


# Process memory, but no counter: what a budget allows is only ever read from the database. These locks order one
# process's tries of a subject, so that each sees the count of the ones before it (wrong_tries_limited).
_turns: dict[str, _Turns] = {}


@contextlib.asynccontextmanager
async def _one_try_at_a_time(keys: Collection[str]) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for key in sorted(keys):  # in one order: two tries sharing some budgets never wait on each other in a circle
            await stack.enter_async_context(_turn(key))
        yield


@contextlib.asynccontextmanager
async def _turn(key: str) -> AsyncIterator[None]:
    turns = _turns.get(key)
    if turns is None:
        turns = _turns[key] = _Turns()
    turns.users += 1
    try:
        async with turns.lock:
            yield
    finally:
        turns.users -= 1
        if not turns.users:
            del _turns[key]


def window_left(*, window_seconds: int, now_epoch: int) -> int:
    """Seconds until the current window ends (when a refused subject may try again)."""
    return window_seconds - now_epoch % window_seconds


async def count(scope: str, subject: str, *, window_seconds: int, now_epoch: int) -> int:
    """Attempts so far in the current window, without counting one more."""
    window_start = now_epoch - now_epoch % window_seconds
    row = (
        await RateLimitBucket.select(RateLimitBucket.hits)
        .where(RateLimitBucket.key == _key(scope, subject), RateLimitBucket.window_start == window_start)
        .first()
    )
    return row["hits"] if row else 0


async def forgive(scope: str, subject: str, *, window_seconds: int, now_epoch: int) -> None:
    """Take back one attempt counted in the current window (one that turned out not to be a failure)."""
    window_start = now_epoch - now_epoch % window_seconds
    await RateLimitBucket.update({RateLimitBucket.hits: RateLimitBucket.hits - 1}).where(
        RateLimitBucket.key == _key(scope, subject), RateLimitBucket.window_start == window_start, RateLimitBucket.hits > 0
    )


async def reset(scope: str, subject: str) -> None:
    """Forget every attempt by ``subject``."""
    await RateLimitBucket.delete().where(RateLimitBucket.key == _key(scope, subject))


async def purge_expired(now_epoch: int, *, older_than_seconds: int = 24 * 3600) -> None:
    await RateLimitBucket.delete().where(RateLimitBucket.window_start < now_epoch - older_than_seconds)


def _key(scope: str, subject: str) -> str:
    return f"{scope}:{hashlib.sha256(subject.encode()).hexdigest()[:40]}"
