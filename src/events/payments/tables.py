"""Payment tables: money received, money refunded, and Stripe webhook events seen."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.orders.tables import Order
from events.payments.statuses import PaymentMethod, RefundStatus


class Payment(Table, tablename="payment"):
    """Money received for an order. ``provider_reference`` is unique, so a payment is booked once."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.restrict, index=True)
    provider = Varchar(length=20, choices=PaymentMethod)
    provider_reference = Varchar(length=80, unique=True)
    charge_id = Varchar(length=80, default="")
    amount_pence = Integer()
    fee_pence = Integer(null=True, default=None)  # Stripe's fee, once its balance transaction is available
    currency = Varchar(length=3)
    created_at = Timestamptz(default=TimestamptzNow())


class Refund(Table, tablename="refund"):
    """Money returned. Stripe refunds carry Stripe's id (unique); ``status`` is pending until Stripe accepts it."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.restrict, index=True)
    payment = ForeignKey(references=Payment, on_delete=OnDelete.restrict, index=True)
    amount_pence = Integer()
    method = Varchar(length=20, choices=PaymentMethod)
    provider_refund_id = Varchar(length=80, null=True, default=None, unique=True)
    status = Varchar(length=12, default=RefundStatus.pending, choices=RefundStatus, index=True)
    reason = Varchar(length=200, default="")
    requested_by = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEvent(Table, tablename="webhook_event"):
    """Each Stripe event id once (unique); ``processed_at`` is set when handling finished."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    stripe_event_id = Varchar(length=80, unique=True)
    event_type = Varchar(length=80)
    object_id = Varchar(length=80, default="")
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
    error = Text(default="")
