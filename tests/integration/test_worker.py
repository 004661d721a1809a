"""Periodic jobs: a lease in the database lets one worker run a job at a time, wherever it runs."""

import asyncio
from datetime import datetime, timedelta

import httpx

from events.jobs.worker import PeriodicJob, run_due_jobs


async def test_two_workers_racing_run_a_due_job_once(client: httpx.AsyncClient, now: datetime) -> None:
    runs: list[datetime] = []

    async def job(at: datetime) -> None:
        runs.append(at)
        await asyncio.sleep(0.05)

    jobs = [PeriodicJob("count-runs", every_seconds=60, run=job)]
    results = await asyncio.gather(*(run_due_jobs(jobs, now=now, holder=f"worker-{n}") for n in range(5)))
    assert len(runs) == 1
    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 1]
    assert await run_due_jobs(jobs, now=now + timedelta(seconds=30), holder="worker-0") == []
    assert await run_due_jobs(jobs, now=now + timedelta(seconds=61), holder="worker-3") == ["count-runs"]
    assert len(runs) == 2


async def test_a_failing_job_does_not_stop_the_others(client: httpx.AsyncClient, now: datetime) -> None:
    ran: list[str] = []

    async def broken(at: datetime) -> None:
        raise RuntimeError("boom")

    async def fine(at: datetime) -> None:
        ran.append("fine")

    jobs = [PeriodicJob("broken", 60, broken), PeriodicJob("fine", 60, fine)]
    assert await run_due_jobs(jobs, now=now, holder="w") == ["broken", "fine"]
    assert ran == ["fine"]
