"""CPU-heavy pure work (PDFs) kept off the event loop: in a pool of processes of its own (EVENTS_CPU_PROCESSES), or in
a worker thread when that is 0 or no pool is running.

Why processes: a thread takes the work off the event loop but not off the GIL, so a 500-ticket order's PDF (about a
second of CPU) still slows every other request of that serve process, check-ins included. A pool process has a GIL of
its own, and runs at a lower priority (NICENESS), so a request that needs the CPU gets it first.

What goes through it must be a module-level function whose arguments and result pickle (frozen dataclasses, msgspec
structs, str, bytes, datetimes with zoneinfo): it runs in another process, so it must also be pure (no database, no
settings, no caches it relies on being shared).

What does not go through it: a page's QR code (events.tickets.qr: about 1.5 ms, then cached, less than a trip to
the pool and back) and password hashing (Argon2 lets go of the GIL, so accounts.passwords runs it in a thread).

A pool process that dies (killed by the OOM killer, a crash in a C library) breaks the whole pool
(concurrent.futures' BrokenProcessPool): the pool is replaced at once and each call that was running is tried once
more on the new one; a call that breaks the new pool too fails with CpuUnavailable (503, "try again"), never a hang.
A call that never comes back (a hang in a C library, a loop that never ends) would keep its process for ever, and every
later call would wait behind it: a call that runs longer than EVENTS_CPU_TIMEOUT_SECONDS fails with CpuUnavailable, its
pool's processes are killed and a new pool started, and the calls that were running beside it are tried once more on
the new pool. At most one call per process is handed to the pool at a time (the others wait their turn here), so the
time limit counts a call's own run, not its wait behind others.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import ParamSpec, TypeVar

import anyio.to_thread

from events import malloc
from events.errors import EventsError
from events.i18n import N_

logger = logging.getLogger("events.cpu")

P = ParamSpec("P")
T = TypeVar("T")

# Pool processes yield to the serve process (nice 0): with both cores busy rendering, Linux still gives a request that
# wakes up about nine tenths of a core (CFS weights 1024 against 110), so check-ins stay fast while PDFs render.
NICENESS = 10
MAX_NICENESS = 19  # the lowest priority Linux has
# Imported once by the fork server, so that a new pool process (the first, or one replacing a dead pool) starts with
# them loaded: a ticket PDF's modules (reportlab, qrcode, Babel, the tables its views import) take seconds to import on
# a busy machine. The first lowers the fork server's priority to the pool's before it imports the rest. Modules whose
# functions run in the pool add themselves (preload).
PRELOAD = ["events.cpu_pool_priority", "reportlab.pdfgen.canvas", "reportlab.platypus", "qrcode", "babel.dates", "events.pdf.text"]
RETRY_AFTER_SECONDS = 5
# A call's time limit (EVENTS_CPU_TIMEOUT_SECONDS): the largest real render, a 500-ticket order's PDF, takes about 1.2 s
# on a fast machine and a few seconds on a busy small one; a pool process's first call also waits for it to start.
TIMEOUT_SECONDS = 30.0
WATCH_SECONDS = 2.0  # how often a pool process looks for its server process where the kernel cannot tell it


class CpuUnavailable(EventsError):
    """The pool broke twice under one call (most likely the call itself kills its process), or the call ran over its
    time limit (it hangs)."""

    status_code = 503
    code = "unavailable"

    def __init__(self) -> None:
        super().__init__(N_("We could not prepare this just now. Please try again in a moment."))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def preload(module: str) -> None:
    """Have pool processes start with ``module`` imported (a module whose functions go through run)."""
    if module not in PRELOAD:
        PRELOAD.append(module)


def _start_pool_process(server_pid: int, niceness: int) -> None:
    # Forked from the fork server, which lowered its own priority to this already (events.cpu_pool_priority).
    if os.getpriority(os.PRIO_PROCESS, 0) < niceness:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    malloc.fix_thresholds()  # a pool process lives as long as its server: a big PDF's blocks go back when freed
    threading.Thread(target=_exit_with, args=(server_pid,), name="events-cpu-watch", daemon=True).start()


def _exit_with(server_pid: int) -> None:
    """End this pool process once the server process whose pool it is has gone (SIGKILLed, say, where close() never
    ran). Nothing else would end it: concurrent.futures' pool processes hold both ends of their own pipes, so they
    wait for work for ever, and keep the fork server alive too."""
    try:
        gone = os.pidfd_open(server_pid)  # readable once that process has exited (Linux 5.3 and later)
    except ProcessLookupError:
        os._exit(0)
    except OSError:  # an older kernel: look now and then
        while True:
            time.sleep(WATCH_SECONDS)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                continue
    else:
        select.select([gone], [], [])
        os._exit(0)


class CpuPool:
    """``processes`` processes for CPU-heavy calls (none: each call runs in a worker thread, as before the pool), each
    call stopped after ``timeout_seconds`` (a thread cannot be stopped: the limit is the pool's)."""

    def __init__(self, processes: int, *, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self.processes = processes
        self.timeout_seconds = timeout_seconds
        self._previous: CpuPool | None = None
        self._executor = self._new_executor() if processes > 0 else None
        # A call handed to the executor starts at once, in a process of its own, so its time limit is its own run's.
        self._turns = asyncio.Semaphore(max(processes, 1))

    def _new_executor(self) -> ProcessPoolExecutor:
        # A fork server, not fork: forking a process that runs an event loop, asyncpg and threads copies their state
        # (locks held by other threads included). Processes start when first needed, not at start-up.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        niceness = min(os.getpriority(os.PRIO_PROCESS, 0) + NICENESS, MAX_NICENESS)
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=context, initializer=_start_pool_process, initargs=(os.getpid(), niceness))

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = partial(function, *args, **kwargs)
        if self._executor is None:
            return await anyio.to_thread.run_sync(call)
        async with self._turns:
            for _ in range(2):
                executor = self._executor
                if executor is None:  # closed meanwhile
                    break
                try:
                    # Handed over from a worker thread: a pool's first call starts its processes, and starting one
                    # waits for the fork server to import PRELOAD (about a second), which would stall every request
                    # on this event loop, check-ins included.
                    try:
                        submitted = await anyio.to_thread.run_sync(executor.submit, call)
                    except RuntimeError:
                        if self._executor is executor:
                            raise
                        # Shut down while this call waited for its thread (replaced, or closed): it goes to the
                        # pool there is now, if any.
                        continue
                    return await asyncio.wait_for(asyncio.wrap_future(submitted), self.timeout_seconds)
                except BrokenProcessPool:
                    self._replace(executor, "A CPU pool process died")
                except TimeoutError:
                    _kill(executor)  # the calls running beside it fail with BrokenProcessPool, and are tried again
                    name = getattr(function, "__qualname__", "a call")
                    self._replace(executor, f"A CPU pool call ({name}) ran over {self.timeout_seconds:g} s; its processes were killed")
                    break
        raise CpuUnavailable()

    def _replace(self, broken: ProcessPoolExecutor, why: str) -> None:
        """A new pool in place of a broken one, once, however many calls saw it break."""
        if self._executor is not broken:
            return
        logger.warning("%s; starting a new pool of %d", why, self.processes)
        # Not cancel_futures: a call handed to it a moment ago must fail with BrokenProcessPool (and be tried again on
        # the new pool), not be cancelled; a broken pool fails every call it still has by itself.
        broken.shutdown(wait=False)
        self._executor = self._new_executor()

    async def close(self) -> None:
        """Wait for running calls to finish (a hung one is killed at its time limit), then stop the processes; this pool
        no longer takes calls."""
        global _running  # noqa: PLW0603 - the process's one pool, set when the app or the worker starts
        if _running is self:
            _running = self._previous
        executor, self._executor = self._executor, None
        if executor is not None:
            await anyio.to_thread.run_sync(partial(executor.shutdown, wait=True, cancel_futures=True))


def _kill(executor: ProcessPoolExecutor) -> None:
    """Kill a pool's processes (a hung call's among them); the pool then counts as broken. concurrent.futures has no
    way to do it before Python 3.14 (kill_workers), so its own table of processes is used."""
    for process in list((executor._processes or {}).values()):  # None once it has shut down
        process.kill()


_running: CpuPool | None = None


def start(processes: int, *, timeout_seconds: float = TIMEOUT_SECONDS) -> CpuPool:
    """A pool for this process's CPU-heavy calls (events.cpu.run) until it is closed."""
    global _running  # noqa: PLW0603 - as in close()
    pool = CpuPool(processes, timeout_seconds=timeout_seconds)
    pool._previous = _running  # a second app started in the same process (tests) gives the first its pool back
    _running = pool
    return pool


async def run(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` off the event loop: in the running pool (see the module's doc for what may go
    through it), or in a worker thread when none is running (a script, a unit test)."""
    if _running is None:
        return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))
    return await _running.run(function, *args, **kwargs)
