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
# Imported once by the fork server, so that a new pool process (the first, or one replacing a dead pool) starts with
# them loaded: a ticket PDF's modules (reportlab, qrcode, Babel, the tables its views import) take seconds to import on
# a busy machine. Modules whose functions run in the pool add themselves (preload).
PRELOAD = ["reportlab.pdfgen.canvas", "reportlab.platypus", "qrcode", "babel.dates", "events.pdf.text"]
RETRY_AFTER_SECONDS = 5
WATCH_SECONDS = 2.0  # how often a pool process looks for its server process where the kernel cannot tell it


class CpuUnavailable(EventsError):
    """The pool broke twice under one call: most likely the call itself kills its process."""

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


def _start_pool_process(server_pid: int) -> None:
    os.nice(NICENESS)
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
    """``processes`` processes for CPU-heavy calls (none: each call runs in a worker thread, as before the pool)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._previous: CpuPool | None = None
        self._executor = self._new_executor() if processes > 0 else None

    def _new_executor(self) -> ProcessPoolExecutor:
        # A fork server, not fork: forking a process that runs an event loop, asyncpg and threads copies their state
        # (locks held by other threads included). Processes start when first needed, not at start-up.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=context, initializer=_start_pool_process, initargs=(os.getpid(),))

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        call = partial(function, *args, **kwargs)
        if self._executor is None:
            return await anyio.to_thread.run_sync(call)
        for _ in range(2):
            executor = self._executor
            try:
                return await asyncio.wrap_future(executor.submit(call))
            except BrokenProcessPool:
                self._replace(executor)
        raise CpuUnavailable()

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A new pool in place of a broken one, once, however many calls saw it break."""
        if self._executor is not broken:
            return
        logger.warning("A CPU pool process died; starting a new pool of %d", self.processes)
        broken.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    async def close(self) -> None:
        """Wait for running calls to finish, then stop the processes; this pool no longer takes calls."""
        global _running  # noqa: PLW0603 - the process's one pool, set when the app or the worker starts
        if _running is self:
            _running = self._previous
        executor, self._executor = self._executor, None
        if executor is not None:
            await anyio.to_thread.run_sync(partial(executor.shutdown, wait=True, cancel_futures=True))


_running: CpuPool | None = None


def start(processes: int) -> CpuPool:
    """A pool for this process's CPU-heavy calls (events.cpu.run) until it is closed."""
    global _running  # noqa: PLW0603 - as in close()
    pool = CpuPool(processes)
    pool._previous = _running  # a second app started in the same process (tests) gives the first its pool back
    _running = pool
    return pool


async def run(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` off the event loop: in the running pool (see the module's doc for what may go
    through it), or in a worker thread when none is running (a script, a unit test)."""
    if _running is None:
        return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))
    return await _running.run(function, *args, **kwargs)
