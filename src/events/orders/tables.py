"""Order tables: orders with their lines, each order's history, and claim codes for free places."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, Partner, TicketType
from events.codes.tables import Code
from events.orders.statuses import OrderStatus


class Order(Table, tablename="ticket_order"):
    """A purchase (online or at the door). While ``pending`` its places are held until ``hold_expires_at``."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    reference = Varchar(length=12, unique=True, index=True)
    event = ForeignKey(references=Event, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=20, default=OrderStatus.pending, choices=OrderStatus, index=True)
    channel = Varchar(length=10, default="online")  # online, door, claim, gift, waitlist (an offer), transfer (passed on)
    buyer_name = Varchar(length=200, default="")
    buyer_email = Varchar(length=254, default="")
    buyer_phone = Varchar(length=40, default="")
    locale = Varchar(length=8, default="en")
    currency = Varchar(length=3)
    tickets_pence = Integer(default=0)
    booking_fees_pence = Integer(default=0)
    pay_it_forward_pence = Integer(default=0)
    donation_pence = Integer(default=0)
    total_pence = Integer(default=0)
    refunded_pence = Integer(default=0)
    places = Integer(default=0)
    payment_provider = Varchar(length=20, default="")  # stripe, test, cash, card_terminal, none
    payment_intent_id = Varchar(length=80, null=True, default=None, unique=True)
    client_secret = Varchar(length=200, default="", secret=True)
    # Set once Stripe confirms the PaymentIntent of an expired order is cancelled (or already settled).
    intent_closed_at = Timestamptz(null=True, default=None)
    hold_expires_at = Timestamptz(null=True, default=None, index=True)
    # A keyed hash of the client address (an IPv6 address's /64) an online hold came from, for the limit on
    # places held per address (orders.hold_limits): not the address itself. None for other orders.
    client_key = Varchar(length=64, null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)
    # The event was cancelled and the guest may choose, until then, to donate their refund instead; unchosen,
    # it is refunded then (payments.cancellation).
    refund_choice_until = Timestamptz(null=True, default=None, index=True)
    # The access or discount code the order was placed with (events.codes), and what its discount took off the
    # tickets (tickets_pence is after it).
    code = ForeignKey(references=Code, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    discount_pence = Integer(default=0)


class OrderLine(Table, tablename="order_line"):
    """What an order pays for: tickets of a type, pay-it-forward places, or a donation."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)  # ticket, pay_it_forward, donation
    ticket_type = ForeignKey(references=TicketType, null=True, default=None, on_delete=OnDelete.restrict)
    partner = ForeignKey(references=Partner, null=True, default=None, on_delete=OnDelete.restrict)
    description = Varchar(length=200, default="")
    quantity = Integer(default=1)
    unit_price_pence = Integer(default=0)
    booking_fee_pence = Integer(default=0)
    total_pence = Integer(default=0)


class OrderGuestName(Table, tablename="order_guest_name"):
    """The guest a buyer named for one of the order's tickets at checkout, kept until the tickets are issued to
    them (tickets.issuing). ``position`` counts the order's tickets from 0, line by line in the order they were
    written, as the tickets are issued. A ticket with no name here is issued in the buyer's name."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    name = Varchar(length=200)


class OrderHistory(Table, tablename="order_history"):
    """What happened to an order and when (append-only)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    detail = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ClaimCode(Table, tablename="claim_code"):
    """A referral partner's link for free places at one event: unguessable, capped, revocable, and closing by itself
    at ``closes_at`` when the organiser sets one (its unclaimed places are then the event's again)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=32, unique=True, index=True)
    partner_name = Varchar(length=200)
    places = Integer()
    claimed = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)


class GiftAidDeclaration(Table, tablename="gift_aid_declaration"):
    """What a UK taxpayer declared on an order's donation parts. It counts only while the order is paid;
    what refunds gave back of those parts comes off it. ``statement`` is the wording the donor confirmed, kept as HMRC asks."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, unique=True, index=True)
    title = Varchar(length=4, default="")
    first_name = Varchar(length=35)
    last_name = Varchar(length=35)
    house = Varchar(length=40)
    postcode = Varchar(length=8)
    eligible_pence = Integer()  # the order's contributions plus donations when it was placed
    currency = Varchar(length=3, default="GBP")
    statement = Text()
    created_at = Timestamptz(default=TimestamptzNow())
