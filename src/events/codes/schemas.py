"""Code API shapes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from events import text
from events.codes.rules import MAX_DISCOUNT_PENCE, MAX_USES
from events.row_ids import RowId


class CodeIn(Struct, forbid_unknown_fields=True):
    """A new access or discount code. ``code`` is made up (10 characters, nothing to mistake) when left out; one
    given is stored in capitals. ``unlocks``: ids of the event's hidden ticket types it opens. At most one of
    ``discount_percent`` and ``discount_pence`` (off the order's ticket prices, never below zero, never on booking
    fees, pay it forward or donations). ``max_uses`` counts orders. Times without an offset are read in the event's
    time zone; ``valid_until`` is the moment the code stops working."""

    max_uses: Annotated[int, Meta(ge=1, le=MAX_USES)]
    code: Annotated[str, Meta(max_length=40), text.OPTIONAL_LINE] | None = None
    note: Annotated[str, Meta(max_length=200), text.OPTIONAL_LINE] = ""
    unlocks: Annotated[list[RowId], Meta(max_length=100)] = msgspec.field(default_factory=list)
    discount_percent: Annotated[int, Meta(ge=1, le=100)] | None = None
    discount_pence: Annotated[int, Meta(ge=1, le=MAX_DISCOUNT_PENCE)] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class CodeOut(Struct, frozen=True):
    """A code with how many orders hold or paid with it (``uses``, of ``max_uses``): an order whose hold runs out
    unpaid gives its use back; a paid one keeps it, refunded or not."""

    id: int
    code: str
    note: str
    unlocks: list[int]
    discount_percent: int | None
    discount_pence: int | None
    max_uses: int
    uses: int
    valid_from: datetime | None
    valid_until: datetime | None
    revoked: bool
    created_at: datetime
