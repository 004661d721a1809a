"""Waiting lists: joining, an entry's status, leaving, the offers of freed places and taking them up.

An offer IS a pending order (channel waitlist) holding the offered places until the offer runs out: the places count
as taken, so no other buyer can have them, and the hold sweeper ends an offer nobody took up. Offers are made under
the event's counter locks (ticket types by id, then the event: the order every writer takes them in), so two workers
never offer the same places; each offer's message is queued once (keyed by entry and order).

Locks are always taken in one order: orders, then ticket types, then the event, then waiting entries. Taking up or
giving back an offer reads the entry first without a lock, then locks the order, the counters and the entry, and
checks the entry again; leaving, which may find an offer made meanwhile, starts again once to lock its order first.

The free-place list is offered only the free places beyond those live claim links still have to give (their places
less those claimed through them): a partner's unused places stay its guests' to claim. A place given back after being
claimed through a link (the claim's order notes the link: orders.claims.claim_link_of) goes to that link's waiting
guests first.

Rules (who is next, how many places, how long an offer holds them) are events.waitlist.rules.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events import db
from events.audit import service as audit
from events.catalogue import rules as catalogue_rules
from events.catalogue import sales
from events.catalogue.lookup import EventRow
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event, TicketType
from events.errors import Conflict, Gone, InvalidInput, NotFound, TooManyAttempts
from events.i18n import N_
from events.orders import claims
from events.orders import service as orders
from events.orders.service import OfferHolder, PlacedOrder
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.organisations import service as organisations
from events.payments import service as payments
from events.payments.gateway import CardPaymentsOff, Gateway, PaymentProviderError
from events.ratelimit import service as ratelimit
from events.tickets import issuing, outbox
from events.tickets.statuses import MessageKind
from events.tickets.tables import Ticket
from events.waitlist import queries, rules
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry

logger = logging.getLogger("events.waitlist")

# Joining is limited per client address (a drop-in centre's shared connection fits under it) and per claim link (a
# link passed round widely cannot fill the free-place list on its own).
JOINS_PER_CLIENT = 100
JOINS_PER_CLIENT_WINDOW_SECONDS = 15 * 60
JOINS_PER_CODE = 200
JOINS_PER_CODE_WINDOW_SECONDS = 3600
# Unknown entry tokens are wrong guesses, limited per client address as claim codes are (only wrong ones count). A
# token is 128 random bits: the budget slows a guesser, it is not what stops one.
WRONG_TOKENS_PER_CLIENT = 100
WRONG_TOKENS_WINDOW_SECONDS = 15 * 60
TOKEN_BYTES = 16
# Leaving reads the entry, then locks what it found (an offer's order first); a change in between is read again once.
LOCK_ATTEMPTS = 2
OFFERABLE_EVENT_STATUSES = {WaitingKind.paid: (EventStatus.on_sale,), WaitingKind.free: (EventStatus.on_sale, EventStatus.sales_closed)}


class WaitingListClosed(Conflict):
    code = "waiting_list_closed"


class OfferExpired(Gone):
    code = "offer_expired"


def _entry_not_found() -> NotFound:
    return NotFound(N_("We could not find that place on the waiting list. Please check the link."), code="waiting_entry_not_found")


@dataclass(frozen=True, slots=True)
class Guest:
    """Who is asking: their network address (its budgets of joins and wrong tokens; stored only as a hash) and their
    browser's own id where they have one (a claim link's budget of wrong codes, as claims.Claimant)."""

    address: str
    browser: str = ""


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A guest joining an event's waiting list: for paid places of ``ticket_type`` (needed when several types are sold
    online), or for a free place with a referral partner's ``claim_code``."""

    name: str
    email: str = ""
    phone: str = ""
    quantity: int = 1
    locale: str = "en"
    ticket_type: int | None = None
    claim_code: str | None = None


@dataclass(frozen=True, slots=True)
class Joined:
    entry_id: int
    kind: WaitingKind
    position: int
    access_token: str  # the guest's key to their entry: GET/DELETE /api/waiting-list/{token}, and the offer's link


@dataclass(frozen=True, slots=True)
class OfferView:
    """The places held for the guest, until when, and what taking them all costs."""

    places: int
    expires_at: datetime
    order_reference: str
    total_pence: int
    currency: str
    free: bool


@dataclass(frozen=True, slots=True)
class EntryStatus:
    """A waiting-list entry as its guest sees it."""

    id: int
    kind: WaitingKind
    status: WaitingStatus
    position: int | None  # while waiting: 1 is next
    quantity: int
    name: str
    locale: str
    event_slug: str
    event_title: str
    event_starts_at: datetime
    event_timezone: str
    ticket_type: int | None
    ticket_type_name: str
    partner_name: str
    offer: OfferView | None  # while an offer holds places
    order_reference: str | None  # the offer's order (once accepted: the guest's order)
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Accepted:
    """A taken-up offer: paid places are a pending order whose payment has started (``provider``, ``intent_id``,
    ``client_secret``; "none" when there was nothing to pay and the tickets are issued); a free place is settled into
    its ticket at once."""

    entry_id: int
    kind: WaitingKind
    order: PlacedOrder
    provider: str
    intent_id: str | None
    client_secret: str | None
    ticket_ids: Sequence[int] = ()


# --- joining ---------------------------------------------------------------------------------------------------------


async def join(slug: str, request: JoinRequest, now: datetime, *, guest: Guest, texts_available: bool = True) -> Joined:
    """Put a guest on an event's waiting list. Paid places: only while the ticket type (on sale online, with a waiting
    list) has no places left for general sale and the event's list is open. A free place: only with a live claim link
    of the event whose places have run out, or while the event has no free place a claim through it would get (no
    proof of status is ever asked). 409 ``waiting_list_closed`` when the list is not open; 409 ``places_available``
    when there are places to buy, or a place the guest can claim with their link now; 409 ``already_waiting`` when the same email or mobile number is already on the list."""
    await _count_join(guest, now)
    event = await _public_event(slug)
    kind = WaitingKind.free if request.claim_code is not None else WaitingKind.paid
    link: claims.ReferralLink | None = None
    ticket_type: Mapping[str, Any] | None = None
    if kind == WaitingKind.free:
        link = await claims.find_referral_link(
            request.claim_code or "", claims.Claimant(guest.address, guest.browser or secrets.token_urlsafe(16)), now=now
        )
        if link.event != event["id"]:
            raise NotFound(N_("This link does not work. Please ask the person who gave it to you."), code="claim_code_not_found")
        await _count_code_join(link.id, now)
    else:
        ticket_type = await _wanted_type(event, request.ticket_type, now)
    checked = rules.JoinRequest(request.name, request.email, request.phone, request.quantity, request.locale)
    problems = rules.join_problems(
        checked, kind=kind, max_per_order=ticket_type["max_per_order"] if ticket_type else 1, texts_available=texts_available
    )
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    _check_open(event, kind, ticket_type, now)
    contact = rules.contact_of(checked)
    type_ids = [ticket_type["id"]] if ticket_type else []
    async with db.write_transaction():
        await orders.lock_counters(event["id"], type_ids)  # the places free are read as offers and buyers read them
        locked = await Event.select().where(Event.id == event["id"]).first()
        assert locked is not None
        held = await _held_back(locked, now)
        if ticket_type is not None:
            locked_type = await TicketType.select().where(TicketType.id == ticket_type["id"]).first()
            assert locked_type is not None
            if _general_places_left(locked, locked_type, held) > 0:
                raise Conflict(N_("There are places on sale: you can buy them now."), code="places_available")
        elif link is not None and await _can_claim_now(link.id, locked, now):
            raise Conflict(N_("There is a free place for you: claim it with your link."), code="places_available")
        already = await _entry_of(event["id"], kind, contact)
        entry = already or await _add_entry(event["id"], kind, ticket_type, link, contact, request.quantity, now)
        position = await _position(entry.id, event["id"], kind)
        if already is None:
            await _tell_joined(entry, locked, position, now, key=rules.joined_message_key(entry.id))
        elif already.status == WaitingStatus.waiting:
            # They lost the message with their link, most likely: it goes again, within limits (rules.joined_again_key).
            # Its address is the entry's, never the one typed now; the page shows no link.
            queued_at = await outbox.queued_at(rules.joined_message_keys(already.id))
            if (key := rules.joined_again_key(already.id, queued_at, now)) is not None:
                await _tell_joined(already, locked, position, now, key=key)
        elif already.offer_order is not None and already.offer_expires_at is not None and already.offer_expires_at > now:
            # Offered places they have not taken up: the offer's message (with the same link) goes again, within the
            # same limits, to the offer's contact (the entry's).
            offer_keys = rules.offer_message_keys(already.id, already.offer_order)
            if (key := rules.offer_again_key(already.id, already.offer_order, await outbox.queued_at(offer_keys), now)) is not None:
                await _tell_offered(
                    already.token, WaitingKind(already.kind), already.offer_order, already.offered_places, already.offer_expires_at, now, key=key
                )
    if already is not None:  # refused after the transaction, which keeps a message sent again
        # One answer whatever the entry's state or the limits: it says no more than that the link was sent (an offer's
        # message links to it too).
        raise Conflict(N_("You are already on this waiting list. The link to your place in it has been sent to you."), code="already_waiting")
    return Joined(entry.id, kind, position, entry.token)


async def _add_entry(
    event_id: int,
    kind: WaitingKind,
    ticket_type: Mapping[str, Any] | None,
    link: claims.ReferralLink | None,
    contact: rules.Contact,
    quantity: int,
    now: datetime,
) -> WaitingEntry:
    """The guest's new entry, at the end of the queue, with its private token; inside the joining transaction."""
    entry = WaitingEntry(
        event=event_id,
        kind=kind,
        ticket_type=ticket_type["id"] if ticket_type else None,
        claim_code=link.id if link else None,
        partner_name=link.partner_name if link else "",
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        locale=contact.locale,
        quantity=quantity,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        status=WaitingStatus.waiting,
        created_at=now,
        updated_at=now,
    )
    await entry.save()
    # Never the guest's name or contact: the log outlives guests' personal data.
    await audit.record(
        "waiting_list.joined",
        now=now,
        event_id=event_id,
        subject_type="waiting_entry",
        subject_id=entry.id,
        after={"kind": str(kind), "quantity": quantity, "ticket_type": entry.ticket_type, "partner": entry.partner_name},
        anonymous_actor="guest",
    )
    return entry


async def _tell_joined(entry: WaitingEntry, event: Mapping[str, Any], position: int, now: datetime, *, key: str) -> None:
    """Queue the guest's confirmation (by email, else a text), with their place and their own page's link: the page
    they land on is the only other way back to it. Inside the joining transaction; once per ``key`` (the first
    sending's, or a sending again's: rules.joined_message_key)."""
    organisation = await organisations.by_id(event["organisation"])
    contact = outbox.contact_of(entry.email, entry.phone, whatsapp=organisation.whatsapp_enabled)
    if contact is None:
        return
    detail = {
        "entry": entry.id,
        "event": event["id"],
        "link": f"/waiting-list/{entry.token}",
        "position": position,
        "places": entry.quantity,
        "free": entry.kind == WaitingKind.free,
        "name": entry.name,
        "locale": entry.locale,
    }
    await outbox.enqueue_to(MessageKind.waiting_list_joined, contact=contact, key=key, detail=detail, now=now)


async def _tell_offered(token: str, kind: WaitingKind, order_id: int, places: int, expires: datetime, now: datetime, *, key: str) -> None:
    """Queue the message offering a guest the places their offer's order holds (to the order's contact, the guest's),
    with their page's link and until when; once per ``key`` (the offer's, or a sending again's)."""
    detail = {"link": f"/waiting-list/{token}", "places": places, "expires_at": expires.isoformat(), "free": kind == WaitingKind.free}
    await outbox.enqueue(MessageKind.waiting_list_offer, order_id=order_id, now=now, key=key, detail=detail)


async def _joined_still_wanted(detail: Mapping[str, Any]) -> bool:
    """A guest hears they joined while they are still waiting: not once they left or were taken off the list (nor
    once places were offered to them, which that message tells them)."""
    row = await WaitingEntry.select(WaitingEntry.status).where(WaitingEntry.id == int(detail.get("entry", 0))).first()
    return row is not None and row["status"] == WaitingStatus.waiting


async def _public_event(slug: str) -> Mapping[str, Any]:
    row = await Event.select().where(Event.slug == slug, Event.organisation.suspended_at.is_null()).first()
    if row is None or row["status"] == EventStatus.draft:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return row


async def _wanted_type(event: Mapping[str, Any], type_id: int | None, now: datetime) -> Mapping[str, Any]:
    """The ticket type a paid entry waits for: the one named, else the only one sold online with a waiting list."""
    types = await TicketType.select().where(TicketType.event == event["id"]).order_by(TicketType.position).order_by(TicketType.id)
    # A hidden type (sold only with an access code) has no waiting list: to guests it does not exist.
    types = [row for row in types if not row["hidden"]]
    if type_id is not None:
        for row in types:
            if row["id"] == type_id:
                return row
        message = N_("This event has no such ticket type.")
        raise InvalidInput(message, fields={"ticket_type": message})
    candidates = [row for row in types if row["waiting_list"] and catalogue_rules.sells_online(row["channel"])]
    if not candidates:
        raise WaitingListClosed(N_("This event has no waiting list."))
    if len(candidates) > 1:
        message = N_("Choose the ticket type you want to wait for.")
        raise InvalidInput(message, fields={"ticket_type": message})
    return candidates[0]


def _check_open(event: Mapping[str, Any], kind: WaitingKind, ticket_type: Mapping[str, Any] | None, now: datetime) -> None:
    """Refuse a join when the list cannot lead to an offer: closed, the event not selling, started, or the type not
    sold online with a waiting list."""
    closed = not event["waiting_list_open"] or event["status"] not in OFFERABLE_EVENT_STATUSES[kind] or now >= event["starts_at"]
    if ticket_type is not None:
        closed = closed or not (
            ticket_type["waiting_list"]
            and catalogue_rules.sells_online(ticket_type["channel"])
            and catalogue_rules.window_open(ticket_type["sales_start"], ticket_type["sales_end"], now)
        )
    if closed:
        raise WaitingListClosed(N_("The waiting list for this event is closed."))


def _general_places_left(event: Mapping[str, Any], ticket_type: Mapping[str, Any], held: sales.HeldBack) -> int:
    """Places of the type a buyer could have now (as orders.service sees them, the waiting list's held back)."""
    left = catalogue_rules.places_left(event["capacity"], event["reserved_free_places"], event["places_taken"]) - held.places
    return catalogue_rules.ticket_type_available(left, ticket_type["quota"], ticket_type["places_taken"] + held.by_type.get(ticket_type["id"], 0))


async def _can_claim_now(link_id: int, event: Mapping[str, Any], now: datetime) -> bool:
    """Whether a claim through the link would get a place now: the link has places left and the event a free place
    no offer holds (the list is never offered the places a link still has to give, so it holds none of them back).
    Read under the event's counter locks, as a claim reads them."""
    link = await claims.find_link_places(link_id, now)
    return link is not None and link.places_left > 0 and (await sales.event_free_places(EventRow.of(event))).available > 0


async def _entry_of(event_id: int, kind: WaitingKind, contact: rules.Contact) -> WaitingEntry | None:
    """The guest's entry still on the list (waiting, or offered places), found by their email (any case), else their
    mobile number; None when they are not on it."""
    active = (WaitingEntry.event == event_id) & (WaitingEntry.kind == kind) & WaitingEntry.status.is_in(list(rules.ACTIVE_STATUSES))
    if contact.email:
        rows = await WaitingEntry.objects().where(active, WaitingEntry.email != "")
        return next((row for row in rows if row.email.lower() == contact.email.lower()), None)
    return await WaitingEntry.objects().where(active, WaitingEntry.phone == contact.phone).first()


async def _count_join(guest: Guest, now: datetime) -> None:
    decision = await ratelimit.hit(
        "waitlist-joins", guest.address, limit=JOINS_PER_CLIENT, window_seconds=JOINS_PER_CLIENT_WINDOW_SECONDS, now_epoch=int(now.timestamp())
    )
    if not decision.allowed:
        raise TooManyAttempts(N_("Too many tries. Please wait a few minutes and try again."), retry_after_seconds=decision.retry_after_seconds)


async def _count_code_join(code_id: int, now: datetime) -> None:
    decision = await ratelimit.hit(
        "waitlist-joins-code", str(code_id), limit=JOINS_PER_CODE, window_seconds=JOINS_PER_CODE_WINDOW_SECONDS, now_epoch=int(now.timestamp())
    )
    if not decision.allowed:
        raise TooManyAttempts(N_("Too many tries. Please wait a few minutes and try again."), retry_after_seconds=decision.retry_after_seconds)


# --- an entry, by its token ------------------------------------------------------------------------------------------


def _unknown_token(error: BaseException) -> bool:
    return isinstance(error, NotFound) and error.code == "waiting_entry_not_found"


@contextlib.asynccontextmanager
async def _guessing(guest: Guest | None, now: datetime) -> AsyncIterator[None]:
    """Look a token up within the guest's budget of wrong tokens (ratelimit.wrong_tries_limited): only an unknown
    token is counted, so a guest opening their own entry writes nothing."""
    if guest is None:
        yield
        return
    async with ratelimit.wrong_tries_limited(
        [ratelimit.Budget("waitlist-token-failures", guest.address, WRONG_TOKENS_PER_CLIENT)],
        window_seconds=WRONG_TOKENS_WINDOW_SECONDS,
        now_epoch=int(now.timestamp()),
        is_wrong=_unknown_token,
    ):
        yield


async def _entry(token: str, guest: Guest | None, now: datetime) -> dict[str, Any]:
    async with _guessing(guest, now):
        row = None
        if 0 < len(token) <= 64:
            row = await WaitingEntry.select().where(WaitingEntry.token == token).first()
        if row is None:
            raise _entry_not_found()
    return row


async def entry_status(token: str, now: datetime, *, guest: Guest | None = None) -> EntryStatus:
    """The guest's entry: its status, their position while waiting, and the offer while one holds places. 404
    ``waiting_entry_not_found`` for an unknown token (a wrong guess, with ``guest``, counted against their budget)."""
    row = await _entry(token, guest, now)
    event = await Event.select(Event.slug, Event.title, Event.starts_at, Event.timezone).where(Event.id == row["event"]).first()
    assert event is not None
    type_name = ""
    if row["ticket_type"] is not None:
        found = await TicketType.select(TicketType.name).where(TicketType.id == row["ticket_type"]).first()
        type_name = found["name"] if found else ""
    status = WaitingStatus(row["status"])
    offer = None
    reference = None
    if row["offer_order"] is not None:
        order = await Order.select(Order.reference, Order.status, Order.total_pence, Order.currency).where(Order.id == row["offer_order"]).first()
        if order is not None:
            reference = order["reference"]
            if status == WaitingStatus.offered and order["status"] == OrderStatus.pending and row["offer_expires_at"] > now:
                offer = OfferView(
                    places=row["offered_places"],
                    expires_at=row["offer_expires_at"],
                    order_reference=order["reference"],
                    total_pence=order["total_pence"],
                    currency=order["currency"],
                    free=row["kind"] == WaitingKind.free,
                )
            elif status == WaitingStatus.offered:
                status = WaitingStatus.lapsed  # ran out; the next sweep records it and passes the places on
    return EntryStatus(
        id=row["id"],
        kind=WaitingKind(row["kind"]),
        status=status,
        position=await _position(row["id"], row["event"], WaitingKind(row["kind"])) if status == WaitingStatus.waiting else None,
        quantity=row["quantity"],
        name=row["name"],
        locale=row["locale"],
        event_slug=event["slug"],
        event_title=event["title"],
        event_starts_at=event["starts_at"],
        event_timezone=event["timezone"],
        ticket_type=row["ticket_type"],
        ticket_type_name=type_name,
        partner_name=row["partner_name"],
        offer=offer,
        order_reference=reference if status in (WaitingStatus.offered, WaitingStatus.accepted) else None,
        joined_at=row["created_at"],
    )


async def _position(entry_id: int, event_id: int, kind: WaitingKind) -> int:
    ahead = await WaitingEntry.count().where(
        WaitingEntry.event == event_id, WaitingEntry.kind == kind, WaitingEntry.status == WaitingStatus.waiting, WaitingEntry.id < entry_id
    )
    return ahead + 1


async def leave(token: str, now: datetime, *, guest: Guest | None = None) -> None:
    """The guest leaves the list. An offer they hold gives its places back, and they are offered to the next person.
    Leaving again changes nothing; an accepted offer cannot be left here (409 ``offer_accepted``: it is an order)."""
    row = await _entry(token, guest, now)
    for _ in range(LOCK_ATTEMPTS):
        _check_leavable(row)
        if WaitingStatus(row["status"]) not in rules.ACTIVE_STATUSES:
            return
        try:
            gave_back = await _leave_locked(row, now)
        except _OfferChanged:
            # An offer was made (or ended) between the read and the locks: read again and lock what it is now.
            fresh = await WaitingEntry.select().where(WaitingEntry.id == row["id"]).first()
            assert fresh is not None
            row = fresh
            continue
        if gave_back:
            await offer_freed_places(row["event"], now)
        return
    raise Conflict(N_("Your place on the list changed just now. Please try again."), code="entry_changed")


class _OfferChanged(Exception):
    """The entry's offer is not the one whose order was locked: its order must be locked first, so start again."""


def _check_leavable(row: Mapping[str, Any]) -> None:
    if row["status"] == WaitingStatus.accepted:
        raise Conflict(N_("You have taken up this offer: it is an order now."), code="offer_accepted")


async def _leave_locked(row: Mapping[str, Any], now: datetime) -> bool:
    """One try at leaving, in the global lock order: the offer's order and the event's counters (when ``row`` holds an
    offer), then the entry, whose offer is checked to be the one locked (_OfferChanged, nothing written, if not).
    Whether an offer's places were given back."""
    locked_offer = row["offer_order"] if row["status"] == WaitingStatus.offered else None
    async with db.write_transaction():
        if locked_offer is not None:
            await _lock_offer(row)
        current = await _lock_entry(row["id"])
        _check_leavable(current)
        if WaitingStatus(current["status"]) not in rules.ACTIVE_STATUSES:
            return False
        offer = current["offer_order"] if current["status"] == WaitingStatus.offered else None
        if offer != locked_offer:
            raise _OfferChanged
        if offer is not None:
            # Nothing if the hold already ran out (the sweeper gave the places back).
            await orders.release_hold(offer, now, reason="the guest left the waiting list")
        await _finish(current["id"], WaitingStatus.left, now)
        await audit.record(
            "waiting_list.left",
            now=now,
            event_id=current["event"],
            subject_type="waiting_entry",
            subject_id=current["id"],
            before={"status": current["status"]},
            after={"status": WaitingStatus.left},
            anonymous_actor="guest",
        )
    return offer is not None


async def _lock_offer(row: Mapping[str, Any]) -> None:
    """Lock an offer's order, then the event's counters (the order every writer takes them in)."""
    await db.locked(Order.select(Order.id).where(Order.id == row["offer_order"])).first()
    await orders.lock_counters(row["event"], [row["ticket_type"]] if row["ticket_type"] is not None else [])


async def _lock_entry(entry_id: int) -> dict[str, Any]:
    current = await db.locked(WaitingEntry.select().where(WaitingEntry.id == entry_id)).first()
    assert current is not None
    return current


async def _finish(entry_id: int, status: WaitingStatus, now: datetime) -> None:
    await WaitingEntry.update({WaitingEntry.status: status, WaitingEntry.answered_at: now, WaitingEntry.updated_at: now}).where(
        WaitingEntry.id == entry_id
    )


# --- taking up an offer ----------------------------------------------------------------------------------------------


async def accept(token: str, quantity: int | None, now: datetime, *, gateway: Gateway, hold_minutes: int, guest: Guest | None = None) -> Accepted:
    """The guest takes up their offer: ``quantity`` of the offered places (all when None). Paid places: the offer's
    order keeps that many (the rest go to the next person), its hold becomes a checkout hold of ``hold_minutes``, and
    its payment starts with ``gateway`` (the event's organisation's) as a checkout's does; nothing to pay settles it.
    A free place: its ticket is issued at once.

    410 ``offer_expired`` once the offer has run out; 409 ``offer_accepted`` when it was taken up already, 409
    ``no_offer`` when no places are held for the guest; 422 for more places than offered; 409
    ``card_payments_unavailable`` when there is something to pay and the organisation takes no card payments online.
    Each changes nothing. 503 ``payment_unavailable`` when the payment provider cannot be reached: the offer stands
    again, holding the places taken, so the guest can try again (_start_payment)."""
    row = await _entry(token, guest, now)
    _check_offer(row, now)
    kind = WaitingKind(row["kind"])
    wanted = row["offered_places"] if quantity is None else quantity
    if (problem := rules.quantity_problem(wanted, row["offered_places"])) is not None:
        raise InvalidInput(problem, fields={"quantity": problem})
    if kind == WaitingKind.paid and not gateway.takes_cards and await _costs_something(row["offer_order"]):
        raise _no_card_payments()
    ticket_ids: list[int] = []
    async with db.write_transaction():
        await _lock_offer(row)
        current = await _lock_entry(row["id"])
        if current["offer_order"] != row["offer_order"]:
            raise Conflict(N_("This offer has changed. Please open your link again."), code="no_offer")
        _check_offer(current, now)
        order = await Order.select(Order.status, Order.hold_expires_at).where(Order.id == current["offer_order"]).first()
        if order is None or order["status"] != OrderStatus.pending or order["hold_expires_at"] is None or order["hold_expires_at"] <= now:
            raise OfferExpired(N_("Sorry, this offer has run out and the places have gone to the next person."))
        if kind == WaitingKind.free:
            settled = await orders.take_up_free_offer(current["offer_order"], now, issue=issuing.issue_and_confirm)
            ticket_ids = [ticket["id"] for ticket in await Ticket.select(Ticket.id).where(Ticket.order_id == current["offer_order"])]
            placed = await _placed(current["offer_order"])
            logger.info("Free-place offer %s taken up: %s", current["id"], settled.outcome)
        else:
            placed = await orders.take_up_paid_offer(current["offer_order"], wanted, hold_until=now + timedelta(minutes=hold_minutes), now=now)
        await WaitingEntry.update({WaitingEntry.status: WaitingStatus.accepted, WaitingEntry.answered_at: now, WaitingEntry.updated_at: now}).where(
            WaitingEntry.id == current["id"]
        )
        await audit.record(
            "waiting_list.offer_accepted",
            now=now,
            event_id=current["event"],
            subject_type="waiting_entry",
            subject_id=current["id"],
            before={"status": WaitingStatus.offered, "offered_places": current["offered_places"]},
            after={"status": WaitingStatus.accepted, "places": wanted, "order": placed.reference},
            anonymous_actor="guest",
        )
        if kind == WaitingKind.paid and placed.total_pence == 0:
            await Order.update({Order.payment_provider: "none"}).where(Order.id == placed.id)
            await issuing.settle_paid_order(placed.id, now)
    if wanted < row["offered_places"]:
        await offer_freed_places(row["event"], now)  # the places not taken go to the next person
    if kind == WaitingKind.free or placed.total_pence == 0:
        return Accepted(row["id"], kind, placed, "none", None, None, ticket_ids)
    return await _start_payment(row, placed, gateway=gateway, now=now)


def _check_offer(row: Mapping[str, Any], now: datetime) -> None:
    status = WaitingStatus(row["status"])
    if status == WaitingStatus.accepted:
        raise Conflict(N_("You have already taken up this offer."), code="offer_accepted")
    if status == WaitingStatus.lapsed or (status == WaitingStatus.offered and row["offer_expires_at"] is not None and row["offer_expires_at"] <= now):
        raise OfferExpired(N_("Sorry, this offer has run out and the places have gone to the next person."))
    if status != WaitingStatus.offered or row["offer_order"] is None:
        raise Conflict(N_("No places are being held for you yet. We will tell you when they are."), code="no_offer")


async def _placed(order_id: int) -> PlacedOrder:
    order = (
        await Order.select(
            Order.id, Order.reference, Order.event.slug, Order.currency, Order.total_pence, Order.hold_expires_at, Order.buyer_name, Order.buyer_email
        )
        .where(Order.id == order_id)
        .first()
    )
    assert order is not None
    return PlacedOrder(
        id=order["id"],
        reference=order["reference"],
        event_slug=order["event.slug"],
        currency=order["currency"],
        total_pence=order["total_pence"],
        hold_expires_at=None,
        buyer_name=order["buyer_name"],
        buyer_email=order["buyer_email"],
    )


def _no_card_payments() -> Conflict:
    return Conflict(N_("This organisation does not take card payments online yet."), code="card_payments_unavailable")


async def _costs_something(order_id: int | None) -> bool:
    """Whether taking up the offer means paying (its places are priced alike, so any share of them costs something)."""
    order = await Order.select(Order.total_pence).where(Order.id == order_id).first() if order_id is not None else None
    return order is not None and order["total_pence"] > 0


async def _start_payment(row: Mapping[str, Any], placed: PlacedOrder, *, gateway: Gateway, now: datetime) -> Accepted:
    """Start the taken-up order's payment, as payments.checkout does after holding places. If the provider cannot be
    reached (or, since accept looked, the organisation stopped taking card payments), the offer stands again, holding
    the places taken until the offer's own expiry (_reopen_offer): they are never given back in between, and the guest
    can try again (503), where a checkout would release its hold."""
    try:
        intent_id, client_secret = await gateway.create_intent(
            reference=placed.reference, amount_pence=placed.total_pence, currency=placed.currency, event_slug=placed.event_slug
        )
    except CardPaymentsOff:
        await _reopen_offer(row, placed, now, reason="no card payments")
        raise _no_card_payments() from None
    except PaymentProviderError as exc:
        await _reopen_offer(row, placed, now, reason="payment provider unavailable")
        raise payments.PaymentUnavailable(str(exc)) from exc
    await orders.record_payment_start(placed.id, provider=gateway.provider, intent_id=intent_id, client_secret=client_secret)
    return Accepted(row["id"], WaitingKind.paid, placed, gateway.provider, intent_id, client_secret)


async def _reopen_offer(row: Mapping[str, Any], placed: PlacedOrder, now: datetime, *, reason: str) -> None:
    """Undo a take-up whose payment could not start, in one transaction: the order (locked first, as every writer
    takes it) holds its places until the offer's expiry again, and the entry is offered them again (the places the
    guest took: any they passed on have gone to the next person). Nothing changes when the order no longer holds its
    places (it ran out meanwhile: the entry stays accepted, its order expired, as any unpaid order's)."""
    async with db.write_transaction():
        places = await orders.reopen_paid_offer(placed.id, row["offer_expires_at"], now)
        if places is None:
            return
        reopened = (
            await WaitingEntry.update(
                {
                    WaitingEntry.status: WaitingStatus.offered,
                    WaitingEntry.offered_places: places,
                    WaitingEntry.answered_at: None,
                    WaitingEntry.updated_at: now,
                }
            )
            .where(WaitingEntry.id == row["id"], WaitingEntry.status == WaitingStatus.accepted, WaitingEntry.offer_order == placed.id)
            .returning(WaitingEntry.id)
        )
        if reopened:
            await audit.record(
                "waiting_list.offer_reopened",
                now=now,
                event_id=row["event"],
                subject_type="waiting_entry",
                subject_id=row["id"],
                before={"status": WaitingStatus.accepted},
                after={"status": WaitingStatus.offered, "places": places, "reason": reason},
            )


# --- offers ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    paid: list[rules.PlannedOffer]
    free: list[rules.PlannedOffer]
    types: dict[int, int | None]  # planned entry -> its ticket type
    free_for_list: int  # free places beyond those live referral links still have to give


async def _plan(
    event: Mapping[str, Any], now: datetime, *, waiting: Sequence[Mapping[str, Any]] | None = None, given_back_by: int | None = None
) -> _Plan:
    """The offers the event's free places allow now, in join order (rules.plan_paid_offers / plan_free_offers): paid
    places from the general places, free places from those beyond what live referral links still have to give (a
    place just given back through link ``given_back_by`` to that link's guests first)."""
    if waiting is None:
        waiting = await _waiting_entries(event["id"])
    paid = [rules.Waiting(row["id"], row["ticket_type"], row["quantity"]) for row in waiting if row["kind"] == WaitingKind.paid]
    paid_offers: list[rules.PlannedOffer] = []
    if paid and event["status"] in OFFERABLE_EVENT_STATUSES[WaitingKind.paid]:
        wanted_types = {entry.ticket_type for entry in paid if entry.ticket_type is not None}
        type_rows = await TicketType.select().where(TicketType.event == event["id"], TicketType.id.is_in(list(wanted_types)))
        offerable = {row["id"] for row in type_rows if _type_offerable(event, row, now)}
        paid_offers = rules.plan_paid_offers(
            paid,
            event_left=catalogue_rules.places_left(event["capacity"], event["reserved_free_places"], event["places_taken"]),
            type_left={row["id"]: None if row["quota"] is None else max(0, row["quota"] - row["places_taken"]) for row in type_rows},
            offerable=offerable,
        )
    free_offers, for_list = await _plan_free(event, now, waiting, given_back_by=given_back_by)
    types = {row["id"]: row["ticket_type"] for row in waiting}
    return _Plan(paid_offers, free_offers, types, for_list)


async def _plan_free(
    event: Mapping[str, Any], now: datetime, waiting: Sequence[Mapping[str, Any]], *, given_back_by: int | None = None
) -> tuple[list[rules.PlannedOffer], int]:
    """The free-place offers to make now, and how many free places the list may be offered."""
    free = [rules.Waiting(row["id"], None, rules.FREE_PLACE_QUANTITY, row["claim_code"]) for row in waiting if row["kind"] == WaitingKind.free]
    if not free or event["status"] not in OFFERABLE_EVENT_STATUSES[WaitingKind.free] or _expiry(event, None, now) is None:
        return [], 0
    for_list = await _free_places_for_list(event, now)
    return rules.plan_free_offers(free, available=for_list, given_back_by=given_back_by), for_list


async def _free_places_for_list(event: Mapping[str, Any], now: datetime) -> int:
    """The event's free places the free-place list may be offered: those beyond what live referral links still have
    to give (rules.free_places_for_list)."""
    available = (await sales.event_free_places(EventRow.of(event))).available
    return rules.free_places_for_list(available, await claims.unclaimed_places(event["id"], now)) if available else 0


def _type_offerable(event: Mapping[str, Any], ticket_type: Mapping[str, Any], now: datetime) -> bool:
    return (
        ticket_type["waiting_list"]
        and catalogue_rules.on_sale_online(event["status"], ticket_type["channel"], ticket_type["sales_start"], ticket_type["sales_end"], now)
        and _expiry(event, ticket_type, now) is not None
    )


def _expiry(event: Mapping[str, Any], ticket_type: Mapping[str, Any] | None, now: datetime) -> datetime | None:
    return rules.offer_expiry(
        now, starts_at=event["starts_at"], offer_hours=event["offer_hours"], sales_end=ticket_type["sales_end"] if ticket_type else None
    )


async def _waiting_entries(event_id: int) -> list[dict[str, Any]]:
    return await WaitingEntry.select(
        WaitingEntry.id, WaitingEntry.kind, WaitingEntry.ticket_type, WaitingEntry.quantity, WaitingEntry.claim_code
    ).where(WaitingEntry.event == event_id, WaitingEntry.status == WaitingStatus.waiting)


async def _held_back(event: Mapping[str, Any], now: datetime) -> sales.HeldBack:
    """What general sale and the organiser's free places must leave for the waiting lists now: the places the lists
    would be offered (nothing when the organiser lets freed places go back on sale first). Never a free place a live
    referral link still has to give: the list is not offered those."""
    if not event["waiting_list_first"]:
        return sales.HeldBack()
    waiting = await _waiting_entries(event["id"])
    if not waiting:
        return sales.HeldBack()
    plan = await _plan(event, now, waiting=waiting)
    places, by_type = rules.held_back(plan.paid, plan.types)
    return sales.HeldBack(places=places, by_type=by_type, free=sum(offer.places for offer in plan.free))


async def held_for_event(event_id: int, now: datetime) -> sales.HeldBack:
    """catalogue.sales' hook: what the event's waiting lists hold back from general sale and claim links."""
    if not await db.run(queries.ANYONE_WAITING, event_id):
        return sales.HeldBack()
    event = await Event.select().where(Event.id == event_id).first()
    return sales.HeldBack() if event is None else await _held_back(event, now)


async def offer_freed_places(event_id: int, now: datetime, *, given_back_by: int | None = None) -> int:
    """Offer the event's free places to the next people on its waiting lists, in join order; return how many offers
    were made. Offers that ran out are recorded as lapsed first (their places are free again). Safe with any number of
    workers at once: offers are made under the event's counter locks, each entry changes only from waiting, and each
    offer's message is keyed once. Inside the caller's write transaction if there is one (e.g. a guest giving a place
    back), else in its own. ``given_back_by``: the referral link a free place just given back was claimed through (its
    guests waiting are offered it first)."""
    if db.engine().current_transaction.get() is None:
        # Holds that ran out (offers among them) give their places back first, as a buyer's batch does, before the
        # counters are locked: orders, then counters.
        async with db.write_transaction():
            await orders.expire_holds_of_event(event_id, now)
    async with db.write_transaction():
        type_ids = [row["id"] for row in await TicketType.select(TicketType.id).where(TicketType.event == event_id)]
        await orders.lock_counters(event_id, type_ids)
        await _record_lapsed(event_id, now)
        event = await Event.select().where(Event.id == event_id).first()
        if event is None:
            return 0
        waiting = await _waiting_entries(event_id)
        plan = await _plan(event, now, waiting=waiting)
        made = 0
        for planned in plan.paid:
            made += await _offer(event, planned.entry_id, planned.places, now)
        if plan.free:
            # Paid offers may have taken general places a funded free place would have converted: read and plan again,
            # so the free offers never reach the places referral links still have to give.
            event = await Event.select().where(Event.id == event_id).first()
            assert event is not None
            free_offers, _ = await _plan_free(event, now, waiting, given_back_by=given_back_by)
            for planned in free_offers:
                made += await _offer(event, planned.entry_id, planned.places, now)
    return made


async def offer_to_entry(slug: str, entry_id: int, now: datetime) -> None:
    """The organiser offers places to one waiting guest by hand, ahead of the queue: as many of the places they asked
    for as are free (the list's hold-back aside; for a free place, never one a live claim link still has to give). 404 ``waiting_entry_not_found`` when the entry is not the event's;
    409 ``not_waiting`` when the guest is not waiting; 409 ``no_places`` when nothing is free."""
    event_row = await Event.select(Event.id).where(Event.slug == slug).first()
    if event_row is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    entry = await WaitingEntry.select().where(WaitingEntry.id == entry_id, WaitingEntry.event == event_row["id"]).first()
    if entry is None:
        raise _entry_not_found()
    async with db.write_transaction():
        await orders.lock_counters(event_row["id"], [entry["ticket_type"]] if entry["ticket_type"] is not None else [])
        await _record_lapsed(event_row["id"], now)
        current = await _lock_entry(entry_id)
        if current["status"] != WaitingStatus.waiting:
            raise Conflict(N_("This guest is not waiting for places."), code="not_waiting")
        event = await Event.select().where(Event.id == event_row["id"]).first()
        assert event is not None
        places = await _free_for(event, current, now)
        if places <= 0 or not await _offer(event, entry_id, places, now, by_hand=True):
            raise Conflict(N_("No places are free to offer."), code="no_places")


async def _free_for(event: Mapping[str, Any], entry: Mapping[str, Any], now: datetime) -> int:
    """How many of the places an entry wants are free now (what the organiser can offer by hand)."""
    if entry["kind"] == WaitingKind.free:
        if event["status"] not in OFFERABLE_EVENT_STATUSES[WaitingKind.free]:
            return 0
        # Ahead of the queue, but not with a place a partner's link still has to give (the organiser can give that
        # place directly instead, or revoke the link).
        return min(rules.FREE_PLACE_QUANTITY, await _free_places_for_list(event, now))
    ticket_type = await TicketType.select().where(TicketType.id == entry["ticket_type"]).first()
    if ticket_type is None or event["status"] not in OFFERABLE_EVENT_STATUSES[WaitingKind.paid] or not _type_offerable(event, ticket_type, now):
        return 0
    left = catalogue_rules.places_left(event["capacity"], event["reserved_free_places"], event["places_taken"])
    return min(entry["quantity"], catalogue_rules.ticket_type_available(left, ticket_type["quota"], ticket_type["places_taken"]))


async def _offer(event: Mapping[str, Any], entry_id: int, places: int, now: datetime, *, by_hand: bool = False) -> int:
    """Hold ``places`` for a waiting entry as a pending order, mark it offered and queue its message. Inside the
    caller's write transaction with the counters locked; 0 (nothing changed) if the entry stopped waiting or the
    places were not there after all."""
    entry = await WaitingEntry.select().where(WaitingEntry.id == entry_id, WaitingEntry.status == WaitingStatus.waiting).first()
    if entry is None:
        return 0
    kind = WaitingKind(entry["kind"])
    ticket_type = None
    if kind == WaitingKind.paid:
        ticket_type = await TicketType.select().where(TicketType.id == entry["ticket_type"]).first()
        if ticket_type is None:
            return 0
    expires = _expiry(event, ticket_type, now)
    if expires is None:
        return 0
    # The entry first, conditionally: one that left meanwhile is not offered (the update waits for its lock).
    claimed = (
        await WaitingEntry.update({WaitingEntry.status: WaitingStatus.offered, WaitingEntry.updated_at: now})
        .where(WaitingEntry.id == entry_id, WaitingEntry.status == WaitingStatus.waiting)
        .returning(WaitingEntry.id)
    )
    if not claimed:
        return 0
    holder = OfferHolder(name=entry["name"], email=entry["email"], phone=entry["phone"], locale=entry["locale"])
    if kind == WaitingKind.paid:
        assert ticket_type is not None
        order_id = await orders.hold_paid_offer(event["id"], ticket_type["id"], places, holder=holder, hold_expires_at=expires, now=now)
    else:
        order_id = await orders.hold_free_offer(event["id"], holder=holder, hold_expires_at=expires, now=now)
        places = rules.FREE_PLACE_QUANTITY
    if order_id is None:
        await WaitingEntry.update({WaitingEntry.status: WaitingStatus.waiting}).where(WaitingEntry.id == entry_id)
        return 0
    await WaitingEntry.update(
        {
            WaitingEntry.offer_order: order_id,
            WaitingEntry.offered_places: places,
            WaitingEntry.offered_at: now,
            WaitingEntry.offer_expires_at: expires,
        }
    ).where(WaitingEntry.id == entry_id)
    await _tell_offered(entry["token"], kind, order_id, places, expires, now, key=rules.offer_message_key(entry_id, order_id))
    await audit.record(
        "waiting_list.offered",
        now=now,
        event_id=event["id"],
        subject_type="waiting_entry",
        subject_id=entry_id,
        before={"status": WaitingStatus.waiting},
        after={"status": WaitingStatus.offered, "places": places, "expires_at": expires.isoformat(), "by_hand": by_hand},
    )
    return 1


async def _record_lapsed(event_id: int, now: datetime) -> int:
    """Offers whose order is no longer held (the hold sweeper ended it, or it was released) lapse: their places are
    already back in the counters. Inside the offering transaction."""
    offered = await WaitingEntry.select(WaitingEntry.id, WaitingEntry.offer_order).where(
        WaitingEntry.event == event_id, WaitingEntry.status == WaitingStatus.offered
    )
    if not offered:
        return 0
    ended = {
        row["id"]
        for row in await Order.select(Order.id).where(
            Order.id.is_in([row["offer_order"] for row in offered if row["offer_order"] is not None] or [0]), Order.status != OrderStatus.pending
        )
    }
    lapsed = [row["id"] for row in offered if row["offer_order"] is None or row["offer_order"] in ended]
    for entry_id in lapsed:
        changed = (
            await WaitingEntry.update({WaitingEntry.status: WaitingStatus.lapsed, WaitingEntry.answered_at: now, WaitingEntry.updated_at: now})
            .where(WaitingEntry.id == entry_id, WaitingEntry.status == WaitingStatus.offered)
            .returning(WaitingEntry.id)
        )
        if changed:
            await audit.record(
                "waiting_list.offer_lapsed",
                now=now,
                event_id=event_id,
                subject_type="waiting_entry",
                subject_id=entry_id,
                before={"status": WaitingStatus.offered},
                after={"status": WaitingStatus.lapsed},
            )
    return len(lapsed)


async def sweep(now: datetime) -> int:
    """The periodic job: offer freed places on every event with guests waiting or holding offers (refunds, holds and
    offers that ran out, capacity raised and newly funded free places all free places without telling the list)."""
    # Events that have started offer nothing more (an offer still held there ends with its hold).
    rows = (
        await WaitingEntry.select(WaitingEntry.event)
        .where(WaitingEntry.status.is_in(list(rules.ACTIVE_STATUSES)), WaitingEntry.event.starts_at > now)
        .distinct()
    )
    made = 0
    for row in rows:
        try:
            made += await offer_freed_places(row["event"], now)
        except db.DEADLOCK_ERRORS:
            logger.warning("Offering the freed places of event %s met a lock cycle; trying again next time", row["event"])
    return made


# The catalogue and orders (below) ask what the waiting lists hold back from general sale through catalogue.sales.
sales.register_waiting_list(held_for_event)
# The outbox (below) asks whether a guest still waits before telling them they joined.
outbox.register_still_wanted(MessageKind.waiting_list_joined, _joined_still_wanted)
