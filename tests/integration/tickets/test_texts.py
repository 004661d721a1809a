"""Tickets by text message: a guest who gives only a mobile number hears from us by SMS (or WhatsApp, with the
approved template, where the organisation turns it on), in their language, through the real Twilio SDK talking to a
stand-in for Twilio's Messages API (tests/support/twilio.py). Failures are retried, a number Twilio refuses fails at
once and the order pages say so, and a number that cannot take texts is refused before anything is written. Twilio's
signed reports of how each text went reach the app's own route: a text the network could not deliver is marked
failed and the order pages say why; a report not signed by Twilio changes nothing. Where no text can be sent
(production without Twilio), no page asks for a number or promises a text."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events import db, i18n
from events.config import Settings, TwilioSettings
from events.orders.codes import order_access_token
from events.orders.tables import ClaimCode, Order
from events.organisations.tables import Organisation
from events.tickets import outbox, sms, texts
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim_link
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import pay_with_test_page
from tests.support.twilio import MESSAGE_TEMPLATE, TwilioStandIn, running_twilio

MOBILE = "07911 123456"
E164 = "+447911123456"
ARABIC = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with running_twilio() as stand_in:
        yield stand_in


@pytest.fixture
def app_settings(app: Litestar, settings: Settings) -> Iterator[Callable[..., Settings]]:
    """Change the running app's settings for one test (its Twilio account, its environment), put back after."""

    def change(**changes: Any) -> Settings:
        app.state.settings = dataclasses.replace(settings, **changes)
        return app.state.settings  # type: ignore[no-any-return]

    yield change
    app.state.settings = settings


@pytest.fixture
def texting(app_settings: Callable[..., Settings], twilio: TwilioStandIn) -> Settings:
    """The app's settings, sending texts to the stand-in; the running app has them too, so it checks the stand-in's
    status reports with the stand-in's auth token."""
    return app_settings(twilio=twilio.settings())


def clock() -> datetime:
    """The app stamps messages with the real time of each request, so drains run at the real time too."""
    return datetime.now(timezone.utc)


async def claimed_by_phone(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, **extra: Any) -> dict[str, Any]:
    """A guest claims a free place giving a first name and a mobile number only; returns the ticket and its order."""
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    response = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "phone": MOBILE, **extra})
    assert response.status_code == 201, response.text
    ticket = response.json()
    issued = await Ticket.select(Ticket.order_id).where(Ticket.id == ticket["id"]).first()
    assert issued is not None
    order = await Order.select().where(Order.id == issued["order_id"]).first()
    return {"ticket": ticket, "order": order, "slug": slug}


async def messages(order_id: int) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.order_id == order_id).order_by(OutboxMessage.id)


def order_page(settings: Settings, reference: str) -> str:
    return f"/orders/{reference}?token={order_access_token(settings.secret_key, reference)}"


async def test_a_phone_only_claim_gets_its_ticket_link_by_sms(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    order, ticket = claimed["order"], claimed["ticket"]
    assert (order["buyer_email"], order["buyer_phone"]) == ("", E164)  # kept in E.164, whatever way it was written
    [queued] = await messages(order["id"])
    assert (queued["kind"], queued["channel"], queued["recipient"], queued["status"]) == ("order_confirmation", "sms", E164, "queued")

    caplog.set_level(logging.DEBUG)
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.received
    assert request.problems == [] and request.status == 201
    assert request.path == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    assert (request.form["To"], request.form["From"]) == (E164, twilio.sender)
    assert request.form["StatusCallback"] == f"{texting.base_url}/webhooks/twilio/status"  # Twilio reports how it went there
    ticket_link = f"{texting.base_url}{ticket['url']}"
    assert ticket_link in request.body and "Supper Club" in request.body and "Our charity" in request.body
    assert request.body.count("http") == 1  # one link, the single ticket's page
    assert set(request.answer) == set(MESSAGE_TEMPLATE) and request.answer["status"] == "queued"

    [sent] = await messages(order["id"])
    assert (sent["status"], sent["channel"], sent["attempts"], sent["last_error"]) == ("sent", "sms", 1, "")
    assert sent["provider_reference"] == request.answer["sid"] and re.fullmatch(r"SM[0-9a-f]{32}", sent["provider_reference"])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert E164 not in logged and "7911" not in logged and request.body not in logged and ticket["secret"] not in logged

    # The linked page is the ticket page, the page the service worker keeps for use with no signal.
    page = await client.get(ticket_link.removeprefix(texting.base_url))
    assert page.status_code == 200 and "data-offline" in page.text
    # Both order pages say when the text went.
    guest = await client.get(order_page(texting, order["reference"]))
    assert guest.status_code == 200 and re.search(r"Text sent \d\d:\d\d", guest.text), guest.text
    assert "Text my tickets again" in guest.text
    await sign_in_organiser(client)
    organiser_page = await client.get(f"/manage/orders/{order['reference']}")
    assert re.search(r"Text sent \d\d:\d\d", organiser_page.text) and "text “order confirmation”: sent" in organiser_page.text

    assert await drain_outbox(clock() + timedelta(hours=2), settings=texting) == 0
    assert len(twilio.received) == 1  # sent once, never again


async def test_an_arabic_claim_is_texted_in_arabic(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now, locale="ar")
    assert claimed["order"]["locale"] == "ar"
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.delivered
    assert i18n.translations("ar").ngettext("Your ticket", "Your tickets", 1) in request.body
    words = request.body.replace("Our charity", "").replace("Supper Club", "")
    assert ARABIC.search(words) and "Your ticket" not in words
    assert "يونيو" in request.body or ARABIC.search(request.body.splitlines()[2])  # the date, in Arabic


async def test_the_claim_form_in_arabic_texts_the_ticket_in_arabic(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    form = await client.get(f"/claim/{link['code']}?lang=ar")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    done = await client.post(f"/claim/{link['code']}", data={"name": "ليلى", "phone": "+44 7911 123456", "_csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and "<svg" in done.text
    assert i18n.translations("ar").gettext("We are also sending a link to it to your phone.") in done.text
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.delivered
    assert request.to == E164 and i18n.translations("ar").ngettext("Your ticket", "Your tickets", 1) in request.body


async def test_the_text_goes_by_whatsapp_where_the_organisation_turned_it_on(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    claimed = await claimed_by_phone(client, organiser, now)
    [queued] = await messages(claimed["order"]["id"])
    assert (queued["channel"], queued["recipient"]) == ("whatsapp", E164)
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.received
    assert request.problems == [] and request.status == 201
    assert (request.form["To"], request.form["From"]) == (f"whatsapp:{E164}", f"whatsapp:{twilio.whatsapp_sender}")
    # The approved template, with the organisation's name and the message on one line; no free-form Body.
    assert request.form["ContentSid"] == twilio.content_sid and "Body" not in request.form
    variables = request.content_variables
    assert variables["1"] == "Our charity" and "\n" not in variables["2"]
    assert variables["2"].startswith("Your ticket · Supper Club · ") and variables["2"].endswith(f" · {texting.base_url}{claimed['ticket']['url']}")
    assert "Our charity" not in variables["2"]  # the template signs it
    assert request.answer["body"].startswith("Message from Our charity:\n\nYour ticket · Supper Club")
    assert request.form["StatusCallback"] == f"{texting.base_url}/webhooks/twilio/status"
    [sent] = await messages(claimed["order"]["id"])
    assert (sent["status"], sent["channel"]) == ("sent", "whatsapp")
    page = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert re.search(r"WhatsApp message sent \d\d:\d\d", page.text)
    assert f"We sent your ticket link by WhatsApp to {E164}." in page.text


async def test_an_arabic_whatsapp_text_goes_in_arabic_within_the_template(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    await claimed_by_phone(client, organiser, now, locale="ar")
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.delivered
    assert request.problems == []  # no line break, tab or run of spaces in a variable
    assert i18n.translations("ar").ngettext("Your ticket", "Your tickets", 1) in request.content_variables["2"]


@pytest.mark.parametrize("missing", ["whatsapp_sender", "whatsapp_content_sid"])
async def test_without_a_whatsapp_sender_or_an_approved_template_the_text_goes_by_sms(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, app_settings: Callable[..., Settings], now: datetime, missing: str
) -> None:
    """An organisation that turned WhatsApp on before the service lost (or never had) its template: WhatsApp would
    refuse a free-form message (63016), so the text goes by SMS, and the order page says so."""
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    claimed = await claimed_by_phone(client, organiser, now)
    no_whatsapp = app_settings(twilio=twilio.settings(**{missing: None}))
    assert await drain_outbox(clock(), settings=no_whatsapp) == 1
    [request] = twilio.delivered
    assert request.problems == []
    assert (request.form["To"], request.form["From"]) == (E164, twilio.sender) and "ContentSid" not in request.form
    assert request.body.startswith("Our charity: Your ticket\nSupper Club\n")
    [sent] = await messages(claimed["order"]["id"])
    assert sent["channel"] == "sms"  # what actually happened
    page = await client.get(order_page(no_whatsapp, claimed["order"]["reference"]))
    assert f"We sent your ticket link by text to {E164}." in page.text and re.search(r"Text sent \d\d:\d\d", page.text)


async def test_a_messaging_service_sends_without_a_from_number(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, settings: Settings, now: datetime
) -> None:
    await claimed_by_phone(client, organiser, now)
    service = "MG" + "ab" * 16
    by_service = dataclasses.replace(settings, twilio=twilio.settings(sender=None, messaging_service_sid=service))
    assert await drain_outbox(clock(), settings=by_service) == 1
    [request] = twilio.delivered
    assert request.problems == [] and request.form["MessagingServiceSid"] == service and "From" not in request.form
    assert request.answer["status"] == "accepted"


async def test_a_reminder_and_a_refund_notice_are_texted(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    order, ticket = claimed["order"], claimed["ticket"]
    assert await drain_outbox(clock(), settings=texting) == 1  # the ticket itself
    at = clock()
    refund = {"amount_pence": 1200, "currency": "GBP", "method": "stripe", "ticket_ids": [ticket["id"]]}
    async with db.write_transaction():
        for _ in range(2):  # queued twice (a retried request): each goes once
            await outbox.enqueue("reminder", order_id=order["id"], now=at, key=f"reminder:{order['id']}")
            await outbox.enqueue("refund_notice", order_id=order["id"], now=at, key="refund:41", detail=refund)
    assert [m["kind"] for m in await messages(order["id"])] == ["order_confirmation", "reminder", "refund_notice"]

    assert await drain_outbox(clock(), settings=texting) == 2
    _, reminder, notice = twilio.delivered
    assert reminder.to == notice.to == E164
    assert "Supper Club" in reminder.body and "Community Hall" in reminder.body
    assert "Show this ticket on your phone" in reminder.body and f"{texting.base_url}{ticket['url']}" in reminder.body
    assert "£12" in notice.body and "5 to 10 working days" in notice.body
    assert f"{texting.base_url}{order_page(texting, order['reference'])}" in notice.body
    assert all(m["status"] == "sent" and m["provider_reference"] for m in await messages(order["id"]))


async def gift_by_phone(client: httpx.AsyncClient, now: datetime) -> dict[str, Any]:
    """A donor who gave only a mobile number: 2 pay-it-forward places at £30 and a £5 donation, no ticket, paid with the
    test page. (The buy form asks for an email address; the order is given the number instead before it is paid, as
    the outbox reads the guest's contact when the confirmation is queued.)"""
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    body = {"buyer": {"name": "Leila Haddad", "email": "leila@example.org"}, "items": [], "pay_it_forward_places": 2, "donation_pence": 500}
    created = (await client.post(f"/api/events/{slug}/orders", json=body)).json()
    await Order.update({Order.buyer_email: "", Order.buyer_phone: E164}).where(Order.reference == created["reference"])
    assert (await pay_with_test_page(client, created)).status_code == 303
    order = await Order.select().where(Order.reference == created["reference"]).first()
    assert order is not None and order["status"] == "paid"
    return order


async def test_a_phone_only_gift_without_a_ticket_is_thanked_by_text_with_its_receipts_link(
    client: httpx.AsyncClient, twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    order = await gift_by_phone(client, now)
    [queued] = await messages(order["id"])
    assert (queued["kind"], queued["channel"], queued["recipient"]) == ("order_confirmation", "sms", E164)
    assert await drain_outbox(clock(), settings=texting) == 1  # it used to be skipped: "no valid tickets"
    [text] = twilio.delivered
    assert text.to == E164
    assert "Thank you for your gift to Supper Club" in text.body and "£65" in text.body
    assert text.body.count("http") == 1 and f"{texting.base_url}{order_page(texting, order['reference'])}" in text.body
    assert "ticket" not in text.body.lower()
    assert texts.segments(text.body) <= texts.MAX_SEGMENTS
    [sent] = await messages(order["id"])
    assert (sent["status"], sent["last_error"]) == ("sent", "")
    page = await client.get(order_page(texting, order["reference"]))
    assert "We sent your receipt by text to +447911123456." in page.text and re.search(r"Text sent \d\d:\d\d", page.text)
    assert "Thank you for your gift" in page.text and "ticket link" not in page.text


async def test_production_without_twilio_promises_a_phone_only_donor_no_text(
    client: httpx.AsyncClient, app_settings: Callable[..., Settings], settings: Settings, now: datetime
) -> None:
    production = app_settings(env="production", twilio=TwilioSettings())
    order = await gift_by_phone(client, now)
    assert await drain_outbox(clock(), settings=production) == 0
    [skipped] = await messages(order["id"])
    assert (skipped["status"], skipped["last_error"]) == ("skipped", "no text provider")
    page = await client.get(order_page(production, order["reference"]))
    assert "We sent your receipt" not in page.text and "Text not sent: text messages are not set up" in page.text


async def test_a_failed_text_is_retried_with_backoff_and_then_sent(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    twilio.fail_next(1)  # Twilio answers 503 once
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    [waiting] = await messages(claimed["order"]["id"])
    assert (waiting["status"], waiting["attempts"], waiting["last_error"]) == ("queued", 1, "TwilioRestException 20503")
    assert waiting["next_attempt_at"] == first_try + timedelta(minutes=1) and waiting["sending_until"] is None
    page = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert "Text not sent yet: we are trying again" in page.text

    assert await drain_outbox(first_try + timedelta(seconds=30), settings=texting) == 0  # not due yet
    assert len(twilio.received) == 1
    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 1
    # A 5xx may come after Twilio made the message (a gateway answering while Twilio went on): Twilio is asked first,
    # has none, and the text is sent.
    assert [(request.method, request.status) for request in twilio.received] == [("POST", 503), ("GET", 200), ("POST", 201)]
    assert len(twilio.sent_to(E164)) == 1
    [sent] = await messages(claimed["order"]["id"])
    assert (sent["status"], sent["attempts"], sent["last_error"]) == ("sent", 2, "")


async def test_a_number_twilio_cannot_reach_fails_at_once_and_the_order_pages_say_why(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    twilio.refuse(E164, code=21612, message=f"The 'To' phone number: {E164}, is not currently reachable using the 'From' phone number")
    at = clock()
    assert await drain_outbox(at, settings=texting) == 0
    [failed] = await messages(claimed["order"]["id"])
    assert (failed["status"], failed["attempts"], failed["last_error"]) == ("failed", 1, "TwilioRestException 21612")
    assert await drain_outbox(at + timedelta(hours=3), settings=texting) == 0
    assert len(twilio.received) == 1  # never tried again

    guest = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert "Text failed: number unreachable" in guest.text
    await sign_in_organiser(client)
    organiser_page = await client.get(f"/manage/orders/{claimed['order']['reference']}")
    assert "Text failed: number unreachable" in organiser_page.text and E164 in organiser_page.text


async def test_a_number_that_is_not_a_mobile_is_refused_before_anything_is_written(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    for number in ("020 7946 0018", "0800 123 4567", "123456", "+44 7700 900123"):  # a landline, freephone, too short, unassigned
        refused = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "phone": number})
        assert refused.status_code == 422, number
        assert refused.json()["error"] == "invalid" and "mobile number" in refused.json()["fields"]["phone"]

    form = await client.get(f"/claim/{link['code']}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    page = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "phone": "020 7946 0018", "_csrf_token": token}, follow_redirects=True)
    assert page.status_code == 422
    assert 'id="phone-error"' in page.text and "We can only send your ticket to a mobile number" in page.text
    assert 'value="020 7946 0018"' in page.text  # kept in the form to correct

    assert await Order.count() == 0 and await OutboxMessage.count() == 0 and await Ticket.count() == 0
    assert (await ClaimCode.select(ClaimCode.claimed).first())["claimed"] == 0  # type: ignore[index]


async def test_without_a_twilio_account_development_writes_texts_to_var_outbox(
    client: httpx.AsyncClient, organiser: dict[str, str], settings: Settings, now: datetime, tmp_path: Path
) -> None:
    assert not settings.twilio.enabled  # the development default
    claimed = await claimed_by_phone(client, organiser, now)
    development = dataclasses.replace(settings, var_dir=tmp_path)
    assert await drain_outbox(clock(), settings=development) == 1
    [written] = (tmp_path / "outbox").glob("*.txt")
    [sent] = await messages(claimed["order"]["id"])
    assert written.name == f"{sent['id']}-order_confirmation.txt"
    text = written.read_text(encoding="utf-8")
    assert text.startswith(f"To: {E164}\nChannel: sms\n") and f"{claimed['ticket']['url']}" in text
    assert sent["status"] == "sent" and sent["provider_reference"] == ""


async def test_production_without_a_twilio_account_skips_texts_and_says_so(
    client: httpx.AsyncClient, organiser: dict[str, str], settings: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    production = dataclasses.replace(settings, env="production")
    assert await drain_outbox(clock(), settings=production) == 0
    [skipped] = await messages(claimed["order"]["id"])
    assert (skipped["status"], skipped["last_error"]) == ("skipped", "no text provider")
    page = await client.get(order_page(settings, claimed["order"]["reference"]))
    assert "Text not sent: text messages are not set up" in page.text


async def test_a_text_about_an_order_with_several_tickets_links_to_the_order_page(
    client: httpx.AsyncClient, twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    from tests.support.orders import pay_with_test_page, place_order

    slug = await make_event(now)
    created = (await place_order(client, slug, quantity=2)).json()
    await pay_with_test_page(client, created)
    order = await Order.select(Order.id).where(Order.reference == created["reference"]).first()
    assert order is not None
    # A guest with a mobile number and no email (as a door sale could record them).
    await Order.update({Order.buyer_email: "", Order.buyer_phone: E164}).where(Order.id == order["id"])
    await OutboxMessage.delete().where(OutboxMessage.order_id == order["id"])
    await outbox.enqueue("tickets_resent", order_id=order["id"], now=clock())
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.delivered
    link = f"{texting.base_url}{order_page(texting, created['reference'])}"
    assert link in request.body and "/tickets/" not in request.body
    page = await client.get(link.removeprefix(texting.base_url))
    # The order page keeps itself and its ticket pages for use with no signal.
    assert re.search(r'src="/static/js/ticket\.js\?v=[0-9a-f]+" data-offline', page.text) and page.text.count("data-offline-keep") == 2


async def test_a_refund_notice_detail_is_read_back_as_the_cause_wrote_it(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await claimed_by_phone(client, organiser, now)
    await drain_outbox(clock(), settings=texting)
    detail = {"amount_pence": 500, "currency": "GBP", "method": "cash", "ticket_ids": []}
    await outbox.enqueue("refund_notice", order_id=claimed["order"]["id"], now=clock(), key="refund:7", detail=detail)
    [*_, stored] = await messages(claimed["order"]["id"])
    assert json.loads(stored["detail"]) == detail
    assert await drain_outbox(clock(), settings=texting) == 1
    notice = twilio.delivered[-1]
    assert "£5 refunded to you in cash." in notice.body and "working days" not in notice.body


async def test_the_stand_in_answers_as_twilio_documents(twilio: TwilioStandIn) -> None:
    """The stand-in refuses what Twilio refuses, with Twilio's error shape, so a test passing against it means the app
    sent a request Twilio would take."""
    path = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    good = {"To": E164, "From": twilio.sender, "Body": "Hello"}
    async with httpx.AsyncClient(timeout=10) as http:
        wrong_token = await http.post(path, data=good, auth=(twilio.account_sid, "not-the-token"))
        bad_number = await http.post(path, data={**good, "To": "07911 123456"}, auth=(twilio.account_sid, twilio.auth_token))
        no_body = await http.post(path, data={**good, "Body": ""}, auth=(twilio.account_sid, twilio.auth_token))
        no_sender = await http.post(path, data={"To": E164, "Body": "Hello"}, auth=(twilio.account_sid, twilio.auth_token))
        created = await http.post(path, data=good, auth=(twilio.account_sid, twilio.auth_token))
    for response, status, code in ((wrong_token, 401, 20003), (bad_number, 400, 21211), (no_body, 400, 21602), (no_sender, 400, 21603)):
        assert response.status_code == status
        assert response.json() == {**response.json(), "code": code, "status": status, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        assert set(response.json()) == {"code", "message", "more_info", "status"}
    assert created.status_code == 201 and set(created.json()) == set(MESSAGE_TEMPLATE)
    message = created.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"]) and message["status"] == "queued" and message["price"] is None
    assert (message["to"], message["from"], message["body"], message["num_segments"]) == (E164, twilio.sender, "Hello", "1")
    assert message["uri"] == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{message['sid']}.json"


async def test_the_stand_in_takes_whatsapp_only_as_twilio_documents_templates(twilio: TwilioStandIn) -> None:
    """ContentSid and ContentVariables as Twilio's Create a Message takes them, and what WhatsApp would refuse later
    noted as a problem; its status reports are signed as Twilio signs them (the SDK's validator agrees)."""
    path = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    whatsapp = {"To": f"whatsapp:{E164}", "From": f"whatsapp:{twilio.whatsapp_sender}"}
    variables = json.dumps({"1": "Our charity", "2": "Your ticket · Supper Club"})
    auth = (twilio.account_sid, twilio.auth_token)
    async with httpx.AsyncClient(timeout=10) as http:
        templated = await http.post(path, data={**whatsapp, "ContentSid": twilio.content_sid, "ContentVariables": variables}, auth=auth)
        unknown_template = await http.post(path, data={**whatsapp, "ContentSid": "HX" + "0" * 32, "ContentVariables": variables}, auth=auth)
        not_json = await http.post(path, data={**whatsapp, "ContentSid": twilio.content_sid, "ContentVariables": "1=Our charity"}, auth=auth)
        missing = await http.post(path, data={**whatsapp, "ContentSid": twilio.content_sid, "ContentVariables": '{"1": "Our charity"}'}, auth=auth)
        free_form = await http.post(path, data={**whatsapp, "Body": "Hello"}, auth=auth)
        two_lines = await http.post(
            path, data={**whatsapp, "ContentSid": twilio.content_sid, "ContentVariables": json.dumps({"1": "Our charity", "2": "a\nb"})}, auth=auth
        )
    assert templated.status_code == 201 and templated.json()["body"].startswith("Message from Our charity:\n\nYour ticket · Supper Club")
    assert [(r.status_code, r.json()["code"]) for r in (unknown_template, not_json, missing)] == [(400, 21655), (400, 21656), (400, 21656)]
    first, _, _, _, free, split = twilio.received
    assert first.problems == []
    assert free_form.status_code == free.status == 201 and any("63016" in problem for problem in free.problems)
    assert two_lines.status_code == split.status == 201 and any("line break" in problem for problem in split.problems)

    report = twilio.status_report(first, "undelivered", error_code=30003)
    assert report["MessageSid"] == first.sid and report["ErrorCode"] == "30003"
    url = "https://tickets.example.org/webhooks/twilio/status"
    assert sms.signed_by_twilio(url, list(report.items()), twilio.signature(url, report), settings=twilio.settings())
    assert not sms.signed_by_twilio(url, list(report.items()), twilio.signature(url + "x", report), settings=twilio.settings())


async def test_a_wrong_auth_token_is_retried_not_given_up(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, settings: Settings, now: datetime
) -> None:
    """A service misconfigured (a rotated token) is fixed by its admin: the guest's text waits rather than fails."""
    claimed = await claimed_by_phone(client, organiser, now)
    wrong = dataclasses.replace(settings, twilio=twilio.settings(auth_token="rotated"))
    assert await drain_outbox(clock(), settings=wrong) == 0
    [waiting] = await messages(claimed["order"]["id"])
    assert (waiting["status"], waiting["last_error"]) == ("queued", "TwilioRestException 20003")


# --- Twilio's reports of how each text went -------------------------------------------------------------------------


async def texted(client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime) -> dict[str, Any]:
    """A phone-only claim whose ticket link Twilio has taken; returns the claim and the stand-in's record of the text."""
    claimed = await claimed_by_phone(client, organiser, now)
    assert await drain_outbox(clock(), settings=texting) == 1
    [request] = twilio.delivered
    return {**claimed, "request": request}


async def the_text(order_id: int) -> tuple[str, str]:
    [message] = await messages(order_id)
    return message["status"], message["last_error"]


async def test_a_delivered_report_keeps_the_text_sent(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await texted(client, organiser, twilio, texting, now)
    for status in ("sent", "delivered"):
        answer = await twilio.report_status(client, claimed["request"], status)
        assert answer.status_code == 200 and answer.json() == {"received": True, "outcome": "unchanged"}
    assert await the_text(claimed["order"]["id"]) == ("sent", "")
    page = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert re.search(r"Text sent \d\d:\d\d", page.text)


async def test_an_undelivered_report_marks_the_text_failed_and_both_order_pages_say_why(
    client: httpx.AsyncClient,
    organiser: dict[str, str],
    twilio: TwilioStandIn,
    texting: Settings,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    claimed = await texted(client, organiser, twilio, texting, now)
    caplog.set_level(logging.DEBUG)
    answer = await twilio.report_status(client, claimed["request"], "undelivered", error_code=30003)
    assert answer.status_code == 200 and answer.json() == {"received": True, "outcome": "failed"}
    assert await the_text(claimed["order"]["id"]) == ("failed", "Twilio 30003")  # the code only, never the number
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "30003" in logged and E164 not in logged and "7911" not in logged

    guest = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert "Text failed: number unreachable" in guest.text
    await sign_in_organiser(client)
    organiser_page = await client.get(f"/manage/orders/{claimed['order']['reference']}")
    assert "Text failed: number unreachable" in organiser_page.text
    # A failed text is not tried again by the worker: the guest or the organiser asks for it again.
    assert await drain_outbox(clock() + timedelta(hours=3), settings=texting) == 0
    assert len(twilio.received) == 1


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        ("undelivered", 30005, "the number does not exist"),
        ("undelivered", 30006, "not a mobile number"),
        ("undelivered", 30007, "filtered by the phone network"),
        ("undelivered", 30008, "could not be delivered"),
        ("failed", 63016, "WhatsApp needs an approved template"),
        ("failed", None, "could not be delivered"),
    ],
)
async def test_the_order_page_says_why_in_plain_words(
    client: httpx.AsyncClient,
    organiser: dict[str, str],
    twilio: TwilioStandIn,
    texting: Settings,
    now: datetime,
    status: str,
    code: int | None,
    reason: str,
) -> None:
    claimed = await texted(client, organiser, twilio, texting, now)
    assert (await twilio.report_status(client, claimed["request"], status, error_code=code)).json()["outcome"] == "failed"
    assert await the_text(claimed["order"]["id"]) == ("failed", f"Twilio {code or status}")
    page = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert f"Text failed: {reason}" in page.text


async def test_a_report_not_signed_by_twilio_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await texted(client, organiser, twilio, texting, now)
    request = claimed["request"]
    undelivered = twilio.status_report(request, "undelivered", error_code=30003)
    public_url = request.form["StatusCallback"]
    forged = [
        await twilio.report_status(client, request, "undelivered", error_code=30003, signature=""),  # none at all
        await twilio.report_status(client, request, "undelivered", error_code=30003, signature="bm90IGEgc2lnbmF0dXJl"),
        # Twilio's signature of a delivered report, on an undelivered one.
        await twilio.report_status(
            client, request, "undelivered", form=undelivered, signature=twilio.signature(public_url, twilio.status_report(request, "delivered"))
        ),
        # Signed with another auth token, or for another address (the one the client happened to use).
        await twilio.report_status(client, request, "undelivered", form=undelivered, signature=TwilioStandIn().signature(public_url, undelivered)),
        await twilio.report_status(
            client, request, "undelivered", form=undelivered, signature=twilio.signature("http://testserver/webhooks/twilio/status", undelivered)
        ),
    ]
    for answer in forged:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == "invalid_signature"
    assert await the_text(claimed["order"]["id"]) == ("sent", "")


async def test_repeated_and_late_reports_never_undo_a_failure(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    failed = await texted(client, organiser, twilio, texting, now)
    first = await twilio.report_status(client, failed["request"], "undelivered", error_code=30003)
    assert first.json()["outcome"] == "failed"
    # Twilio repeats itself, a late "sent" or "delivered" arrives, then another failure: the first failure stands.
    for status, code in (("undelivered", 30003), ("sent", None), ("delivered", None), ("failed", 30005)):
        answer = await twilio.report_status(client, failed["request"], status, error_code=code)
        assert answer.status_code == 200 and answer.json()["outcome"] == "unchanged"
    assert await the_text(failed["order"]["id"]) == ("failed", "Twilio 30003")


async def test_a_late_report_after_delivery_changes_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    """A delivered text stays sent when a late "sent" or "queued" arrives after "delivered" and "read"."""
    delivered = await texted(client, organiser, twilio, texting, now)
    for status in ("delivered", "read", "sent", "queued", "delivered"):
        assert (await twilio.report_status(client, delivered["request"], status)).json()["outcome"] == "unchanged"
    assert await the_text(delivered["order"]["id"]) == ("sent", "")


async def test_a_report_twilio_would_not_send_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await texted(client, organiser, twilio, texting, now)
    request = claimed["request"]
    undelivered = twilio.status_report(request, "undelivered", error_code=30003)

    def without(name: str) -> dict[str, str]:
        return {key: value for key, value in undelivered.items() if key != name}

    # Signed correctly, but not a status report: each is refused with the field it gets wrong.
    for form, field in (
        (without("MessageSid"), "MessageSid"),
        (without("MessageStatus"), "MessageStatus"),
        ({**undelivered, "MessageSid": "SM" + "x" * 32}, "MessageSid"),
        ({**undelivered, "ErrorCode": "30003; DROP TABLE"}, "ErrorCode"),
        ({**undelivered, "MessageStatus": "undelivered" * 10}, "MessageStatus"),
        ({**undelivered, "ChannelStatusMessage": "x" * 5000}, "ChannelStatusMessage"),
    ):
        answer = await twilio.report_status(client, request, "undelivered", form=form)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"] == "invalid" and field in answer.json()["fields"]
    # A control character anywhere, or a body far larger than any report, is refused before it is read.
    control = await twilio.report_status(client, request, "undelivered", form={**undelivered, "To": E164 + "\x07"})
    huge = await twilio.report_status(client, request, "undelivered", form={**undelivered, "ErrorCode": "3" * 100_000})
    assert control.status_code == 422 and huge.status_code == 413
    not_a_form = await client.post(
        "/webhooks/twilio/status", json=undelivered, headers={"X-Twilio-Signature": twilio.signature(request.form["StatusCallback"], undelivered)}
    )
    assert not_a_form.status_code == 415
    assert await the_text(claimed["order"]["id"]) == ("sent", "")

    # A genuine report about a message that is not one of ours (another app on the account, or purged) is taken.
    other = dataclasses.replace(request, answer={**request.answer, "sid": "SM" + "0" * 32})
    answer = await twilio.report_status(client, other, "undelivered", error_code=30003)
    assert answer.status_code == 200 and answer.json()["outcome"] == "unknown"
    assert await the_text(claimed["order"]["id"]) == ("sent", "")


async def test_without_a_twilio_account_no_report_is_taken(client: httpx.AsyncClient, twilio: TwilioStandIn, settings: Settings) -> None:
    """The development default: there is no auth token to check a signature with, so every report is refused."""
    assert not settings.twilio.enabled
    report = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    answer = await client.post(
        "/webhooks/twilio/status",
        data=report,
        headers={"X-Twilio-Signature": twilio.signature(settings.base_url + sms.STATUS_CALLBACK_PATH, report)},
    )
    assert answer.status_code == 403


# --- no text provider: no promise -------------------------------------------------------------------------------------


async def test_production_without_twilio_neither_asks_for_a_phone_nor_promises_a_text(
    client: httpx.AsyncClient, organiser: dict[str, str], app_settings: Callable[..., Settings], now: datetime
) -> None:
    earlier = await claimed_by_phone(client, organiser, now)  # claimed while texts could still be sent
    production = app_settings(env="production", twilio=TwilioSettings())
    assert not production.can_send_texts
    link = await claim_link(client, organiser, earlier["slug"])

    form = await client.get(f"/claim/{link['code']}")
    assert form.status_code == 200 and 'name="email"' in form.text and 'name="phone"' not in form.text

    # The API refuses a number rather than keep one nothing will ever be sent to.
    refused = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "phone": MOBILE})
    assert refused.status_code == 422 and refused.json()["error"] == "invalid"
    assert "cannot send text messages" in refused.json()["fields"]["phone"]
    # A form opened before (with a phone field) is shown again with the number and why, to clear it.
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    stale = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "phone": MOBILE, "_csrf_token": token}, follow_redirects=True)
    assert stale.status_code == 422 and 'id="phone-error"' in stale.text and "cannot send text messages" in stale.text
    assert await Order.count() == 1 and await OutboxMessage.count() == 1  # the earlier claim's only

    done = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "email": "", "_csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and "<svg" in done.text
    assert "We are also sending a link to it to your phone." not in done.text and "We have also sent it" not in done.text

    # The earlier phone-only order's page no longer says a text went.
    page = await client.get(order_page(production, earlier["order"]["reference"]))
    assert page.status_code == 200 and "We sent your ticket link by text" not in page.text


async def test_a_whatsapp_message_that_fails_is_sent_again_by_sms_once(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    claimed = await texted(client, organiser, twilio, texting, now)
    assert claimed["request"].form["To"] == f"whatsapp:{E164}"
    # The guest is not on WhatsApp: Twilio took the message, then reports it failed.
    for _ in range(2):  # a repeated report queues nothing more
        answer = await twilio.report_status(client, claimed["request"], "failed", error_code=63003)
        assert answer.status_code == 200
    assert await drain_outbox(clock(), settings=texting) == 1
    _whatsapp, sms = twilio.delivered
    assert sms.form["To"] == E164 and "ContentSid" not in sms.form and claimed["ticket"]["url"] in sms.body
    assert [(m["channel"], m["status"]) for m in await messages(claimed["order"]["id"])] == [("whatsapp", "failed"), ("sms", "sent")]
    assert await drain_outbox(clock() + timedelta(hours=3), settings=texting) == 0
