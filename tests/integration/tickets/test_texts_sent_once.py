"""A text goes to the guest once, even when Twilio's answer to the request that sends it never arrives.

Twilio's Messages API takes no idempotency key: a request that times out, or whose connection drops, may have made
the message or not. The next try asks Twilio (its Messages list, by To and From) before sending again: a message found
is recorded (and Twilio's reports about it reach it), and the text is sent again only when Twilio has none. A refusal
(4xx) or a connection that never opened is certain, and the text is sent again without asking. Through the real Twilio
SDK and the stand-in (tests/support/twilio.py), which can take a message and then stall or hang up."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from litestar import Litestar
from twilio.rest import Client

from events import db
from events.config import Settings
from events.organisations.tables import Organisation
from events.tickets import outbox
from events.tickets.outbox import drain_outbox
from events.tickets.sms import _ProviderHttpClient
from events.tickets.tables import OutboxMessage
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim_link
from tests.support.server import free_port
from tests.support.twilio import MESSAGE_TEMPLATE, TwilioStandIn, running_twilio

E164 = "+447911123456"
# A claim on a message lasts 2 s, so a try that Twilio keeps waiting is abandoned after 1 s (outbox.send_budget).
LEASE_SECONDS = 2
STALL_SECONDS = 3 * LEASE_SECONDS  # longer than the try waits


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with running_twilio() as stand_in:
        yield stand_in


@pytest.fixture
def texting(app: Litestar, settings: Settings, twilio: TwilioStandIn) -> Iterator[Settings]:
    """Texts to the stand-in with a short claim; the running app has the settings too (it checks Twilio's reports)."""
    app.state.settings = dataclasses.replace(settings, twilio=twilio.settings(), outbox_sending_lease_seconds=LEASE_SECONDS)
    yield app.state.settings
    app.state.settings = settings


def clock() -> datetime:
    return datetime.now(timezone.utc)


async def phone_only_claim(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> dict[str, Any]:
    """A guest claims a free place with a mobile number only: their ticket's text is queued. Returns the claim."""
    link = await claim_link(client, organiser, await make_event(now))
    response = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "phone": E164})
    assert response.status_code == 201, response.text
    [queued] = await OutboxMessage.select().where(OutboxMessage.recipient == E164)
    return {**response.json(), "order_id": queued["order_id"]}


async def texts_of(order_id: int) -> list[dict[str, Any]]:
    return await OutboxMessage.select().where(OutboxMessage.order_id == order_id).order_by(OutboxMessage.id)


def requests_made(twilio: TwilioStandIn) -> list[tuple[str, int]]:
    return [(request.method, request.status) for request in twilio.received]


@pytest.mark.parametrize(("lose_the_answer", "error"), [("stall", "TimeoutError"), ("drop", "ServerDisconnectedError")])
async def test_a_text_twilio_took_without_answering_is_found_not_sent_again(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime, lose_the_answer: str, error: str
) -> None:
    claimed = await phone_only_claim(client, organiser, now)
    if lose_the_answer == "stall":
        twilio.stall_next(seconds=STALL_SECONDS)  # the answer comes after the worker has given up
    else:
        twilio.drop_next()  # the connection closes without an answer
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    [made] = twilio.sent_to(E164)  # Twilio made the message: the guest's phone has it
    [waiting] = await texts_of(claimed["order_id"])
    assert (waiting["status"], waiting["last_error"]) == ("queued", error)

    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 1
    assert len(twilio.sent_to(E164)) == 1  # once, not twice
    assert requests_made(twilio) == [("POST", 201), ("GET", 200)]  # the retry asked Twilio, and sent nothing
    [lookup] = twilio.lookups
    assert lookup.problems == [] and (lookup.form["To"], lookup.form["From"]) == (E164, twilio.sender)
    [text] = await texts_of(claimed["order_id"])
    assert (text["status"], text["attempts"], text["last_error"]) == ("sent", 2, "")
    assert text["provider_reference"] == made["sid"] and text["unanswered_request"] == ""
    assert first_try.replace(microsecond=0) <= text["sent_at"] <= clock()  # when Twilio made it (to the second)

    # Twilio's reports about the message reach the text, as for one whose answer came.
    report = await twilio.report_status(client, twilio.creates[0], "undelivered", error_code=30003)
    assert report.json() == {"received": True, "outcome": "failed"}
    assert await drain_outbox(first_try + timedelta(hours=3), settings=texting) == 0
    assert len(twilio.received) == 2 and len(twilio.sent_to(E164)) == 1


async def test_while_a_text_is_unanswered_what_is_kept_names_no_one(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    """The request is kept until Twilio answers, but neither the number nor the words (which hold the ticket's link)."""
    claimed = await phone_only_claim(client, organiser, now)
    twilio.drop_next()
    assert await drain_outbox(clock(), settings=texting) == 0
    [waiting] = await texts_of(claimed["order_id"])
    assert (waiting["status"], waiting["attempts"], waiting["last_error"]) == ("queued", 1, "ServerDisconnectedError")
    kept = waiting["unanswered_request"]
    assert kept and "7911" not in kept and claimed["secret"] not in kept and "Supper Club" not in kept


async def test_a_request_lost_before_twilio_made_the_message_is_sent_again_once(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await phone_only_claim(client, organiser, now)
    twilio.drop_next(taken=False)  # the connection drops before Twilio made anything
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    assert twilio.sent_to(E164) == []

    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 1
    assert requests_made(twilio) == [("POST", 0), ("GET", 200), ("POST", 201)]  # Twilio had none: sent again
    [made] = twilio.sent_to(E164)
    [text] = await texts_of(claimed["order_id"])
    assert (text["status"], text["provider_reference"], text["unanswered_request"]) == ("sent", made["sid"], "")


async def test_while_twilio_cannot_say_whether_it_has_the_text_the_text_waits(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await phone_only_claim(client, organiser, now)
    twilio.stall_next(seconds=STALL_SECONDS)
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    twilio.fail_next(lookup=True)  # Twilio's list answers 503 once
    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 0
    [waiting] = await texts_of(claimed["order_id"])
    assert (waiting["status"], waiting["attempts"]) == ("queued", 2) and waiting["unanswered_request"]

    assert await drain_outbox(first_try + timedelta(minutes=3), settings=texting) == 1
    assert requests_made(twilio) == [("POST", 201), ("GET", 503), ("GET", 200)]  # never a second POST
    assert len(twilio.sent_to(E164)) == 1


async def test_a_refusal_or_a_connection_never_made_is_certain_and_sent_again_without_asking(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    claimed = await phone_only_claim(client, organiser, now)
    first_try = clock()
    nothing_listens = dataclasses.replace(texting, twilio=twilio.settings(base_url=f"http://127.0.0.1:{free_port()}"))
    assert await drain_outbox(first_try, settings=nothing_listens) == 0
    wrong_token = dataclasses.replace(texting, twilio=twilio.settings(auth_token="rotated"))
    assert await drain_outbox(first_try + timedelta(minutes=1), settings=wrong_token) == 0  # Twilio answers 401
    [waiting] = await texts_of(claimed["order_id"])
    assert (waiting["last_error"], waiting["unanswered_request"]) == ("TwilioRestException 20003", "")

    assert await drain_outbox(first_try + timedelta(minutes=3), settings=texting) == 1
    assert requests_made(twilio) == [("POST", 401), ("POST", 201)]  # no lookup: nothing could have been made
    assert len(twilio.sent_to(E164)) == 1


async def test_two_unanswered_texts_to_one_guest_each_find_their_own_message(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    """Twilio slow for a whole batch: the ticket and a reminder to the same guest both go unanswered. Each is matched
    to the message with its own words, and neither is sent again."""
    claimed = await phone_only_claim(client, organiser, now)
    async with db.write_transaction():
        await outbox.enqueue("reminder", order_id=claimed["order_id"], now=clock(), key=f"reminder:{claimed['order_id']}")
    twilio.stall_next(2, seconds=STALL_SECONDS)
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    ticket, reminder = twilio.creates
    assert "Show this ticket" in reminder.body and "Show this ticket" not in ticket.body

    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 2
    assert len(twilio.sent_to(E164)) == 2 and len(twilio.creates) == 2
    assert [(text["kind"], text["status"], text["provider_reference"]) for text in await texts_of(claimed["order_id"])] == [
        ("order_confirmation", "sent", ticket.sid),
        ("reminder", "sent", reminder.sid),
    ]


async def test_an_unanswered_whatsapp_message_twilio_could_not_deliver_goes_again_by_sms(
    client: httpx.AsyncClient, organiser: dict[str, str], twilio: TwilioStandIn, texting: Settings, now: datetime
) -> None:
    """Found failed (the guest is not on WhatsApp): recorded as Twilio's report would have it, and sent by SMS once."""
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    claimed = await phone_only_claim(client, organiser, now)
    twilio.drop_next()
    first_try = clock()
    assert await drain_outbox(first_try, settings=texting) == 0
    [whatsapp] = twilio.sent_to(f"whatsapp:{E164}")
    twilio.set_status(whatsapp["sid"], "failed", error_code=63003)

    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 0  # found failed: the SMS is queued
    assert await drain_outbox(first_try + timedelta(minutes=1), settings=texting) == 1
    assert [(request.method, request.form.get("To")) for request in twilio.received] == [
        ("POST", f"whatsapp:{E164}"),
        ("GET", f"whatsapp:{E164}"),
        ("POST", E164),
    ]
    assert len(twilio.sent_to(f"whatsapp:{E164}")) == 1 and len(twilio.sent_to(E164)) == 1
    texts = await texts_of(claimed["order_id"])
    assert [(text["channel"], text["status"], text["last_error"]) for text in texts] == [("whatsapp", "failed", "Twilio 63003"), ("sms", "sent", "")]


async def test_the_stand_in_lists_messages_as_twilio_documents(twilio: TwilioStandIn) -> None:
    """Read multiple Message resources: the documented page shape, newest first, filtered by To and From, paged
    through by the SDK (its next_page_uri followed to the stand-in)."""
    path = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    auth = (twilio.account_sid, twilio.auth_token)
    async with httpx.AsyncClient(timeout=10) as http:
        for to, body in ((E164, "one"), ("+447911000000", "other guest"), (E164, "two"), (E164, "three")):
            assert (await http.post(path, data={"To": to, "From": twilio.sender, "Body": body}, auth=auth)).status_code == 201
        listed = await http.get(path, params={"To": E164, "From": twilio.sender, "PageSize": 2}, auth=auth)
        sent_today = await http.get(path, params={"To": E164, "DateSent>": "2000-01-01"}, auth=auth)
        wrong_token = await http.get(path, params={"To": E164}, auth=(twilio.account_sid, "not-the-token"))
    page = listed.json()
    assert listed.status_code == 200 and set(page) == {
        "end",
        "first_page_uri",
        "next_page_uri",
        "page",
        "page_size",
        "previous_page_uri",
        "messages",
        "start",
        "uri",
    }
    assert [message["body"] for message in page["messages"]] == ["three", "two"]  # newest first
    assert all(set(message) == set(MESSAGE_TEMPLATE) for message in page["messages"])
    assert (page["page"], page["page_size"], page["start"], page["end"], page["previous_page_uri"]) == (0, 2, 0, 1, None)
    assert page["next_page_uri"].startswith(f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json?") and "Page=1" in page["next_page_uri"]
    assert sent_today.json()["messages"] == []  # queued, not sent yet: no date sent
    assert wrong_token.status_code == 401 and wrong_token.json()["code"] == 20003

    async with _ProviderHttpClient(twilio.url) as provider:
        sdk = Client(twilio.account_sid, twilio.auth_token, http_client=provider)
        bodies = [message.body for message in await sdk.messages.list_async(to=E164, page_size=1)]
    assert bodies == ["three", "two", "one"]
    assert all(request.problems == [] for request in twilio.received if request.status != 401)
