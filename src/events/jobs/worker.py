"""The periodic-job runner. Leases in the database make each job run on one worker at a time, on any host."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from events.jobs.tables import JobLease

logger = logging.getLogger("events.worker")
POLL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every_seconds: int
    run: Callable[[datetime], Awaitable[object]]
    lease_seconds: int = 300


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_due_jobs(jobs: Sequence[PeriodicJob], *, now: datetime, holder: str) -> list[str]:
    """Run every job whose interval has passed and whose lease is free; return the names that ran."""
    ran: list[str] = []
    now_epoch = int(now.timestamp())
    for job in jobs:
        await JobLease.insert(JobLease(name=job.name, holder="", leased_until=0, last_run_at=0)).on_conflict(
            target=JobLease.name, action="DO NOTHING"
        )
        # The lease is taken in one conditional update: of two workers, only one gets the row back.
        taken = (
            await JobLease.update({JobLease.holder: holder, JobLease.leased_until: now_epoch + job.lease_seconds})
            .where(JobLease.name == job.name, JobLease.leased_until < now_epoch, JobLease.last_run_at <= now_epoch - job.every_seconds)
            .returning(JobLease.name)
        )
        if not taken:
            continue
        try:
            await job.run(now)
        except Exception:
            # One failing job must not stop the others; it is retried at its next interval.
            logger.exception("Job %s failed", job.name)
        await JobLease.update({JobLease.last_run_at: now_epoch, JobLease.leased_until: 0}).where(JobLease.name == job.name, JobLease.holder == holder)
        # Which worker ran which job for which moment: tests/support/cluster.py reads it to prove each ran once.
        logger.debug("Ran job %s for %d", job.name, now_epoch)
        ran.append(job.name)
    return ran


async def run_forever(jobs: Sequence[PeriodicJob], stop: asyncio.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
    holder = worker_id()
    logger.info("Worker %s running %d periodic jobs", holder, len(jobs))
    while not stop.is_set():
        try:
            await run_due_jobs(jobs, now=datetime.now(timezone.utc), holder=holder)
        except Exception:
            logger.exception("Worker loop failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
