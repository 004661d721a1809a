"""The guest data export (msgspec): everything held about one guest in the orders chosen, as one JSON document.
No ticket codes: they would still open the door."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import Struct

from events.orders.statuses import OrderStatus
from events.payments.statuses import PaymentMethod, RefundStatus
from events.tickets.statuses import MessageStatus, TicketStatus
from events.waitlist.statuses import WaitingStatus


class FoundBy(Struct, frozen=True):
    kind: str  # email or phone
    value: str


class ExportedEvent(Struct, frozen=True):
    title: str
    starts_at: datetime
    venue: str


class ExportedLine(Struct, frozen=True):
    kind: str
    description: str
    quantity: int
    total_pence: int


class ExportedTicket(Struct, frozen=True):
    holder_name: str
    ticket_type: str
    status: TicketStatus
    created_at: datetime
    checked_in_at: datetime | None


class ExportedPayment(Struct, frozen=True):
    provider: PaymentMethod
    amount_pence: int
    created_at: datetime


class ExportedRefund(Struct, frozen=True):
    amount_pence: int
    status: RefundStatus
    created_at: datetime


class ExportedHistory(Struct, frozen=True):
    kind: str
    created_at: datetime


class ExportedAnswer(Struct, frozen=True):
    """An answer to one of the event's questions (e.g. dietary and allergen needs), in words."""

    question: str
    ticket: int | None  # which of the order's tickets (1 is the first); None: for the whole order
    answer: str


class ExportedGuestName(Struct, frozen=True):
    """A guest the buyer named for one of the order's tickets, not yet on an issued ticket (an unpaid order's)."""

    ticket: int  # which of the order's tickets (1 is the first)
    name: str


class ExportedOrder(Struct, frozen=True):
    reference: str
    event: ExportedEvent
    status: OrderStatus
    channel: str
    name: str
    email: str
    phone: str
    language: str
    currency: str
    total_pence: int
    refunded_pence: int
    created_at: datetime
    paid_at: datetime | None
    lines: list[ExportedLine]
    tickets: list[ExportedTicket]
    payments: list[ExportedPayment]
    refunds: list[ExportedRefund]
    history: list[ExportedHistory]
    answers: list[ExportedAnswer] = msgspec.field(default_factory=list)
    guest_names: list[ExportedGuestName] = msgspec.field(default_factory=list)


class ExportedDeclaration(Struct, frozen=True):
    order: str
    title: str
    first_name: str
    last_name: str
    house: str
    postcode: str
    eligible_pence: int
    statement: str
    declared_at: datetime
    donated_refund: bool = False  # made when the guest donated money they could have had back, not with the order


class ExportedEmail(Struct, frozen=True):
    order: str
    kind: str
    recipient: str
    status: MessageStatus
    queued_at: datetime
    sent_at: datetime | None


class ExportedWaitingEntry(Struct, frozen=True):
    """A place on an event's waiting list (without its link, which would still open the guest's offer)."""

    event: ExportedEvent
    kind: str  # paid or free places
    name: str
    email: str
    phone: str
    language: str
    quantity: int
    ticket_type: str
    referral_partner: str
    status: WaitingStatus
    joined_at: datetime
    offered_at: datetime | None
    offer_expires_at: datetime | None
    answered_at: datetime | None


class GuestData(Struct, frozen=True):
    exported_at: datetime
    found_by: FoundBy
    orders: list[ExportedOrder]
    gift_aid_declarations: list[ExportedDeclaration]
    emails: list[ExportedEmail]
    waiting_lists: list[ExportedWaitingEntry]
