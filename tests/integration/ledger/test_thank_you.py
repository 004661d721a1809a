"""The thank-you after an event: once to each guest who paid places forward or donated (paid, not refunded in full),
with the event's totals from the ledger, naming nobody, and not at all when the organiser turned it off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from events.catalogue.tables import Event
from events.config import Settings
from events.ledger import statements
from events.ledger.thank_you import queue_thank_yous
from events.orders.tables import Order
from events.tickets import rules
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim, claim_link
from tests.integration.tickets.test_email import SmtpServer
from tests.integration.tickets.test_reminders import paid, real_time
from tests.support.mail import app_mail_server

NAMES = ("Amal", "Haddad", "Farid", "Karimi", "Chen", "Dara", "Leila")


@pytest.fixture
def mail(settings: Settings) -> Iterator[SmtpServer]:
    with app_mail_server(settings) as server:
        yield server


async def supper_with_givers(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> tuple[str, dict[str, dict[str, Any]]]:
    """£30 tickets, £30 a pay-it-forward place, shared 70/30 between the kitchen and the cinema; four orders and a
    free guest."""
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    orders = {
        "amal": await paid(client, slug, "Amal Haddad", pay_it_forward_places=2),  # £30 ticket, £60 paid forward
        "farid": await paid(client, slug, "Farid Karimi", donation_pence=1500, donation_partner="welcome-cinema"),
        "chen": await paid(client, slug, "Chen Wei"),  # a ticket only
        "dara": await paid(client, slug, "Dara Moradi", donation_pence=1000),  # refunded in full below
    }
    refund = await client.post(f"/api/orders/{orders['dara']['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund.status_code == 201, refund.text
    link = await claim_link(client, organiser, slug)
    assert (await claim(client, link["code"], "Leila", email="leila@example.org")).status_code == 201
    return slug, orders


async def thank_you_moment(slug: str) -> datetime:
    event = await Event.select(Event.ends_at, Event.timezone).where(Event.slug == slug).first()
    return rules.thank_you_at(event["ends_at"], event["timezone"])


async def thank_yous() -> list[dict[str, Any]]:
    return (
        await OutboxMessage.select(
            OutboxMessage.order_id.reference, OutboxMessage.recipient, OutboxMessage.dedupe_key, OutboxMessage.detail, OutboxMessage.status
        )
        .where(OutboxMessage.kind == "thank_you")
        .order_by(OutboxMessage.id)
    )


async def test_givers_are_thanked_once_with_the_events_totals_and_nobody_is_named(
    client: httpx.AsyncClient, mail: SmtpServer, organiser: dict[str, str], now: datetime
) -> None:
    slug, orders = await supper_with_givers(client, organiser, now)
    await drain_outbox(real_time(), settings=mail.settings)  # confirmations and the refund's email
    mail.inbox.envelopes.clear()
    at = await thank_you_moment(slug)

    assert await queue_thank_yous(at - timedelta(minutes=1)) == 0  # the ledger settles first
    await asyncio.gather(queue_thank_yous(at), queue_thank_yous(at))  # two workers at once
    assert await queue_thank_yous(at + timedelta(hours=1)) == 0
    queued = await thank_yous()
    amal_id, farid_id = [
        (await Order.select(Order.id).where(Order.reference == orders[name]["reference"]).first())["id"] for name in ("amal", "farid")
    ]
    assert [(row["recipient"], row["dedupe_key"]) for row in queued] == [
        ("amal@example.org", f"thank_you:{amal_id}"),
        ("farid@example.org", f"thank_you:{farid_id}"),
    ]  # not Chen (tickets only), Dara (refunded in full) or Leila (a free guest)
    # Tickets (£90 of three paid ones) are shared 70/30, the cinema's donation is the cinema's; the £60 paid forward
    # is held for free guests until the organiser decides, so it is in no partner's total.
    expected = {
        "currency": "GBP",
        "free_places_funded": 2,
        "free_places_used": 1,
        "partners": [{"name": "Welcome Kitchen", "amount_pence": 6300}, {"name": "Welcome Cinema", "amount_pence": 2700 + 1500}],
    }
    assert all(json.loads(row["detail"]) == expected for row in queued)
    statement = await statements.event_statement(slug)
    assert [(line.name, line.net_pence) for line in statement.partners] == [(p["name"], p["amount_pence"]) for p in expected["partners"]]

    assert await drain_outbox(at, settings=mail.settings) == 2
    assert sorted(envelope.rcpt_tos[0] for envelope in mail.inbox.envelopes) == ["amal@example.org", "farid@example.org"]
    for message in mail.inbox.messages():
        assert message["Subject"] == "Thank you for your generosity at Supper Club"
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "Together, guests paid forward 2 free places for refugee and asylum-seeking guests." in text
        assert "1 of them was taken up." in text
        assert "- Welcome Kitchen: £63\r\n- Welcome Cinema: £42\r\n" in text, text
        for body in (text, html):
            assert not [name for name in NAMES if name in body], body


async def test_no_thank_you_when_the_organiser_turned_it_off(
    client: httpx.AsyncClient, mail: SmtpServer, organiser: dict[str, str], now: datetime
) -> None:
    slug, _ = await supper_with_givers(client, organiser, now)
    at = await thank_you_moment(slug)
    off = await client.patch(f"/api/events/{slug}", json={"thank_you_enabled": False}, headers=organiser)
    assert off.status_code == 200 and off.json()["thank_you_enabled"] is False
    assert await queue_thank_yous(at) == 0 and await thank_yous() == []

    # Turned off after the thank-yous were queued: the worker checks again and sends none.
    await client.patch(f"/api/events/{slug}", json={"thank_you_enabled": True}, headers=organiser)
    assert await queue_thank_yous(at) == 2
    await client.patch(f"/api/events/{slug}", json={"thank_you_enabled": False}, headers=organiser)
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(OutboxMessage.kind != "thank_you")
    assert await drain_outbox(at, settings=mail.settings) == 0
    assert {row["status"] for row in await thank_yous()} == {"skipped"}


async def test_cancelled_events_and_long_past_ones_are_not_thanked(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug, _ = await supper_with_givers(client, organiser, now)
    at = await thank_you_moment(slug)
    await Event.update({Event.status: "cancelled"}).where(Event.slug == slug)
    assert await queue_thank_yous(at) == 0
    await Event.update({Event.status: "finished"}).where(Event.slug == slug)
    assert await queue_thank_yous(at + timedelta(days=30)) == 0  # looked at for a week after it was due, not for ever
    assert await queue_thank_yous(at + timedelta(days=2)) == 2
