"""Ticket tables: the tickets themselves, per-event signing keys, and the outbox of emails that deliver tickets."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, TicketType
from events.orders.tables import Order
from events.tickets.secrets import new_ticket_secret
from events.tickets.statuses import MessageChannel, MessageStatus, TicketStatus


class Ticket(Table, tablename="ticket"):
    """One admission. A free ticket and a paid one look the same everywhere a guest or the door sees."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)  # None: a waiting list's "you joined"
    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, index=True)
    ticket_type = ForeignKey(references=TicketType, on_delete=OnDelete.restrict)
    # What the QR code carries, printed under it and typed at the door: it admits, and nothing more. Door staff's
    # devices hold every ticket's (checkin's offline bundle), and anyone who sees a ticket can read it.
    secret = Varchar(length=32, unique=True, index=True)
    # The key in the ticket page's address (/tickets/<page_secret>), where its guest also gives it up, passes it on or
    # changes its name: never in the QR code, at the door or in a download. Unique (ticket_page_secret, in its
    # migration). Both are made anew when the ticket is re-issued.
    page_secret = Varchar(length=32, default=new_ticket_secret)
    # Bumped when the ticket is re-issued (e.g. a new holder name); codes of older versions are revoked.
    version = Integer(default=1)
    holder_name = Varchar(length=200, default="")
    status = Varchar(length=12, default=TicketStatus.valid, choices=TicketStatus, index=True)
    price_pence = Integer(default=0)
    booking_fee_pence = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    checked_in_at = Timestamptz(null=True, default=None)
    checked_in_by = Varchar(length=120, default="")
    # True between an entry scan and an exit scan (exit scans only on events that allow re-entry).
    inside = Boolean(default=False)


class EventSigningKey(Table, tablename="event_signing_key"):
    """``private_key`` is encrypted with a key derived from EVENTS_SECRET_KEY; retired keys still verify."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    key_id = Varchar(length=24, unique=True)
    public_key = Varchar(length=64)
    private_key = Text(secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class OutboxMessage(Table, tablename="outbox_message"):
    """A message to a guest (an email or a text) about an order, queued in the transaction that causes it and sent
    later by the worker; or, with no order, about their new place on a waiting list (what it says is in ``detail``).

    The message itself is built when it is sent, so it always shows the order's current tickets.
    """

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    kind = Varchar(length=40)  # order_confirmation, tickets_resent, tickets_reissued, late_payment_refunded, event_cancelled, refund_notice, ...
    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    recipient = Varchar(length=254)  # an email address, or an E.164 mobile number for a text
    channel = Varchar(length=10, default=MessageChannel.email, choices=MessageChannel)
    # Makes a message that must go once (one per refund, one reminder per order) unique: e.g. "refund:42".
    # Unique through the index outbox_message_dedupe_key (its migration: SQLite cannot add a UNIQUE column).
    dedupe_key = Varchar(length=80, null=True, default=None)
    detail = Text(default="")  # JSON from the cause, read when the message is composed
    status = Varchar(length=10, default=MessageStatus.queued, choices=MessageStatus, index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    # A worker that claims the message holds it until then; if it dies mid-send, another may take over.
    sending_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=200, default="")  # the error's kind and SMTP or provider code only, never an address
    # The text-message provider's id for a sent text: its delivery reports find the message by it.
    provider_reference = Varchar(length=64, default="", index=True)
    # A text's request to the provider (JSON, tickets.sms.RequestMark: when it went, how, and a digest of its words) from
    # just before it goes until the provider answers it. Left there, the provider may have made the message without saying so (a timeout, a dropped
    # connection): the next try looks for it before sending the text again (tickets.outbox._deliver_text).
    unanswered_request = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
