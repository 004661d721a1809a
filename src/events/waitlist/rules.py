"""Waiting-list rules: who may join and with what, who is offered freed places next and how many, and how long an
offer holds them. Pure: callers pass the rows they read and ``now``.

Decisions (the issue leaves them open):
- Order of service is join order (the entry's id), per event and kind (paid places, free places). The next person is
  offered as many of the places they asked for as are free now, at least one: a family of four waiting behind one
  freed place is offered that one place (and may take it or leave it) rather than holding up everyone behind them.
  Someone who takes fewer places than offered gives the rest back, and the next person is offered them.
- An entry for a ticket type that cannot be offered now (its sales window closed, not sold online, not on a waiting
  list) keeps its place in the queue but is passed over; entries for other types are not held up behind it.
- A free-place entry wants one place (a claim link gives one place per guest).
- Free places a live referral link still has to give (its places less those claimed through it) stay that link's:
  the free-place list is offered only the free places beyond them (places given back after being claimed through a
  link, places newly funded by pay-it-forward buyers, reserved places no link was given), so one partner's waiting
  guests never get the places another partner was allocated. Where the links' places add up to more than the free
  places, the free places are theirs, first come first served, as before any list.
- A free place given back after being claimed through a partner's link goes first to the first of that link's guests
  waiting (the partner's own guests get back what the partner gave away), then the list goes on in join order.
- An offer holds its places for the event's ``offer_hours`` (12 by default), but never more than a quarter of the time
  left before the event starts, never past the start or the ticket type's sales end, and never less than 30 minutes
  unless the start or sales end comes sooner; when less than 10 minutes would be left, no offer is made.
- One entry per contact (email, else mobile number) per event and kind while waiting or holding an offer: joining
  again is refused (409), never answered with the first entry's token, which would give the entry to anyone who
  knows the guest's address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from events import text
from events.i18n import N_, SUPPORTED_LOCALES, Sentence
from events.orders import phones, pricing
from events.waitlist.statuses import WaitingKind, WaitingStatus

DEFAULT_OFFER_HOURS = 12
# Never more of the time left before the start than this: a day before, an offer holds places for six hours.
OFFER_SHARE_OF_TIME_LEFT = 4
# Long enough to read a text and pay on a phone.
SHORTEST_OFFER = timedelta(minutes=30)
# Less than this before the start or the end of sales, an offer could not be answered: none is made.
TOO_SHORT_TO_OFFER = timedelta(minutes=10)
NAME_MAX = 100
FREE_PLACE_QUANTITY = 1
# Only these may still change: an entry that is waiting, or holding an offer.
ACTIVE_STATUSES = (WaitingStatus.waiting, WaitingStatus.offered)


def offer_expiry(now: datetime, *, starts_at: datetime, offer_hours: int, sales_end: datetime | None = None) -> datetime | None:
    """When an offer made now stops holding its places, or None when it is too late to make one."""
    hard_end = starts_at if sales_end is None else min(starts_at, sales_end)
    if hard_end - now < TOO_SHORT_TO_OFFER:
        return None
    hours = offer_hours if offer_hours >= 1 else DEFAULT_OFFER_HOURS
    window = min(timedelta(hours=hours), (starts_at - now) / OFFER_SHARE_OF_TIME_LEFT)
    window = max(window, SHORTEST_OFFER)
    return min(now + window, hard_end)


@dataclass(frozen=True, slots=True)
class Waiting:
    """An entry in the queue, as the planning needs it."""

    id: int
    ticket_type: int | None  # paid places: the type wanted; free places: None
    quantity: int
    link: int | None = None  # free places: the referral link the guest came from


@dataclass(frozen=True, slots=True)
class PlannedOffer:
    entry_id: int
    places: int


def plan_paid_offers(waiting: Sequence[Waiting], *, event_left: int, type_left: Mapping[int, int | None], offerable: set[int]) -> list[PlannedOffer]:
    """The offers to make now, in join order: each entry whose ticket type can be offered gets as many of the places it
    wants as are free (for its type and the event), while any are. ``type_left``: places free per ticket type (None: no
    quota of its own); ``offerable``: the ticket types that can be offered now."""
    left = dict(type_left)
    offers: list[PlannedOffer] = []
    for entry in sorted(waiting, key=lambda entry: entry.id):
        if event_left <= 0:
            break
        if entry.ticket_type is None or entry.ticket_type not in offerable or entry.quantity < 1:
            continue
        type_free = left.get(entry.ticket_type)
        free_here = event_left if type_free is None else min(event_left, type_free)
        places = min(entry.quantity, free_here)
        if places <= 0:
            continue
        offers.append(PlannedOffer(entry.id, places))
        event_left -= places
        if type_free is not None:
            left[entry.ticket_type] = type_free - places
    return offers


def free_places_for_list(available: int, unclaimed_by_links: int) -> int:
    """Of the event's ``available`` free places, those the free-place list may be offered: the ones beyond what live
    referral links still have to give (``unclaimed_by_links``: their places less those claimed through them)."""
    return max(0, available - max(0, unclaimed_by_links))


def plan_free_offers(waiting: Sequence[Waiting], *, available: int, given_back_by: int | None = None) -> list[PlannedOffer]:
    """The free places to offer now: one each to the first ``available`` entries, in join order, except that a place
    just given back after being claimed through link ``given_back_by`` goes first to that link's first waiting guest."""
    queue = sorted(waiting, key=lambda entry: entry.id)
    if given_back_by is not None and available > 0:
        own = next((entry for entry in queue if entry.link == given_back_by), None)
        if own is not None:
            queue = [own, *(entry for entry in queue if entry is not own)]
    return [PlannedOffer(entry.id, FREE_PLACE_QUANTITY) for entry in queue[: max(0, available)]]


def held_back(offers: Sequence[PlannedOffer], types: Mapping[int, int | None]) -> tuple[int, dict[int, int]]:
    """The places planned offers would take (what general sale must not), in all and per ticket type. ``types``: each
    planned entry's ticket type."""
    by_type: dict[int, int] = {}
    for offer in offers:
        type_id = types.get(offer.entry_id)
        if type_id is not None:
            by_type[type_id] = by_type.get(type_id, 0) + offer.places
    return sum(offer.places for offer in offers), by_type


# A guest who joins again with the same email or number (having lost the message with their link) is sent it again:
# at most this many times, and never sooner than this after the last one went.
JOINED_RESENDS = 3
JOINED_AGAIN_SECONDS = 600


def joined_message_key(entry_id: int, *, again: int = 0) -> str:
    """The outbox key of the message telling a guest they joined, one per entry; ``again``: its n-th sending again."""
    key = f"waiting-joined:{entry_id}"
    return f"{key}:again:{again}" if again else key


def joined_message_keys(entry_id: int) -> list[str]:
    """Every key the entry's joined message can have been queued under (found again to count it, and to erase it)."""
    return [joined_message_key(entry_id, again=n) for n in range(JOINED_RESENDS + 1)]


def joined_again_key(entry_id: int, queued_at: Sequence[datetime], now: datetime) -> str | None:
    """The key to send an entry's link again under, given when its joined messages were queued; None when it went
    JOINED_RESENDS times again already, or less than JOINED_AGAIN_SECONDS ago (someone typing another person's
    email cannot flood them)."""
    again = _sending_again(queued_at, now)
    return None if again is None else joined_message_key(entry_id, again=again)


def offer_message_key(entry_id: int, order_id: int, *, again: int = 0) -> str:
    """The outbox key of the message offering an entry the places its offer's order holds; ``again``: its n-th sending
    again (a guest offered places who joins again has lost that message, most likely)."""
    key = f"offer:{entry_id}:{order_id}"
    return f"{key}:again:{again}" if again else key


def offer_message_keys(entry_id: int, order_id: int) -> list[str]:
    return [offer_message_key(entry_id, order_id, again=n) for n in range(JOINED_RESENDS + 1)]


def offer_again_key(entry_id: int, order_id: int, queued_at: Sequence[datetime], now: datetime) -> str | None:
    """As joined_again_key, for the offer's message: the same limits."""
    again = _sending_again(queued_at, now)
    return None if again is None else offer_message_key(entry_id, order_id, again=again)


def _sending_again(queued_at: Sequence[datetime], now: datetime) -> int | None:
    """Which sending again a message may have next, given when its sendings were queued, or None (too many already, or
    the last too recent)."""
    if len(queued_at) > JOINED_RESENDS:
        return None
    if queued_at and now - max(queued_at) < timedelta(seconds=JOINED_AGAIN_SECONDS):
        return None
    return max(1, len(queued_at))


def position(entry_id: int, waiting_ids: Sequence[int]) -> int:
    """Where a waiting entry is in its queue: 1 for the next to be offered places."""
    return 1 + sum(1 for other in waiting_ids if other < entry_id)


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """What a guest asks for when joining, as sent."""

    name: str
    email: str
    phone: str
    quantity: int
    locale: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A joining guest's details, tidied: the name trimmed, the email trimmed, the mobile number in E.164."""

    name: str
    email: str
    phone: str
    locale: str

    @property
    def key(self) -> str:
        """What makes two entries one guest's: their email (case aside), else their mobile number."""
        return f"email:{self.email.lower()}" if self.email else f"phone:{self.phone}"


def join_problems(request: JoinRequest, *, kind: WaitingKind, max_per_order: int, texts_available: bool = True) -> dict[str, str]:
    """Field -> what is wrong with a join request (empty when it is fine)."""
    problems: dict[str, str] = {}
    name = request.name.strip()
    if not name:
        problems["name"] = N_("Please write your first name.")
    elif len(name) > NAME_MAX:
        problems["name"] = N_("That name is too long.")
    elif (problem := text.line_problem(name)) is not None:
        problems["name"] = problem
    email = request.email.strip()
    if email and (len(email) > 254 or not pricing.EMAIL_PATTERN.match(email) or text.line_problem(email) is not None):
        problems["email"] = N_("That email address does not look right.")
    phone = request.phone.strip()
    if phone and not texts_available:
        problems["phone"] = N_("We cannot send text messages here, so please give an email address instead.")
    elif phone and (not phones.PHONE_PATTERN.match(phones.typed_number(phone)) or text.line_problem(phone) is not None):
        problems["phone"] = N_("That phone number does not look right.")
    elif phone and phones.mobile_number(phone) is None:
        problems["phone"] = N_(
            "We can only send a text to a mobile number. Please check the number (with the country code, like +44, if it is not a UK number)."
        )
    if not email and not phone and "email" not in problems and "phone" not in problems:
        problems["email"] = N_("Please give an email address or a mobile number, so we can tell you when places free up.")
    if kind == WaitingKind.free:
        if request.quantity != FREE_PLACE_QUANTITY:
            problems["quantity"] = N_("Each guest can wait for one free place.")
    elif not 1 <= request.quantity <= max_per_order:
        problems["quantity"] = Sentence(N_("Choose between 1 and %(max)d places."), max=max_per_order)
    if request.locale not in SUPPORTED_LOCALES:
        problems["locale"] = N_("We do not have that language yet.")
    return problems


def contact_of(request: JoinRequest) -> Contact:
    """The guest's details as kept (call once join_problems found none)."""
    phone = request.phone.strip()
    return Contact(
        name=" ".join(request.name.split()),
        email=request.email.strip(),
        phone=(phones.mobile_number(phone) or "") if phone else "",
        locale=request.locale,
    )


def quantity_problem(quantity: int, offered: int) -> str | None:
    """Why a guest cannot take ``quantity`` of the ``offered`` places (None when they can)."""
    if not 1 <= quantity <= offered:
        return Sentence(N_("You can take between 1 and %(max)d places."), max=offered)
    return None
