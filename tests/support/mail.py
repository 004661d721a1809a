"""A real SMTP server (aiosmtpd) for browser tests whose own server process sends email through its worker, and the
environment that points that server at it."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

from events.config import Settings, SmtpSettings
from tests.integration.tickets.test_email import Inbox, SmtpServer
from tests.support.server import demo_environment, free_port


class MailServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    async def next_link(self, already: int, path: str, *, recipient: str | None = None, timeout: float = 90) -> str:
        """The first link to ``path`` (e.g. "/reset-password/") in the emails after the first ``already`` (to
        ``recipient`` when given): the server's worker drains the outbox every few seconds, and the demo's own guests
        (its waiting lists' offers, its sold-out screening) may be written to meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.inbox.messages()[already:]:
                if recipient is not None and message["To"] != recipient:
                    continue
                text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
                if match := re.search(r"http://\S+" + re.escape(path) + r"\S+", text):
                    return match.group(0)
            assert time.monotonic() < deadline, f"no email with a {path} link arrived"
            await asyncio.sleep(0.5)


@contextmanager
def running_mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def mailing_demo_environment(var_dir: Path, mail: MailServer) -> dict[str, str]:
    """The demo, served with its worker running in process, mailing to ``mail``."""
    return demo_environment(
        var_dir,
        EVENTS_RUN_WORKER_IN_PROCESS="true",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(mail.port),
        SMTP_STARTTLS="false",
        SMTP_FROM="Events <accounts@events.test>",
    )


@contextmanager
def app_mail_server(settings: Settings) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), running, and the app's ``settings`` sending to it (for a test that
    drains the outbox itself)."""
    server = MailServer()
    smtp = SmtpSettings(host="127.0.0.1", port=server.port, user=None, password=None, sender="Events <tickets@events.test>", starttls=False)
    server.controller.start()
    try:
        yield SmtpServer(server.controller, server.inbox, dataclasses.replace(settings, smtp=smtp))
    finally:
        server.controller.stop()
