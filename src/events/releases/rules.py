""" "Can't come?": which choices a ticket has now, and what a friend's details must be to pass it on. Pure.

A **free place** (claimed from a partner's link, given by an organiser, or a free waiting-list offer: taken up, that
becomes a claimed place, channel ``claim``) is given back to the free places. A ticket that cost nothing otherwise (a
£0 ticket type, bought or taken up from the paid waiting list, or a ticket passed on to the guest by a friend) is given
back to general sale: both are the ``free_place`` choice, "give my place back".

A **paid place** follows the event's release policy (Event.refund_days_before): a full refund of the ticket (price and
booking fee) until that many days before the start, and donating it instead of the refund (issue 17, §4); after that,
or where the organiser offers no refunds (None), donating it or passing it to a friend. A ticket passed on to a friend
can be passed on again, or given back; it is never refunded or donated (the money was the first buyer's).

Tickets bought at the door (cash, card terminal) are never refunded online: the money was handed over at the door and
goes back the same way, which the organiser does. Their guests may donate them or pass them on.

Money is the buyer's: a refund or a donation (and a Gift Aid declaration with it) needs the ORDER's authority (its
access token: the order page, the API). The ticket's own link is enough for the money choices only when the order has
just this one ticket (its holder is the buyer); a ticket of a group order, through its link, may be given back where
that is offered, and may always be passed on to a friend (no money moves: the place stays used, as when a guest hands
their ticket to someone), its holder pointed to the buyer for the rest. In the refund window that pass-on ends the
buyer's chance to have that ticket refunded, and the page says so before the holder chooses.

Nothing is offered for a ticket that has been used at the door, that is refunded, void, given back or passed on, whose
order is not paid, or once the event is cancelled or has started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from events import text
from events.catalogue.statuses import EventStatus
from events.i18n import N_
from events.orders import phones, pricing
from events.orders.statuses import OrderStatus
from events.tickets.statuses import TicketStatus

# Channels whose places come from the event's free places (Event.free_places_claimed), not from general sale. A free
# place's waiting-list offer is among them once taken up (orders.take_up_free_offer makes it a claim); an order still
# of channel waitlist is a paid-list offer, whose places are general ones even at £0.
FREE_PLACE_CHANNELS = frozenset({"claim", "gift"})
# A ticket a guest passed on to a friend: a new order of this channel, costing nothing.
TRANSFER_CHANNEL = "transfer"
# Bought at the door and paid there: refunds are handed back at the door, by the organiser.
DOOR_PAYMENTS = frozenset({"cash", "card_terminal"})
PHONE_PATTERN = phones.PHONE_PATTERN
MAX_HOLDER_LENGTH = 100


class Choice(StrEnum):
    refund = "refund"  # the ticket's price and booking fee back; the place goes to the waiting list or back on sale
    donate = "donate"  # the ticket's price becomes a donation to the event's partner projects; the place is given back
    transfer = "transfer"  # a new ticket for a friend; this one stops working
    free_place = "free_place"  # give back a place that cost nothing


# The choices that move the buyer's money: the order's authority is needed for them (see Authority).
MONEY_CHOICES = frozenset({Choice.refund, Choice.donate})


class Authority(StrEnum):
    """Who is asking: the buyer (the order's access token) or whoever holds the ticket's link."""

    order = "order"
    ticket = "ticket"


class PlaceKind(StrEnum):
    free = "free"  # from the event's free places
    unpaid = "unpaid"  # a general place that cost this guest nothing (a £0 ticket, or passed on by a friend)
    paid = "paid"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """A ticket with its order and event, as the choices depend on them. Times are aware."""

    status: str  # a TicketStatus
    checked_in: bool
    price_pence: int
    booking_fee_pence: int
    order_status: str  # an OrderStatus
    order_channel: str
    payment_provider: str
    event_status: str  # an EventStatus
    starts_at: datetime
    refund_days_before: int | None
    order_tickets: int  # how many tickets the order has (any status): with one, its holder is the buyer
    timezone: str  # the event's (an IANA name): "7 days before" is by the venue's clock
    name_changes_close_hours_before: int | None = None  # the event's cut-off for another name on a ticket; None: none


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a choice cannot be made now: a stable code for the API and a sentence for people."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Options:
    """The choices a ticket has now (in the order a page offers them), and when a refund stops being offered (None:
    no refund offered). With no choice, ``refusal`` says why."""

    choices: tuple[Choice, ...]
    refund_until: datetime | None
    refusal: Refusal | None = None
    buyer_only: tuple[Choice, ...] = ()  # offered to the buyer, not to this ticket's link (its order has other tickets)

    def offers(self, choice: Choice) -> bool:
        return choice in self.choices


NOT_VALID = Refusal("ticket_not_valid", N_("This ticket no longer works: it was refunded, given back or passed on."))
CHECKED_IN = Refusal("ticket_checked_in", N_("This ticket has already been used at the door."))
NOT_PAID = Refusal("order_not_paid", N_("This order is not paid, so there is nothing to give back."))
EVENT_OVER = Refusal("event_started", N_("The event has started, so this ticket can no longer be given back."))
EVENT_CANCELLED = Refusal("event_cancelled", N_("This event is cancelled: everyone is refunded, and you do not need to do anything."))
NOT_OFFERED = {
    Choice.refund: Refusal("refund_not_offered", N_("A refund is not offered for this ticket now.")),
    Choice.donate: Refusal("donation_not_offered", N_("Donating is not offered for this ticket.")),
    Choice.transfer: Refusal("transfer_not_offered", N_("Passing this ticket to a friend is not offered now.")),
    Choice.free_place: Refusal("release_not_offered", N_("This ticket was paid for: choose a refund, a donation or a friend instead.")),
}
BUYER_ONLY = Refusal(
    "buyer_only", N_("Only the person who booked these tickets can get a refund or donate this ticket. They can do it from their order page.")
)


def place_kind(ticket: TicketFacts) -> PlaceKind:
    """Where the place came from, and so where it goes back to."""
    if ticket.order_channel in FREE_PLACE_CHANNELS:
        return PlaceKind.free
    if ticket.order_channel == TRANSFER_CHANNEL or ticket.price_pence + ticket.booking_fee_pence == 0:
        return PlaceKind.unpaid
    return PlaceKind.paid


def refund_until(ticket: TicketFacts) -> datetime | None:
    """The last moment a refund of this paid place is offered (None: the organiser offers none): the event's start time
    on the venue's clock, that many days earlier, so a change of the clocks in between moves it by no hour."""
    if ticket.refund_days_before is None:
        return None
    # Arithmetic on an aware datetime is by the wall clock of its zone; the offset is then the date's own.
    venue_start = ticket.starts_at.astimezone(ZoneInfo(ticket.timezone))
    return (venue_start - timedelta(days=ticket.refund_days_before)).astimezone(UTC)


def options(ticket: TicketFacts, now: datetime, authority: Authority = Authority.order) -> Options:
    """What may be chosen for ``ticket`` at ``now`` by the buyer (``authority`` order) or by whoever holds the
    ticket's link (``authority`` ticket: the money choices only when the order has no other ticket). Where the money
    choices are the buyer's, the holder may still pass their place to a friend: no money moves, and a guest given a
    ticket is not left with nothing to do but ask."""
    offered = _offered(ticket, now)
    if authority == Authority.order or ticket.order_tickets <= 1:
        return offered
    buyer_only = tuple(choice for choice in offered.choices if choice in MONEY_CHOICES)
    if not buyer_only:
        return offered
    left = tuple(choice for choice in offered.choices if choice not in MONEY_CHOICES)
    if Choice.transfer not in left:
        left += (Choice.transfer,)
    return Options(left, None, None, buyer_only)


def _offered(ticket: TicketFacts, now: datetime) -> Options:
    refusal = _nothing_offered(ticket, now)
    if refusal is not None:
        return Options((), None, refusal)
    kind = place_kind(ticket)
    if kind == PlaceKind.free:
        return Options((Choice.free_place,), None)
    if kind == PlaceKind.unpaid:
        return Options((Choice.free_place, Choice.transfer), None)
    until = refund_until(ticket)
    if ticket.payment_provider not in DOOR_PAYMENTS and until is not None and now <= until:
        return Options((Choice.refund, Choice.donate), until)
    return Options((Choice.donate, Choice.transfer), None)


def refusal(ticket: TicketFacts, choice: Choice, now: datetime, authority: Authority = Authority.order) -> Refusal | None:
    """None when ``choice`` may be made now by ``authority``, else why not."""
    offered = options(ticket, now, authority)
    if offered.refusal is not None:
        return offered.refusal
    if offered.offers(choice):
        return None
    return BUYER_ONLY if choice in offered.buyer_only else NOT_OFFERED[choice]


def gift_aid_allowed(ticket: TicketFacts, now: datetime) -> bool:
    """Gift Aid on a donated ticket only where the guest was genuinely offered the refund and chose to donate instead
    (HMRC: a payment for a ticket is not a gift; giving up a refund one is entitled to is). Outside the refund window,
    or where no refund is offered, a donated ticket gets no Gift Aid."""
    return options(ticket, now).offers(Choice.refund)


def _nothing_offered(ticket: TicketFacts, now: datetime) -> Refusal | None:
    if ticket.event_status == EventStatus.cancelled:
        return EVENT_CANCELLED
    if ticket.checked_in:
        return CHECKED_IN
    if ticket.status != TicketStatus.valid:
        return NOT_VALID
    if ticket.order_status != OrderStatus.paid:
        return NOT_PAID
    if now >= ticket.starts_at or ticket.event_status == EventStatus.finished:
        return EVENT_OVER
    return None


@dataclass(frozen=True, slots=True)
class Friend:
    """Who a ticket is passed on to, checked: a name, and an email address or a mobile number in E.164."""

    holder: str
    email: str
    phone: str


def friend_problems(holder: str, email: str, phone: str, *, texts_available: bool = True) -> tuple[Friend | None, dict[str, str]]:
    """The friend's details, or what is wrong with each field. Their new ticket goes by email, or by text to a mobile
    number: one of the two is needed. Where no text can be sent (``texts_available`` false: production without a text
    provider), a phone number is refused rather than kept and never used."""
    problems: dict[str, str] = {}
    holder, email, phone = holder.strip(), email.strip(), phone.strip()
    if not holder:
        problems["holder"] = N_("Please write your friend's name.")
    elif len(holder) > MAX_HOLDER_LENGTH:
        problems["holder"] = N_("That name is too long.")
    elif (problem := text.line_problem(holder)) is not None:
        problems["holder"] = problem
    if email and (len(email) > 254 or not pricing.EMAIL_PATTERN.match(email) or text.line_problem(email) is not None):
        problems["email"] = N_("That email address does not look right.")
    mobile = ""
    if phone and not texts_available:
        problems["phone"] = N_("We cannot send text messages here, so please give your friend's email address instead.")
    elif phone:
        if not PHONE_PATTERN.match(phones.typed_number(phone)) or text.line_problem(phone) is not None:
            problems["phone"] = N_("That phone number does not look right.")
        elif (found := phones.mobile_number(phone)) is None:
            problems["phone"] = N_("We can only send a ticket to a mobile number. Please check the number (with the country code, like +44).")
        else:
            mobile = found
    if not email and not phone:
        problems["email"] = N_("Please give your friend's email address or mobile number, so that we can send them their ticket.")
    if problems:
        return None, problems
    return Friend(holder=holder, email=email, phone=mobile), {}


def masked_contact(email: str, phone: str) -> str:
    """Where a friend's ticket went, as the "passed on" page shows it to whoever holds the old ticket's link: enough
    to recognise ("s•••@example.org", "+44•••678"), not enough to read off someone's address or number."""
    if email:
        local, _, domain = email.partition("@")
        return f"{local[:1]}•••@{domain}"
    if phone:
        return f"{phone[:3]}•••{phone[-3:]}"
    return ""
