"""Ticket tables: per-event signing keys, and the outbox of emails that deliver tickets."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event
from events.orders.tables import Order


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
    """An email about an order, queued in the transaction that causes it and sent later by the worker.

    The message itself is built when it is sent, so it always shows the order's current tickets.
    """
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    kind = Varchar(length=40)  # order_confirmation, tickets_resent, tickets_reissued, late_payment_refunded, event_cancelled
    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    recipient = Varchar(length=254)
    status = Varchar(length=10, default="queued", index=True)  # queued, sent, failed, skipped
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    # A worker that claims the message holds it until then; if it dies mid-send, another may take over.
    sending_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=200, default="")  # the error's kind and SMTP code only, never an address
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
