"""A claim's phone number is kept only if a text can reach it, and kept in E.164."""

import pytest

from events.orders.phones import mobile_number


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 (0)7911-123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        ("+33 6 12 34 56 78", "+33612345678"),  # a French mobile
        ("+962 79 123 4567", "+962791234567"),  # a Jordanian mobile
        ("+1 415 555 2671", "+14155552671"),  # the US does not tell mobiles from landlines: taken
        ("٠٧٩١١ ١٢٣٤٥٦", "+447911123456"),  # typed on an Arabic keyboard
        ("۰۷۹۱۱ ۱۲۳۴۵۶", "+447911123456"),  # typed on a Farsi keyboard
        ("+٩٦٢ ٧٩ ١٢٣ ٤٥٦٧", "+962791234567"),
    ],
)
def test_mobile_numbers_are_kept_in_e164(written: str, kept: str) -> None:
    assert mobile_number(written) == kept


@pytest.mark.parametrize("written", ["020 7946 0018", "0800 123 4567", "+44 7700 900123", "123456", "call me", ""])
def test_numbers_a_text_cannot_reach_are_refused(written: str) -> None:
    assert mobile_number(written) is None
