"""The back office's form bodies, and reading an amount of money typed by a person. Pure."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import msgspec

_AMOUNT = re.compile(r"^\d{1,7}([.,]\d{1,2})?$")


class SearchForm(msgspec.Struct):
    q: str = ""
    status: str = ""
    page: int = 1


class RefundForm(msgspec.Struct):
    scope: str = ""  # all, part
    tickets: list[int] = msgspec.field(default_factory=list)
    amount: str = ""
    reason: str = ""
    confirm: str = ""


class HolderForm(msgspec.Struct):
    holder: str = ""
    confirm: str = ""


class GuestForm(msgspec.Struct):
    email: str = ""
    confirm: str = ""


class AmountNotUnderstood(ValueError):
    pass


def parse_amount(text: str, digits: int = 2) -> int | None:
    """'12.50', '£12,50', '12' -> minor units (1250, 1250, 1200); '' -> None. Raises AmountNotUnderstood."""
    cleaned = text.strip().replace("£", "").replace("€", "").replace("$", "").replace(" ", "")
    if not cleaned:
        return None
    if not _AMOUNT.match(cleaned):
        raise AmountNotUnderstood(text)
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise AmountNotUnderstood(text) from None
    return int(value.scaleb(digits))
