"""Payment tables: each organisation's Stripe account, money received, money refunded, and Stripe webhook events seen."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.accounts.tables import User
from events.orders.tables import Order
from events.organisations.tables import Organisation
from events.payments.statuses import PaymentMethod, RefundStatus


class StripeAccount(Table, tablename="stripe_account"):
    """An organisation's own Stripe account, connected in the back office. The secret key and webhook secret are
    encrypted with a key derived from the settings (payments/credentials.py) and never shown again; the
    publishable key is public by design. An organisation without one uses the environment's Stripe settings
    (a single-organisation installation), or takes no card payments."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.cascade, unique=True, index=True)
    secret_key_encrypted = Text(secret=True)
    webhook_secret_encrypted = Text(secret=True)
    publishable_key = Varchar(length=255)
    # The last four characters of the secret key and whether it is a test key: enough to recognise it, never to use it.
    secret_key_hint = Varchar(length=12, default="")
    livemode = Boolean(default=False)
    connected_at = Timestamptz(default=TimestamptzNow())
    connected_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)


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
    # What the amount gave back of each part of the order's money (payments.refunds.refund_parts; they add up to it):
    # the ledger books exactly these.
    tickets_pence = Integer(default=0)
    booking_fees_pence = Integer(default=0)
    contributions_pence = Integer(default=0)
    donations_pence = Integer(default=0)
    method = Varchar(length=20, choices=PaymentMethod)
    provider_refund_id = Varchar(length=80, null=True, default=None, unique=True)
    status = Varchar(length=12, default=RefundStatus.pending, choices=RefundStatus, index=True)
    reason = Varchar(length=200, default="")
    requested_by = Varchar(length=254, default="")
    # The API caller's Idempotency-Key and what it asked (a hash), so a replayed request refunds nothing more; unique
    # per order through the index refund_request_key (its migration).
    request_key = Varchar(length=255, null=True, default=None)
    request_fingerprint = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # When a refund Stripe refused was given back another way (payments.service.give_back_refused_refund): the money
    # left then, so the ledger books it then.
    given_back_at = Timestamptz(null=True, default=None)


class RefundDonation(Table, tablename="refund_donation"):
    """Money a guest could have had back and gave to the event's partner projects instead: a released ticket
    donated, or the refund of a cancelled event donated. It moves from ticket income (and booking fees) to donations
    in the ledger, in the transaction that records the choice. Gift Aid applies only where the refund was really
    offered (HMRC), with the declaration the guest made when choosing."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.restrict, index=True)
    cause = Varchar(length=12)  # released (a ticket given back), cancelled (the event's refund)
    tickets_pence = Integer(default=0)  # of the amount, what was ticket income
    booking_fees_pence = Integer(default=0)  # and what was booking fees
    amount_pence = Integer()
    currency = Varchar(length=3, default="GBP")
    # The tickets given back, as a JSON list of ids ("[]" for a whole order's refund).
    ticket_ids = Text(default="[]")
    refund_offered = Boolean(default=True)  # the guest could have had the money back
    # A Gift Aid declaration made with the choice ("" when none): the donor's name and home, and the words they agreed to.
    gift_aid_title = Varchar(length=4, default="")
    gift_aid_first_name = Varchar(length=35, default="")
    gift_aid_last_name = Varchar(length=35, default="")
    gift_aid_house = Varchar(length=40, default="")
    gift_aid_postcode = Varchar(length=8, default="")
    gift_aid_statement = Text(default="")
    request_key = Varchar(length=64, null=True, default=None, unique=True)  # makes a repeated choice a no-op
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEvent(Table, tablename="webhook_event"):
    """Each Stripe event id once (unique); ``processed_at`` is set when handling finished."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    stripe_event_id = Varchar(length=80, unique=True)
    # Whose webhook endpoint it came to (none: the environment's account).
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.cascade)
    event_type = Varchar(length=80)
    object_id = Varchar(length=80, default="")
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
    error = Text(default="")
