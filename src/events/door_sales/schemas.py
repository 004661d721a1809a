"""Door sale API shapes (msgspec)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from events import text
from events.orders.schemas import OptionalEmail, OrderItem


class DoorSaleIn(Struct, forbid_unknown_fields=True):
    items: list[OrderItem]
    payment_method: Literal["cash", "card_terminal"]
    buyer_name: Annotated[str, Meta(max_length=200), text.OPTIONAL_LINE] = ""
    buyer_email: OptionalEmail = ""
