"""The ledger: every money movement of an event as an append-only entry in pence, each booked once."""

from piccolo.columns import BigInt, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, Partner
from events.organisations.tables import Organisation


class LedgerEntry(Table, tablename="ledger_entry"):
    """Never updated or deleted: a correction is a new entry. ``source`` names what was booked
    (e.g. 'payment:12:tickets', 'fee:12:tickets', 'refund:3:donations') and is unique, so a Stripe
    charge, fee or refund is booked at most once."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=20, index=True)  # payment, stripe_fee, refund, event_cost, carry_over, payout
    component = Varchar(length=20, default="")  # tickets, booking_fees, contributions, donations
    method = Varchar(length=20, default="")  # stripe, test, cash, card_terminal, bank_transfer (refunds), bank (payouts)
    partner = ForeignKey(references=Partner, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    amount_pence = Integer()
    currency = Varchar(length=3)
    source = Varchar(length=80, unique=True)
    occurred_at = Timestamptz(index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    description = Text(default="")


class EventCost(Table, tablename="event_cost"):
    """A fixed cost of an event (venue, ingredients…); each is booked once to the ledger."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    description = Varchar(length=200)
    amount_pence = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class Payout(Table, tablename="payout"):
    """Money paid to a partner project, with the bank reference; an override needs a reason."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict, index=True)
    event = ForeignKey(references=Event, null=True, default=None, on_delete=OnDelete.restrict)
    amount_pence = Integer()
    currency = Varchar(length=3, default="GBP")
    paid_on = Timestamptz()
    bank_reference = Varchar(length=120)
    override_reason = Text(default="")
    recorded_by = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # A reversal is a new payout of the opposite amount naming the one it undoes (never an edit); a payout is
    # reversed at most once (the unique index payout_reverses, in its migration).
    reverses: ForeignKey["Payout"] = ForeignKey(references="self", null=True, default=None, on_delete=OnDelete.restrict)


class StripeBalanceTransaction(Table, tablename="stripe_balance_transaction"):
    """One of Stripe's balance transactions as imported (Stripe never changes them), so statements check the
    ledger against Stripe without calling Stripe. ``source`` is the charge (ch_…) or refund (re_…) it is for."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    transaction_id = Varchar(length=80, unique=True)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=40)  # Stripe's `type`: charge, payment, refund, payment_refund, payout, adjustment, ...
    source = Varchar(length=80, default="", index=True)
    amount_pence = Integer()
    fee_pence = Integer(default=0)
    net_pence = Integer(default=0)
    currency = Varchar(length=3)
    created_at = Timestamptz(index=True)  # Stripe's `created`
    imported_at = Timestamptz(default=TimestamptzNow())


class StripeImport(Table, tablename="stripe_import"):
    """One import of Stripe's balance transactions created in [created_from, created_to): the card payments
    and refunds of that period are the ones a statement can check."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    created_from = Timestamptz()
    created_to = Timestamptz(index=True)
    transactions = Integer(default=0)
    imported_at = Timestamptz(default=TimestamptzNow())
    requested_by = Varchar(length=254, default="")  # an organiser's email, or "worker"


class LedgerTotal(Table, tablename="ledger_total"):
    """The ledger summed per event, kind, component, partner and UTC day, kept by a database trigger on every
    insert into ledger_entry (in the same statement, so it can never disagree with the entries), so a
    statement adds up a few hundred rows instead of every entry. ``partner_key`` is 0 for no partner."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = Integer(index=True)
    kind = Varchar(length=20)
    component = Varchar(length=20, default="")
    partner_key = Integer(default=0)
    day = Date()
    pence = BigInt(default=0)
    entries = Integer(default=0)


class StripeDifference(Table, tablename="stripe_difference"):
    """What the last check of an event against the imported balance transactions found (recomputed after
    every import; derived data, not the ledger)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = Integer(index=True)
    kind = Varchar(length=40)
    reference = Varchar(length=80, default="")
    ledger_pence = Integer(null=True, default=None)
    stripe_pence = Integer(null=True, default=None)
    checked_at = Timestamptz(default=TimestamptzNow())


class EventAttendance(Table, tablename="event_attendance"):
    """Valid tickets of paid orders per event (free guests apart), kept by database triggers on ticket and
    ticket_order, so the per-cover cost needs no count over every ticket (tickets and orders are never
    deleted, so deletes are not followed). Spread over 16 rows per event and
    kind (``shard`` is the order id modulo 16) so concurrent payments seldom wait for one another."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = Integer(index=True)
    free = Integer(default=0)  # 1: claimed or gifted free places
    shard = Integer(default=0)
    tickets = Integer(default=0)
