"""events.cpu: the PDFs a pool process makes are the PDFs this process makes; a pool whose process dies recovers, a
call that keeps killing its process fails clearly rather than hanging, and so does a call that hangs, its process
killed, without the calls after it waiting behind it for ever."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from events import cpu
from events.ledger.pdf import render_statement_pdf
from events.tickets import pdf
from tests.support.ticket_pdfs import ticket
from tests.unit.ledger.test_statement_pdf import NOW, line, statement

T = TypeVar("T")
# Never a hang: a call that has not come back by then fails the test.
PATIENCE_SECONDS = 60
BRANDED = pdf.Branding(name="Refugee Kitchen", accent=(0.5, 0.1, 0.3))


@pytest.fixture(autouse=True)
def no_pool_running_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts where a script does, with no pool running: a test app started earlier in the same process (its
    lifespan starts one) would otherwise be the pool a closed one hands back to. Put back as it was afterwards."""
    monkeypatch.setattr(cpu, "_running", None)


@pytest.fixture
async def pool() -> AsyncIterator[cpu.CpuPool]:
    running = cpu.start(1)
    yield running
    await running.close()


async def soon(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, PATIENCE_SECONDS)


def same_document(document: bytes) -> bytes:
    """The PDF without what differs between any two renders: its random /ID and the second it was made."""
    assert document.startswith(b"%PDF")
    document = re.sub(rb"/ID\s*\n?\[<[0-9a-f]+><[0-9a-f]+>\]", b"/ID []", document)
    return re.sub(rb"/(CreationDate|ModDate) \(D:[0-9+\-']+\)", rb"/\1 ()", document)


def kill_own_process() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_own_process_once(marker: str) -> int:
    """Dies the first time (as a render the OOM killer picks would), then answers with its process id."""
    path = Path(marker)
    if not path.exists():
        path.write_text("killed once")
        kill_own_process()
    return os.getpid()


def hang(pid_file: str) -> None:
    """Never comes back (as a render stuck in a C library would), after saying which process it hangs in."""
    Path(pid_file).write_text(str(os.getpid()))
    while True:
        time.sleep(60)


def when_told(go_file: str) -> int:
    """Waits until the test says go, then answers with its process id."""
    while not Path(go_file).exists():
        time.sleep(0.05)
    return os.getpid()


def priorities_of_this_process_and_its_parent() -> tuple[int, int]:
    """In a pool process: its niceness and its fork server's (the process that forked it)."""
    return os.getpriority(os.PRIO_PROCESS, 0), os.getpriority(os.PRIO_PROCESS, os.getppid())


async def test_the_pool_and_its_fork_server_yield_the_cpu_to_requests(pool: cpu.CpuPool) -> None:
    """A render, and the second or so of imports the fork server does when a server process's first PDF starts its
    pool, run behind the requests: a door's scans do not queue behind them for the CPU."""
    behind_this_process = min(os.getpriority(os.PRIO_PROCESS, 0) + cpu.NICENESS, cpu.MAX_NICENESS)
    assert await soon(cpu.run(priorities_of_this_process_and_its_parent)) == (behind_this_process, behind_this_process)


@pytest.mark.parametrize(
    ("page_size", "locale", "branding"),
    [("a4", "en", None), ("phone", "ar", BRANDED), ("a4", "fa", BRANDED)],
)
async def test_ticket_pdfs_made_in_the_pool_are_the_ones_made_here(pool: cpu.CpuPool, page_size: str, locale: str, branding: pdf.Branding) -> None:
    views = [ticket(1), ticket(2, holder="ليلى حداد"), ticket(3, event_title="A long night of soups, stews and songs from home")]
    made_there = await soon(cpu.run(pdf.render_tickets_pdf, views, page_size=page_size, branding=branding, locale=locale))
    made_here = pdf.render_tickets_pdf(views, page_size=page_size, branding=branding, locale=locale)
    assert same_document(made_there) == same_document(made_here)
    assert await soon(cpu.run(os.getpid)) != os.getpid()  # it was made in another process


async def test_a_statement_made_in_the_pool_is_the_one_made_here(pool: cpu.CpuPool) -> None:
    partner = statement([line(4_973, paid=4_000), line(500, title="عشاء الخميس", reconciled=False)], name="مطبخ الترحيب")
    made_there = await soon(cpu.run(render_statement_pdf, partner, now=NOW))
    assert same_document(made_there) == same_document(render_statement_pdf(partner, now=NOW))


async def test_handing_a_call_to_the_pool_never_stalls_the_event_loop(pool: cpu.CpuPool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool's first call (and the first on a pool replacing a broken one) starts its processes, which waits for the
    fork server to import what a PDF needs: about a second, in which the other requests of this server process (a
    door's scans) must go on."""
    executor = pool._executor
    assert executor is not None
    submit = executor.submit

    def slow_submit(*args: object, **kwargs: object) -> object:
        time.sleep(0.5)  # as a first call waits for its process to start
        return submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "submit", slow_submit)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    assert await soon(cpu.run(os.getpid)) != os.getpid()
    ticker.cancel()
    assert time.monotonic() - started >= 0.5
    longest_wait = max(later - earlier for earlier, later in itertools.pairwise(ticks))
    assert longest_wait < 0.25, f"the event loop stood still for {longest_wait:.2f} s"


async def test_a_call_handed_over_as_its_pool_is_replaced_goes_to_the_new_pool(pool: cpu.CpuPool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between a call taking the pool and its thread handing the call over, another call may find the pool broken and
    replace it: the call goes to the new pool rather than failing."""
    executor = pool._executor
    assert executor is not None
    submit = executor.submit
    handing_over = threading.Event()

    def slow_submit(*args: object, **kwargs: object) -> object:
        handing_over.set()
        time.sleep(0.3)
        return submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "submit", slow_submit)
    call = asyncio.create_task(cpu.run(os.getpid))
    assert await asyncio.to_thread(handing_over.wait, PATIENCE_SECONDS)
    pool._replace(executor, "Replaced by the test")
    assert await soon(call) != os.getpid()
    assert pool._executor is not executor


async def test_a_pool_process_killed_between_calls_is_replaced(pool: cpu.CpuPool) -> None:
    first = await soon(cpu.run(os.getpid))
    os.kill(first, signal.SIGKILL)
    views = [ticket(1)]
    made = await soon(cpu.run(pdf.render_tickets_pdf, views))
    assert same_document(made) == same_document(pdf.render_tickets_pdf(views))
    assert await soon(cpu.run(os.getpid)) != first


async def test_a_call_whose_process_dies_is_tried_once_more_on_a_new_pool(pool: cpu.CpuPool, tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    second = await soon(cpu.run(kill_own_process_once, str(marker)))
    assert marker.exists()  # the first try did die
    assert await soon(cpu.run(os.getpid)) == second  # later calls go to the new pool


async def test_a_call_that_kills_every_pool_fails_clearly_and_the_next_call_works(pool: cpu.CpuPool) -> None:
    with pytest.raises(cpu.CpuUnavailable) as failed:
        await soon(cpu.run(kill_own_process))
    assert failed.value.status_code == 503
    assert failed.value.headers == {"Retry-After": str(cpu.RETRY_AFTER_SECONDS)}
    assert await soon(cpu.run(os.getpid)) != os.getpid()


async def test_a_call_that_hangs_fails_clearly_and_the_calls_after_it_are_made(tmp_path: Path) -> None:
    """One pool process, stuck in a call that never returns: after the time limit that call is answered 503 "try
    again" (rather than never), its process is killed, and the PDF that was waiting for the process is made."""
    limit = 10.0  # a new pool starting on a loaded machine (CI) takes seconds: its first call must fit in the limit
    running = cpu.start(1, timeout_seconds=limit)
    try:
        await soon(cpu.run(os.getpid))  # the process is up: the limit counts the call, not the pool's start
        hung_pid = tmp_path / "hung"
        started = time.monotonic()
        hung = asyncio.ensure_future(cpu.run(hang, str(hung_pid)))
        views = [ticket(1)]
        waiting = asyncio.ensure_future(cpu.run(pdf.render_tickets_pdf, views))
        with pytest.raises(cpu.CpuUnavailable) as failed:
            await soon(hung)
        assert time.monotonic() - started >= limit
        assert failed.value.status_code == 503 and failed.value.headers == {"Retry-After": str(cpu.RETRY_AFTER_SECONDS)}
        assert same_document(await soon(waiting)) == same_document(pdf.render_tickets_pdf(views))
        assert gone(int(hung_pid.read_text()))
        assert await soon(cpu.run(os.getpid)) != int(hung_pid.read_text())
    finally:
        await running.close()


async def test_the_calls_running_beside_a_hung_one_are_made_again_on_the_new_pool(tmp_path: Path) -> None:
    """Two pool processes: a call hangs in one while another call runs in the other. Killing the hung call's pool kills
    the other's process too; that call is made again on the new pool and answers as usual."""
    limit = 10.0  # a new pool starting on a loaded machine (CI) takes seconds: its first call must fit in the limit
    running = cpu.start(2, timeout_seconds=limit)
    try:
        first_pids = set(await soon(asyncio.gather(*(cpu.run(when_told, str(tmp_path)) for _ in range(2)))))
        hung_pid, go = tmp_path / "hung", tmp_path / "go"
        hung = asyncio.ensure_future(cpu.run(hang, str(hung_pid)))
        await asyncio.sleep(limit / 2)  # its own limit ends well after the hung call's
        beside = asyncio.ensure_future(cpu.run(when_told, str(go)))
        with pytest.raises(cpu.CpuUnavailable):
            await soon(hung)
        go.touch()
        made_in = await soon(beside)
        assert made_in not in first_pids  # made again, in the new pool
        assert all(gone(pid) for pid in first_pids)
    finally:
        await running.close()


async def test_closing_the_pool_stops_its_processes_and_later_calls_run_in_a_thread() -> None:
    running = cpu.start(2)
    pids = set(await soon(asyncio.gather(*(cpu.run(os.getpid) for _ in range(4)))))
    await soon(running.close())
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    assert await soon(cpu.run(os.getpid)) == os.getpid()


async def test_no_processes_means_a_thread_of_this_process() -> None:
    running = cpu.start(0)
    try:
        assert await soon(cpu.run(os.getpid)) == os.getpid()
        views = [ticket(1)]
        assert same_document(await soon(cpu.run(pdf.render_tickets_pdf, views))) == same_document(pdf.render_tickets_pdf(views))
    finally:
        await running.close()


OWNER = """
import asyncio, os, sys
from events import cpu

async def main():
    cpu.start(2)
    pids = await asyncio.gather(*(cpu.run(os.getpid) for _ in range(4)))
    print(*sorted(set(pids)), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_the_pool_processes_end_when_the_server_process_is_killed(tmp_path: Path) -> None:
    """A serve process SIGKILLed (or killed by uvicorn's supervisor) never closes its pool: the pool's processes see it
    go and end too, rather than waiting for work for ever."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert owner.stdout is not None
        pool_pids = [int(pid) for pid in owner.stdout.readline().split()]
        assert pool_pids and owner.pid not in pool_pids
        assert all(Path(f"/proc/{pid}").exists() for pid in pool_pids)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + PATIENCE_SECONDS
    while any(alive(pid) for pid in pool_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pool_pids)


def gone(pid: int) -> bool:
    """The process has ended (or ends within the test's patience)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def alive(pid: int) -> bool:
    """Running, rather than gone or a zombie its parent (the pool's fork server, ending too) has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_a_second_pool_closed_gives_the_first_its_calls_back() -> None:
    """Tests start a second app (its own lifespan, its own pool) beside the session's: once it stops, PDFs go to the
    session app's pool again, not to a thread."""
    first = cpu.start(1)
    try:
        second = cpu.start(0)
        assert await soon(cpu.run(os.getpid)) == os.getpid()
        await second.close()
        assert await soon(cpu.run(os.getpid)) != os.getpid()
    finally:
        await first.close()
    assert await soon(cpu.run(os.getpid)) == os.getpid()
