"""Text messages out through Twilio's Messages API (SMS, or WhatsApp where an organisation turns it on), with
Twilio's own SDK and its asynchronous HTTP client, so a slow provider never holds up the event loop; and the check
that a report of how one went (a status callback) really comes from Twilio.

Twilio's Messages API takes no idempotency key, so a request whose answer never came back (a timeout, a connection
dropped after the request went) may or may not have made a message. The outbox keeps a mark of each request
(RequestMark) from just before it goes until Twilio answers it; a try that finds one unanswered asks Twilio first (find_texts:
Twilio's documented Messages list, filtered by To and From) and sends again only once Twilio has shown it has no such
message. A refusal (a 4xx answer) or a connection that never opened is certain: nothing was made (may_have_been_taken).

Nothing here logs a number or a message's words: a failure is recorded by its kind and Twilio's error code only
("TwilioRestException 21614" when Twilio refused it, "Twilio 30003" when Twilio reported later that it was not
delivered), which is also what the order pages read back to say why a text failed (tickets.deliveries).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from events.config import TWILIO_BASE_URL_DEFAULT, TwilioSettings
from events.tickets.statuses import MessageChannel
from events.tickets.texts import ComposedText

# Longer than Twilio takes to accept a message; a worker waiting this long tries again later with backoff.
SEND_TIMEOUT_SECONDS = 30
# Twilio's error codes that say the number itself cannot take the message: trying again would fail the same way, so
# the message fails at once and the order pages say why (https://www.twilio.com/docs/api/errors).
UNDELIVERABLE = frozenset({21211, 21217, 21610, 21612, 21614})
# Twilio's API answers errors in its long-standing shape (TwilioRestException) or as RFC 9457 problem details
# (TwilioServiceException); both carry Twilio's error code.
PROVIDER_ERRORS = (TwilioRestException, TwilioServiceException)
# How last_error names a failure Twilio reported after accepting the text ("Twilio 30003"), from a status callback.
DELIVERY_REPORT = "Twilio"
# Every kind of last_error that carries a Twilio error code.
TWILIO_ERROR_KINDS = frozenset({DELIVERY_REPORT, *(error.__name__ for error in PROVIDER_ERRORS)})
# What a text's last_error says when it was skipped because the service has no Twilio account (production).
NO_PROVIDER = "no text provider"
# Where Twilio reports how each text went (tickets.controllers.TwilioWebhooks), after EVENTS_BASE_URL.
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
# Looking for a text a try may have made: Twilio's clock and ours may differ by this much; and no guest is expected to have
# more than this many texts from one sender (more, and Twilio's answer cannot rule the text out: the lookup is inconclusive).
CLOCK_SKEW = timedelta(minutes=2)
LOOKUP_LIMIT = 200
# Statuses of a message Twilio took but could not deliver (as its status reports say: tickets.delivery_reports).
UNDELIVERED = frozenset({"undelivered", "failed"})


class TextLookupInconclusive(Exception):
    """Twilio's list of messages was too long to rule out that an unanswered request made a message."""


@dataclass(frozen=True, slots=True)
class SentText:
    reference: str  # Twilio's message SID, kept as the outbox message's provider reference
    channel: MessageChannel  # how it went: SMS when WhatsApp was asked for but the service has no WhatsApp sender


@dataclass(frozen=True, slots=True)
class TextRequest:
    """One Create a Message request."""

    to: str  # E.164, or whatsapp:+… for WhatsApp
    sender: str  # From; "" when a Messaging Service picks the sender
    messaging_service_sid: str
    body: str  # an SMS's words ("" for WhatsApp: the template is the message)
    content_sid: str = ""  # WhatsApp's approved template, and its variables
    content_variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def channel(self) -> MessageChannel:
        return MessageChannel.whatsapp if self.content_sid else MessageChannel.sms

    def mark(self, at: datetime) -> RequestMark:
        """What is kept of this request, sent at ``at``, until Twilio answers it."""
        words = hashlib.sha256(self.body.encode()).hexdigest() if self.channel == MessageChannel.sms else ""
        return RequestMark(at=at, channel=self.channel, sender=self.sender, messaging_service_sid=self.messaging_service_sid, words=words)


@dataclass(frozen=True, slots=True)
class RequestMark:
    """What the outbox keeps of a request from just before it goes until Twilio answers it, so that a try whose answer
    never came can be looked for (find_texts): when it went, by which channel, from which sender, and a digest of an
    SMS's words. Nothing personal: the number is the outbox message's own, and the words (which hold the ticket's link)
    are kept only as a digest."""

    at: datetime
    channel: MessageChannel
    sender: str
    messaging_service_sid: str
    words: str  # SHA-256 of an SMS's body; "" for WhatsApp (Twilio gives back the template filled in, not what was sent)

    def to(self, recipient: str) -> str:
        return f"whatsapp:{recipient}" if self.channel == MessageChannel.whatsapp else recipient

    def has_words_of(self, body: str) -> bool:
        return bool(self.words) and hmac.compare_digest(hashlib.sha256(body.encode()).hexdigest(), self.words)

    def as_json(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "channel": str(self.channel),
                "sender": self.sender,
                "messaging_service_sid": self.messaging_service_sid,
                "words": self.words,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, raw: str) -> RequestMark:
        fields = json.loads(raw)
        return cls(
            at=datetime.fromisoformat(fields["at"]),
            channel=MessageChannel(fields["channel"]),
            sender=fields["sender"],
            messaging_service_sid=fields["messaging_service_sid"],
            words=fields["words"],
        )


@dataclass(frozen=True, slots=True)
class FoundText:
    """A message Twilio holds that an unanswered request may have made."""

    sid: str
    created_at: datetime | None
    status: str
    error_code: int | None
    same_words: bool  # its words are the request's (Twilio may change them: a Messaging Service's smart encoding)

    @property
    def undelivered(self) -> bool:
        return self.status in UNDELIVERED


def text_request(recipient: str, text: ComposedText, channel: MessageChannel, *, settings: TwilioSettings) -> TextRequest:
    """The request that sends ``text`` to ``recipient``. WhatsApp takes only the approved template (the service's
    Content SID, with the organisation's name and the message as its variables); without one, a text meant for
    WhatsApp goes by SMS."""
    if channel == MessageChannel.whatsapp and settings.whatsapp_ready:
        return TextRequest(
            to=f"whatsapp:{recipient}",
            sender=f"whatsapp:{settings.whatsapp_sender}",
            messaging_service_sid="",
            body="",
            content_sid=settings.whatsapp_content_sid or "",
            content_variables=dict(text.template_variables),
        )
    return TextRequest(to=recipient, sender=settings.sender or "", messaging_service_sid=settings.messaging_service_sid or "", body=text.body)


class _ProviderHttpClient(AsyncTwilioHttpClient):
    """The SDK's asynchronous client, sending to EVENTS_TWILIO_BASE_URL instead of Twilio's own address (a test
    stand-in, or a regional proxy): a custom HTTP client is the SDK's documented way to change where requests go."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    async def request(
        self, method: str, url: str, *args: Any, headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None, **kwargs: Any
    ) -> Response:
        if self.base_url != TWILIO_BASE_URL_DEFAULT and url.startswith(TWILIO_BASE_URL_DEFAULT + "/"):
            url = self.base_url + url.removeprefix(TWILIO_BASE_URL_DEFAULT)
        headers = dict(headers or {})
        if auth is not None:
            # The same HTTP Basic header the SDK would send, written here: the SDK builds it with aiohttp's BasicAuth,
            # which aiohttp has deprecated (it will go in aiohttp 4).
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        return await super().request(method, url, *args, headers=headers, auth=None, **kwargs)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """The SDK's log of a request, without its query or form: a lookup's query names the guest's number."""
        self.logger.info("%s Request: %s", kwargs["method"], str(kwargs["url"]).partition("?")[0])


async def send_text(request: TextRequest, *, settings: TwilioSettings, status_callback: str) -> SentText:
    """Hand one text to Twilio, asking it to report how the text went to ``status_callback``; raise
    (TwilioRestException with Twilio's code, a network error, a timeout) if it was not accepted. Whether Twilio may
    have made the message all the same: may_have_been_taken."""
    async with _ProviderHttpClient(settings.base_url) as http:
        client = Client(settings.account_sid, settings.auth_token, http_client=http)
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            if request.content_sid:
                message = await client.messages.create_async(
                    to=request.to,
                    from_=request.sender,
                    content_sid=request.content_sid,
                    content_variables=json.dumps(dict(request.content_variables), ensure_ascii=False),
                    status_callback=status_callback,
                )
            else:
                message = await client.messages.create_async(
                    to=request.to,
                    body=request.body,
                    from_=request.sender or values.unset,
                    messaging_service_sid=request.messaging_service_sid or values.unset,
                    status_callback=status_callback,
                )
    return SentText(reference=str(message.sid), channel=request.channel)


def may_have_been_taken(error: BaseException) -> bool:
    """Whether Twilio may have made the message although sending it failed. Only two failures are certain: Twilio's
    refusal (a 4xx answer: nothing is made) and a connection that never opened (the request never left). Anything
    else (a timeout, a connection dropped after the request went, a 5xx a gateway answered while Twilio went on) may
    have come after Twilio took it."""
    if isinstance(error, PROVIDER_ERRORS):
        return not (isinstance(error.status, int) and 400 <= error.status < 500)
    return not isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


async def find_texts(recipient: str, mark: RequestMark, *, settings: TwilioSettings) -> list[FoundText]:
    """The messages Twilio holds that the request ``mark`` tells of may have made, oldest first: to ``recipient`` by its
    channel, from its sender (or Messaging Service), made since it went (less CLOCK_SKEW). Read from Twilio's Messages
    list, filtered by To and From (not by DateSent: a message Twilio has queued but not sent yet has no date sent).
    Raises when Twilio cannot say: an error, a timeout, or more messages than LOOKUP_LIMIT (TextLookupInconclusive)."""
    earliest = mark.at - CLOCK_SKEW
    found: list[FoundText] = []
    seen = 0
    async with _ProviderHttpClient(settings.base_url) as http:
        client = Client(settings.account_sid, settings.auth_token, http_client=http)
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            messages = await client.messages.stream_async(to=mark.to(recipient), from_=mark.sender or values.unset, limit=LOOKUP_LIMIT + 1)
            async for message in messages:
                seen += 1
                if seen > LOOKUP_LIMIT:
                    raise TextLookupInconclusive
                if not str(message.direction or "").startswith("outbound"):
                    continue
                if mark.messaging_service_sid and message.messaging_service_sid != mark.messaging_service_sid:
                    continue
                if message.date_created is not None and message.date_created < earliest:
                    continue
                found.append(
                    FoundText(
                        sid=str(message.sid),
                        created_at=message.date_created,
                        status=str(message.status or ""),
                        error_code=int(message.error_code) if message.error_code else None,
                        same_words=mark.has_words_of(str(message.body or "")),
                    )
                )
    return sorted(found, key=lambda text: (text.created_at is None, text.created_at or mark.at))


def made_by(found: Sequence[FoundText], *, known: Collection[str]) -> FoundText | None:
    """Which of the messages found the request made, leaving out those the outbox knows another of its messages made
    (``known``): the oldest with the request's words, else the oldest found (Twilio may have changed the words: any
    message to the guest from our sender since the request, that no other text of ours accounts for, is taken to be
    it, so a text that may have gone is never sent twice: WhatsApp's always are, as Twilio gives back the template
    filled in, not the words sent); None when there is none, and only then is it sent again."""
    candidates = [text for text in found if text.sid not in known]
    return next((text for text in candidates if text.same_words), candidates[0] if candidates else None)


class _FormParameters(dict[str, list[str]]):
    """A form's parameters as the SDK's RequestValidator reads them: every value of each name (as a multidict's
    ``getall``), so a name sent twice is signed as Twilio signs it."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def signed_by_twilio(url: str, form: Sequence[tuple[str, str]], signature: str, *, settings: TwilioSettings) -> bool:
    """Whether a request to ``url`` (the public address Twilio was given) with this form carries Twilio's
    X-Twilio-Signature: an HMAC-SHA1 of the URL and the sorted parameters, keyed with the auth token, base64, as the
    SDK's RequestValidator computes it. Never true without an account (there is no token to check it with)."""
    if not settings.auth_token or not signature:
        return False
    parameters = _FormParameters()
    for name, value in form:
        parameters.setdefault(name, []).append(value)
    return bool(RequestValidator(settings.auth_token).validate(url, parameters, signature))


def gives_up_at_once(error: BaseException) -> bool:
    """Whether Twilio said the number cannot take texts (no retry can help)."""
    return isinstance(error, PROVIDER_ERRORS) and error.code in UNDELIVERABLE
