"""Tickets by text message: a guest who gives only a mobile number hears from us by SMS (or WhatsApp where the
organisation turns it on), in their language, through the real Twilio SDK talking to a stand-in for Twilio's
Messages API (tests/support/twilio.py). Failures are retried, a number Twilio refuses fails at once and the order
pages say so, and a number that cannot take texts is refused before anything is written."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from events import db, i18n
from events.config import Settings
from events.orders.codes import order_access_token
from events.orders.tables import ClaimCode, Order
from events.organisations.tables import Organisation
from events.tickets import outbox
from events.tickets.outbox import drain_outbox
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim_link
from tests.support.backoffice import sign_in_organiser
from tests.support.twilio import MESSAGE_TEMPLATE, TwilioStandIn, running_twilio

MOBILE = "07911 123456"
E164 = "+447911123456"
ARABIC = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with running_twilio() as stand_in:
        yield stand_in


@pytest.fixture
def texting(settings: Settings, twilio: TwilioStandIn) -> Settings:
    """The app's settings, sending texts to the stand-in."""
    return dataclasses.replace(settings, twilio=twilio.settings())


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
    ticket_link = f"{texting.base_url}/tickets/{ticket['secret']}"
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
    done = await client.post(f"/claim/{link['code']}", data={"name": "ليلى", "phone": "+44 7911 123456", "_csrf_token": token})
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
    [sent] = await messages(claimed["order"]["id"])
    assert (sent["status"], sent["channel"]) == ("sent", "whatsapp")
    page = await client.get(order_page(texting, claimed["order"]["reference"]))
    assert re.search(r"WhatsApp message sent \d\d:\d\d", page.text)


async def test_without_a_whatsapp_sender_the_text_goes_by_sms(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, settings: Settings, now: datetime
) -> None:
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    claimed = await claimed_by_phone(client, organiser, now)
    no_whatsapp = dataclasses.replace(settings, twilio=twilio.settings(whatsapp_sender=None))
    assert await drain_outbox(clock(), settings=no_whatsapp) == 1
    [request] = twilio.delivered
    assert (request.form["To"], request.form["From"]) == (E164, twilio.sender)
    [sent] = await messages(claimed["order"]["id"])
    assert sent["channel"] == "sms"  # what actually happened


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
    assert "Show this ticket on your phone" in reminder.body and f"{texting.base_url}/tickets/{ticket['secret']}" in reminder.body
    assert "£12" in notice.body and "5 to 10 working days" in notice.body
    assert f"{texting.base_url}{order_page(texting, order['reference'])}" in notice.body
    assert all(m["status"] == "sent" and m["provider_reference"] for m in await messages(order["id"]))


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
    assert [request.status for request in twilio.received] == [503, 201]
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
    page = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "phone": "020 7946 0018", "_csrf_token": token})
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
    assert text.startswith(f"To: {E164}\nChannel: sms\n") and f"/tickets/{claimed['ticket']['secret']}" in text
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
    assert 'src="/static/js/ticket.js" data-offline' in page.text and page.text.count("data-offline-keep") == 2


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


async def test_a_wrong_auth_token_is_retried_not_given_up(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, settings: Settings, now: datetime
) -> None:
    """A service misconfigured (a rotated token) is fixed by its admin: the guest's text waits rather than fails."""
    claimed = await claimed_by_phone(client, organiser, now)
    wrong = dataclasses.replace(settings, twilio=twilio.settings(auth_token="rotated"))
    assert await drain_outbox(clock(), settings=wrong) == 0
    [waiting] = await messages(claimed["order"]["id"])
    assert (waiting["status"], waiting["last_error"]) == ("queued", "TwilioRestException 20003")
