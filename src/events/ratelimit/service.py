"""Atomic fixed-window counters in the database, so every worker and host shares one limit."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass

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
    window_start = now_epoch - now_epoch % window_seconds
    keys = {_key(scope, subject): subject for subject in counts}
    ordered = sorted(keys)
    if not ordered:
        return {}
    if db.is_sqlite():  # no arrays: one statement per subject
        hits = {}
        for key in ordered:
            rows = await db.run(queries.ADD, key, window_start, counts[keys[key]])
            hits[keys[key]] = int(rows[0]["hits"])
        return hits
    rows = await db.run(queries.ADD_MANY, window_start, ordered, [counts[keys[key]] for key in ordered])
    return {keys[row["key"]]: int(row["hits"]) for row in rows}


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
    """Try a secret (a claim code, an access code) within the budgets of wrong tries.

    Each try takes its place under every budget before the secret is looked up (so tries sent in parallel cannot
    overshoot) and gives it back unless the block raises an error that ``is_wrong``: only wrong tries count. Over
    any budget, TooManyAttempts with the wait until the window ends."""
    decisions = [await hit(b.scope, b.subject, limit=b.limit, window_seconds=window_seconds, now_epoch=now_epoch) for b in budgets]
    if refused := [decision for decision in decisions if not decision.allowed]:
        raise TooManyAttempts(
            N_("Too many tries. Please wait a few minutes and try again."),
            retry_after_seconds=max(decision.retry_after_seconds for decision in refused),
        )
    wrong = False
    try:
        yield
    except Exception as error:
        wrong = is_wrong(error)
        raise
    finally:
        if not wrong:
            for budget in budgets:
                await forgive(budget.scope, budget.subject, window_seconds=window_seconds, now_epoch=now_epoch)


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
