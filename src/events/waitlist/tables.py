"""Waiting-list tables: one row per guest waiting for places of an event, with their current offer."""

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, TicketType
from events.orders.tables import ClaimCode, Order
from events.waitlist.statuses import WaitingKind, WaitingStatus


class WaitingEntry(Table, tablename="waiting_entry"):
    """A guest waiting for ``quantity`` places. Their place in the queue is the order they joined in (id). The
    personal data (name, email, phone) is erased with the event's other guest data."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8, choices=WaitingKind)
    # Paid places: the ticket type wanted. Free places: none (a free place is a free place).
    ticket_type = ForeignKey(references=TicketType, null=True, default=None, on_delete=OnDelete.cascade)
    # Free places: the referral link the guest came from, and its partner (kept if the link is revoked).
    claim_code = ForeignKey(references=ClaimCode, null=True, default=None, on_delete=OnDelete.set_null)
    partner_name = Varchar(length=200, default="")
    name = Varchar(length=100, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=20, default="")  # E.164
    locale = Varchar(length=8, default="en")
    quantity = Integer(default=1)
    # The guest's key to their entry (GET/DELETE /api/waiting-list/{token}, and the offer link): 128 random bits.
    token = Varchar(length=32, unique=True, index=True)
    status = Varchar(length=10, default=WaitingStatus.waiting, choices=WaitingStatus, index=True)
    # The current (or last) offer: the places held for the guest as a pending order, until it expires.
    offer_order = ForeignKey(references=Order, null=True, default=None, on_delete=OnDelete.set_null)
    offered_places = Integer(default=0)
    offered_at = Timestamptz(null=True, default=None)
    offer_expires_at = Timestamptz(null=True, default=None, index=True)
    answered_at = Timestamptz(null=True, default=None)  # accepted, lapsed, left or removed
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
