"""The mobile number a guest gives for their ticket: kept only if a text message can reach it, and kept in E.164. Pure.

A number that cannot be a mobile (a landline, a freephone number, too few digits) would only fail later, in the
worker, with nobody there to correct it; refusing it on the form lets the guest fix it while they are still there.
"""

from __future__ import annotations

import re

import phonenumbers

# What a typed phone number may look like before it is parsed (typed_number): digits, spaces, brackets and hyphens, an
# optional "+".
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()-]{6,25}$")
# The digits an Arabic or a Farsi keyboard types, read as the ASCII digits they are: the Eastern Arabic digits
# (U+0660-0669) and the Persian ones (U+06F0-06F9). orders.forms reads amounts with them too.
EASTERN_DIGITS = {**{chr(0x0660 + n): str(n) for n in range(10)}, **{chr(0x06F0 + n): str(n) for n in range(10)}}
_AS_ASCII_DIGITS = str.maketrans(EASTERN_DIGITS)
# Numbers written without a country code (07911 123456) are read as this country's, as privacy.rules reads them.
PHONE_REGION = "GB"
# phonenumbers cannot tell mobiles from landlines in some countries (the United States, Canada): those numbers are
# FIXED_LINE_OR_MOBILE, and are taken; Twilio then answers 21614 for a landline, which the order pages show.
TEXTABLE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def typed_number(text: str) -> str:
    """A phone number as a guest typed it, its Arabic or Persian digits as ASCII ones and the spaces around it gone
    ("٠٧٩١١ ١٢٣٤٥٦" is "07911 123456"): what PHONE_PATTERN and mobile_number read."""
    return text.translate(_AS_ASCII_DIGITS).strip()


def mobile_number(text: str) -> str | None:
    """'07911 123456', '+44 (0)7911-123456' or '0044 7911 123456' as '+447911123456'; None if the text is not a
    number a text message can reach."""
    try:
        number = phonenumbers.parse(typed_number(text), PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in TEXTABLE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
