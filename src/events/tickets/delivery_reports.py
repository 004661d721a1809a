"""Twilio's reports of how a text went (its status callbacks), read and judged. Pure: tickets.service checks the
report's signature and records what it decides here.

Twilio posts a form each time a text's status changes (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
MessageSid and MessageStatus, with ErrorCode once it failed; the other fields it sends (AccountSid, From, To, ...)
are signed with the rest but not read. Only a failure changes anything: a text Twilio took is already "sent", and
"delivered" or "read" keep it so. Reports may come twice or out of order ("sent" after "delivered"), so a failure
is recorded once, on a text still marked sent, and nothing else ever moves it: the same reports in any order leave
the same record.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from events.i18n import N_

# Twilio's message SIDs: SM (or MM for a message with media) and 32 lowercase hexadecimal digits.
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
# Twilio's statuses are lowercase words (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values);
# one it adds later is read, and changes nothing.
STATUS = re.compile(r"[a-z_]{1,32}")
# Twilio's error codes are five digits; a few more allowed in case it adds longer ones.
ERROR_CODE = re.compile(r"[0-9]{1,8}")
# The statuses that mean the text never reached the guest: the network (undelivered) or Twilio (failed) gave up.
FAILURES = frozenset({"undelivered", "failed"})
# Twilio posts two dozen short fields; anything far beyond that is not one of its reports.
MAX_FIELDS = 60
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    message_sid: str
    status: str
    error_code: int | None  # Twilio's code, when it failed


def problems(form: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Field -> what is wrong with it, for a form that is not a status report Twilio could have sent (empty when it
    is one). Plain text: the answer names fields, never quotes values."""
    if len(form) > MAX_FIELDS:
        return {"form": N_("Too many fields for a status report.")}
    found: dict[str, str] = {}
    # Control characters anywhere in a form are refused before any handler (events.malformed); the fields read here
    # must also match their patterns, which admit none.
    sent = Counter(name for name, _ in form)
    for name, value in form:
        if len(name) > 100 or len(value) > MAX_VALUE_LENGTH:
            found[name[:100]] = N_("This field is too long.")
        elif sent[name] > 1:
            found[name] = N_("This field is sent more than once.")
    fields = dict(form)
    if not MESSAGE_SID.fullmatch(fields.get("MessageSid", "")):
        found.setdefault("MessageSid", N_("Give Twilio's message SID: SM and 32 hexadecimal digits."))
    if not STATUS.fullmatch(fields.get("MessageStatus", "")):
        found.setdefault("MessageStatus", N_("Give the message's status, e.g. delivered or undelivered."))
    if fields.get("ErrorCode", "") and not ERROR_CODE.fullmatch(fields["ErrorCode"]):
        found.setdefault("ErrorCode", N_("Give Twilio's error code in digits."))
    return found


def report_of(form: Sequence[tuple[str, str]]) -> DeliveryReport:
    """The report a form carries (one that problems() found nothing wrong with)."""
    fields = dict(form)
    code = fields.get("ErrorCode", "")
    return DeliveryReport(message_sid=fields["MessageSid"], status=fields["MessageStatus"], error_code=int(code) if code else None)


def failure_of(report: DeliveryReport, *, kind: str) -> str | None:
    """What the text's last_error becomes when the report says it failed: ``kind`` and Twilio's code only
    ("Twilio 30003"), never the number or the words; None when the report changes nothing (sent, delivered, read,
    or a status still on its way)."""
    if report.status not in FAILURES:
        return None
    return f"{kind} {report.error_code}" if report.error_code is not None else f"{kind} {report.status}"
