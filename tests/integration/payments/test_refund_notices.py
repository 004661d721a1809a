"""Refund notices: every refund, whatever its path (chosen tickets, an amount, everything left; the API or the back
office; an event's cancellation; a late payment; a refund made in the Stripe dashboard), tells its guest once, with
that refund's own amount, the tickets it cancelled and when the money arrives, in the guest's language. A replayed
request tells no one twice. Emails are delivered to a real SMTP server (aiosmtpd) by the outbox worker."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from events import i18n
from events.money import format_money
from events.payments.tables import Refund
from events.tickets import email
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.door_sales.test_door_sales import club_night, door_headers
from tests.integration.payments.conftest import (
    GuestOrder,
    StripeApp,
    StripeServer,
    post_event,
    read_order,
    wait_for,
)
from tests.integration.payments.conftest import place_order as place_card_order
from tests.integration.tickets.test_email import SmtpServer, clock, smtp, smtp_server  # noqa: F401 - the SMTP server's fixtures
from tests.support.backoffice import sign_in_organiser
from tests.support.localstripe import VISA, charge_refunded_object
from tests.support.orders import pay_with_test_page, place_order, ticket_type_id
from tests.support.server import run_cli

# The messages that tell a guest of a refund: the refund notice, or the email about what caused the refund.
TELLING_OF_A_REFUND = ("refund_notice", "event_cancelled", "late_payment_refunded")
HOLDERS = ("Amal Haddad", "Yusuf Karimi", "Leila Ahmadi")


@pytest.fixture
def mailbox(request: pytest.FixtureRequest) -> SmtpServer:
    """A real SMTP server (aiosmtpd), running, and the app's settings sending to it (test_email's ``smtp``)."""
    server: SmtpServer = request.getfixturevalue("smtp")
    return server


async def bought(
    client: httpx.AsyncClient, slug: str, *, holders: tuple[str, ...] = HOLDERS, email_address: str = "amal@example.org", locale: str = "en"
) -> dict[str, Any]:
    """A paid order whose tickets carry ``holders``' names; its confirmation is forgotten (only refunds matter here)."""
    client.headers["accept-language"] = locale
    try:
        created = (await place_order(client, slug, quantity=len(holders), buyer={"name": holders[0], "email": email_address})).json()
        assert (await pay_with_test_page(client, created)).status_code == 303
    finally:
        client.headers.pop("accept-language", None)
    tickets = await Ticket.select(Ticket.id).where(Ticket.order_id.reference == created["reference"]).order_by(Ticket.id)
    for ticket, holder in zip(tickets, holders, strict=True):
        await Ticket.update({Ticket.holder_name: holder}).where(Ticket.id == ticket["id"])
    created["ticket_ids"] = [t["id"] for t in tickets]
    await OutboxMessage.delete().where(OutboxMessage.order_id.reference == created["reference"])
    return created


async def told(reference: str) -> list[dict[str, Any]]:
    """The messages queued to tell this order's guest of a refund, oldest first, with their detail read."""
    rows = (
        await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.dedupe_key, OutboxMessage.detail, OutboxMessage.recipient)
        .where(OutboxMessage.order_id.reference == reference, OutboxMessage.kind.is_in(list(TELLING_OF_A_REFUND)))
        .order_by(OutboxMessage.id)
    )
    return [row | {"detail": json.loads(row["detail"]) if row["detail"] else {}} for row in rows]


async def refund_ids(reference: str) -> list[int]:
    return [r["id"] for r in await Refund.select(Refund.id).where(Refund.order_id.reference == reference).order_by(Refund.id)]


async def delivered(mailbox: SmtpServer, count: int) -> list[EmailMessage]:
    """Drain the outbox to the SMTP server: exactly ``count`` emails go, and a second drain sends nothing more."""
    before = len(mailbox.inbox.envelopes)
    assert await drain_outbox(clock(), settings=mailbox.settings) == count
    assert await drain_outbox(clock() + timedelta(hours=2), settings=mailbox.settings) == 0
    return mailbox.inbox.messages()[before:]


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def carrying(messages: list[EmailMessage], text: str) -> EmailMessage:
    [found] = [m for m in messages if text in plain(m)]
    return found


async def test_each_api_refund_tells_the_guest_once_with_its_own_amount_and_the_tickets_it_cancelled(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    slug = await make_event(now)
    order = await bought(client, slug)  # 3 × £30
    reference, (amal, yusuf, leila) = order["reference"], order["ticket_ids"]
    refunds = f"/api/orders/{reference}/refunds"

    # Without an Idempotency-Key, a replayed ticket refund, or whole refund, is refused by the rules (the ticket is
    # refunded already; nothing is left), so no money moves and no one is told twice.
    one = await client.post(refunds, json={"tickets": [yusuf], "reason": "Cannot come"}, headers=organiser)
    assert (await client.post(refunds, json={"tickets": [yusuf], "reason": "Cannot come"}, headers=organiser)).status_code == 422
    amount = await client.post(refunds, json={"amount_pence": 1250, "reason": "Goodwill"}, headers=organiser)
    rest = await client.post(refunds, json={"reason": "Event moved"}, headers=organiser)
    assert (await client.post(refunds, json={"reason": "Event moved"}, headers=organiser)).status_code == 409
    assert [r.status_code for r in (one, amount, rest)] == [201, 201, 201], rest.text
    assert [r.json()["amount_pence"] for r in (one, amount, rest)] == [3000, 1250, 4750]

    queued = await told(reference)
    assert [(m["kind"], m["dedupe_key"], m["recipient"]) for m in queued] == [
        ("refund_notice", f"refund:{r.json()['id']}", "amal@example.org") for r in (one, amount, rest)
    ]
    assert [m["detail"] for m in queued] == [
        {"amount_pence": 3000, "currency": "GBP", "method": "test", "ticket_ids": [yusuf]},
        {"amount_pence": 1250, "currency": "GBP", "method": "test", "ticket_ids": []},
        {"amount_pence": 4750, "currency": "GBP", "method": "test", "ticket_ids": [amal, leila]},
    ]

    emails = await delivered(mailbox, 3)
    assert {m["Subject"] for m in emails} == {"Your refund for Supper Club"} and all(m["To"] == "amal@example.org" for m in emails)
    assert all(list(m.iter_attachments()) == [] for m in emails)  # no tickets to carry
    ticket = plain(carrying(emails, "Refunded: £30\n"))
    assert "This ticket was refunded and no longer works:\n- Yusuf Karimi, Supper\n" in ticket
    assert "Amal Haddad, Supper" not in ticket and "Leila" not in ticket
    assert "within 5 to 10 working days" in ticket
    money_only = carrying(emails, "Refunded: £12.50")
    assert "Your tickets still work" in plain(money_only) and "no longer work" not in plain(money_only)
    everything = carrying(emails, "Refunded: £47.50")
    assert "These tickets were refunded and no longer work:\n- Amal Haddad, Supper\n- Leila Ahmadi, Supper\n" in plain(everything)
    # Each name isolated (<bdi>), so that a name in another script keeps the line's order.
    assert "<li><bdi>Leila Ahmadi</bdi>, <bdi>Supper</bdi></li>" in html(everything) and "Yusuf" not in html(everything)
    assert "still work" not in plain(everything)  # no ticket is left
    for message in emails:  # the organisation's branding and the guest's order, as in every order email
        assert f"{mailbox.settings.base_url}/organisations/" in plain(message) and f"/orders/{reference}?token=" in plain(message)


async def test_a_refund_request_replayed_with_its_idempotency_key_refunds_and_tells_nothing_more(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    order = await bought(client, await make_event(now))
    refunds = f"/api/orders/{order['reference']}/refunds"
    keyed = organiser | {"Idempotency-Key": "3f0c2a7e-goodwill-1"}
    first = await client.post(refunds, json={"amount_pence": 1250, "reason": "Goodwill"}, headers=keyed)
    again = await client.post(refunds, json={"amount_pence": 1250, "reason": "Goodwill"}, headers=keyed)  # the answer was lost
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert await refund_ids(order["reference"]) == [first.json()["id"]]
    assert [m["detail"]["amount_pence"] for m in await told(order["reference"])] == [1250]

    # The same key for another refund is refused; a key with a control character is bad input. Neither changes anything.
    other = await client.post(refunds, json={"amount_pence": 900, "reason": "Goodwill"}, headers=keyed)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    bad = await client.post(refunds, json={"amount_pence": 900, "reason": "Goodwill"}, headers=organiser | {"Idempotency-Key": "a\x01b"})
    assert bad.status_code == 422
    assert await refund_ids(order["reference"]) == [first.json()["id"]]
    # A new key is a new refund.
    second = await client.post(refunds, json={"amount_pence": 900, "reason": "Goodwill"}, headers=organiser | {"Idempotency-Key": "second"})
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    assert [m.get("Subject") for m in await delivered(mailbox, 2)] == ["Your refund for Supper Club"] * 2


async def test_a_refund_the_payment_provider_refused_is_not_announced(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    order = await bought(client, await make_event(now))
    made = await client.post(f"/api/orders/{order['reference']}/refunds", json={"amount_pence": 1250, "reason": "Goodwill"}, headers=organiser)
    assert made.status_code == 201
    # Stripe refused it before the worker sent the notice (as payments records a refusal: the refund failed).
    await Refund.update({Refund.status: "failed"}).where(Refund.id == made.json()["id"])
    assert await delivered(mailbox, 0) == []
    notice = await OutboxMessage.select(OutboxMessage.status, OutboxMessage.last_error).where(OutboxMessage.kind == "refund_notice").first()
    assert notice == {"status": "skipped", "last_error": "refund refused"}


async def test_a_refund_notice_waits_for_the_payment_providers_answer_but_not_for_ever(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    order = await bought(client, await make_event(now))
    refunds = f"/api/orders/{order['reference']}/refunds"
    first = (await client.post(refunds, json={"amount_pence": 1250, "reason": "Goodwill"}, headers=organiser)).json()
    second = (await client.post(refunds, json={"amount_pence": 900, "reason": "Goodwill"}, headers=organiser)).json()
    # As if Stripe had not answered either yet (the refund is sent once its transaction commits).
    await Refund.update({Refund.status: "pending", Refund.provider_refund_id: None}).where(Refund.id.is_in([first["id"], second["id"]]))
    start = clock()
    assert await drain_outbox(start, settings=mailbox.settings) == 0
    assert await OutboxMessage.count().where(OutboxMessage.status == "queued", OutboxMessage.attempts == 0) == 2  # no try used up
    # Stripe answers for the first: its notice goes a minute later; the second waits on.
    await Refund.update({Refund.status: "succeeded", Refund.provider_refund_id: "re_answered"}).where(Refund.id == first["id"])
    assert await drain_outbox(start + timedelta(minutes=1), settings=mailbox.settings) == 1
    assert "Refunded: £12.50" in plain(mailbox.inbox.messages()[-1])
    # Past the wait, the second goes anyway: the refund is recorded and owed, and the organiser sees it pending.
    assert await drain_outbox(start + timedelta(minutes=16), settings=mailbox.settings) == 1
    assert "Refunded: £9" in plain(mailbox.inbox.messages()[-1])


async def test_a_refund_at_the_door_says_the_money_comes_back_as_arranged_there(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    slug = await club_night(now)
    door = await door_headers(now, slug)
    sale = {"items": [{"ticket_type": await ticket_type_id(client, slug, "Door"), "quantity": 1}], "payment_method": "cash"}
    sold = (await client.post(f"/api/events/{slug}/door-sales", json=sale | {"buyer_email": "yusuf@example.net"}, headers=door)).json()
    await OutboxMessage.delete(force=True)
    refunds = f"/api/orders/{sold['reference']}/refunds"
    assert (await client.post(refunds, json={"amount_pence": 400, "reason": "Late start"}, headers=organiser)).status_code == 201
    assert (await client.post(refunds, json={"reason": "Left early"}, headers=organiser)).status_code == 201

    assert [(m["detail"]["amount_pence"], m["detail"]["method"]) for m in await told(sold["reference"])] == [(400, "cash"), (500, "cash")]
    emails = await delivered(mailbox, 2)
    for message in emails:
        assert "The money is given back as arranged at the door." in plain(message) and "working days" not in plain(message)
    assert "Your tickets still work" in plain(carrying(emails, "Refunded: £4\n"))
    assert "This ticket was refunded and no longer works" in plain(carrying(emails, "Refunded: £5\n"))


async def refund_form(client: httpx.AsyncClient, reference: str, **fields: Any) -> dict[str, Any]:
    """The order page's refund form as a browser would send it: its CSRF token and hidden fields, and ``fields``."""
    page = await client.get(f"/manage/orders/{reference}")
    assert page.status_code == 200, page.text
    form = re.search(r'<form[^>]*class="form refund-form".*?</form>', page.text, re.DOTALL)
    assert form, "the page offers a refund"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return {"_csrf_token": csrf.group(1), **hidden, "confirm": "yes", **fields}


async def test_a_back_office_refund_tells_the_guest_once_even_when_the_form_is_sent_twice(
    client: httpx.AsyncClient, mailbox: SmtpServer, now: datetime
) -> None:
    slug = await make_event(now)
    order = await bought(client, slug)
    reference, (_, yusuf, _) = order["reference"], order["ticket_ids"]
    await sign_in_organiser(client)
    action = f"/manage/orders/{reference}/refund"

    # A double click: the same form, with what the page showed as refunded, arrives twice (at once, or one after).
    money = await refund_form(client, reference, scope="part", amount="12.50", reason="Goodwill")
    first, second = await asyncio.gather(client.post(action, data=money), client.post(action, data=money))
    assert sorted(r.status_code for r in (first, second)) == [303, 409]
    refused = first if first.status_code == 409 else second
    assert "This order was refunded again since you opened it" in refused.text
    assert (await client.post(action, data=money)).status_code == 409
    ticket = await refund_form(client, reference, scope="part", tickets=[yusuf], reason="Cannot come")
    assert (await client.post(action, data=ticket)).status_code == 303
    assert (await client.post(action, data=ticket)).status_code == 409
    everything = await refund_form(client, reference, scope="all", reason="Event moved")
    assert (await client.post(action, data=everything)).status_code == 303
    assert (await client.post(action, data=everything)).status_code == 409

    assert [r["amount_pence"] for r in await Refund.select(Refund.amount_pence).order_by(Refund.id)] == [1250, 3000, 4750]
    queued = await told(reference)
    assert [m["dedupe_key"] for m in queued] == [f"refund:{i}" for i in await refund_ids(reference)]
    assert [m["detail"]["amount_pence"] for m in queued] == [1250, 3000, 4750]
    emails = await delivered(mailbox, 3)
    assert "Yusuf Karimi, Supper" in plain(carrying(emails, "Refunded: £30\n"))
    assert "Your tickets still work" in plain(carrying(emails, "Refunded: £12.50"))
    assert "Amal Haddad, Supper" in plain(carrying(emails, "Refunded: £47.50"))


async def test_a_cancellation_tells_each_guest_of_its_refund_once_in_the_cancellation_email(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    """The cancellation email states the refund made with it (its key is the refund's): no second email about it. A
    refund made before the cancellation had its own notice; the cancellation refunds, and states, only the rest."""
    slug = await make_event(now)
    whole = await bought(client, slug, holders=("Maria Lopez", "Ana Lopez"), email_address="maria@example.org")
    partly = await bought(client, slug, holders=("Omar Said", "Sara Said"), email_address="omar@example.org")
    goodwill = await client.post(f"/api/orders/{partly['reference']}/refunds", json={"amount_pence": 1000, "reason": "Goodwill"}, headers=organiser)
    assert goodwill.status_code == 201

    cancelled = await client.post(f"/api/events/{slug}/cancel", json={"reason": "The venue flooded", "donation_choice_days": 0}, headers=organiser)
    assert cancelled.status_code == 200 and cancelled.json()["complete"] is True
    again = await client.post(f"/api/events/{slug}/cancel", json={}, headers=organiser)
    assert again.status_code == 200 and await Refund.count() == 3

    [maria_refund] = await refund_ids(whole["reference"])
    assert [(m["kind"], m["dedupe_key"], m["detail"]) for m in await told(whole["reference"])] == [
        ("event_cancelled", f"refund:{maria_refund}", {"amount_pence": 6000, "currency": "GBP", "method": "test", "ticket_ids": whole["ticket_ids"]})
    ]
    goodwill_refund, rest_refund = await refund_ids(partly["reference"])
    assert [(m["kind"], m["dedupe_key"], m["detail"]["amount_pence"]) for m in await told(partly["reference"])] == [
        ("refund_notice", f"refund:{goodwill_refund}", 1000),
        ("event_cancelled", f"refund:{rest_refund}", 5000),
    ]

    emails = await delivered(mailbox, 3)
    [maria] = [m for m in emails if m["To"] == "maria@example.org"]
    assert maria["Subject"] == "Supper Club is cancelled"
    assert "We are refunding everything you paid: £60." in plain(maria) and "within 5 to 10 working days" in plain(maria)
    cancellation, notice = sorted((m for m in emails if m["To"] == "omar@example.org"), key=lambda m: m["Subject"])
    assert notice["Subject"] == "Your refund for Supper Club" and "Refunded: £10\n" in plain(notice)
    assert cancellation["Subject"] == "Supper Club is cancelled"
    assert "We are refunding what was left of your payment: £50." in plain(cancellation) and "everything you paid" not in plain(cancellation)


async def test_a_late_payment_refunded_for_a_full_event_is_told_once_with_its_amount(
    client: httpx.AsyncClient, app: Any, mailbox: SmtpServer, now: datetime
) -> None:
    from events.payments.service import sweep_expired_holds

    slug = await make_event(now, capacity=22, reserved_free_places=20)
    late = (await place_order(client, slug, quantity=2)).json()
    await sweep_expired_holds(now + timedelta(minutes=20), gateways=app.state.gateways)
    on_time = (await place_order(client, slug, quantity=2)).json()
    await pay_with_test_page(client, on_time)
    await OutboxMessage.delete(force=True)
    await pay_with_test_page(client, late)

    [refund_id] = await refund_ids(late["reference"])
    assert [(m["kind"], m["dedupe_key"], m["detail"]) for m in await told(late["reference"])] == [
        ("late_payment_refunded", f"refund:{refund_id}", {"amount_pence": 6000, "currency": "GBP", "method": "test", "ticket_ids": []})
    ]
    [notice] = await delivered(mailbox, 1)
    assert notice["Subject"] == "Your payment for Supper Club has been refunded"
    assert "refunded you in full" in plain(notice) and "Refunded: £60\n" in plain(notice)


async def test_the_notice_of_an_arabic_order_is_in_arabic_names_the_cancelled_ticket_and_says_the_other_still_works(
    client: httpx.AsyncClient, organiser: dict[str, str], mailbox: SmtpServer, now: datetime
) -> None:
    slug = await make_event(now)
    order = await bought(client, slug, holders=("عمر سعيد", "سارة سعيد"), email_address="omar@example.org", locale="ar")
    refund = await client.post(
        f"/api/orders/{order['reference']}/refunds", json={"tickets": [order["ticket_ids"][1]], "reason": "x"}, headers=organiser
    )
    assert refund.status_code == 201

    [notice] = await delivered(mailbox, 1)
    arabic = i18n.translations("ar")
    assert notice["Subject"] == arabic.gettext(email.SUBJECTS["refund_notice"]) % {"event": "Supper Club"}
    text, page = plain(notice), html(notice)
    assert 'lang="ar" dir="rtl"' in page
    assert arabic.gettext("Hello %(name)s,") % {"name": "عمر سعيد"} in text
    assert arabic.gettext("Refunded: %(amount)s") % {"amount": format_money(3000, "GBP", i18n.FORMAT_LOCALES["ar"])} in text
    assert "المبلغ المردود" in text and "£30" not in text  # the amount in Arabic, formatted for Arabic
    assert arabic.gettext("The money usually reaches your account within 5 to 10 working days.") in text
    # The cancelled ticket, named: its holder and type joined with the Arabic comma, each isolated in the HTML.
    assert "- سارة سعيد، Supper\n" in text and "<li><bdi>سارة سعيد</bdi>، <bdi>Supper</bdi></li>" in page
    assert "- عمر سعيد" not in text  # his ticket still works, and the notice says so
    still_works = arabic.ngettext("Your other ticket still works.", "Your other %(num)d tickets still work.", 1) % {"num": 1}
    assert still_works in text and still_works in page
    # The event's day and time joined as Arabic joins them (the Arabic comma), in both parts.
    for body in (text, page):
        assert re.search(r"\d{4}، \d{2}:\d{2}", body) and not re.search(r"\d{4}, \d{2}:\d{2}", body)


async def test_a_refund_made_in_the_stripe_dashboard_is_told_once(stripe_app: StripeApp, mailbox: SmtpServer, now: datetime) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await place_card_order(http, slug, 2)
    assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200
    assert (await post_event(http, "payment_intent.succeeded", await localstripe.retrieve_intent(order.intent_id))).status_code == 200
    await OutboxMessage.delete(force=True)

    part = await localstripe.refund_in_dashboard(order.intent_id, 1000)
    intent = await localstripe.retrieve_intent(order.intent_id)
    assert (await post_event(http, "charge.refunded", charge_refunded_object(intent, [part]))).status_code == 200
    rest = await localstripe.refund_in_dashboard(order.intent_id, 5000)
    for _ in range(2):  # Stripe's news of the second refund, delivered twice under different event ids
        assert (await post_event(http, "charge.refunded", charge_refunded_object(intent, [part, rest]))).status_code == 200

    tickets = [t["id"] for t in (await read_order(http, order))["tickets"]]
    assert [(m["kind"], m["detail"]) for m in await told(order.reference)] == [
        ("refund_notice", {"amount_pence": 1000, "currency": "GBP", "method": "stripe", "ticket_ids": []}),
        ("refund_notice", {"amount_pence": 5000, "currency": "GBP", "method": "stripe", "ticket_ids": tickets}),
    ]
    emails = await delivered(mailbox, 2)
    assert "Your tickets still work" in plain(carrying(emails, "Refunded: £10\n"))
    assert "These tickets were refunded" in plain(carrying(emails, "Refunded: £50\n"))


# --- a real server, refunds racing ---------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def racing_server(request: pytest.FixtureRequest) -> StripeServer:
    return request.getfixturevalue("stripe_server" if request.param == "sqlite" else "stripe_pg_server")


async def test_refunds_racing_on_one_order_each_tell_the_guest_once_and_never_give_back_more_than_was_paid(
    racing_server: StripeServer,
) -> None:
    """Three organisers refund money from one order at the same moment (two server processes on PostgreSQL, row locks
    deciding). Any two fit in what was paid, all three do not: two go through, each with its own notice and amount."""
    server = racing_server
    token = run_cli(server.env, "token", "create", "organiser@example.org").strip().splitlines()[-1]
    organiser = {"Authorization": f"Bearer {token}"}
    async with server.http() as http:
        order: GuestOrder = await place_card_order(http, "choose-love-night", quantity=2, type_name="Advance")
        assert (await server.localstripe.pay(order.intent_id, VISA)).status_code == 200
        paid = await post_event(http, "payment_intent.succeeded", await server.localstripe.retrieve_intent(order.intent_id))
        assert paid.status_code == 200, paid.text
        await wait_for(lambda: _is_paid(http, order), what="the order paid")
        total = order.total_pence
        amounts = [total * 30 // 100, total * 35 // 100, total * 40 // 100]
        refunds = f"/api/orders/{order.reference}/refunds"
        responses = await asyncio.gather(*(http.post(refunds, json={"amount_pence": a, "reason": "Race"}, headers=organiser) for a in amounts))
    assert sorted(r.status_code for r in responses) == [201, 201, 422], [r.text for r in responses]
    made = {r.json()["id"]: r.json()["amount_pence"] for r in responses if r.status_code == 201}

    rows = await server.db.rows(
        "SELECT r.id, r.amount_pence FROM refund r JOIN ticket_order o ON o.id = r.order_id WHERE o.reference = ? ORDER BY r.id", order.reference
    )
    assert {r["id"]: r["amount_pence"] for r in rows} == made and sum(made.values()) <= total
    assert sorted(r["amount"] for r in await server.localstripe.refunds(order.intent_id)) == sorted(made.values())
    messages = await server.db.rows(
        "SELECT m.kind, m.dedupe_key, m.detail, m.recipient FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id"
        " WHERE o.reference = ? AND m.kind = 'refund_notice' ORDER BY m.id",
        order.reference,
    )
    assert {m["dedupe_key"]: json.loads(m["detail"])["amount_pence"] for m in messages} == {f"refund:{i}": a for i, a in made.items()}
    assert len(messages) == 2 and {m["recipient"] for m in messages} == {"amal@example.org"}


async def _is_paid(http: httpx.AsyncClient, order: GuestOrder) -> bool:
    return (await read_order(http, order))["status"] == "paid"


async def test_nothing_is_told_for_a_refund_that_was_refused(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    order = await bought(client, slug)
    refunds = f"/api/orders/{order['reference']}/refunds"
    too_much = await client.post(refunds, json={"amount_pence": 9001, "reason": "Typo"}, headers=organiser)
    assert too_much.status_code == 422
    other = await client.post(refunds, json={"tickets": [999_999], "reason": "Typo"}, headers=organiser)
    assert other.status_code == 422
    assert await told(order["reference"]) == [] and await Refund.count() == 0
