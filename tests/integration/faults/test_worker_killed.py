"""A worker (`events worker`) killed (SIGKILL) while it holds a job's lease, with a second worker running: the second
takes the job once the lease runs out (EVENTS_JOB_LEASE_SECONDS, short here), and the work is done once: each guest
gets one reminder email, through a real SMTP server (aiosmtpd).

The kill lands while the job is half done, by the test's choice: a trigger in the test's own database makes the
job's first INSERT into the outbox wait on an advisory lock the test holds; the test finds which worker's connection
waits there (pg_stat_activity's client port, matched in /proc) and kills that worker.

And the one case SMTP leaves open: a worker killed after the mail server took an email but before it answered. The
other worker sends it again, as the same message (the same Message-ID).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.integration.tickets.test_email import Inbox
from tests.support.faults import create_event, kill, organiser_headers, process_of_client_port, wait_until_gone
from tests.support.mail import MailServer, running_mail_server
from tests.support.orders import pay_with_test_page
from tests.support.server import free_port, live_server, run_cli, server_environment

pytestmark = [pytest.mark.postgres_only, pytest.mark.xdist_group("faults-worker-killed")]

GUESTS = 4
LEASE_SECONDS = 5
SLUG = "killed-worker"
JOB = "queue-reminders"
PAUSE_LOCK = 2021

PAUSE_OUTBOX = f"""
CREATE FUNCTION faults_pause_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({PAUSE_LOCK});
    RETURN NULL;
END $$;
CREATE TRIGGER faults_pause_outbox AFTER INSERT ON outbox_message FOR EACH STATEMENT EXECUTE FUNCTION faults_pause_outbox();
"""
WAITING = """
SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = $1 AND a.datname = current_database()
"""


@contextmanager
def running_workers(env: dict[str, str], count: int, var_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = []
    try:
        for index in range(count):
            with (var_dir / f"worker-{index}.log").open("w") as log:
                processes.append(subprocess.Popen([sys.executable, "-m", "events", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def reminders_in(mail: MailServer) -> Counter[str]:
    return Counter(str(message["To"]) for message in mail.inbox.messages() if str(message["Subject"]).startswith("Reminder:"))


async def test_a_worker_killed_holding_a_lease_leaves_the_job_to_another_which_does_it_once(race_database: str, tmp_path: Path) -> None:
    with running_mail_server() as mail:
        env = server_environment(
            race_database,
            tmp_path,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(mail.port),
            SMTP_STARTTLS="false",
            SMTP_FROM="Events <tickets@events.test>",
            EVENTS_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
            EVENTS_OUTBOX_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        run_cli(env, "migrate")
        headers = organiser_headers(env)
        guests = [f"guest{index}@test.example" for index in range(GUESTS)]
        with live_server(env) as base_url:
            create_event(base_url, headers, SLUG, capacity=20)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                ticket_type = (await http.get(f"/api/events/{SLUG}")).json()["ticket_types"][0]["id"]
                for index, guest in enumerate(guests):
                    body = {"buyer": {"name": f"Guest {index}", "email": guest}, "items": [{"ticket_type": ticket_type, "quantity": 1}]}
                    created = await http.post(f"/api/events/{SLUG}/orders", json=body)
                    assert created.status_code == 201, created.text
                    assert (await pay_with_test_page(http, created.json())).status_code in (200, 303)

        control = await asyncpg.connect(race_database)
        try:
            # A month passes: the event is two hours away, its reminder moment (48 hours before) long gone, and the
            # guests paid before it.
            await control.execute(
                "UPDATE event SET starts_at = now() + interval '2 hours', ends_at = now() + interval '5 hours' WHERE slug = $1", SLUG
            )
            await control.execute("UPDATE ticket_order SET paid_at = paid_at - interval '30 days', created_at = created_at - interval '30 days'")
            assert await control.fetchval("SELECT count(*) FROM ticket_order WHERE status = 'paid'") == GUESTS
            await control.execute(PAUSE_OUTBOX)
            await control.execute("SELECT pg_advisory_lock($1)", PAUSE_LOCK)

            with running_workers(env, 2, tmp_path) as workers:
                pids = [worker.pid for worker in workers]
                deadline = time.monotonic() + 120
                victim = None
                while victim is None:
                    # The lease's holder, once it waits at the pause. (On a slow machine the lease may run out while
                    # it waits, and the other worker take the job and wait there too: the holder is the one to kill.)
                    lease = await control.fetchrow("SELECT holder, leased_until FROM job_lease WHERE name = $1", JOB)
                    waiting = {process_of_client_port(pids, row["client_port"]) for row in await control.fetch(WAITING, PAUSE_LOCK)}
                    holders = [pid for pid in pids if lease is not None and lease["holder"] == f"{socket.gethostname()}:{pid}"]
                    victim = next((pid for pid in holders if pid in waiting), None)
                    assert time.monotonic() < deadline, "no worker reached the outbox"
                    await asyncio.sleep(0.05)
                kill(victim)
                await asyncio.to_thread(wait_until_gone, victim)
                await control.execute("SELECT pg_advisory_unlock($1)", PAUSE_LOCK)
                [survivor] = [pid for pid in pids if pid != victim]

                deadline = time.monotonic() + 120
                while sum(reminders_in(mail).values()) < GUESTS:
                    assert time.monotonic() < deadline, (reminders_in(mail), _logs(tmp_path))
                    await asyncio.sleep(0.2)
                taken = await control.fetchrow("SELECT holder, last_run_at FROM job_lease WHERE name = $1", JOB)
                # A few more of the survivor's rounds: nothing more goes out.
                await asyncio.sleep(2 * LEASE_SECONDS)
                outbox = await control.fetch("SELECT recipient, status, attempts FROM outbox_message WHERE kind = 'reminder'")
        finally:
            await control.close()

    # The survivor took the job, and only once the killed worker's lease had run out.
    assert taken["holder"] == f"{socket.gethostname()}:{survivor}", taken
    assert taken["last_run_at"] >= lease["leased_until"], (taken, lease)
    # Done once: one reminder queued and sent per guest, at the first try, and one email each.
    assert sorted(row["recipient"] for row in outbox) == sorted(guests)
    assert {(row["status"], row["attempts"]) for row in outbox} == {("sent", 1)}
    assert reminders_in(mail) == dict.fromkeys(guests, 1)


def _logs(var_dir: Path) -> str:
    return "\n".join(path.read_text()[-3000:] for path in sorted(var_dir.glob("worker-*.log")))


EMAIL_SLUG = "killed-mid-send"


class SlowToAnswer(Inbox):
    """A mail server that has taken the first email in full (kept, as a real one queues it before answering) and
    waits before saying so ("250"), until the test lets it: the moment a worker cannot know whether its email went."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = threading.Event()
        self.first_sender_port: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        first = not self.envelopes
        self.envelopes.append(envelope)
        if first:
            self.first_sender_port = session.peer[1]
            while not self.answer.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted"


@contextmanager
def slow_mail_server() -> Iterator[tuple[SlowToAnswer, int]]:
    inbox = SlowToAnswer()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.answer.set()
        controller.stop()


async def test_a_worker_killed_before_the_mail_server_answered_has_the_email_resent_as_the_same_message(race_database: str, tmp_path: Path) -> None:
    """The one thing a dead worker can leave done twice: SMTP cannot say whether the server took an email whose "250"
    never came, so the other worker sends it again once the claim runs out. It is the same message (the same
    Message-ID, by which mail systems tell a copy from new mail), sent twice at most, and marked sent once."""
    with slow_mail_server() as (inbox, mail_port):
        env = server_environment(
            race_database,
            tmp_path,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(mail_port),
            SMTP_STARTTLS="false",
            SMTP_FROM="Events <tickets@events.test>",
            EVENTS_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
            EVENTS_OUTBOX_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
            # A try abandoned after half the claim (a busy machine composing the ticket's PDF) comes back in a second,
            # not the production minute, within the test's wait for the other worker to send it.
            EVENTS_OUTBOX_RETRY_SECONDS="1",
        )
        run_cli(env, "migrate")
        headers = organiser_headers(env, "mid-send-organiser@test.example")
        guest = "mid-send@test.example"
        with live_server(env) as base_url:
            create_event(base_url, headers, EMAIL_SLUG, capacity=5)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                ticket_type = (await http.get(f"/api/events/{EMAIL_SLUG}")).json()["ticket_types"][0]["id"]
                body = {"buyer": {"name": "Mid Send", "email": guest}, "items": [{"ticket_type": ticket_type, "quantity": 1}]}
                created = await http.post(f"/api/events/{EMAIL_SLUG}/orders", json=body)
                assert created.status_code == 201, created.text
                await pay_with_test_page(http, created.json())
        control = await asyncpg.connect(race_database)
        try:
            message_id = await control.fetchval("SELECT id FROM outbox_message WHERE recipient = $1", guest)
            assert message_id is not None
            with running_workers(env, 2, tmp_path) as workers:
                pids = [worker.pid for worker in workers]
                deadline = time.monotonic() + 120
                while inbox.first_sender_port is None:
                    assert time.monotonic() < deadline, ("no worker sent the email", _logs(tmp_path))
                    await asyncio.sleep(0.05)
                victim = process_of_client_port(pids, inbox.first_sender_port)
                assert victim is not None
                kill(victim)
                await asyncio.to_thread(wait_until_gone, victim)
                inbox.answer.set()

                deadline = time.monotonic() + 120
                while (await control.fetchval("SELECT status FROM outbox_message WHERE id = $1", message_id)) != "sent":
                    assert time.monotonic() < deadline, ("the other worker did not send it", _logs(tmp_path))
                    await asyncio.sleep(0.2)
                await asyncio.sleep(2 * LEASE_SECONDS)  # a few more rounds: nothing more goes out
                row = await control.fetchrow("SELECT status, attempts FROM outbox_message WHERE id = $1", message_id)
        finally:
            await control.close()

    copies = [message for message in inbox.messages() if str(message["To"]) == guest]
    assert len(copies) == 2, [str(message["Message-ID"]) for message in copies]
    assert len({str(message["Message-ID"]) for message in copies}) == 1
    # Marked sent once. (Its attempts may be more than the two deliveries: a try that waits on the stalled server longer
    # than half its claim is abandoned and counted, as tickets.outbox does for any stalled mail server.)
    assert row["status"] == "sent"
    assert row["attempts"] >= len(copies)
