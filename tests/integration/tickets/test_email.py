"""Ticket emails through the outbox: queued with the payment, delivered to a real SMTP server (aiosmtpd),
retried with backoff while the server is down, re-sent on request, and re-issued with a new holder name."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from events.config import Settings, SmtpSettings
from events.orders.tables import Order
from events.tickets import queries as ticket_queries
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order
from tests.support.server import free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


@dataclasses.dataclass
class SmtpServer:
    controller: Controller
    inbox: Inbox
    settings: Settings  # the app's settings, sending to this server


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1, not yet started (tests start it, so they can also see it down)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp = SmtpSettings(host="127.0.0.1", port=port, user=None, password=None, sender="Events <tickets@events.test>", starttls=False)
    server = SmtpServer(controller, inbox, dataclasses.replace(settings, smtp=smtp))
    yield server
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.controller.start()
    return smtp_server


async def paid_order(client: httpx.AsyncClient, now: datetime, quantity: int = 2) -> dict[str, Any]:
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=quantity)).json()
    await pay_with_test_page(client, created)
    return created


def clock() -> datetime:
    """The app stamps messages with the real time of each request, so drains run at the real time too."""
    return datetime.now(timezone.utc)


async def outbox_of(reference: str) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.order_id.reference == reference).order_by(OutboxMessage.id)


async def test_paying_queues_one_email_and_the_worker_delivers_the_tickets(client: httpx.AsyncClient, smtp: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2)).json()
    reference = created["reference"]
    assert await outbox_of(reference) == []  # nothing is sent for a hold
    await pay_with_test_page(client, created)
    [queued] = await outbox_of(reference)
    assert (queued["kind"], queued["status"], queued["recipient"], queued["attempts"]) == ("order_confirmation", "queued", "amal@example.org", 0)

    assert await drain_outbox(clock(), settings=smtp.settings) == 1
    [envelope] = smtp.inbox.envelopes
    assert envelope.rcpt_tos == ["amal@example.org"] and envelope.mail_from == "tickets@events.test"
    [message] = smtp.inbox.messages()
    assert message["Subject"] == "Your tickets for Supper Club"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"tickets-{reference}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    base = smtp.settings.base_url
    tickets = (await get_order(client, created))["tickets"]
    assert len(tickets) == 2
    for ticket in tickets:
        assert f"{base}{ticket['url']}" in text
        assert f'href="{base}{ticket["url"]}"' in html
        assert (await client.get(ticket["url"])).status_code == 200  # the linked page exists
    assert f"{base}/orders/{reference}?token={created['access_token']}" in text

    assert await drain_outbox(clock() + timedelta(hours=2), settings=smtp.settings) == 0
    assert len(smtp.inbox.envelopes) == 1  # sent once, never again
    [sent] = await outbox_of(reference)
    assert sent["status"] == "sent" and sent["sent_at"] is not None and sent["attempts"] == 1


async def test_two_workers_draining_at_once_send_each_message_once(client: httpx.AsyncClient, smtp: SmtpServer, now: datetime) -> None:
    created = await paid_order(client, now)
    at = clock()
    results = await asyncio.gather(*(drain_outbox(at, settings=smtp.settings) for _ in range(4)))
    assert sorted(results) == [0, 0, 0, 1]
    assert len(smtp.inbox.envelopes) == 1
    [sent] = await outbox_of(created["reference"])
    assert sent["attempts"] == 1


async def test_while_the_mail_server_is_down_the_email_waits_and_is_sent_once_it_is_back(
    client: httpx.AsyncClient, smtp_server: SmtpServer, now: datetime
) -> None:
    created = await paid_order(client, now)
    first_try = clock()
    assert await drain_outbox(first_try, settings=smtp_server.settings) == 0  # nothing listens on the port yet
    [waiting] = await outbox_of(created["reference"])
    assert waiting["status"] == "queued" and waiting["attempts"] == 1
    assert waiting["next_attempt_at"] == first_try + timedelta(minutes=1)
    assert waiting["sending_until"] is None
    assert waiting["last_error"] and "@" not in waiting["last_error"]
    assert (await get_order(client, created))["status"] == "paid"  # the order never depends on the email

    smtp_server.controller.start()
    assert await drain_outbox(first_try + timedelta(seconds=30), settings=smtp_server.settings) == 0  # not due yet
    assert smtp_server.inbox.envelopes == []
    assert await drain_outbox(first_try + timedelta(minutes=1), settings=smtp_server.settings) == 1
    assert len(smtp_server.inbox.envelopes) == 1
    [sent] = await outbox_of(created["reference"])
    assert sent["status"] == "sent" and sent["attempts"] == 2 and sent["last_error"] == ""


class SlowInbox(Inbox):
    """A mail server that takes a while over each message, and turns the second away for now (451)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.seen = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        await asyncio.sleep(self.seconds)
        if self.seen == 2:
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


async def test_each_message_of_a_slow_batch_is_stamped_with_the_time_it_was_tried(
    client: httpx.AsyncClient, settings: Settings, now: datetime
) -> None:
    """The worker's outbox job, behind a slow mail server: an email's sent_at is when it went, and one turned away is
    tried again a minute after that try, not a minute after the batch began (which the batch may have passed)."""
    from events.jobs.registry import periodic_jobs
    from events.payments.gateway import TestGateway

    slow = 1.0
    inbox = SlowInbox(slow)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp = SmtpSettings(host="127.0.0.1", port=port, user=None, password=None, sender="Events <tickets@events.test>", starttls=False)
    [drain] = [job for job in periodic_jobs(TestGateway(), dataclasses.replace(settings, smtp=smtp)) if job.name == "drain-email-outbox"]
    slug = await make_event(now)
    first, second = [(await place_order(client, slug, quantity=1)).json() for _ in range(2)]
    for order in (first, second):
        await pay_with_test_page(client, order)
    controller.start()
    try:
        batch_start = clock()
        await drain.run(batch_start)
    finally:
        controller.stop()
    [sent] = await outbox_of(first["reference"])
    [waiting] = await outbox_of(second["reference"])
    assert sent["status"] == "sent" and batch_start + timedelta(seconds=slow) <= sent["sent_at"] <= clock()
    assert (waiting["status"], waiting["attempts"]) == ("queued", 1)
    assert waiting["next_attempt_at"] >= batch_start + timedelta(minutes=1, seconds=2 * slow)


async def test_without_an_smtp_host_emails_are_written_to_var_outbox(
    client: httpx.AsyncClient, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    assert settings.smtp.host is None  # the development default
    created = await paid_order(client, now, quantity=1)
    development = dataclasses.replace(settings, var_dir=tmp_path)
    assert await drain_outbox(clock(), settings=development) == 1
    [written] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == "amal@example.org"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"tickets-{created['reference']}.pdf"
    [sent] = await outbox_of(created["reference"])
    assert sent["status"] == "sent"


async def test_a_late_payment_that_is_refunded_emails_a_refund_notice(client: httpx.AsyncClient, app: Any, smtp: SmtpServer, now: datetime) -> None:
    from events.payments.service import sweep_expired_holds

    slug = await make_event(now, capacity=22, reserved_free_places=20)
    late = (await place_order(client, slug, quantity=2)).json()
    await sweep_expired_holds(now + timedelta(minutes=20), gateways=app.state.gateways)
    on_time = (await place_order(client, slug, quantity=2)).json()
    await pay_with_test_page(client, on_time)
    await pay_with_test_page(client, late)
    assert [m["kind"] for m in await outbox_of(late["reference"])] == ["late_payment_refunded"]

    assert await drain_outbox(clock(), settings=smtp.settings) == 2  # the on-time buyer's tickets, and the notice
    [notice] = [m for m in smtp.inbox.messages() if "refunded" in m["Subject"]]
    assert list(notice.iter_attachments()) == []
    assert "refunded you in full" in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_a_failure_to_queue_never_undoes_the_payment(client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real database error inside the payment's transaction (it would abort it on PostgreSQL), where the message is
    # queued (its nine arguments taken, as the real statement's).
    monkeypatch.setattr(ticket_queries, "QUEUE_MESSAGE", "INSERT INTO no_such_table VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})")
    created = await paid_order(client, now)
    order = await get_order(client, created)
    assert order["status"] == "paid" and len(order["tickets"]) == 2
    assert await outbox_of(created["reference"]) == []


async def test_a_guest_can_have_their_tickets_emailed_again_three_times_an_hour(client: httpx.AsyncClient, now: datetime) -> None:
    created = await paid_order(client, now)
    reference = created["reference"]
    page = await client.get(f"/orders/{reference}?token={created['access_token']}")
    assert "Email my tickets again" in page.text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"token": created["access_token"], "_csrf_token": csrf.group(1)}

    resent = await client.post(f"/orders/{reference}/resend", data=form)
    assert resent.status_code == 303 and "resent=1" in resent.headers["location"]
    assert "emailing your tickets again" in (await client.get(resent.headers["location"])).text
    bearer = {"Authorization": f"Bearer {created['access_token']}"}
    for _ in range(2):
        api = await client.post(f"/api/orders/{reference}/resend", headers=bearer)
        assert api.status_code == 202 and api.json() == {"status": "queued"}

    refused = await client.post(f"/api/orders/{reference}/resend", headers=bearer)
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    page_refused = await client.post(f"/orders/{reference}/resend", data=form)
    assert page_refused.status_code == 429 and "spam folder" in page_refused.text
    kinds = [m["kind"] for m in await outbox_of(reference)]
    assert kinds == ["order_confirmation", "tickets_resent", "tickets_resent", "tickets_resent"]

    assert (await client.post(f"/api/orders/{reference}/resend", headers={"Authorization": "Bearer ord_wrong"})).status_code == 404
    no_csrf = await client.post(f"/orders/{reference}/resend", data={"token": created["access_token"]})
    assert no_csrf.status_code == 403


async def test_changing_the_holder_name_reissues_the_ticket_and_emails_it(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    created = await paid_order(client, now)
    old, other = (await get_order(client, created))["tickets"]

    response = await client.patch(f"/api/tickets/{old['id']}", json={"holder": "  Samir Haddad "}, headers=organiser)
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert ticket["id"] == old["id"] and ticket["holder"] == "Samir Haddad" and ticket["status"] == "valid"
    assert ticket["secret"] != old["secret"]
    # The page's address has a key of its own, made anew too: the old link and the old code open nothing.
    assert re.fullmatch(r"/tickets/[a-z2-9]{20}", ticket["url"]) and ticket["secret"] not in ticket["url"]
    assert ticket["pdf_url"] == ticket["url"] + "/ticket.pdf"
    assert (await client.get(old["url"])).status_code == 404  # the old link is revoked
    assert (await client.get(ticket["url"])).status_code == 200
    assert await Ticket.select(Ticket.version).where(Ticket.id == old["id"]).first() == {"version": 2}
    assert await Ticket.select(Ticket.secret).where(Ticket.id == other["id"]).first() == {"secret": other["secret"]}
    kinds = [m["kind"] for m in await outbox_of(created["reference"])]
    assert kinds == ["order_confirmation", "tickets_reissued"]

    blank = await client.patch(f"/api/tickets/{old['id']}", json={"holder": "   "}, headers=organiser)
    assert blank.status_code == 422
    missing = await client.patch("/api/tickets/999999", json={"holder": "Someone"}, headers=organiser)
    assert missing.status_code == 404
    guest = await client.patch(f"/api/tickets/{old['id']}", json={"holder": "Me"}, headers={"Authorization": f"Bearer {created['access_token']}"})
    assert guest.status_code == 401
    # A ticket's code has room for 65,535 re-issues; past that the organiser is told what to do instead.
    await Ticket.update({Ticket.version: 2**16 - 2}).where(Ticket.id == old["id"])
    last = await client.patch(f"/api/tickets/{old['id']}", json={"holder": "Samir Haddad"}, headers=organiser)
    assert last.status_code == 200 and (await client.get(last.json()["url"])).status_code == 200  # the 65,535th still draws
    ticket = last.json()
    worn_out = await client.patch(f"/api/tickets/{old['id']}", json={"holder": "Samir Haddad"}, headers=organiser)
    assert worn_out.status_code == 409 and worn_out.json()["error"] == "ticket_reissue_limit"
    assert (await client.get(ticket["url"])).status_code == 200  # the ticket still shows, with its code


async def test_the_reissued_email_carries_the_new_ticket(
    client: httpx.AsyncClient, organiser: dict[str, str], smtp: SmtpServer, now: datetime
) -> None:
    created = await paid_order(client, now, quantity=1)
    [old] = (await get_order(client, created))["tickets"]
    assert await drain_outbox(clock(), settings=smtp.settings) == 1
    new = (await client.patch(f"/api/tickets/{old['id']}", json={"holder": "Samir Haddad"}, headers=organiser)).json()
    assert await drain_outbox(clock(), settings=smtp.settings) == 1
    updated = smtp.inbox.messages()[-1]
    assert updated["Subject"] == "Your updated tickets for Supper Club"
    text = updated.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert new["url"] in text and old["url"] not in text and "Samir Haddad" in text
    assert (await Order.select(Order.status).where(Order.reference == created["reference"]).first()) == {"status": "paid"}


async def test_finished_messages_are_forgotten_after_the_retention_period(
    client: httpx.AsyncClient, now: datetime, tmp_path: Path, settings: Settings
) -> None:
    from events.tickets.outbox import purge_outbox

    first = await paid_order(client, now, quantity=1)
    await drain_outbox(clock(), settings=dataclasses.replace(settings, var_dir=tmp_path))
    second = (await place_order(client, "supper-club")).json()
    await pay_with_test_page(client, second)  # still queued

    assert await purge_outbox(clock() + timedelta(days=89), retention_days=90) == 0
    assert await purge_outbox(clock() + timedelta(days=91), retention_days=90) == 1
    assert await outbox_of(first["reference"]) == []
    assert [m["status"] for m in await outbox_of(second["reference"])] == ["queued"]  # never dropped unsent
