"""Order API shapes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from events import text
from events.catalogue.schemas import OrganisationRefOut
from events.orders.gift_aid import Declaration
from events.orders.statuses import OrderStatus
from events.row_ids import RowId

Quantity = Annotated[int, Meta(ge=1, le=100)]
Pence = Annotated[int, Meta(ge=0, le=1_000_000)]
Email = Annotated[
    str, Meta(min_length=3, max_length=254, pattern=rf"^[^@\s{text.CONTROLS}]+@[^@\s{text.CONTROLS}]+\.[^@\s{text.CONTROLS}]+" + text.END)
]
OptionalEmail = Annotated[str, Meta(max_length=254), text.OPTIONAL_LINE]
PersonName = Annotated[str, Meta(min_length=1, max_length=200), text.LINE]
FirstName = Annotated[str, Meta(min_length=1, max_length=100), text.LINE]
GuestName = Annotated[str, Meta(max_length=200), text.OPTIONAL_LINE]


class GiftAidIn(Struct, forbid_unknown_fields=True):
    """A UK taxpayer's Gift Aid declaration on the order's contributions and donations (never on tickets or
    booking fees); only for an order that has some. ``confirmed`` must be true: the donor confirms they are
    a UK taxpayer and will pay any difference if their tax is less than the Gift Aid claimed. All but the
    title are needed; a 422 names each missing or wrong field (e.g. ``gift_aid.postcode``)."""

    title: Annotated[str, Meta(max_length=20), text.OPTIONAL_LINE] = ""
    first_name: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    last_name: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    house: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] = ""
    postcode: Annotated[str, Meta(max_length=20), text.OPTIONAL_LINE] = ""
    confirmed: bool = False

    def declaration(self) -> Declaration:
        """As the Gift Aid rules read it (orders.gift_aid checks it)."""
        return Declaration(
            title=self.title, first_name=self.first_name, last_name=self.last_name, house=self.house, postcode=self.postcode, confirmed=self.confirmed
        )


class Buyer(Struct, forbid_unknown_fields=True):
    name: PersonName
    email: Email


class OrderItem(Struct, forbid_unknown_fields=True):
    ticket_type: RowId
    quantity: Quantity


class OrderCreate(Struct, forbid_unknown_fields=True):
    """An online order. Add pay-it-forward places or a donation (optionally for one partner) if you like, and
    a Gift Aid declaration on them."""

    buyer: Buyer
    items: list[OrderItem] = msgspec.field(default_factory=list)
    pay_it_forward_places: Annotated[int, Meta(ge=0, le=100)] = 0
    pay_it_forward_pence: Pence = 0
    donation_pence: Pence = 0
    donation_partner: Annotated[str, Meta(max_length=80), text.LINE] | None = None
    gift_aid: GiftAidIn | None = None
    # An access code (unlocks hidden ticket types) or discount code from the organiser, as typed.
    code: Annotated[str, Meta(max_length=100), text.OPTIONAL_LINE] | None = None
    # The name to print on each ticket, by position: the order's tickets counted from 0, item by item in the order
    # given. Optional: "" (or a list shorter than the tickets) leaves a ticket in the buyer's name. At most one per
    # ticket (422 ``guest_names``); each name on one line, at most 200 characters (422 ``guest_names[i]``).
    guest_names: Annotated[list[GuestName], Meta(max_length=1000)] | None = None


class PaymentStart(Struct):
    provider: Literal["stripe", "test", "none"]
    client_secret: str | None = None
    payment_intent: str | None = None
    url: str | None = None
    publishable_key: str | None = None


class OrderCreated(Struct):
    reference: str
    status: OrderStatus
    total_pence: int
    currency: str
    hold_expires_at: datetime | None
    payment: PaymentStart
    access_token: str


class OrderLineOut(Struct):
    kind: str
    description: str
    quantity: int
    unit_price_pence: int
    booking_fee_pence: int
    total_pence: int
    partner: str | None


class TicketOut(Struct):
    id: int
    holder: str
    type: str
    secret: str
    status: str
    url: str
    pdf_url: str


class OrderOut(Struct):
    reference: str
    status: OrderStatus
    event: str
    event_title: str
    currency: str
    buyer_name: str
    lines: list[OrderLineOut]
    tickets_pence: int
    booking_fees_pence: int
    pay_it_forward_pence: int
    donation_pence: int
    total_pence: int
    refunded_pence: int
    hold_expires_at: datetime | None
    paid_at: datetime | None
    tickets: list[TicketOut]
    notices: list[str]
    # Who runs the event: the order's pages show its name, logo and colours.
    organisation: OrganisationRefOut
    # What an access or discount code took off the tickets (their lines and tickets_pence are after it).
    discount_pence: int = 0


class RefundIn(Struct, forbid_unknown_fields=True):
    """Refund chosen tickets, an amount, or (with neither) everything left on the order."""

    reason: Annotated[str, Meta(min_length=1, max_length=200), text.LINE]
    tickets: list[int] | None = None
    amount_pence: Annotated[int, Meta(ge=1, le=10_000_000)] | None = None


class GivenBackIn(Struct, forbid_unknown_fields=True):
    """How a refund Stripe refused was given back to the guest instead."""

    method: Literal["bank_transfer", "cash"]


class RefundOut(Struct):
    id: int
    amount_pence: int
    method: str
    status: str
    reason: str


class ClaimIn(Struct, forbid_unknown_fields=True):
    """A guest claims a free place: a first name is enough; contact details are optional."""

    code: Annotated[str, Meta(min_length=1, max_length=64), text.LINE]
    name: FirstName
    email: OptionalEmail = ""
    phone: Annotated[str, Meta(max_length=40), text.OPTIONAL_LINE] = ""
    locale: Literal["en", "ar", "fr", "fa"] | None = None


class ClaimCodeIn(Struct, forbid_unknown_fields=True):
    """``closes_at`` (optional; without an offset, a wall-clock time at the venue): after it the link takes no claims
    and its unclaimed places are the event's again. It must be still to come and no later than the event's end."""

    partner_name: PersonName
    places: Annotated[int, Meta(ge=1, le=10_000)]
    closes_at: datetime | None = None


class ClaimCodeOut(Struct):
    code: str
    url: str
    partner_name: str
    places: int
    claimed: int
    revoked: bool
    closes_at: datetime | None = None


class FreeTicketIn(Struct, forbid_unknown_fields=True):
    name: FirstName
    email: OptionalEmail = ""
