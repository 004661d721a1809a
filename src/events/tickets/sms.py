"""Text messages out through Twilio's Messages API (SMS, or WhatsApp where an organisation turns it on), with
Twilio's own SDK and its asynchronous HTTP client, so a slow provider never holds up the event loop; and the check
that a report of how one went (a status callback) really comes from Twilio.

Nothing here logs a number or a message's words: a failure is recorded by its kind and Twilio's error code only
("TwilioRestException 21614" when Twilio refused it, "Twilio 30003" when Twilio reported later that it was not
delivered), which is also what the order pages read back to say why a text failed (tickets.deliveries).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class SentText:
    reference: str  # Twilio's message SID, kept as the outbox message's provider reference
    channel: MessageChannel  # how it went: SMS when WhatsApp was asked for but the service has no WhatsApp sender


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


async def send_text(recipient: str, text: ComposedText, channel: MessageChannel, *, settings: TwilioSettings, status_callback: str) -> SentText:
    """Hand one text to Twilio, asking it to report how the text went to ``status_callback``; raise
    (TwilioRestException with Twilio's code, a network error, a timeout) if it was not accepted.

    WhatsApp takes only the approved template (the service's Content SID, with the organisation's name and the
    message as its variables); without one, a text meant for WhatsApp goes by SMS."""
    whatsapp = channel == MessageChannel.whatsapp and settings.whatsapp_ready
    async with _ProviderHttpClient(settings.base_url) as http:
        client = Client(settings.account_sid, settings.auth_token, http_client=http)
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            if whatsapp:
                message = await client.messages.create_async(
                    to=f"whatsapp:{recipient}",
                    from_=f"whatsapp:{settings.whatsapp_sender}",
                    content_sid=settings.whatsapp_content_sid,
                    content_variables=json.dumps(dict(text.template_variables), ensure_ascii=False),
                    status_callback=status_callback,
                )
            else:
                message = await client.messages.create_async(
                    to=recipient,
                    body=text.body,
                    from_=settings.sender or values.unset,
                    messaging_service_sid=settings.messaging_service_sid or values.unset,
                    status_callback=status_callback,
                )
    return SentText(reference=str(message.sid), channel=MessageChannel.whatsapp if whatsapp else MessageChannel.sms)


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
