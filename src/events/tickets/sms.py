"""Text messages out through Twilio's Messages API (SMS, or WhatsApp where an organisation turns it on), with
Twilio's own SDK and its asynchronous HTTP client, so a slow provider never holds up the event loop.

Nothing here logs a number or a message's words: a failure is recorded by its kind and Twilio's error code only
("TwilioRestException 21614"), which is also what the order pages read back to say why a text failed.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from events.config import TWILIO_BASE_URL_DEFAULT, TwilioSettings
from events.i18n import N_
from events.tickets.statuses import MessageChannel

# Longer than Twilio takes to accept a message; a worker waiting this long tries again later with backoff.
SEND_TIMEOUT_SECONDS = 30
# Twilio's error codes that say the number itself cannot take the message: trying again would fail the same way, so
# the message fails at once and the order pages say why (https://www.twilio.com/docs/api/errors).
UNDELIVERABLE = frozenset({21211, 21217, 21610, 21612, 21614})
# Why a text failed, as the guest's and the organiser's order pages say it; any other failure "could not be sent".
REASONS = {
    21211: N_("not a valid phone number"),
    21217: N_("not a valid phone number"),
    21408: N_("texts to this country are not switched on"),
    21610: N_("the guest asked for no more texts (STOP)"),
    21612: N_("number unreachable"),
    21614: N_("not a mobile number"),
}
COULD_NOT_SEND = N_("could not be sent")
# Twilio's API answers errors in its long-standing shape (TwilioRestException) or as RFC 9457 problem details
# (TwilioServiceException); both carry Twilio's error code.
PROVIDER_ERRORS = (TwilioRestException, TwilioServiceException)
# What a text's last_error says when it was skipped because the service has no Twilio account (production).
NO_PROVIDER = "no text provider"


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


async def send_text(recipient: str, body: str, channel: MessageChannel, *, settings: TwilioSettings) -> SentText:
    """Hand one text to Twilio; raise (TwilioRestException with Twilio's code, a network error, a timeout) if it
    was not accepted."""
    whatsapp = channel == MessageChannel.whatsapp and settings.whatsapp_sender is not None
    async with _ProviderHttpClient(settings.base_url) as http:
        client = Client(settings.account_sid, settings.auth_token, http_client=http)
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            if whatsapp:
                message = await client.messages.create_async(to=f"whatsapp:{recipient}", from_=f"whatsapp:{settings.whatsapp_sender}", body=body)
            else:
                message = await client.messages.create_async(
                    to=recipient,
                    body=body,
                    from_=settings.sender or values.unset,
                    messaging_service_sid=settings.messaging_service_sid or values.unset,
                )
    return SentText(reference=str(message.sid), channel=MessageChannel.whatsapp if whatsapp else MessageChannel.sms)


def gives_up_at_once(error: BaseException) -> bool:
    """Whether Twilio said the number cannot take texts (no retry can help)."""
    return isinstance(error, PROVIDER_ERRORS) and error.code in UNDELIVERABLE


def failure_reason(last_error: str) -> str:
    """Why a text failed, from the outbox's record of it ("TwilioRestException 21614" -> "not a mobile number")."""
    kind, _, code = last_error.partition(" ")
    if kind in {error.__name__ for error in PROVIDER_ERRORS} and code.isdigit():
        return REASONS.get(int(code), COULD_NOT_SEND)
    return COULD_NOT_SEND
