"""A stand-in for Twilio's Messages API on loopback, for tests that send texts through the real Twilio SDK.

It answers the two requests the app makes as Twilio's API reference documents them. Create a Message
(https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json
    HTTP Basic auth AccountSid:AuthToken, a form-encoded body with To (E.164, or whatsapp:+… for WhatsApp),
    From or MessagingServiceSid, and Body (at most 1,600 characters) or ContentSid (a Content Template, HX and 32
    hexadecimal digits) with ContentVariables (a JSON object of the template's variables); StatusCallback, where
    Twilio reports how the message went

and answers 201 with a Message resource shaped exactly as the recorded fixture (fixtures/twilio_message_created.json),
status "queued" as a message just accepted is, or Twilio's error shape
(https://www.twilio.com/docs/usage/twilios-response: {"code", "message", "more_info", "status"}) with Twilio's codes:
20003 bad credentials, 20404 an unknown path, 21211 a To that is not a phone number, 21602 no Body (nor ContentSid),
21603 no From, 21617 a Body over 1,600 characters, 21655 a ContentSid that is not the account's approved template,
21656 ContentVariables that are not a JSON object of the template's variables, and whatever a test asks for
(`fail_next`, `refuse`).

And Read multiple Message resources (https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources,
the shape recorded from Twilio's "Retrieve and Modify Message History" guide):

    GET /2010-04-01/Accounts/{AccountSid}/Messages.json?To=…&From=…&DateSent…&PageSize=…&Page=…&PageToken=…

answered 200 with {"messages": [...], "page", "page_size", "start", "end", "uri", "first_page_uri", "next_page_uri",
"previous_page_uri"}, the messages it has made, newest first, filtered by To and From (exactly), and by DateSent
(YYYY-MM-DD, with DateSent< on or before and DateSent> on or after that date) on their date_sent, which a message
only queued does not have yet. `fail_next(..., lookup=True)` fails the next such requests instead.

A provider that takes a message and whose answer never arrives (`stall_next`: the answer held back until after the
client has given up; `drop_next`: the connection closed without one) keeps the message it made, as Twilio would; with
``taken=False`` the request is lost before any message is made. `messages` holds every message made: what the guests'
phones get (`sent_to`); `set_status` moves one on as Twilio would (e.g. undelivered, with an error code).

What Twilio would take but then fail is noted in the request's `problems`: a WhatsApp message without an approved
template (WhatsApp refuses a free-form message a business starts: 63016), a template variable holding a line break,
a tab or more than four spaces in a row (WhatsApp refuses it), a StatusCallback that is not an absolute http(s) URL.

It reports back as Twilio does (`report_status`): a form posted to the message's StatusCallback
(https://www.twilio.com/docs/messaging/guides/track-outbound-message-status: MessageSid, MessageStatus, ErrorCode
when it failed, and the rest) signed with X-Twilio-Signature, the HMAC-SHA1 of the URL and the sorted parameters
keyed with the auth token (https://www.twilio.com/docs/usage/security#validating-requests), computed by the SDK's
RequestValidator.

Every request is kept in `received` (with what was wrong with it, if anything), so a test can check what was sent.
A plain http.server in a thread: the SDK's aiohttp client in the test's event loop talks to it over real TCP.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from twilio.request_validator import RequestValidator

from events.config import TwilioSettings

# The Message resource Twilio answers to Create a Message, as its API reference shows it: recorded from Twilio's API
# definition example for this operation (the "Create a Message resource" response on the Messages resource page above),
# as twilio-python's generated tests carry it (tests/integration/api/v2010/account/test_message.py, test_create_response).
FIXTURE = Path(__file__).parent / "fixtures" / "twilio_message_created.json"
MESSAGE_TEMPLATE: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))

PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
BODY_LIMIT = 1600
# The approved utility template the account has (README: Text messages), its variables {{1}} and {{2}}.
TEMPLATE = "Message from {{1}}:\n\n{{2}}\n\nYou get this because you gave this number for a ticket."
TEMPLATE_VARIABLES = frozenset({"1", "2"})
# WhatsApp refuses a template variable holding a line break or a tab, or more than four spaces in a row.
NOT_IN_A_WHATSAPP_VARIABLE = re.compile(r"[\n\r\t]| {5,}")


@dataclass
class Received:
    """One request as the stand-in saw it, and how it answered."""

    method: str
    path: str
    form: dict[str, str]
    status: int  # what it answered (or would have, had the answer not been held back); 0 when the request was lost
    # before any message was made
    answer: dict[str, Any]
    problems: list[str] = field(default_factory=list)  # how the request broke Twilio's documented contract
    held: str = ""  # "stall" or "drop" when the answer was held back or never sent
    stall_seconds: float = 0

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")

    @property
    def sid(self) -> str:
        return str(self.answer.get("sid", ""))

    @property
    def content_variables(self) -> dict[str, str]:
        return json.loads(self.form["ContentVariables"]) if "ContentVariables" in self.form else {}


def error(code: int, message: str, status: int) -> dict[str, Any]:
    """Twilio's documented error body."""
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _segments(body: str) -> int:
    """Roughly as Twilio counts them: 160 (153 when split) plain characters, else 70 (67)."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    length = len(body.encode("utf-16-le")) // 2
    return 1 if length <= single else -(-length // part)


class TwilioStandIn:
    def __init__(self) -> None:
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.sender = "+447700900001"
        self.whatsapp_sender = "+447700900002"
        self.content_sid = "HX" + secrets.token_hex(16)  # the approved WhatsApp template
        self.received: list[Received] = []
        self._failures: list[tuple[int, int, str]] = []  # (HTTP status, Twilio code, message) for the next requests
        self._refused: dict[str, tuple[int, str]] = {}  # number -> (Twilio code, message), for every request to it
        self._lookup_failures: list[tuple[int, int, str]] = []  # the same, for the next Read (list) requests
        self._holds: list[tuple[str, bool, float]] = []  # (stall or drop, whether the message is made, seconds to stall)
        self._released = threading.Event()  # set on stop: a stalled answer waits no longer
        self.messages: list[dict[str, Any]] = []  # every Message resource made, oldest first
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-stand-in", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings(self, **changes: Any) -> TwilioSettings:
        """The app's Twilio settings, pointed at this stand-in."""
        values: dict[str, Any] = {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "sender": self.sender,
            "whatsapp_sender": self.whatsapp_sender,
            "whatsapp_content_sid": self.content_sid,
            "base_url": self.url,
        }
        return TwilioSettings(**(values | changes))

    def fail_next(self, count: int = 1, *, status: int = 503, code: int = 20503, message: str = "Service Unavailable", lookup: bool = False) -> None:
        """Answer the next ``count`` Create requests (or, with ``lookup``, Read requests) with this error (a passing
        outage, by default)."""
        with self._lock:
            (self._lookup_failures if lookup else self._failures).extend([(status, code, message)] * count)

    def stall_next(self, count: int = 1, *, seconds: float = 30, taken: bool = True) -> None:
        """Take the next ``count`` messages (make them, unless not ``taken``) and hold each answer back ``seconds``:
        longer than the client waits, it gives up without knowing whether the message was made."""
        with self._lock:
            self._holds.extend([("stall", taken, seconds)] * count)

    def drop_next(self, count: int = 1, *, taken: bool = True) -> None:
        """Take the next ``count`` messages (make them, unless not ``taken``) and close the connection unanswered."""
        with self._lock:
            self._holds.extend([("drop", taken, 0.0)] * count)

    def set_status(self, sid: str, status: str, *, error_code: int | None = None) -> None:
        """Move a message on as Twilio does (sent, delivered, undelivered with ``error_code``...)."""
        with self._lock:
            message = next(message for message in self.messages if message["sid"] == sid)
            message.update(status=status, error_code=error_code, date_updated=format_datetime(datetime.now(timezone.utc)))
            if status in ("sent", "delivered", "undelivered", "read") and message["date_sent"] is None:
                message["date_sent"] = message["date_updated"]

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        """The messages made to ``number`` (E.164, or whatsapp:+…): what the guest's phone gets."""
        with self._lock:
            return [message for message in self.messages if message["to"] == number]

    @property
    def creates(self) -> list[Received]:
        return [request for request in self.received if request.method == "POST"]

    @property
    def lookups(self) -> list[Received]:
        return [request for request in self.received if request.method == "GET"]

    def refuse(self, number: str, *, code: int = 21614, message: str | None = None) -> None:
        """Answer every message to ``number`` with 400 and this code (21614: not a mobile number; 21612: unreachable)."""
        with self._lock:
            self._refused[number] = (code, message or f"'To' number {number} is not a valid mobile number")

    @property
    def delivered(self) -> list[Received]:
        return [request for request in self.received if request.status == 201]

    # --- the server ------------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, method: str, target: str, headers: Any, raw: bytes) -> tuple[int, dict[str, Any], Received]:
        path, _, query = target.partition("?")
        form = {key: values[-1] for key, values in parse_qs(raw.decode("utf-8") if method == "POST" else query, keep_blank_values=True).items()}
        problems: list[str] = []
        match = PATH.match(path)
        if method not in ("POST", "GET") or match is None:
            problems.append(f"{method} {path} is neither Create a Message nor Read multiple Message resources")
            return self._record(method, path, form, 404, error(20404, "The requested resource was not found", 404), problems)
        if not self._authorised(headers.get("Authorization", ""), match.group(1)):
            problems.append("HTTP Basic auth is not AccountSid:AuthToken")
            return self._record(method, path, form, 401, error(20003, "Authenticate", 401), problems)
        if method == "GET":
            return self._read(match.group(1), path, form, problems)
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            problems.append(f"Content-Type {headers.get('Content-Type')!r} is not a form")
        to, sender, service, body = form.get("To", ""), form.get("From", ""), form.get("MessagingServiceSid", ""), form.get("Body", "")
        content_sid = form.get("ContentSid", "")
        whatsapp = to.startswith("whatsapp:")
        if not E164.match(to.removeprefix("whatsapp:")):
            return self._record(method, path, form, 400, error(21211, f"Invalid 'To' Phone Number: {to}", 400), problems)
        if not sender and not service:
            return self._record(
                method, path, form, 400, error(21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message", 400), problems
            )
        if service and not SERVICE_SID.match(service):
            problems.append(f"MessagingServiceSid {service!r} is not MG and 32 hexadecimal digits")
        if whatsapp != sender.startswith("whatsapp:") and sender:
            problems.append("a WhatsApp message goes from a whatsapp: sender to a whatsapp: recipient")
        if "StatusCallback" in form:
            callback = urlsplit(form["StatusCallback"])
            if callback.scheme not in ("http", "https") or not callback.hostname or "_" in callback.hostname:
                problems.append("StatusCallback is not an absolute http(s) URL with a valid hostname")
        if content_sid:
            if not CONTENT_SID.match(content_sid) or content_sid != self.content_sid:
                return self._record(method, path, form, 400, error(21655, "The ContentSid is Invalid", 400), problems)
            variables = self._content_variables(form.get("ContentVariables"))
            if variables is None:
                return self._record(method, path, form, 400, error(21656, "The ContentVariables Parameter is invalid", 400), problems)
            if whatsapp and any(NOT_IN_A_WHATSAPP_VARIABLE.search(value) for value in variables.values()):
                problems.append("a WhatsApp template variable holds a line break, a tab or more than four spaces in a row")
            if body:
                problems.append("a message sent with ContentSid carries no Body: the template is the message")
            body = re.sub(r"\{\{(\w+)\}\}", lambda variable: variables[variable.group(1)], TEMPLATE)
        elif whatsapp:
            problems.append("a WhatsApp message a business starts must be an approved template (ContentSid): Twilio would fail it with 63016")
        if not body:
            return self._record(method, path, form, 400, error(21602, "Message body is required.", 400), problems)
        if len(body) > BODY_LIMIT:
            return self._record(
                method, path, form, 400, error(21617, "The concatenated message body exceeds the 1600 character limit.", 400), problems
            )
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            refused = self._refused.get(to.removeprefix("whatsapp:"))
        if failure is not None:
            status, code, message = failure
            return self._record(method, path, form, status, error(code, message, status), problems)
        if refused is not None:
            code, message = refused
            return self._record(method, path, form, 400, error(code, message, 400), problems)
        with self._lock:
            hold = self._holds.pop(0) if self._holds else None
        if hold is not None and not hold[1]:  # lost on the way in: no message made, no answer
            return self._record(method, path, form, 0, {}, problems, held=hold[0], stall_seconds=hold[2])
        created = self._message(match.group(1), to, sender, service, body)
        with self._lock:
            self.messages.append(dict(created))
        return self._record(method, path, form, 201, created, problems, held=hold[0] if hold else "", stall_seconds=hold[2] if hold else 0)

    def _read(self, account_sid: str, path: str, query: dict[str, str], problems: list[str]) -> tuple[int, dict[str, Any], Received]:
        """Read multiple Message resources: the messages made, newest first, filtered and paged as Twilio documents."""
        known = {"To", "From", "DateSent", "DateSent<", "DateSent>", "PageSize", "Page", "PageToken"}
        if unknown := sorted(set(query) - known):
            problems.append(f"{', '.join(unknown)} not among the list's documented parameters")
        with self._lock:
            failure = self._lookup_failures.pop(0) if self._lookup_failures else None
            messages = [dict(message) for message in reversed(self.messages)]
        if failure is not None:
            status, code, message = failure
            return self._record("GET", path, query, status, error(code, message, status), problems)
        if "To" in query:
            messages = [message for message in messages if message["to"] == query["To"]]
        if "From" in query:
            messages = [message for message in messages if message["from"] == query["From"]]
        for name, keep in (
            ("DateSent", lambda day, on: day == on),
            ("DateSent<", lambda day, on: day <= on),
            ("DateSent>", lambda day, on: day >= on),
        ):
            if name in query:
                on = query[name][:10]  # YYYY-MM-DD (the SDK sends a full timestamp: the date is what counts)
                messages = [m for m in messages if m["date_sent"] and keep(parsedate_to_datetime(m["date_sent"]).date().isoformat(), on)]
        size = min(max(int(query.get("PageSize") or 50), 1), 1000)
        page = int(query.get("Page") or 0)
        start = page * size
        chunk = messages[start : start + size]
        filters = {name: query[name] for name in ("To", "From", "DateSent", "DateSent<", "DateSent>") if name in query}

        def page_uri(number: int) -> str:
            token = {"PageToken": f"PA{secrets.token_hex(16)}"} if number > 0 else {}
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number, **token})}"

        answer = {
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if len(messages) > start + size else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "messages": chunk,
            "start": start,
            "uri": page_uri(page) if page else f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': 0})}",
        }
        return self._record("GET", path, query, 200, answer, problems)

    @staticmethod
    def _content_variables(raw: str | None) -> dict[str, str] | None:
        """The template's variables, or None when they are not a JSON object giving each of them a non-empty string
        (and nothing else), which Twilio refuses with 21656."""
        try:
            variables = json.loads(raw) if raw else None
        except ValueError:
            return None
        if not isinstance(variables, dict) or set(variables) != TEMPLATE_VARIABLES:
            return None
        if not all(isinstance(value, str) and value.strip() for value in variables.values()):
            return None
        return variables

    # --- reporting back, as Twilio does -----------------------------------------------------------------------------

    def status_report(self, request: Received, status: str, *, error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback when its status changes."""
        report = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": request.form.get("From", ""),
            "MessageSid": request.sid,
            "MessageStatus": status,
            "SmsSid": request.sid,
            "SmsStatus": status,
            "To": request.to,
        }
        if request.form.get("MessagingServiceSid"):
            report["MessagingServiceSid"] = request.form["MessagingServiceSid"]
        if error_code is not None:
            report["ErrorCode"] = str(error_code)
        return report

    def signature(self, url: str, form: dict[str, str]) -> str:
        """X-Twilio-Signature for a request to ``url`` with ``form``, computed as Twilio documents it, by the SDK."""
        return str(RequestValidator(self.auth_token).compute_signature(url, form))

    async def report_status(
        self,
        app: httpx.AsyncClient,
        request: Received,
        status: str,
        *,
        error_code: int | None = None,
        form: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """Post a signed status report about the message ``request`` created to the StatusCallback the app gave it,
        through ``app`` (the test's client of the app: the signature covers the public URL, whatever address the
        client uses). ``form`` and ``signature`` replace Twilio's, to send what Twilio would not."""
        url = request.form["StatusCallback"]
        form = self.status_report(request, status, error_code=error_code) if form is None else form
        parts = urlsplit(url)
        return await app.post(
            parts.path + (f"?{parts.query}" if parts.query else ""),
            content=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "X-Twilio-Signature": self.signature(url, form) if signature is None else signature,
                "I-Twilio-Idempotency-Token": secrets.token_hex(16),
                "User-Agent": "TwilioProxy/1.1",
            },
        )

    def _authorised(self, header: str, account_sid: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme != "Basic" or account_sid != self.account_sid:
            return False
        try:
            return base64.b64decode(encoded).decode() == f"{self.account_sid}:{self.auth_token}"
        except ValueError:
            return False

    def _message(self, account_sid: str, to: str, sender: str, service: str, body: str) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(timezone.utc))  # RFC 2822, as Twilio dates are
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
        message = {
            **MESSAGE_TEMPLATE,
            "account_sid": account_sid,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "from": sender or None,
            "messaging_service_sid": service or None,
            # A Messaging Service picks the sender later: Twilio counts no segments yet and says "accepted".
            "num_segments": "0" if service and not sender else str(_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        assert set(message) == set(MESSAGE_TEMPLATE)
        return message

    def _record(
        self,
        method: str,
        path: str,
        form: dict[str, str],
        status: int,
        answer: dict[str, Any],
        problems: list[str],
        *,
        held: str = "",
        stall_seconds: float = 0,
    ) -> tuple[int, dict[str, Any], Received]:
        request = Received(method, path, form, status, answer, problems, held, stall_seconds)
        with self._lock:
            self.received.append(request)
        return status, answer, request

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, answer, request = stand_in._answer(method, self.path, self.headers, self.rfile.read(length))
                if request.held == "stall":
                    stand_in._released.wait(request.stall_seconds)
                if request.held == "drop" or request.status == 0:
                    self.close_connection = True  # hang up without a word
                    return
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True  # the client gave up waiting

            def do_POST(self) -> None:
                self._respond("POST")

            def do_GET(self) -> None:
                self._respond("GET")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test reads `received`

        return Handler


@contextmanager
def running_twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()
