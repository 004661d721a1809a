"""The Combiner: requests that arrive while a batch runs go together in the next; each gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence

import pytest

from events.batching import Combiner


class Recorder:
    """Work that records each batch and answers each item with item * 10, or an error for negative items."""

    def __init__(self) -> None:
        self.batches: list[tuple[Hashable, list[int]]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, key: Hashable, items: Sequence[int]) -> list[int | BaseException]:
        self.batches.append((key, list(items)))
        await self.release.wait()
        return [ValueError(item) if item < 0 else item * 10 for item in items]


async def test_a_lone_request_runs_at_once_in_a_batch_of_its_own() -> None:
    work = Recorder()
    assert await Combiner(work, limit=10).submit("a", 1) == 10
    assert work.batches == [("a", [1])]


async def test_requests_that_arrive_during_a_batch_go_together_in_the_next_one() -> None:
    work = Recorder()
    combiner = Combiner(work, limit=10)
    work.release.clear()
    first = asyncio.create_task(combiner.submit("a", 1))
    await asyncio.sleep(0)  # the first batch is running (and waiting)
    await asyncio.sleep(0)
    others = [asyncio.create_task(combiner.submit("a", item)) for item in (2, 3, 4)]
    await asyncio.sleep(0)
    work.release.set()
    assert await first == 10
    assert [await task for task in others] == [20, 30, 40]
    assert work.batches == [("a", [1]), ("a", [2, 3, 4])]


async def test_batches_are_per_key_and_no_bigger_than_the_limit() -> None:
    work = Recorder()
    combiner = Combiner(work, limit=2)
    work.release.clear()
    tasks = [asyncio.create_task(combiner.submit(key, item)) for key, item in [("a", 1), ("b", 2), ("a", 3), ("a", 4), ("a", 5)]]
    await asyncio.sleep(0)
    work.release.set()
    assert [await task for task in tasks] == [10, 20, 30, 40, 50]
    assert sorted(work.batches) == [("a", [1, 3]), ("a", [4, 5]), ("b", [2])]


async def test_an_error_for_one_item_goes_to_that_request_only() -> None:
    work = Recorder()
    combiner = Combiner(work, limit=10)
    work.release.clear()
    tasks = [asyncio.create_task(combiner.submit("a", item)) for item in (1, -2, 3)]
    await asyncio.sleep(0)
    work.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError)


async def test_when_the_whole_batch_fails_every_request_in_it_hears_so_and_the_next_batch_still_runs() -> None:
    calls = 0

    async def failing_once(key: Hashable, items: Sequence[int]) -> list[int | BaseException]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the transaction failed")
        return list(items)

    combiner = Combiner(failing_once, limit=10)
    results = await asyncio.gather(combiner.submit("a", 1), combiner.submit("a", 2), return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert await combiner.submit("a", 3) == 3


async def test_a_request_that_gives_up_does_not_cancel_the_batch_others_are_in() -> None:
    work = Recorder()
    combiner = Combiner(work, limit=10)
    work.release.clear()
    leaving = asyncio.create_task(combiner.submit("a", 1))
    staying = asyncio.create_task(combiner.submit("a", 2))
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    work.release.set()
    assert await staying == 20
    assert work.batches == [("a", [1, 2])]


async def test_a_batch_does_not_run_in_the_context_of_the_request_that_started_it() -> None:
    import contextvars

    actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)
    seen: list[str | None] = []

    async def work(key: Hashable, items: Sequence[int]) -> list[int]:
        seen.append(actor.get())
        return list(items)

    actor.set("organiser@example.org")
    assert await Combiner(work, limit=10).submit("a", 1) == 1
    assert seen == [None]
