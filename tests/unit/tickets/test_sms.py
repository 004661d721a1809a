"""Twilio's error codes: which give up at once (how the order pages say why a text failed: test_deliveries); which
failures may have left a message at Twilio; and which message found there an unanswered request made."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from events.config import TwilioSettings
from events.tickets import sms
from events.tickets.statuses import MessageChannel
from events.tickets.texts import ComposedText


@pytest.mark.parametrize(
    ("code", "at_once"), [(21211, True), (21614, True), (21612, True), (21610, True), (20003, False), (20503, False), (None, False)]
)
def test_only_a_number_that_cannot_take_texts_gives_up_at_once(code: int | None, at_once: bool) -> None:
    assert sms.gives_up_at_once(TwilioRestException(400, "https://api.twilio.com/2010-04-01/…", "…", code=code)) is at_once
    assert not sms.gives_up_at_once(ConnectionError())


def rest_error(status: int, code: int) -> TwilioRestException:
    return TwilioRestException(status, "https://api.twilio.com/2010-04-01/…", "…", code=code)


def refused_connection() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("api.twilio.com", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


@pytest.mark.parametrize(
    ("error", "maybe"),
    [
        (rest_error(400, 21211), False),  # refused: Twilio made nothing
        (rest_error(401, 20003), False),
        (rest_error(429, 20429), False),
        (TwilioServiceException("https://www.twilio.com/docs/errors/21211", "Invalid To", 400, 21211), False),
        (refused_connection(), False),  # the request never left
        (aiohttp.ConnectionTimeoutError(), False),
        (TimeoutError(), True),  # it may have been taken before the answer was awaited in vain
        (aiohttp.ServerDisconnectedError(), True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), True),
        (rest_error(503, 20503), True),  # a gateway may answer 5xx while Twilio goes on
        (rest_error(500, 20500), True),
        (ValueError("a 201 whose body could not be read"), True),
    ],
)
def test_only_a_refusal_or_a_connection_never_made_is_certain_to_have_made_no_message(error: BaseException, maybe: bool) -> None:
    assert sms.may_have_been_taken(error) is maybe


AT = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)


def found(sid: str, minutes: int, *, same_words: bool = False, status: str = "queued") -> sms.FoundText:
    return sms.FoundText(sid=sid, created_at=AT + timedelta(minutes=minutes), status=status, error_code=None, same_words=same_words)


def test_the_message_with_the_requests_words_is_the_one_it_made() -> None:
    other, ours = found("SM1", 0), found("SM2", 1, same_words=True)
    assert sms.made_by([other, ours], known=set()) == ours


def test_a_message_another_text_made_is_never_taken_for_it() -> None:
    reminder, ours = found("SM1", 0, same_words=True), found("SM2", 1, same_words=True)
    assert sms.made_by([reminder, ours], known={"SM1"}) == ours
    assert sms.made_by([reminder], known={"SM1"}) is None  # only then is the text sent again


def test_without_the_same_words_the_oldest_unexplained_message_is_taken_for_it() -> None:
    """Twilio may change the words (smart encoding, WhatsApp's template): a message to the guest from our sender since
    the request, that no other text accounts for, is taken to be it rather than sending the text twice."""
    assert sms.made_by([found("SM1", 0), found("SM2", 1)], known=set()) == found("SM1", 0)
    assert sms.made_by([], known=set()) is None


def test_a_request_is_kept_without_the_number_or_the_words() -> None:
    text = ComposedText(body="Our charity: Your ticket\nhttps://tickets.example.org/tickets/6d9fh5qqwcaxrp6xr829", template_variables={})
    settings = TwilioSettings(account_sid="AC" + "a" * 32, auth_token="t", sender="+447700900001")
    request = sms.text_request("+447911123456", text, MessageChannel.sms, settings=settings)
    kept = request.mark(AT).as_json()
    assert "7911" not in kept and "6d9fh5" not in kept and "charity" not in kept
    mark = sms.RequestMark.from_json(kept)
    assert mark == request.mark(AT) and mark.to("+447911123456") == "+447911123456"
    assert mark.has_words_of(text.body) and not mark.has_words_of(text.body + " ")


def test_a_whatsapp_request_is_looked_for_by_its_whatsapp_address() -> None:
    text = ComposedText(body="…", template_variables={"1": "Our charity", "2": "Your ticket"})
    settings = TwilioSettings(account_sid="AC" + "a" * 32, auth_token="t", whatsapp_sender="+447700900002", whatsapp_content_sid="HX" + "b" * 32)
    mark = sms.text_request("+447911123456", text, MessageChannel.whatsapp, settings=settings).mark(AT)
    assert (mark.channel, mark.to("+447911123456"), mark.sender) == (MessageChannel.whatsapp, "whatsapp:+447911123456", "whatsapp:+447700900002")
    assert not mark.has_words_of("Message from Our charity:\n\nYour ticket")  # the template's text is Twilio's: no digest to match
