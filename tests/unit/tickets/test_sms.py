"""Twilio's error codes: which give up at once (how the order pages say why a text failed: test_deliveries)."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from events.tickets import sms


@pytest.mark.parametrize(
    ("code", "at_once"), [(21211, True), (21614, True), (21612, True), (21610, True), (20003, False), (20503, False), (None, False)]
)
def test_only_a_number_that_cannot_take_texts_gives_up_at_once(code: int | None, at_once: bool) -> None:
    assert sms.gives_up_at_once(TwilioRestException(400, "https://api.twilio.com/2010-04-01/…", "…", code=code)) is at_once
    assert not sms.gives_up_at_once(ConnectionError())
