"""Atomic fixed-window counters in the database, so every worker and host shares one limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from events.ratelimit.tables import RateLimitBucket

_HIT_SQL = """
INSERT INTO rate_limit_bucket (key, window_start, hits) VALUES ({}, {}, 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limit_bucket.window_start = excluded.window_start
                THEN rate_limit_bucket.hits + 1 ELSE 1 END,
    window_start = excluded.window_start
RETURNING hits
"""


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
    rows = await RateLimitBucket.raw(_HIT_SQL, key, window_start)
    hits = int(rows[0]["hits"])
    return Decision(allowed=hits <= limit, hits=hits, retry_after_seconds=window_start + window_seconds - now_epoch)


async def count(scope: str, subject: str, *, window_seconds: int, now_epoch: int) -> int:
    """Attempts so far in the current window, without counting one more."""
    window_start = now_epoch - now_epoch % window_seconds
    row = await RateLimitBucket.select(RateLimitBucket.hits).where(
        RateLimitBucket.key == _key(scope, subject), RateLimitBucket.window_start == window_start
    ).first()
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
