"""Every order's receipt, through HTTP: the same lines in the confirmation email's HTML and text parts, on the
confirmation page the buyer lands on after paying and on the order page the email links to; with the date, venue,
map, calendar file and where the tickets went."""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from events import i18n
from events.orders.codes import order_access_token
from events.orders.tables import Order
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.tickets.outbox import drain_outbox
from events.tickets.reminders import queue_due_reminders
from events.tickets.tables import OutboxMessage
from tests.factories import make_event
from tests.integration.tickets.test_email import SmtpServer, smtp, smtp_server  # noqa: F401 - fixtures
from tests.support.orders import pay_with_test_page, ticket_type_id

GIFT_AID = {"title": "Mrs", "first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "E8 1AA", "confirmed": True}
ACCESS = "Step-free entrance on Mare Street.\nNearest station: Hackney Central."
LONDON = ZoneInfo("Europe/London")


def supper_evening(now: datetime, at: time = time(18, 30)) -> datetime:
    """When the supper starts: a month from now, at ``at`` in London (the event's time zone), so what the pages and
    the email write does not depend on the hour the test runs."""
    return datetime.combine((now + timedelta(days=30)).astimezone(LONDON).date(), at, LONDON)


async def charity() -> None:
    only = await organisations.resolve(None)
    await organisations.update_details(
        only.id,
        OrganisationDetails(name="Refugee Kitchen", charity_name="Refugee Kitchen CIO", charity_number="1234567", contact_email="hello@kitchen.test"),
    )


async def generous_order(client: httpx.AsyncClient, now: datetime, starts: datetime | None = None) -> tuple[dict[str, Any], httpx.Response]:
    """2 tickets at £30 with a £1.50 booking fee each, 2 pay-it-forward places at £30 and £5 more, and £10 for Welcome
    Kitchen, with Gift Aid, for a three-hour supper (by default from 18:30 a month from now); paid with the test page.
    Returns the order and the confirmation page."""
    await charity()
    starts = starts or supper_evening(now)
    slug = await make_event(
        now,
        booking_fee_pence=150,
        pay_it_forward_place_pence=3000,
        access_information=ACCESS,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=3)).isoformat(),
    )
    body = {
        "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
        "items": [{"ticket_type": await ticket_type_id(client, slug), "quantity": 2}],
        "pay_it_forward_places": 2,
        "pay_it_forward_pence": 500,
        "donation_pence": 1000,
        "donation_partner": "welcome-kitchen",
        "gift_aid": GIFT_AID,
    }
    created = (await client.post(f"/api/events/{slug}/orders", json=body)).json()
    assert created["total_pence"] == 2 * 3000 + 2 * 150 + 2 * 3000 + 500 + 1000
    paid = await pay_with_test_page(client, created)
    assert paid.status_code == 303
    confirmation = await client.get(paid.headers["location"])
    assert confirmation.status_code == 200
    return created, confirmation


def text_of(page: str) -> str:
    """A page's words, one space apart, as a person reads them (a name isolated in <bdi> runs on in its sentence)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"</?bdi>", "", page))).split())


def assert_receipt(words: str) -> None:
    """The receipt's content, in the order a guest reads it, whatever the markup around it."""
    expected = [
        "Receipt",
        "Supper",
        "2 × £30",
        "£60",
        "Booking fee",
        "2 × £1.50",
        "£3",
        "Pay it forward: 2 free places",
        "2 × £30",
        "£60",
        "Pay it forward",
        "£5",
        "Donation to Welcome Kitchen",
        "£10",
        "Total",
        "£138",
        "Payment",
        "Test payment (no money was taken)",
        "Gift Aid: Mrs Amal Haddad declared that they are a UK taxpayer and want Refugee Kitchen CIO to claim Gift Aid on £75",
        "Paid to Refugee Kitchen CIO, registered charity 1234567.",
    ]
    assert_in_order(words, expected)


async def test_the_email_and_both_pages_carry_the_same_receipt(client: httpx.AsyncClient, smtp: SmtpServer, now: datetime) -> None:  # noqa: F811
    created, confirmation = await generous_order(client, now)

    assert_receipt(text_of(confirmation.text))
    order_page = await client.get(f"/orders/{created['reference']}?token={created['access_token']}")
    assert_receipt(text_of(order_page.text))

    assert await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings) == 1
    [message] = smtp.inbox.messages()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html_part = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert_receipt(" ".join(text.split()))
    assert_receipt(text_of(html_part))
    # The reference never breaks at its hyphen on a phone: kept together by site.css on the pages, and by its own
    # style in the email (no stylesheet there); the text part has it as it is.
    reference = created["reference"]
    for page in (confirmation.text, order_page.text):
        assert page.count(f'<span class="order-reference">{reference}</span>') >= 2, "the page's heading line and its receipt"
    assert html_part.count(f'<span class="order-reference" style="white-space: nowrap;">{reference}</span>') == 2, "the receipt and the order link"
    assert f"Order {reference}" in text and "<span" not in text
    # The text part reads line by line: each thing paid for on a line of its own, with its amount.
    assert "- Donation to Welcome Kitchen: £10\n" in text
    assert "- Booking fee (2 × £1.50): £3\n" in text
    assert "Total: £138\n" in text
    assert "12" not in re.findall(r"Gift Aid:.*", text)[0] and "E8 1AA" not in text  # not the donor's home address
    # The way there, as the reminder gives it: a guest who books within the reminder's hours gets no reminder, and the
    # email is what they open on the way. Then how to give a place back before the event.
    for body in (text, html.unescape(html_part)):
        assert "1 High Street, London" in body and "openstreetmap.org/search?query=Community%20Hall%201%20High%20Street" in body
        assert "Getting there and getting in" in body and "Step-free entrance on Mare Street." in body
        assert "Can't come? Please give your place back, so that someone else can have it:" in body
    assert ", 18:30–21:30\n" in text, "when it starts and ends"
    assert f"{reference}?token=" in re.findall(r"Can't come\?.*", text)[0] and "#cant-come" in text  # two tickets: the order page's list


async def test_a_supper_that_runs_past_midnight_is_emailed_with_the_day_it_ends(
    client: httpx.AsyncClient,
    smtp: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    starts = supper_evening(now, time(22, 0))
    await generous_order(client, now, starts)
    assert await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings) == 1
    [message] = smtp.inbox.messages()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    ends = starts + timedelta(hours=3)
    assert f", 22:00–{ends:%A}, {ends.day} {ends:%B} {ends.year}, 01:00\n" in text


async def test_the_confirmation_says_when_where_and_where_the_tickets_went(client: httpx.AsyncClient, now: datetime) -> None:
    _, confirmation = await generous_order(client, now)
    page = confirmation.text
    words = text_of(page)
    assert "We emailed your tickets to amal@example.org." in words
    assert "Community Hall 1 High Street, London" in words  # the venue, then its address on a line of its own
    assert 'href="https://www.openstreetmap.org/search?query=Community%20Hall%201%20High%20Street%2C%20London"' in page
    assert "Step-free entrance on Mare Street." in words and "Hackney Central" in words
    start = supper_evening(now)
    assert f"{start.day} " in words and f"{start.year}" in words  # the long date (the factory's event is a month away)
    calendar = re.search(r'href="(/tickets/[a-z0-9]+/calendar\.ics)"', page)
    assert calendar, "an add-to-calendar link"
    ics = await client.get(calendar.group(1))
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar") and b"Supper Club" in ics.content


async def test_a_guest_with_only_a_phone_is_told_the_ticket_link_went_by_text(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    await charity()
    slug = await make_event(now)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()
    form = await client.get(f"/claim/{link['code']}")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    claimed = await client.post(
        f"/claim/{link['code']}", data={"name": "Samir", "phone": "07911 123456", "_csrf_token": csrf.group(1)}, follow_redirects=True
    )
    assert claimed.status_code == 200
    # The free place's own confirmation: when, where and a map, as a bought ticket's.
    words = text_of(claimed.text)
    assert "Community Hall 1 High Street, London" in words and "Map" in words
    assert "openstreetmap.org/search?query=Community%20Hall" in claimed.text

    order = await Order.select(Order.reference).where(Order.buyer_phone == "+447911123456").first()
    assert order is not None
    token = order_access_token(app.state.settings.secret_key, order["reference"])
    page = text_of((await client.get(f"/orders/{order['reference']}?token={token}")).text)
    assert "We sent your ticket link by text to +447911123456." in page
    assert "Total £0" in page and "Payment Free place" in page
    assert "Paid to Refugee Kitchen CIO, registered charity 1234567." in page


@pytest.mark.parametrize(
    ("locale", "total", "date_comma"),
    [("fr", "138\u00a0£", ", "), ("ar", "138\u00a0£", "\u060c "), ("fa", "£\u00a0138", "\u060c ")],
)
async def test_the_receipt_in_the_guests_language(
    client: httpx.AsyncClient,
    smtp: SmtpServer,  # noqa: F811
    now: datetime,
    locale: str,
    total: str,
    date_comma: str,
) -> None:
    client.cookies.set("lang", locale)
    _, confirmation = await generous_order(client, now)
    assert total in confirmation.text
    assert (
        "£GB" not in confirmation.text and "UK£" not in confirmation.text and "\u200e" not in confirmation.text and "\u200f" not in confirmation.text
    )
    assert await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings) == 1
    [message] = smtp.inbox.messages()
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert total in text and "\u200e" not in text and "\u200f" not in text
    assert re.search(date_comma + r"\d\d:\d\d", text), "the date and time joined with the language's comma"


async def gift_order(client: httpx.AsyncClient, now: datetime) -> tuple[dict[str, Any], httpx.Response]:
    """No ticket: 3 pay-it-forward places at £30 and a £0.99 donation, with Gift Aid; paid with the test page. Returns
    the order and the confirmation page."""
    await charity()
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    body = {
        "buyer": {"name": "Amal Haddad", "email": "amal@example.org"},
        "items": [],
        "pay_it_forward_places": 3,
        "donation_pence": 99,
        "gift_aid": GIFT_AID,
    }
    created = (await client.post(f"/api/events/{slug}/orders", json=body)).json()
    assert created["total_pence"] == 3 * 3000 + 99
    paid = await pay_with_test_page(client, created)
    assert paid.status_code == 303
    confirmation = await client.get(paid.headers["location"])
    assert confirmation.status_code == 200
    return created, confirmation


def assert_gift_receipt(words: str) -> None:
    expected = [
        "Receipt",
        "Pay it forward: 3 free places",
        "3 × £30",
        "£90",
        "Donation",
        "£0.99",
        "Total",
        "£90.99",
        "Payment",
        "Test payment (no money was taken)",
        "Gift Aid: Mrs Amal Haddad declared that they are a UK taxpayer and want Refugee Kitchen CIO to claim Gift Aid on £90.99",
        "Paid to Refugee Kitchen CIO, registered charity 1234567.",
    ]
    assert_in_order(words, expected)


async def test_a_gift_without_a_ticket_is_thanked_with_its_receipt_by_email_and_on_its_page(
    client: httpx.AsyncClient,
    smtp: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    """Pay-it-forward places and a donation, no ticket: the confirmation email is sent (it used to be skipped for
    want of tickets, while the page said it was being sent), with the receipt and a thank-you, and neither the email
    nor the page says the donor is going or where and when."""
    created, confirmation = await gift_order(client, now)
    words = text_of(confirmation.text)
    assert "<h1>Thank you for your gift</h1>" in confirmation.text
    assert "You're going" not in words and "Community Hall" not in words and "Add to calendar" not in words
    assert "We emailed your receipt to amal@example.org." in words and "Email being sent" in words
    assert_gift_receipt(words)

    assert await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings) == 1
    [sent] = await OutboxMessage.select().where(OutboxMessage.order_id.reference == created["reference"])
    assert (sent["kind"], sent["status"], sent["last_error"]) == ("order_confirmation", "sent", "")
    [message] = smtp.inbox.messages()
    assert message["To"] == "amal@example.org" and message["Subject"] == "Thank you for your gift to Supper Club"
    assert list(message.iter_attachments()) == []  # no tickets PDF
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    html_part = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (" ".join(text.split()), text_of(html_part)):
        assert "Thank you for your gift to Supper Club." in part
        assert_gift_receipt(part)
        assert "going" not in part and "ticket is attached" not in part and "Show ticket" not in part and "See you there" not in part
        assert "Community Hall" not in part
    assert "- Donation: £0.99\n" in text and "Total: £90.99\n" in text
    assert f"/orders/{created['reference']}?token={created['access_token']}" in text

    page = text_of((await client.get(f"/orders/{created['reference']}?token={created['access_token']}")).text)
    assert re.search(r"Email sent \d\d:\d\d", page), page

    # No reminder before the event: there is no ticket to remind them of.
    start = (now + timedelta(days=30)).replace(microsecond=0)
    assert await queue_due_reminders(start - timedelta(hours=47)) == 0
    assert await OutboxMessage.count().where(OutboxMessage.kind == "reminder") == 0


async def test_a_gift_refunded_before_its_confirmation_goes_is_not_confirmed(
    client: httpx.AsyncClient,
    smtp: SmtpServer,  # noqa: F811
    organiser: dict[str, str],
    now: datetime,
) -> None:
    created, _ = await gift_order(client, now)
    refunded = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "Given by mistake"}, headers=organiser)
    assert refunded.status_code == 201, refunded.text
    await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings)
    confirmation = await OutboxMessage.select().where(OutboxMessage.kind == "order_confirmation").first()
    assert confirmation is not None and confirmation["status"] == "skipped"
    assert [m["Subject"] for m in smtp.inbox.messages()] == ["Your refund for Supper Club"]


@pytest.mark.parametrize("locale", ["ar", "fr", "fa"])
async def test_a_gift_is_thanked_in_the_donors_language(
    client: httpx.AsyncClient,
    smtp: SmtpServer,  # noqa: F811
    now: datetime,
    locale: str,
) -> None:
    client.cookies.set("lang", locale)
    _, confirmation = await gift_order(client, now)
    catalogue = i18n.translations(locale)
    heading = catalogue.gettext("Thank you for your gift")
    assert heading != "Thank you for your gift" and f"<h1>{heading}</h1>" in confirmation.text
    assert catalogue.gettext("You're going!") not in confirmation.text
    assert await drain_outbox(datetime.now(timezone.utc), settings=smtp.settings) == 1
    [message] = smtp.inbox.messages()
    assert message["Subject"] == catalogue.gettext("Thank you for your gift to %(event)s") % {"event": "Supper Club"}
    assert message["Subject"] != "Thank you for your gift to Supper Club"


def assert_in_order(words: str, expected: list[str]) -> None:
    """Each of ``expected`` is in ``words``, each after the one before it."""
    position = 0
    for part in expected:
        found = words.find(part, position)
        assert found >= 0, f"{part!r} not after position {position} in: {words[position - 80 : position + 400]}"
        position = found + len(part)
