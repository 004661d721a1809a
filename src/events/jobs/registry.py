"""Every periodic job the worker runs, in one list."""

from __future__ import annotations

from datetime import datetime

from events.accounts.sessions import DatabaseStore
from events.jobs.worker import PeriodicJob
from events.ratelimit import service as ratelimit


async def _purge_sessions(now: datetime) -> None:
    await DatabaseStore().delete_expired()


async def _purge_rate_limits(now: datetime) -> None:
    await ratelimit.purge_expired(int(now.timestamp()))


def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("purge-expired-sessions", every_seconds=3600, run=_purge_sessions),
        PeriodicJob("purge-rate-limit-buckets", every_seconds=3600, run=_purge_rate_limits),
    ]
