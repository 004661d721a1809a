"""Combining concurrent requests for the same thing into one unit of work (one transaction, one commit).

An on-sale rush sends every buyer of an event to the same counter rows. Each hold must commit durably
while it holds those rows' locks, so one transaction per buyer caps sales at one WAL flush per sale.
A Combiner lets the buyers that arrive while a batch is running go together in the next one: a lone
request runs at once (no timer, no added wait), and under load the batch grows with the queue.

Used by the holds and payment starts of an on-sale rush (orders.service), the usual door scans
(checkin.scanning) and the API token lookups behind every API request (accounts.service).

Per process and in memory only for the length of a request: nothing here is state across workers.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Combiner(Generic[Item, Result]):
    """``await combiner.submit(key, item)`` runs ``work(key, items)`` for batches of items with the same key.

    ``work`` returns one outcome per item, in order: a result, or an exception for that item only. If
    ``work`` itself raises, every item of that batch gets the exception (e.g. the transaction failed).
    """

    def __init__(self, work: Callable[[Hashable, Sequence[Item]], Awaitable[Sequence[Result | BaseException]]], *, limit: int) -> None:
        self._work = work
        self._limit = limit
        # Per event loop (a test suite or CLI may run several in turn): the items waiting for the next
        # batch of each key, and the keys whose batches are running.
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queues[Item, Result]] = weakref.WeakKeyDictionary()

    async def submit(self, key: Hashable, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        queues = self._queues.get(loop)
        if queues is None:
            queues = self._queues[loop] = _Queues()
        future: asyncio.Future[Result] = loop.create_future()
        queues.waiting.setdefault(key, []).append((item, future))
        if key not in queues.running:
            queues.running.add(key)
            # A task of its own, so a client that goes away cancels only its own wait, never a batch
            # that other requests are in; and in an empty context, because the batch works for all of
            # them: nothing of the first request's context (a transaction in progress, the audit log's
            # actor) may carry over to the others.
            task = loop.create_task(self._drain(queues, key), context=contextvars.Context())
            queues.tasks.add(task)
            task.add_done_callback(queues.tasks.discard)
        return await future

    async def _drain(self, queues: _Queues[Item, Result], key: Hashable) -> None:
        try:
            while waiting := queues.waiting.get(key):
                batch, rest = waiting[: self._limit], waiting[self._limit :]
                if rest:
                    queues.waiting[key] = rest
                else:
                    del queues.waiting[key]
                await self._run(key, batch)
        finally:
            queues.running.discard(key)

    async def _run(self, key: Hashable, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._work(key, [item for item, _ in batch])
            assert len(outcomes) == len(batch), "a batch must answer every item"
        except BaseException as exc:  # handed to every waiter, who raises it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the client went away
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)


class _Queues(Generic[Item, Result]):
    __slots__ = ("running", "tasks", "waiting")

    def __init__(self) -> None:
        self.waiting: dict[Hashable, list[tuple[Item, asyncio.Future[Result]]]] = {}
        self.running: set[Hashable] = set()
        self.tasks: set[asyncio.Task[None]] = set()  # strong references: the loop keeps only weak ones
