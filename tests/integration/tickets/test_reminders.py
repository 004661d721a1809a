"""Reminders before an event: queued by the periodic job at the moment the organiser chose (the clock is the job's
``now``), once per order however many workers run it, never for refunded or void tickets, and delivered in the
guest's language with their ticket links, the time, the place and how to get in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from events.catalogue.tables import Event
from events.config import Settings
from events.jobs.registry import periodic_jobs
from events.orders.tables import Order
from events.payments.gateway import TestGateway
from events.tickets.outbox import drain_outbox
from events.tickets.reminders import queue_due_reminders
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim, claim_link
from tests.integration.tickets.test_email import SmtpServer
from tests.support.mail import app_mail_server
from tests.support.orders import get_order, pay_with_test_page, place_order


@pytest.fixture
def mail(settings: Settings) -> Iterator[SmtpServer]:
    with app_mail_server(settings) as server:
        yield server


async def paid(client: httpx.AsyncClient, slug: str, name: str = "Amal Haddad", quantity: int = 1, **extra: Any) -> dict[str, Any]:
    """An order paid as a guest's browser pays it, by ``name`` (whose email is made from it)."""
    buyer = {"name": name, "email": f"{name.split()[0].lower()}@example.org"}
    response = await place_order(client, slug, quantity=quantity, buyer=buyer, **extra)
    assert response.status_code == 201, response.text
    created = response.json()
    await pay_with_test_page(client, created)
    return created


async def starts_at(slug: str) -> datetime:
    return (await Event.select(Event.starts_at).where(Event.slug == slug).first())["starts_at"]


async def reminders() -> list[dict[str, Any]]:
    return (
        await OutboxMessage.select(
            OutboxMessage.order_id.reference, OutboxMessage.recipient, OutboxMessage.channel, OutboxMessage.dedupe_key, OutboxMessage.status
        )
        .where(OutboxMessage.kind == "reminder")
        .order_by(OutboxMessage.id)
    )


async def reminded(slug: str) -> set[str]:
    return {row["order_id.reference"] for row in await reminders()}


def real_time() -> datetime:
    return datetime.now(timezone.utc)


async def test_each_guest_is_reminded_at_the_chosen_moment_in_their_language(client: httpx.AsyncClient, mail: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    await Event.update({Event.access_information: "Step-free entrance on Mill Lane."}).where(Event.slug == slug)
    amal = await paid(client, slug, quantity=2)
    farid = await paid(client, slug, "Farid Karimi")
    await Order.update({Order.locale: "fr"}).where(Order.reference == farid["reference"])
    await drain_outbox(real_time(), settings=mail.settings)  # the confirmations
    mail.inbox.envelopes.clear()
    start = await starts_at(slug)

    assert await queue_due_reminders(start - timedelta(hours=48, minutes=1)) == 0  # not yet
    at = start - timedelta(hours=47)
    assert await queue_due_reminders(at) == 2
    assert [(row["recipient"], row["channel"], row["dedupe_key"]) for row in await reminders()] == [
        ("amal@example.org", "email", f"reminder:{(await order_id(amal))}"),
        ("farid@example.org", "email", f"reminder:{(await order_id(farid))}"),
    ]
    assert await queue_due_reminders(at + timedelta(minutes=5)) == 0  # the next run finds nothing left to do

    assert await drain_outbox(at, settings=mail.settings) == 2
    by_recipient = {message["To"]: message for message in mail.inbox.messages()}
    english = by_recipient["amal@example.org"]
    assert english["Subject"] == "Reminder: Supper Club is coming up"
    text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = english.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"{start.astimezone(ZoneInfo('Europe/London')):%H:%M}" in text and "Community Hall" in text and "1 High Street, London" in text
    assert "https://www.openstreetmap.org/search?query=Community%20Hall%201%20High%20Street%2C%20London" in text
    assert "Step-free entrance on Mill Lane." in text and "What to bring: your ticket on your phone, or printed." in text
    for ticket in (await get_order(client, amal))["tickets"]:
        assert f"{mail.settings.base_url}{ticket['url']}" in text
        assert f'href="{mail.settings.base_url}{ticket["url"]}"' in html
    # Several tickets: "Can't come?" leads to the order page's list of them, each with its own link.
    assert "Can't come? Please give your place back" in text and "#cant-come" in text
    assert not list(english.iter_attachments())
    french = by_recipient["farid@example.org"]
    assert "Bonjour Farid Karimi," in french.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert 'lang="fr"' in french.get_body(("html",)).get_content()  # type: ignore[union-attr]


async def order_id(created: dict[str, Any]) -> int:
    return (await Order.select(Order.id).where(Order.reference == created["reference"]).first())["id"]


async def test_two_workers_at_once_remind_each_guest_once(client: httpx.AsyncClient, mail: SmtpServer, now: datetime) -> None:
    slug = await make_event(now)
    orders = [await paid(client, slug, f"Guest{n} Example") for n in range(5)]
    await drain_outbox(real_time(), settings=mail.settings)
    mail.inbox.envelopes.clear()
    at = (await starts_at(slug)) - timedelta(hours=40)

    # Two workers run the job at the same moment, each on its own connections (then three drain at once).
    await asyncio.gather(queue_due_reminders(at), queue_due_reminders(at))
    assert sorted(row["order_id.reference"] for row in await reminders()) == sorted(o["reference"] for o in orders)
    sent = await asyncio.gather(*(drain_outbox(at, settings=mail.settings) for _ in range(3)))
    assert sum(sent) == 5
    assert sorted(envelope.rcpt_tos[0] for envelope in mail.inbox.envelopes) == sorted(f"guest{n}@example.org" for n in range(5))
    await asyncio.gather(queue_due_reminders(at + timedelta(hours=1)), queue_due_reminders(at + timedelta(hours=1)))
    assert len(await reminders()) == 5 and await drain_outbox(at + timedelta(hours=1), settings=mail.settings) == 0


async def test_refunded_void_and_unpaid_tickets_get_no_reminder(
    client: httpx.AsyncClient, mail: SmtpServer, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    refunded = await paid(client, slug, "Rana Refunded", quantity=2)
    partly = await paid(client, slug, "Pari Partly", quantity=2)
    voided = await paid(client, slug, "Vida Voided")
    late_refund = await paid(client, slug, "Lina Later")
    unpaid = (await place_order(client, slug, buyer={"name": "Una Unpaid", "email": "una@example.org"})).json()
    assert (await client.post(f"/api/orders/{refunded['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)).status_code == 201
    first, second = (await get_order(client, partly))["tickets"]
    one = await client.post(
        f"/api/orders/{partly['reference']}/refunds", json={"tickets": [first["id"]], "reason": "One cannot come"}, headers=organiser
    )
    assert one.status_code == 201, one.text
    await Ticket.update({Ticket.status: "void"}).where(Ticket.order_id == await order_id(voided))
    await drain_outbox(real_time(), settings=mail.settings)
    mail.inbox.envelopes.clear()
    at = (await starts_at(slug)) - timedelta(hours=24)

    await queue_due_reminders(at)
    assert await reminded(slug) == {partly["reference"], late_refund["reference"]}
    assert unpaid["reference"] not in await reminded(slug)
    # Refunded after the reminder was queued: the worker checks again and sends nothing.
    assert (await client.post(f"/api/orders/{late_refund['reference']}/refunds", json={"reason": "Ill"}, headers=organiser)).status_code == 201
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(OutboxMessage.kind != "reminder")  # only the reminders go now
    assert await drain_outbox(at, settings=mail.settings) == 1
    [message] = mail.inbox.messages()
    assert message["To"] == "pari@example.org"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{second['url']}" in text and f"{first['url']}" not in text  # only the ticket still valid
    statuses = {row["dedupe_key"]: row["status"] for row in await reminders()}
    assert statuses == {f"reminder:{await order_id(partly)}": "sent", f"reminder:{await order_id(late_refund)}": "skipped"}


async def test_the_organiser_changes_the_hours_or_turns_reminders_off(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    await paid(client, slug)
    start = await starts_at(slug)

    changed = await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": 24}, headers=organiser)
    assert changed.status_code == 200 and changed.json()["reminder_hours_before"] == 24
    assert await queue_due_reminders(start - timedelta(hours=30)) == 0  # 48 hours would have been due by now
    off = await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": None}, headers=organiser)
    assert off.status_code == 200 and off.json()["reminder_hours_before"] is None
    for hours in (24, 12, 1):
        assert await queue_due_reminders(start - timedelta(hours=hours)) == 0
    await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": 24}, headers=organiser)
    assert await queue_due_reminders(start - timedelta(hours=23)) == 1


async def test_orders_placed_after_the_reminder_moment_get_none(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    start = (now + timedelta(hours=30)).replace(microsecond=0)
    slug = await make_event(now, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=3)).isoformat())
    await paid(client, slug)  # 30 hours before: the 48-hour moment has passed, and the confirmation has just gone
    assert await queue_due_reminders(now + timedelta(hours=1)) == 0
    await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": 12}, headers=organiser)
    assert await queue_due_reminders(start - timedelta(hours=11)) == 1  # booked before a 12-hour moment


async def test_events_not_going_ahead_send_none(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await paid(client, slug)
    at = (await starts_at(slug)) - timedelta(hours=24)
    for status in ("cancelled", "finished", "draft"):
        await Event.update({Event.status: status}).where(Event.slug == slug)
        assert await queue_due_reminders(at) == 0, status
    await Event.update({Event.status: "sales_closed"}).where(Event.slug == slug)
    assert await queue_due_reminders(at) == 1  # sales closed: still going ahead
    assert await queue_due_reminders((await starts_at(slug)) + timedelta(minutes=1)) == 0  # started: too late


async def test_claimed_places_are_reminded_by_email_or_text_and_guests_who_left_neither_are_not(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    assert (await claim(client, link["code"], "Leila", email="leila@example.org")).status_code == 201
    assert (await claim(client, link["code"], "Hassan", phone="+447911123456")).status_code == 201
    assert (await claim(client, link["code"], "Maryam")).status_code == 201  # a first name only
    await queue_due_reminders((await starts_at(slug)) - timedelta(hours=24))
    assert sorted((row["recipient"], row["channel"]) for row in await reminders()) == [("+447911123456", "sms"), ("leila@example.org", "email")]


async def test_the_worker_runs_the_reminder_and_thank_you_jobs(settings: Any) -> None:
    names = {job.name: job.every_seconds for job in periodic_jobs(TestGateway(), settings)}
    assert 60 <= names["queue-reminders"] <= 600 and names["queue-thank-yous"] <= 3600
