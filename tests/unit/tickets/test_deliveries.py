"""How the order pages say why a text failed, and how Twilio's status reports are read and judged (pure)."""

from __future__ import annotations

import pytest

from events.tickets import delivery_reports
from events.tickets.deliveries import failure_reason
from events.tickets.delivery_reports import DeliveryReport

SID = "SM" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("last_error", "reason"),
    [
        ("TwilioRestException 21612", "number unreachable"),
        ("TwilioRestException 21614", "not a mobile number"),
        ("TwilioServiceException 21211", "not a valid phone number"),
        ("TwilioRestException 20503", "could not be sent"),
        ("Twilio 30003", "number unreachable"),
        ("Twilio 30005", "the number does not exist"),
        ("Twilio 30006", "not a mobile number"),
        ("Twilio 30007", "filtered by the phone network"),
        ("Twilio 30008", "could not be delivered"),
        ("Twilio 63016", "WhatsApp needs an approved template"),
        ("Twilio undelivered", "could not be delivered"),
        ("Twilio ²", "could not be delivered"),
        ("TimeoutError", "could not be sent"),
        ("SMTPRecipientsRefused 550", "could not be sent"),
    ],
)
def test_the_pages_say_why_a_text_failed(last_error: str, reason: str) -> None:
    assert failure_reason(last_error) == reason


def report(**fields: str) -> list[tuple[str, str]]:
    return list(({"MessageSid": SID, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32} | fields).items())


def test_a_report_is_read_and_only_a_failure_changes_anything() -> None:
    assert delivery_reports.problems(report()) == {}
    assert delivery_reports.report_of(report(MessageStatus="undelivered", ErrorCode="30003")) == DeliveryReport(SID, "undelivered", 30003)
    assert delivery_reports.report_of(report(ErrorCode="")) == DeliveryReport(SID, "delivered", None)
    for status in ("accepted", "queued", "sending", "sent", "delivered", "read", "partially_delivered", "canceled"):
        assert delivery_reports.failure_of(DeliveryReport(SID, status, None), kind="Twilio") is None
    assert delivery_reports.failure_of(DeliveryReport(SID, "undelivered", 30003), kind="Twilio") == "Twilio 30003"
    assert delivery_reports.failure_of(DeliveryReport(SID, "failed", None), kind="Twilio") == "Twilio failed"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ([("MessageStatus", "delivered")], "MessageSid"),
        (report(MessageSid="SM123"), "MessageSid"),
        (report(MessageSid=SID.upper()), "MessageSid"),
        (report(MessageStatus=""), "MessageStatus"),
        (report(MessageStatus="Delivered!"), "MessageStatus"),
        (report(ErrorCode="-1"), "ErrorCode"),
        (report(ErrorCode="3" * 9), "ErrorCode"),
        (report(To="x" * 2001), "To"),
        ([*report(), ("MessageStatus", "undelivered")], "MessageStatus"),
        ([(f"Field{n}", "x") for n in range(61)], "form"),
    ],
)
def test_a_form_that_is_not_a_report_names_what_is_wrong(form: list[tuple[str, str]], field: str) -> None:
    assert field in delivery_reports.problems(form)
