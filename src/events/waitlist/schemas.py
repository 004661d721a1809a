"""Waiting-list API shapes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from events import text
from events.orders.schemas import FirstName, OptionalEmail, OrderCreated, TicketOut
from events.row_ids import RowId
from events.waitlist.statuses import WaitingKind, WaitingStatus


class FreePlaceIn(Struct, forbid_unknown_fields=True):
    """The referral partner's claim link the guest came with (its code), when its places have run out."""

    claim_code: Annotated[str, Meta(min_length=1, max_length=64), text.LINE]


class WaitingListJoin(Struct, forbid_unknown_fields=True):
    """Join an event's waiting list with a first name and an email address or a mobile number (one is needed, to
    be told when places free up). Paid places: ``quantity`` up to the ticket type's per-order maximum, and
    ``ticket_type`` when the event sells several types online. A free place: ``free_place`` with the claim link's
    code, for one place; no proof of status is ever asked."""

    name: FirstName
    email: OptionalEmail = ""
    phone: Annotated[str, Meta(max_length=40), text.OPTIONAL_LINE] = ""
    quantity: Annotated[int, Meta(ge=1, le=100)] = 1
    locale: Literal["en", "ar", "fr", "fa"] | None = None
    ticket_type: RowId | None = None
    free_place: FreePlaceIn | None = None


class WaitingListJoined(Struct):
    position: int  # 1 is next to be offered places
    access_token: str  # the guest's key: GET/DELETE /api/waiting-list/{access_token}; keep it secret


class OfferOut(Struct):
    places: int
    expires_at: datetime
    total_pence: int  # for all the offered places (0 for a free place)
    currency: str
    free: bool


class WaitingEntryOut(Struct):
    kind: WaitingKind
    status: WaitingStatus
    position: int | None  # while waiting
    quantity: int
    event: str
    event_title: str
    ticket_type: int | None
    offer: OfferOut | None  # while places are held for the guest
    order: str | None  # the offer's order reference (once accepted, the guest's order)
    order_url: str | None = None  # once accepted: the order's page, with its access token


class OfferAcceptIn(Struct, forbid_unknown_fields=True):
    """How many of the offered places to take (all when left out); the rest go to the next person."""

    quantity: Annotated[int, Meta(ge=1, le=100)] | None = None


class OfferAccepted(OrderCreated):
    """The order the offer became: paid places with the payment to complete (as POST /api/events/{slug}/orders
    answers), or a free place's ticket, issued at once (``tickets``)."""

    tickets: list[TicketOut] = []
