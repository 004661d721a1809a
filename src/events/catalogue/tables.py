"""Catalogue tables: partner projects (beneficiaries), events, ticket types and beneficiary shares."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.accounts.tables import Membership
from events.catalogue.statuses import EventStatus
from events.organisations.tables import Organisation


class Partner(Table, tablename="partner"):
    """A beneficiary partner project that receives an event's surplus. It is one organisation's: a project that
    benefits from several organisations' events is added by each. Its slug, like an event's, is unique across the
    service."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    slug = Varchar(length=80, unique=True, index=True)
    name = Varchar(length=200)
    description = Text(default="")
    website = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Series(Table, tablename="series"):
    """Events that repeat (e.g. "First Thursday supper club"): the organisation's page lists the upcoming ones, and
    the series statement adds them up per partner. Its slug is unique across the service, like an event's."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    slug = Varchar(length=80, unique=True, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Event(Table, tablename="event"):
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    # Who runs it: its orders, claim links, ledger and Gift Aid declarations are this organisation's too.
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    # Unique across the service: an event's public address is /events/{slug}.
    slug = Varchar(length=80, unique=True, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    venue = Varchar(length=200, default="")
    address = Text(default="")
    # How to get in and around: step-free access, the nearest station, what happens at the door (guest pages).
    access_information = Text(default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    timezone = Varchar(length=64, default="Europe/London")
    capacity = Integer()
    reserved_free_places = Integer(default=0)
    status = Varchar(length=20, default=EventStatus.draft, choices=EventStatus, index=True)
    currency = Varchar(length=3, default="GBP")
    booking_fee_pence = Integer(default=0)
    # Exit scans let a ticket back in later (e.g. a smoking area); off by default.
    allow_reentry = Boolean(default=False)
    # The value of one pay-it-forward place (0: the event does not offer pay it forward).
    pay_it_forward_place_pence = Integer(default=0)
    # Whether places funded beyond the reserved ones turn general places into free ones.
    pay_it_forward_converts_general = Boolean(default=False)
    # Free places claimed (reserved ones first; those beyond also count in places_taken).
    free_places_claimed = Integer(default=0)
    # Allocation rules for the ledger: a cost per cover (free guests too), where booking fees go,
    # and what happens to pay-it-forward money not used for free guests (held until decided).
    cost_per_attendee_pence = Integer(default=0)
    booking_fees_to_cause = Boolean(default=True)
    unused_contributions = Varchar(length=16, default="held")  # held, beneficiaries, carried_over
    # Places held or sold from the general (non-free) pool; changed only under a row lock.
    places_taken = Integer(default=0)
    # Guest messages: a reminder this many hours before the start (None: no reminder), and after the event a
    # thank-you to those who paid it forward or donated, showing what their money did (opt-out).
    reminder_hours_before = Integer(null=True, default=48)
    thank_you_enabled = Boolean(default=True)
    # Waiting lists (events.waitlist): open to guests once places run out (per ticket type: TicketType.waiting_list);
    # freed places go to the list before general sale unless the organiser turns that off; an offer holds places for
    # this many hours (less near the event).
    waiting_list_open = Boolean(default=True)
    waiting_list_first = Boolean(default=True)
    offer_hours = Integer(default=12)
    # "Can't come?": a paid place is refunded if released at least this many days before the start (None: no
    # refunds); after that the guest can donate the ticket or pass it to a friend.
    refund_days_before = Integer(null=True, default=7)
    # Questions (events.questions): guests may change their answers until this many hours before the start.
    answers_close_hours_before = Integer(default=48)
    # Until how long before the start a buyer may put another guest's name on a ticket from the order page (the
    # ticket is re-issued; the old code stops working). The door's offline lists refresh well within a day.
    name_changes_close_hours_before = Integer(default=24)
    # The series it belongs to, if any (events.series).
    series = ForeignKey(references=Series, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    # A cancellation (events.payments.cancellation): when it was made (its refunds are those made since), and the
    # organiser's own words to the guests, sent with the cancellation email and shown on each order page (user text).
    cancelled_at = Timestamptz(null=True, default=None)
    cancellation_message = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TicketType(Table, tablename="ticket_type"):
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120)
    description = Text(default="")
    price_pence = Integer()
    channel = Varchar(length=10, default="both")
    sales_start = Timestamptz(null=True, default=None)
    sales_end = Timestamptz(null=True, default=None)
    quota = Integer(null=True, default=None)
    max_per_order = Integer(default=10)
    # Whether guests can join the event's waiting list for this type once it is sold out.
    waiting_list = Boolean(default=True)
    # Sold only with an access code that unlocks it (events.codes); not listed on the event page otherwise.
    hidden = Boolean(default=False)
    position = Integer(default=0)
    # Places of this type held or sold; changed in the same transaction as Event.places_taken.
    places_taken = Integer(default=0)


class BeneficiaryShare(Table, tablename="beneficiary_share"):
    """One partner's share of an event's surplus, in basis points (10000 = 100%)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    partner = ForeignKey(references=Partner, on_delete=OnDelete.restrict)
    share_bp = Integer()


class EventAccess(Table, tablename="event_access"):
    """An event a restricted organiser may manage (Membership.restricted); an unrestricted one manages every event
    of their organisation. Door members are limited by the door team instead (checkin.DoorAssignment)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
