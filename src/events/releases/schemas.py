""" "Can't come?" API shapes (msgspec)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from events import text
from events.orders.schemas import FirstName, GiftAidIn, OptionalEmail


class ReleaseIn(Struct, forbid_unknown_fields=True):
    """Give a ticket back: ``refund`` (within the event's refund window), ``donate`` (its price becomes a donation to
    the event's partner projects; ``gift_aid`` only where a refund was on offer and the guest chose to donate instead)
    or ``free_place`` (a place that cost nothing). Only the choices the ticket has now are accepted (409 otherwise)."""

    choice: Literal["refund", "donate", "free_place"]
    gift_aid: GiftAidIn | None = None


class TransferIn(Struct, forbid_unknown_fields=True):
    """Pass a ticket to a friend: their name, and an email address or a mobile number for their new ticket."""

    holder: FirstName
    email: OptionalEmail = ""
    phone: Annotated[str, Meta(max_length=40), text.OPTIONAL_LINE] = ""


class ReleaseOut(Struct):
    """What giving the ticket back did: its new status (refunded or released) and the money refunded or donated."""

    ticket_id: int
    choice: str
    status: str
    refund_pence: int
    donated_pence: int
    gift_aid: bool


class TransferOut(Struct):
    """The ticket passed on (status passed_on: its code no longer works). The friend's new ticket goes to them."""

    ticket_id: int
    choice: str
    status: str
    order: str  # the friend's new order's reference
