"""The mail server down for a while (issue #20 §4), through a real `events serve` and two real `events worker`
processes on one PostgreSQL database: ticket emails wait in the outbox, retried with their attempts counted, and
each goes out exactly once when the server is back, whichever worker sends it. A mail server that stalls
mid-conversation for longer than a worker's claim on the message makes no duplicate either.

Time is compressed by settings, never by sleeping: the outbox retries after 1 s (doubling) instead of a minute, and
a claim lasts 6 s instead of five minutes (so a try is abandoned after 3 s)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.orders import pay_with_test_page
from tests.support.outages import SwitchableMailServer, running_workers
from tests.support.server import demo_environment, live_server

SLUG = "choose-love-night"
LEASE_SECONDS = 6


@dataclass
class MailingSite:
    base_url: str
    database_url: str
    mail: SwitchableMailServer

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30)

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return [dict(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()


@pytest.fixture(scope="module")
def site(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailingSite]:
    """The demo on PostgreSQL mailing through aiosmtpd, served by one `events serve` with two `events worker`s."""
    mail = SwitchableMailServer()
    env = demo_environment(
        tmp_path_factory.mktemp("smtp-outage"),
        race_database,
        EVENTS_OUTBOX_RETRY_SECONDS="1",
        EVENTS_OUTBOX_SENDING_LEASE_SECONDS=str(LEASE_SECONDS),
        **mail.environment(),
    )
    mail.start()
    try:
        with live_server(env) as base_url, running_workers(env, 2):
            yield MailingSite(base_url, race_database, mail)
    finally:
        mail.stop()


async def eventually(check: Callable[[], Awaitable[Any]], *, what: str, timeout: float = 120) -> Any:
    """Poll until ``check`` returns something truthy (the workers drain the outbox every 10 s)."""
    deadline = time.monotonic() + timeout
    while True:
        if result := await check():
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


async def buy_tickets(site: MailingSite, emails: list[str]) -> list[dict[str, Any]]:
    """Each guest orders a ticket and pays on the development test payment page: a confirmation email is queued."""
    orders = []
    async with site.http() as http:
        advance = next(t["id"] for t in (await http.get(f"/api/events/{SLUG}")).json()["ticket_types"] if t["name"] == "Advance")
        for address in emails:
            body = {"buyer": {"name": "Outage Guest", "email": address}, "items": [{"ticket_type": advance, "quantity": 1}]}
            created = await http.post(f"/api/events/{SLUG}/orders", json=body)
            assert created.status_code == 201, created.text
            paid = await pay_with_test_page(http, created.json())
            assert paid.status_code == 303, paid.text
            orders.append(created.json())
    return orders


async def outbox_of(site: MailingSite, emails: list[str]) -> list[dict[str, Any]]:
    return await site.rows(
        "SELECT recipient, kind, status, attempts, last_error, sending_until FROM outbox_message WHERE recipient = ANY($1) ORDER BY recipient",
        emails,
    )


def delivered_to(site: MailingSite, address: str) -> int:
    return sum(address in envelope.rcpt_tos for envelope in site.mail.inbox.envelopes)


async def every_email_went_once(site: MailingSite, emails: list[str]) -> None:
    """Each guest's confirmation sent and received once; and, over the whole site (the demo's own guests' emails
    too), as many emails received as the outbox says were sent, after waiting out any try still under way."""

    async def all_sent() -> bool:
        rows = await outbox_of(site, emails)
        return len(rows) == len(emails) and all(row["status"] == "sent" for row in rows)

    await eventually(all_sent, what="every waiting email to be sent")
    await asyncio.sleep(LEASE_SECONDS / 2 + 1)  # longer than any try that could still be talking to the server
    assert {address: delivered_to(site, address) for address in emails} == dict.fromkeys(emails, 1)
    rows = await outbox_of(site, emails)
    assert {(row["kind"], row["status"], row["sending_until"]) for row in rows} == {("order_confirmation", "sent", None)}
    sent = await site.rows(
        "SELECT (SELECT count(*) FROM outbox_message WHERE status = 'sent') + (SELECT count(*) FROM account_message WHERE status = 'sent') AS n"
    )
    assert len(site.mail.inbox.envelopes) == sent[0]["n"]


async def test_while_the_mail_server_is_down_emails_wait_and_each_goes_once_when_it_is_back(site: MailingSite) -> None:
    site.mail.stop()
    emails = [f"down-{n}@example.org" for n in range(4)]
    orders = await buy_tickets(site, emails)

    async def retried_while_down() -> bool:
        rows = await outbox_of(site, emails)
        return len(rows) == len(emails) and all(row["attempts"] >= 2 for row in rows)

    await eventually(retried_while_down, what="each email to be tried at least twice while the mail server is down")
    for row in await outbox_of(site, emails):
        assert row["status"] == "queued", row  # waiting, not given up
        assert row["last_error"] == "SMTPConnectError", row  # the error's kind only: never the address
    assert all(delivered_to(site, address) == 0 for address in emails)
    async with site.http() as http:
        for order in orders:  # the sale never waits for its email
            answer = await http.get(f"/api/orders/{order['reference']}", headers={"Authorization": f"Bearer {order['access_token']}"})
            assert answer.json()["status"] == "paid"

    site.mail.start()
    await every_email_went_once(site, emails)


async def test_a_mail_server_stalling_longer_than_a_claim_gets_no_message_twice(site: MailingSite) -> None:
    """Each try is kept waiting at the end of the conversation for longer than the worker's claim on the message:
    the worker hangs up (its try abandoned) before the claim runs out, so whichever worker takes the message next
    sends it alone. The mail server keeps nothing from a conversation that did not end."""
    site.mail.inbox.stall_seconds = LEASE_SECONDS + 4
    emails = [f"stalled-{n}@example.org" for n in range(3)]
    await buy_tickets(site, emails)

    async def abandoned() -> bool:
        rows = await outbox_of(site, emails)
        return len(rows) == len(emails) and all(row["last_error"] == "TimeoutError" for row in rows) and site.mail.inbox.stalled >= 4

    await eventually(abandoned, what="each email's try to be abandoned while the mail server stalls")
    assert all(delivered_to(site, address) == 0 for address in emails)
    assert all(row["status"] == "queued" for row in await outbox_of(site, emails))

    site.mail.inbox.stall_seconds = 0
    await every_email_went_once(site, emails)
