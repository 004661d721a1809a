"""Orders service: holding places atomically, marking paid orders paid, expiring holds, giving places back.

Capacity lives in two counters (Event.places_taken, TicketType.places_taken) changed only by
conditional UPDATEs inside one write transaction, always in the same order (ticket types by id,
then the event), so concurrent buyers can neither oversell nor deadlock.

Online orders are held in batches: the buyers of one event who arrive while a hold transaction is
running go together in the next one, which locks the counter rows, reads them, decides first come first
served which orders fit (orders.holds) and writes them all before one commit. A commit must reach the
disk while the counters stay locked, so one transaction per buyer would cap a sell-out at one disk
flush per sale; a batch pays one flush for all its buyers.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol

from piccolo.columns.combination import WhereRaw

from events import db
from events.batching import Combiner
from events.catalogue import rules, sales
from events.catalogue.lookup import EventRow
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, TicketType
from events.codes import rules as code_rules
from events.codes import service as codes_service
from events.codes.tables import Code
from events.errors import Conflict, EventsError, InvalidInput, NotFound, is_database_unavailable
from events.i18n import N_, SUPPORTED_LOCALES
from events.orders import codes, gift_aid, hold_guard, holds, pricing, queries, receipts
from events.orders.hold_limits import Ask, Asker
from events.orders.statuses import OrderStatus
from events.orders.tables import GiftAidDeclaration, Order, OrderGuestName, OrderHistory, OrderLine

logger = logging.getLogger("events.orders")

EXPIRE_BATCH = 200
# Buyers of one event held in one transaction at most; more wait for the next one.
HOLD_BATCH_LIMIT = 100

# The history entry of a pending order's end (its places given back), whatever ended it: its detail says why.
HOLD_ENDED = "hold_expired"
# Its detail when the buyer's own new order replaced it in the transaction that held the new places: "Change order"
# sent, or the buy form sent again from the same browser (orders.hold_guard.find_replaced). Such an order did not run
# out of time, and its pages say it was replaced.
CHANGED_BY_BUYER = "the buyer changed their order"
SENT_AGAIN_BY_BUYER = "replaced by a new hold from the same browser and buyer email"
REPLACED = frozenset({CHANGED_BY_BUYER, SENT_AGAIN_BY_BUYER})


class SoldOut(Conflict):
    code = "sold_out"


class SalesClosed(Conflict):
    code = "sales_closed"


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An order as stored."""

    id: int
    reference: str
    event: int
    status: OrderStatus
    channel: str
    buyer_name: str
    buyer_email: str
    buyer_phone: str
    locale: str
    currency: str
    tickets_pence: int
    booking_fees_pence: int
    pay_it_forward_pence: int
    donation_pence: int
    total_pence: int
    refunded_pence: int
    places: int
    payment_provider: str
    payment_intent_id: str | None
    client_secret: str = field(repr=False)  # lets the buyer's browser complete the payment: kept out of logs
    intent_closed_at: datetime | None
    hold_expires_at: datetime | None
    client_key: str | None
    created_at: datetime
    paid_at: datetime | None
    code: int | None = None  # the access or discount code it was placed with (events.codes)
    discount_pence: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> OrderRow:
        """From a row of ``Order.select()``."""
        return cls(**{column.name: row[column.name] for column in fields(cls)} | {"status": OrderStatus(row["status"])})


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    id: int
    reference: str
    event_slug: str
    currency: str
    total_pence: int
    hold_expires_at: datetime | None
    buyer_name: str
    buyer_email: str
    replaced: int | None = None  # the buyer's earlier hold this one replaced (ended in its transaction), by id


@dataclass(frozen=True, slots=True)
class DoorOrder:
    """A door sale's order: paid, its places taken, its tickets not issued yet."""

    order: PlacedOrder
    event_id: int
    places: int


@dataclass(frozen=True, slots=True)
class OrderToIssue:
    """A settled order whose tickets are to be issued: one per place on its ticket lines, to ``holder_name``.
    The confirmation goes to the order's own email address or mobile number."""

    id: int
    event: int
    holder_name: str


class Issuer(Protocol):
    """Issues a settled order's tickets and queues its confirmation, inside the caller's write transaction, and
    returns the new tickets' ids. Tickets sit above orders, so orders take it as a parameter:
    tickets.issuing.issue_and_confirm is the one the app passes."""

    def __call__(self, order: OrderToIssue, now: datetime, /) -> Awaitable[list[int]]: ...


@dataclass(frozen=True, slots=True)
class Settlement:
    """What settling a payment did: 'issued', 'late_issued', 'already_paid' or 'refund_due' (no places left)."""

    outcome: str
    reference: str


def _to_issue(order: OrderRow) -> OrderToIssue:
    return OrderToIssue(id=order.id, event=order.event, holder_name=order.buyer_name)


async def load_terms(slug: str) -> tuple[EventRow, dict[int, pricing.TypeOnSale], pricing.EventTerms]:
    """The event a guest is buying for (not a draft, nor a suspended organisation's) with its prices and terms."""
    row = await Event.select().where(Event.slug == slug, Event.organisation.suspended_at.is_null()).first()
    if row is None or row["status"] == EventStatus.draft:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    event = EventRow.of(row)
    type_rows = await TicketType.select().where(TicketType.event == event.id)
    types = {type_row["id"]: _type_on_sale(type_row) for type_row in type_rows}
    terms = _event_terms(row, await _partner_ids(event.id))
    return event, types, terms


def raise_problems(problems: pricing.Problems) -> NoReturn:
    raise _problem_error(problems) from None


def _problem_error(problems: pricing.Problems) -> EventsError:
    if problems.code == "sales_closed":
        return SalesClosed(problems.args[0], fields=problems.fields)
    if problems.code != "invalid":  # a code that cannot be used now (codes.rules.Refusal)
        return codes_service.refused(code_rules.Refusal(problems.code, problems.args[0]))
    return InvalidInput(problems.args[0], fields=problems.fields)


@dataclass(frozen=True, slots=True)
class _Wanted:
    """One buyer's order waiting for its batch (see place_order)."""

    request: pricing.Request
    now: datetime
    hold_minutes: int
    locale: str
    asker: Asker
    on_placed: OnPlaced | None = None
    code: code_rules.Code | None = None  # the code the request names, as found for the event


# What a layer above adds to an order in the transaction that places it (e.g. events.questions records the guests'
# answers): called with the new order's id once its row exists; raising rolls the order back.
OnPlaced = Callable[[int], Awaitable[None]]


async def place_order(
    slug: str,
    request: pricing.Request,
    *,
    now: datetime,
    hold_minutes: int,
    asker: Asker,
    locale: str = "en",
    on_placed: OnPlaced | None = None,
) -> PlacedOrder:
    """Hold the places and record a pending order, or raise SoldOut / SalesClosed / InvalidInput / NotFound,
    or a hold limit's error (orders.hold_guard). With ``asker.replaces``, the buyer's earlier pending hold
    on the event ends in the same transaction, if and only if the new one is placed; so does the order being changed
    (``asker.changes``, in preference; whatever name and email the form now gives: orders.hold_guard.find_replaced).

    Buyers of the same event who arrive while a hold transaction is running are held together in the
    next one (events.batching): one set of row locks and one commit for all of them, first come first
    served, each with its own answer.

    A request naming a code (``request.code``) has it looked up first, on its own: a wrong one counts against the
    buyer's budgets of wrong codes (codes.service.find_for_buyer). Its use is counted with the places, under the
    code's row lock: a buyer who finds its uses gone gets CodeUsedUp (409 ``code_used_up``)."""
    if problems := pricing.request_problems(request):
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    code = None
    if request.code is not None and request.code.strip():
        code = await codes_service.find_for_buyer(slug, request.code, codes_service.Guesser(asker.client, asker.browser), now=now)
    return await _HOLDS.submit(slug, _Wanted(request, now, hold_minutes, locale, asker, on_placed, code))


async def _hold_batch(slug: str, batch: Sequence[_Wanted]) -> Sequence[PlacedOrder | BaseException]:
    """Every buyer's answer. If the batch's transaction fails for a reason other than a deadlock (something
    in one buyer's order the database would not take), each buyer is held again on their own: the one
    whose order cannot be stored gets the error, the others their places."""
    try:
        return await _hold_together(slug, batch)
    except Exception as exc:
        if len(batch) == 1 or is_database_unavailable(exc):  # alone, each would meet the same closed door
            raise
        logger.warning("A batch of %d holds for %s failed; holding each buyer alone", len(batch), slug, exc_info=True)
    return [await _hold_alone(slug, wanted) for wanted in batch]


async def _hold_alone(slug: str, wanted: _Wanted) -> PlacedOrder | BaseException:
    try:
        [answer] = await _hold_together(slug, [wanted])
    except db.DATA_ERRORS:
        logger.warning("A hold for %s was refused by the database", slug, exc_info=True)
        return InvalidInput(N_("Some of the details of this order could not be stored; please check them and try again."))
    except Exception as exc:  # noqa: BLE001 - this buyer's failure only, handed to them
        return exc
    return answer


async def _hold_together(slug: str, batch: Sequence[_Wanted]) -> list[PlacedOrder | EventsError]:
    # Holds being replaced (see place_order): their ticket types are locked with the batch's, as they give places back.
    replaced = await hold_guard.find_replaced(
        slug,
        {
            index: hold_guard.Replacing(wanted.asker.changes, wanted.asker.replaces, wanted.request.buyer_name, wanted.request.buyer_email)
            for index, wanted in enumerate(batch)
        },
    )
    type_ids = sorted(
        {type_id for wanted in batch for type_id, _ in wanted.request.items} | {t for hold in replaced.values() for t in hold.places_by_type}
    )
    now = max(wanted.now for wanted in batch)
    partners = any(wanted.request.donation_partner for wanted in batch)
    # A look without locks first, so that once the event is full its buyers hear so without queueing on
    # the counters' locks (and without a commit). It can only turn buyers away: places are only taken
    # below, under the locks, from the counters as read there.
    look = await _on_sale(slug, type_ids, partners, now=now)
    quotes = _quote_all(batch, look)
    # The codes' uses as each buyer's look-up found them (the most left of any): the look can only turn buyers away.
    uses_seen: dict[int, int] = {}
    for wanted in batch:
        if wanted.code is not None:
            uses_seen[wanted.code.id] = max(uses_seen.get(wanted.code.id, 0), wanted.code.uses_left)
    seen, fits = _fits(quotes, replace(look.left, code_uses=uses_seen))
    if not look.overdue_holds and not any(fits) and not replaced:
        return _answers(batch, seen, fits, {}, look.event, slug)
    try:
        return await _hold_locked(slug, batch, look, quotes, type_ids, partners, now, replaced)
    except db.DEADLOCK_ERRORS:
        # E.g. an organiser's edit locking the event before its ticket types: once more, rather than turn a
        # whole batch of buyers away with an error.
        return await _hold_locked(slug, batch, look, quotes, type_ids, partners, now, replaced)


async def _hold_locked(
    slug: str,
    batch: Sequence[_Wanted],
    look: _OnSale,
    quotes: list[pricing.Quote | EventsError],
    type_ids: Sequence[int],
    partners: bool,
    now: datetime,
    replaced: Mapping[int, hold_guard.ReplacedHold],
) -> list[PlacedOrder | EventsError]:
    async with db.write_transaction():
        if look.overdue_holds:
            # Holds that ran out but the sweeper has not reached yet must not turn a buyer away. Released
            # before the counters are locked: orders, then ticket types, then the event, as the sweeper does.
            await expire_holds_of_event(look.event["id"], now)
        # The holds being replaced, locked (if still pending) before the counters too, for the same reason.
        replaced = await hold_guard.confirm_replaced(replaced, now)
        locked = await _on_sale(slug, type_ids, partners, now=now, locking=look.event["id"])
        # The codes used (and given back by replaced holds), locked after the counters: only when a buyer has one.
        code_ids = {wanted.code.id for wanted in batch if wanted.code is not None} | {hold.code for hold in replaced.values() if hold.code}
        uses = await codes_service.lock_uses(code_ids) if code_ids else {}
        if (locked.types, locked.terms) != (look.types, look.terms) or _codes_revoked(batch, uses):
            quotes = _quote_all(batch, locked, uses)  # prices, windows, status or codes changed meanwhile
        quotes, replaced = await _within_hold_limits(locked.event["id"], batch, quotes, replaced, now)
        quotes, fits = _fits(quotes, replace(locked.left, code_uses={code_id: used.left for code_id, used in uses.items()}), replaced)
        winners = [(index, batch[index], quote) for index, quote in enumerate(quotes) if isinstance(quote, pricing.Quote) and fits[index]]
        for index, _, _ in winners:
            if index in replaced:  # the buyer's earlier hold ends as this one is placed, in this transaction
                await _expire(replaced[index].order_id, now, detail=CHANGED_BY_BUYER if replaced[index].changed else SENT_AGAIN_BY_BUYER)
        ids = await _insert_pending_orders(locked.event, winners)
        places = holds.totals([quote.places_by_type for _, _, quote in winners])
        if places and not await _take_locked_places(locked.event["id"], places):
            raise RuntimeError("The counters changed under their row locks.")
        code_uses = Counter(quote.code_id for _, _, quote in winners if quote.code_id is not None)
        if code_uses and not await codes_service.take_uses(code_uses):
            raise RuntimeError("The codes' uses changed under their row locks.")
    return _answers(batch, quotes, fits, ids, locked.event, slug, {index: hold.order_id for index, hold in replaced.items() if index in ids})


def _codes_revoked(batch: Sequence[_Wanted], uses: Mapping[int, codes_service.Uses]) -> bool:
    """Whether a code a buyer found was revoked since (read under its lock)."""
    return any(wanted.code is not None and wanted.code.id in uses and uses[wanted.code.id].revoked_at != wanted.code.revoked_at for wanted in batch)


@dataclass(frozen=True, slots=True)
class _OnSale:
    event: Mapping[str, Any]
    types: dict[int, pricing.TypeOnSale]
    terms: pricing.EventTerms
    left: holds.PlacesLeft
    overdue_holds: bool  # pending orders of the event whose hold has run out (the look without locks only)


async def _on_sale(slug: str, type_ids: Sequence[int], with_partners: bool, *, now: datetime, locking: int | None = None) -> _OnSale:
    """The event, the asked-for ticket types and the sales terms, with the counters, read fresh. With
    ``locking`` (the event's id), inside a write transaction: the counter rows stay locked until it ends,
    ticket types by id first, then the event, as take_places locks them."""
    if db.is_sqlite():
        # No row locks: SQLite's IMMEDIATE transaction already holds the only write lock.
        event = (
            await Event.select()
            .where(Event.slug == slug if locking is None else Event.id == locking, Event.organisation.suspended_at.is_null())
            .first()
        )
        type_rows: Sequence[Mapping[str, Any]] = []
        if event is not None and type_ids:
            type_rows = await TicketType.select().where(TicketType.event == event["id"], TicketType.id.is_in(list(type_ids)))
        if event is not None and locking is None:
            event["overdue_holds"] = await Order.exists().where(
                Order.event == event["id"], Order.status == OrderStatus.pending, Order.hold_expires_at < now
            )
        row: Mapping[str, Any] | None = event
    elif locking is None:
        row = next(iter(await db.run(queries.EVENT_ON_SALE, now, slug)), None)
        type_rows = await db.run(queries.TYPES_ON_SALE, row["id"], list(type_ids)) if row is not None and type_ids else []
    else:
        type_rows = await db.run(queries.LOCK_TYPES_ON_SALE, locking, list(type_ids)) if type_ids else []
        row = next(iter(await db.run(queries.LOCK_EVENT_ON_SALE, locking)), None)
    if row is None or row["status"] == EventStatus.draft:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    terms = _event_terms(row, await _partner_ids(row["id"]) if with_partners else {})
    # Places the waiting list is about to be offered are not for general sale (catalogue.sales.HeldBack); read
    # under the same locks as the counters when ``locking``, as the list's offers take them.
    held = await sales.held_for_waiting_list(row["id"], now)
    left = holds.PlacesLeft(
        event=max(0, rules.places_left(row["capacity"], row["reserved_free_places"], row["places_taken"]) - held.places),
        by_type={t["id"]: None if t["quota"] is None else max(0, t["quota"] - t["places_taken"] - held.by_type.get(t["id"], 0)) for t in type_rows},
    )
    overdue = locking is None and bool(row["overdue_holds"])
    return _OnSale(row, {t["id"]: _type_on_sale(t) for t in type_rows}, terms, left, overdue)


async def _take_locked_places(event_id: int, per_type: Mapping[int, int]) -> bool:
    if db.is_sqlite():  # no arrays: one conditional update per counter
        return await take_places(event_id, per_type)
    type_ids = sorted(per_type)
    places = sum(per_type.values())
    [row] = await db.run(queries.TAKE_LOCKED_PLACES, type_ids, [per_type[t] for t in type_ids], event_id, places, event_id, places)
    return row["types"] == len(type_ids) and row["events"] == 1


def _quote_all(batch: Sequence[_Wanted], on_sale: _OnSale, uses: Mapping[int, codes_service.Uses] | None = None) -> list[pricing.Quote | EventsError]:
    """Each buyer's quote, or what is wrong with their request. ``uses``: the codes as read under their locks."""
    quotes: list[pricing.Quote | EventsError] = []
    for wanted in batch:
        code = wanted.code
        if code is not None and uses and code.id in uses:
            code = replace(code, uses=uses[code.id].uses, max_uses=uses[code.id].max_uses, revoked_at=uses[code.id].revoked_at)
        try:
            quotes.append(pricing.quote_online_order(on_sale.types, on_sale.terms, wanted.request, wanted.now, code))
        except pricing.Problems as problems:
            quotes.append(_problem_error(problems))
    return quotes


def _fits(
    quotes: Sequence[pricing.Quote | EventsError], left: holds.PlacesLeft, replaced: Mapping[int, hold_guard.ReplacedHold] | None = None
) -> tuple[list[pricing.Quote | EventsError], list[bool]]:
    """Whether each quoted order fits in the places and the codes' uses left, in arrival order (False for refused
    requests), with the quotes of those refused for their code's uses turned into that refusal. An order replacing
    an earlier hold needs only the places (and code uses) beyond those the earlier hold gives back."""
    replaced = replaced or {}
    positions = [index for index, quote in enumerate(quotes) if isinstance(quote, pricing.Quote)]
    wanted: list[Mapping[int, int]] = []
    code_uses: list[Mapping[int, int]] = []
    for index in positions:
        quote = quotes[index]
        assert isinstance(quote, pricing.Quote)
        hold = replaced.get(index)
        wanted.append(_less(quote.places_by_type, hold.places_by_type) if hold else quote.places_by_type)
        uses = {quote.code_id: 1} if quote.code_id is not None else {}
        code_uses.append(_less(uses, {hold.code: 1}) if hold and hold.code else uses)
    outcomes = dict(zip(positions, holds.fit_each_in_turn(left, wanted, code_uses), strict=True))
    checked = [
        codes_service.refused(code_rules.USED_UP) if outcomes.get(index) == holds.Fit.code_used_up else quote for index, quote in enumerate(quotes)
    ]
    return checked, [outcomes.get(index) == holds.Fit.fits for index in range(len(quotes))]


def _less(wanted: Mapping[int, int], given_back: Mapping[int, int]) -> dict[int, int]:
    """Places per ticket type wanted, less those given back (negative where more come back than are wanted)."""
    return {type_id: wanted.get(type_id, 0) - given_back.get(type_id, 0) for type_id in {*wanted, *given_back}}


async def _within_hold_limits(
    event_id: int,
    batch: Sequence[_Wanted],
    quotes: Sequence[pricing.Quote | EventsError],
    replaced: Mapping[int, hold_guard.ReplacedHold],
    now: datetime,
) -> tuple[list[pricing.Quote | EventsError], dict[int, hold_guard.ReplacedHold]]:
    """Under the event's locks: each buyer's quote, or the hold limit it breaks (orders.hold_guard); and the
    replaced holds (confirmed still pending), for the buyers still in."""
    asks = [
        Ask(wanted.request.buyer_email, wanted.asker.client, quote.places, wanted.hold_minutes * 60, wanted.asker.limits)
        if isinstance(quote, pricing.Quote)
        else None
        for wanted, quote in zip(batch, quotes, strict=True)
    ]
    refusals = await hold_guard.refusals(event_id, asks, [hold.order_id for hold in replaced.values()], now=now)
    checked = [quote if refusal is None else refusal for quote, refusal in zip(quotes, refusals, strict=True)]
    return checked, {index: hold for index, hold in replaced.items() if isinstance(checked[index], pricing.Quote)}


def _answers(
    batch: Sequence[_Wanted],
    quotes: Sequence[pricing.Quote | EventsError],
    fits: Sequence[bool],
    ids: Mapping[int, tuple[int, str]],
    event: Mapping[str, Any],
    slug: str,
    replaced: Mapping[int, int] | None = None,
) -> list[PlacedOrder | EventsError]:
    """Each buyer's answer: their order (``ids``: position in the batch -> order id and reference), what
    is wrong with their request, or sold out. ``replaced``: position -> the id of the earlier hold it ended."""
    replaced = replaced or {}
    answers: list[PlacedOrder | EventsError] = []
    for index, (wanted, quote) in enumerate(zip(batch, quotes, strict=True)):
        if not isinstance(quote, pricing.Quote):
            answers.append(quote)
        elif not fits[index] or index not in ids:
            answers.append(SoldOut(N_("Sorry, there are not enough places left for this order.")))
        else:
            order_id, reference = ids[index]
            answers.append(
                PlacedOrder(
                    id=order_id,
                    reference=reference,
                    event_slug=slug,
                    currency=event["currency"],
                    total_pence=quote.total_pence,
                    hold_expires_at=_hold_end(wanted),
                    buyer_name=wanted.request.buyer_name.strip(),
                    buyer_email=wanted.request.buyer_email.strip(),
                    replaced=replaced.get(index),
                )
            )
    return answers


def _hold_end(wanted: _Wanted) -> datetime:
    return wanted.now + timedelta(minutes=wanted.hold_minutes)


async def _partner_ids(event_id: int) -> dict[str, int]:
    """The event's beneficiary partners by slug (a designated donation names one)."""
    shares = await BeneficiaryShare.select(BeneficiaryShare.partner, BeneficiaryShare.partner.slug).where(BeneficiaryShare.event == event_id)
    return {share["partner.slug"]: share["partner"] for share in shares}


def _event_terms(row: Mapping[str, Any], partner_ids: dict[str, int]) -> pricing.EventTerms:
    return pricing.EventTerms(
        status=EventStatus(row["status"]),
        booking_fee_pence=row["booking_fee_pence"],
        pay_it_forward_place_pence=row["pay_it_forward_place_pence"],
        partner_ids=partner_ids,
        currency=row["currency"],
    )


def _type_on_sale(row: Mapping[str, Any]) -> pricing.TypeOnSale:
    return pricing.TypeOnSale(
        id=row["id"],
        name=row["name"],
        price_pence=row["price_pence"],
        channel=row["channel"],
        sales_start=row["sales_start"],
        sales_end=row["sales_end"],
        max_per_order=row["max_per_order"],
        hidden=row["hidden"],
    )


async def _insert_pending_orders(event: Mapping[str, Any], winners: Sequence[tuple[int, _Wanted, pricing.Quote]]) -> dict[int, tuple[int, str]]:
    """Pending orders with their lines, history and Gift Aid declarations, for (position, buyer, quote)s.
    Returns position -> (order id, reference). References are inserted ON CONFLICT DO NOTHING and
    drawn again in the rare case one was taken."""
    ids: dict[int, tuple[int, str]] = {}
    todo = list(winners)
    for _ in range(5):
        if not todo:
            break
        drawn = {codes.new_order_reference(): winner for winner in todo}
        rows = [
            (
                reference,
                event["id"],
                wanted.request.buyer_name.strip(),
                wanted.request.buyer_email.strip(),
                wanted.locale,
                event["currency"],
                quote.tickets_pence,
                quote.booking_fees_pence,
                quote.pay_it_forward_pence,
                quote.donation_pence,
                quote.total_pence,
                quote.places,
                _hold_end(wanted),
                wanted.now,
                wanted.asker.client,
                quote.code_id,
                quote.discount_pence,
            )
            for reference, (_, wanted, quote) in drawn.items()
        ]
        for order_id, reference in await _insert_order_rows(rows):
            ids[drawn[reference][0]] = (order_id, reference)
        todo = [winner for winner in todo if winner[0] not in ids]
    if todo:
        raise RuntimeError("Could not draw an unused order reference.")
    placed = [(ids[index][0], wanted, quote) for index, wanted, quote in winners]
    await _insert_line_rows([_line_values(order_id, line) for order_id, _, quote in placed for line in quote.lines])
    await _insert_history_rows(
        [
            (order_id, "created", f"{quote.places} places held until {_hold_end(wanted).isoformat()}{_with_code(wanted)}", wanted.now)
            for order_id, wanted, quote in placed
        ]
    )
    await _insert_guest_names(
        [
            OrderGuestName(order_id=order_id, position=position, name=name)
            for order_id, wanted, _ in placed
            for position, name in pricing.guest_names_by_position(wanted.request.guest_names).items()
        ]
    )
    for order_id, wanted, quote in placed:
        if wanted.request.gift_aid is not None:
            await _record_declaration(order_id, wanted.request.gift_aid, lines=quote.lines, currency=event["currency"], now=wanted.now)
        if wanted.on_placed is not None:
            await wanted.on_placed(order_id)
    return ids


async def _insert_guest_names(rows: Sequence[OrderGuestName]) -> None:
    if rows:
        await OrderGuestName.insert(*rows)


async def guest_names(order_id: int) -> dict[int, str]:
    """The guests the buyer named for the order's tickets, by ticket position (tickets.issuing puts them on the
    tickets; a position with none is the buyer's)."""
    return {row["position"]: row["name"] for row in await db.run(queries.GUEST_NAMES, order_id)}


async def forget_guest_names(order_id: int) -> None:
    """Once the tickets carry the names, the order keeps no copy of them. Inside the caller's transaction."""
    await OrderGuestName.delete().where(OrderGuestName.order_id == order_id)


def _with_code(wanted: _Wanted) -> str:
    return f" with the code {wanted.code.code}" if wanted.code is not None else ""


# A batch's rows go to PostgreSQL as one array per column, in one statement (queries.INSERT_*); SQLite has no
# arrays, so there they go through the query builder.
async def _insert_order_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, str]]:
    """Pending online orders (values in queries.ORDER_COLUMNS order); returns (id, reference) of those inserted."""
    if db.is_sqlite():
        orders = [Order(status=OrderStatus.pending, channel="online", **dict(zip(queries.ORDER_COLUMNS, row, strict=True))) for row in rows]
        inserted = await Order.insert(*orders).on_conflict(target=Order.reference, action="DO NOTHING").returning(Order.id, Order.reference)
        return [(row["id"], row["reference"]) for row in inserted]
    return [(row["id"], row["reference"]) for row in await db.run(queries.INSERT_PENDING_ORDERS, *_columns(rows, len(queries.ORDER_COLUMNS)))]


async def _insert_line_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if db.is_sqlite():
        await OrderLine.insert(*[OrderLine(**dict(zip(queries.LINE_COLUMNS, row, strict=True))) for row in rows])
    else:
        await db.run(queries.INSERT_ORDER_LINES, *_columns(rows, len(queries.LINE_COLUMNS)))


async def _insert_history_rows(rows: Sequence[tuple[int, str, str, datetime]]) -> None:
    if not rows:
        return
    if db.is_sqlite():
        await OrderHistory.insert(*[OrderHistory(order_id=o, kind=k, detail=d, created_at=t) for o, k, d, t in rows])
    else:
        await db.run(queries.INSERT_ORDER_HISTORY, *_columns(rows, 4))


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=False)] if rows else [[] for _ in range(width)]


_HOLDS: Combiner[_Wanted, PlacedOrder] = Combiner(_hold_batch, limit=HOLD_BATCH_LIMIT)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class _PaymentStart:
    order_id: int
    provider: str
    intent_id: str
    client_secret: str


async def record_payment_start(order_id: int, *, provider: str, intent_id: str, client_secret: str) -> None:
    """Note on a pending order how its payment was started. Orders started at the same moment share one
    transaction (and one commit), as their holds did."""
    await _PAYMENT_STARTS.submit(None, _PaymentStart(order_id, provider, intent_id, client_secret))


async def _record_payment_starts(_: object, starts: Sequence[_PaymentStart]) -> list[None]:
    if db.is_sqlite():  # no arrays: one update per order, in one transaction
        async with db.write_transaction():
            for start in starts:
                await Order.update(
                    {Order.payment_intent_id: start.intent_id, Order.client_secret: start.client_secret, Order.payment_provider: start.provider}
                ).where(Order.id == start.order_id)
    else:
        # One statement is atomic by itself: no BEGIN and COMMIT round trips around it.
        await db.run(
            queries.RECORD_PAYMENT_STARTS,
            [start.order_id for start in starts],
            [start.intent_id for start in starts],
            [start.client_secret for start in starts],
            [start.provider for start in starts],
        )
    return [None] * len(starts)


_PAYMENT_STARTS: Combiner[_PaymentStart, None] = Combiner(_record_payment_starts, limit=HOLD_BATCH_LIMIT)


async def open_door_order(
    slug: str, items: Sequence[tuple[int, int]], *, buyer_name: str, buyer_email: str, payment_method: str, now: datetime
) -> DoorOrder:
    """A paid door order for door-price tickets, its places taken. Inside the door sale's write transaction
    (door_sales.service), which issues its tickets and books its payment."""
    event, types, _ = await load_terms(slug)
    try:
        quote = pricing.quote_door_sale(types, items, event.status)
    except pricing.Problems as quote_problems:
        raise_problems(quote_problems)
    problems = pricing.buyer_problems(buyer_name or "Door guest", buyer_email, email_required=False)
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    order_id, reference = await _insert_order(
        event,
        quote,
        status=OrderStatus.paid,
        channel="door",
        buyer_name=buyer_name.strip(),
        buyer_email=buyer_email.strip(),
        locale="en",
        hold_expires_at=None,
        now=now,
        payment_provider=payment_method,
    )
    if not await take_places(event.id, quote.places_by_type):
        raise SoldOut(N_("Sorry, the event is full."))
    placed = PlacedOrder(
        id=order_id,
        reference=reference,
        event_slug=slug,
        currency=event.currency,
        total_pence=quote.total_pence,
        hold_expires_at=None,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
    )
    return DoorOrder(placed, event.id, quote.places)


async def _record_declaration(
    order_id: int, declaration: gift_aid.Declaration, *, lines: Iterable[gift_aid.PricedLine], currency: str, now: datetime
) -> None:
    """Keep a checked declaration with the order whose ``lines`` it covers. Call inside the order's write transaction."""
    clean = gift_aid.normalised(declaration)
    await GiftAidDeclaration.insert(
        GiftAidDeclaration(
            order_id=order_id,
            title=clean.title,
            first_name=clean.first_name,
            last_name=clean.last_name,
            house=clean.house,
            postcode=clean.postcode,
            eligible_pence=gift_aid.eligible_pence(lines),
            currency=currency,
            statement=gift_aid.CONFIRMATION_STATEMENT,
            created_at=now,
        )
    )


async def settle_paid_order(order_id: int, now: datetime, *, issue: Issuer) -> Settlement:
    """Mark a paid order paid, and ``issue`` its tickets (tickets.issuing.settle_paid_order passes it). Call
    inside a write transaction, after the payment row is booked.

    Pending (hold still counted): issue. Expired (hold released): take the places again if any are
    left and issue, else mark refund_due. Already paid or refunded: nothing more.

    The order is read under its row lock, so the branch taken is the order's status as committed: a hold
    being expired (the sweeper) or replaced (the buyer's new hold) in another transaction is waited for,
    then found expired. Read without the lock, the payment could see it pending, fail to move it to paid
    (it was expired meanwhile), and leave it expired with the money and no tickets.
    """
    order = await _lock_order_by_id(order_id)
    if order.status == OrderStatus.pending and await _transition(order_id, OrderStatus.pending, OrderStatus.paid, now):
        await issue(_to_issue(order), now)
        await _note(order_id, "paid", "", now)
        return Settlement("issued", order.reference)
    if order.status == OrderStatus.expired:
        per_type = await places_by_type(order_id)
        if await _take_again(order, per_type) and await _transition(order_id, OrderStatus.expired, OrderStatus.paid, now):
            await issue(_to_issue(order), now)
            await _note(order_id, "late_payment_issued", "Paid after the hold ran out; places were still free.", now)
            return Settlement("late_issued", order.reference)
        await _transition(order_id, OrderStatus.expired, OrderStatus.refund_due, now)
        await _note(order_id, "late_payment_refund_due", "Paid after the hold ran out and the event had filled up.", now)
        return Settlement("refund_due", order.reference)
    return Settlement("already_paid" if order.status == OrderStatus.paid else order.status, order.reference)


async def _take_again(order: OrderRow, per_type: Mapping[int, int]) -> bool:
    """An expired order paid late takes its places again, and its code's use (the code's uses are counted as places
    are: when they went to other buyers meanwhile, the payment is refunded). All or nothing."""
    if not await take_places(order.event, per_type):
        return False
    if order.code is not None and not await codes_service.take_uses({order.code: 1}):
        await release_places(order.event, per_type)
        return False
    return True


async def expire_holds(now: datetime, limit: int = EXPIRE_BATCH) -> int:
    """Release the places of pending orders whose hold has run out (the periodic sweeper)."""
    rows = (
        await Order.select(Order.id)
        .where(Order.status == OrderStatus.pending, Order.hold_expires_at < now)
        .order_by(Order.hold_expires_at)
        .limit(limit)
    )
    expired = 0
    for row in rows:
        async with db.write_transaction():
            expired += await _expire(row["id"], now)
    return expired


async def expire_holds_of_event(event_id: int, now: datetime) -> int:
    """Release one event's overdue holds inside the caller's transaction."""
    rows = await Order.select(Order.id).where(Order.event == event_id, Order.status == OrderStatus.pending, Order.hold_expires_at < now)
    return sum([await _expire(row["id"], now) for row in rows])


async def release_event_holds(event_id: int, now: datetime, *, reason: str) -> int:
    """Release every hold of one event at once, overdue or not (the event was cancelled). Inside the
    caller's transaction; a payment that arrives later finds no places and is refunded."""
    rows = await Order.select(Order.id).where(Order.event == event_id, Order.status == OrderStatus.pending)
    return sum([await _expire(row["id"], now, detail=reason) for row in rows])


async def release_hold(order_id: int, now: datetime, *, reason: str, restore: int | None = None) -> bool:
    """Give a pending order's places back at once (e.g. the payment could not even start). With ``restore`` (the
    id of the buyer's earlier hold this one replaced: PlacedOrder.replaced), that hold is put back as it was in the
    same transaction: pending again, with its own places, its code's use and its own end (its PaymentIntent was
    not closed, so its payment page still takes the payment). Not if it was paid meanwhile (settled late), or if
    its places went to other buyers meanwhile: then it stays ended. Returns whether it was put back."""
    async with db.write_transaction():
        # Both orders locked before the counters: orders, then ticket types, then the event, as everywhere.
        earlier = await _lock_order_by_id(restore) if restore is not None else None
        await _expire(order_id, now, detail=reason)
        if earlier is None or earlier.status != OrderStatus.expired or earlier.intent_closed_at is not None:
            return False
        if not await _take_again(earlier, await places_by_type(earlier.id)):
            return False
        await _transition(earlier.id, OrderStatus.expired, OrderStatus.pending, now)
        await _note(earlier.id, "hold_restored", f"its replacement could not start its payment ({reason})", now)
        return True


ONLINE_CHANNEL = "online"


@dataclass(frozen=True, slots=True)
class OrderChoices:
    """What a buyer chose for an order, to fill the event page's buy form in again (orders.forms.choices_form).
    ``status``: the order's (pending: the form sent again replaces it; expired: it holds nothing; paid: nothing to
    change)."""

    reference: str
    event_slug: str
    status: OrderStatus
    places: int
    items: Mapping[int, int]
    pay_it_forward_places: int
    donation_pence: int
    donation_partner: str | None
    buyer_name: str
    buyer_email: str
    code: str | None
    gift_aid: gift_aid.Declaration | None
    guest_names: Sequence[str]


async def order_choices(reference: str) -> OrderChoices:
    """The buyer's "Change order" on the payment page: the online order's choices, to fill the buy form in again.
    Nothing changes yet. A pending order keeps its hold, and its payment page keeps taking the payment, until the
    changed order is placed: that replaces it in the transaction that holds the new places (place_order with
    ``asker.changes``), and puts it back if the new one's payment cannot start (release_hold's ``restore``). So the
    change and the new checkout happen together or not at all, and a buyer who leaves the form, or whose new order
    is refused, still has the order they had. ``status``: pending (the form replaces it), expired (it ran out or was
    replaced: the form places a new order) or paid (nothing to change)."""
    order = await find_order(reference)
    if order.channel != ONLINE_CHANNEL:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return await _choices_of(order, order.status)


async def places_of_changed_order(reference: str, event_slug: str) -> dict[int, int]:
    """The places per ticket type an order being changed holds (none unless it is a pending online order of that
    event): the changed form's page counts them as the guest's to choose again, as place_order lets the changed order
    reuse them (``asker.changes``)."""
    order = (
        await Order.select(Order.id)
        .where(
            Order.reference == codes.normalise_reference(reference),
            Order.event.slug == event_slug,
            Order.status == OrderStatus.pending,
            Order.channel == ONLINE_CHANNEL,
        )
        .first()
    )
    return await places_by_type(order["id"]) if order is not None else {}


def may_change(order: OrderRow) -> bool:
    """Was the order placed from the event page's form (or the orders API), so that "Change order" can take it back there?"""
    return order.channel == ONLINE_CHANNEL


async def _choices_of(order: OrderRow, status: OrderStatus) -> OrderChoices:
    lines = await OrderLine.select(
        OrderLine.kind, OrderLine.ticket_type, OrderLine.quantity, OrderLine.unit_price_pence, OrderLine.partner.slug
    ).where(OrderLine.order_id == order.id)
    event = await Event.select(Event.slug, Event.pay_it_forward_place_pence).where(Event.id == order.event).first()
    assert event is not None
    items: Counter[int] = Counter()
    pay_it_forward_places = 0
    partner: str | None = None
    for line in lines:
        if line["kind"] == "ticket":
            items[line["ticket_type"]] += line["quantity"]
        elif line["kind"] == "pay_it_forward" and line["unit_price_pence"] == event["pay_it_forward_place_pence"]:
            pay_it_forward_places += line["quantity"]  # places (an amount of the API's own is not a form's choice)
        elif line["kind"] == "donation":
            partner = line["partner.slug"]
    code = await Code.select(Code.code).where(Code.id == order.code).first() if order.code is not None else None
    declaration = await GiftAidDeclaration.select().where(GiftAidDeclaration.order_id == order.id).first()
    names = await OrderGuestName.select(OrderGuestName.position, OrderGuestName.name).where(OrderGuestName.order_id == order.id)
    by_position = {row["position"]: row["name"] for row in names}
    return OrderChoices(
        reference=order.reference,
        event_slug=event["slug"],
        status=status,
        places=order.places,
        items=dict(items),
        pay_it_forward_places=pay_it_forward_places,
        donation_pence=order.donation_pence,
        donation_partner=partner,
        buyer_name=order.buyer_name,
        buyer_email=order.buyer_email,
        code=code["code"] if code is not None else None,
        gift_aid=None
        if declaration is None
        else gift_aid.Declaration(
            title=declaration["title"],
            first_name=declaration["first_name"],
            last_name=declaration["last_name"],
            house=declaration["house"],
            postcode=declaration["postcode"],
            confirmed=True,
        ),
        guest_names=[by_position.get(position, "") for position in range(max(by_position, default=-1) + 1)],
    )


async def _expire(order_id: int, now: datetime, *, detail: str = "") -> int:
    if not await _transition(order_id, OrderStatus.pending, OrderStatus.expired, now):
        return 0
    order = await Order.select(Order.event, Order.channel, Order.payment_provider, Order.code).where(Order.id == order_id).first()
    assert order is not None
    if is_free_offer(order["channel"], order["payment_provider"]):
        await release_free_place(order["event"])  # an unanswered offer of a free place gives back a free place
    else:
        await release_places(order["event"], await places_by_type(order_id))
    if order["code"] is not None:
        await codes_service.free_uses({order["code"]: 1})  # after the counters: codes come last in every writer's order
    await _note(order_id, HOLD_ENDED, detail, now)
    return 1


def was_replaced(status: str, hold_ended: str | None) -> bool:
    """Whether an order ended because the buyer's new order replaced it: expired, and the last end of its hold (the
    detail of its latest HOLD_ENDED entry; None without one) says so. A replaced hold put back (release_hold's
    ``restore``) and then run out or paid late is judged by what happened last."""
    return status == OrderStatus.expired and hold_ended in REPLACED


def replaced_where() -> WhereRaw:
    """Orders the buyer's new order replaced (was_replaced), as a condition on ticket_order: expired, with the detail
    of its latest HOLD_ENDED entry one of REPLACED (the back office's "replaced" filter)."""
    return WhereRaw(queries.REPLACED_ORDER, OrderStatus.expired.value, HOLD_ENDED, *sorted(REPLACED))


async def replaced_orders(orders: Mapping[int, str]) -> set[int]:
    """Of these orders (id -> status), the ones the buyer's new order replaced (was_replaced)."""
    expired = [order_id for order_id, status in orders.items() if status == OrderStatus.expired]
    if not expired:
        return set()
    ended: dict[int, str] = {}
    rows = (
        await OrderHistory.select(OrderHistory.order_id, OrderHistory.detail)
        .where(OrderHistory.order_id.is_in(expired), OrderHistory.kind == HOLD_ENDED)
        .order_by(OrderHistory.id)
    )
    for row in rows:
        ended[row["order_id"]] = row["detail"]  # the latest wins
    return {order_id for order_id in expired if was_replaced(orders[order_id], ended.get(order_id))}


# --- waiting-list offers (events.waitlist makes them; orders hold their places) -------------------------------------

# An offer's order: pending, holding the offered places until the offer runs out (its hold), so no other buyer can
# take them and the hold sweeper ends it when it is not taken up.
WAITLIST_CHANNEL = "waitlist"
# A free place's offer is an order with nothing to pay from the start (provider "none", as a claimed place's): that
# is what tells its expiry to give back a free place rather than general places. Taken up, it becomes a claimed
# free place (channel "claim"), counted as one everywhere.
FREE_OFFER_PROVIDER = "none"
FREE_PLACE_CHANNEL = "claim"


def is_free_offer(channel: str, payment_provider: str) -> bool:
    return channel == WAITLIST_CHANNEL and payment_provider == FREE_OFFER_PROVIDER


@dataclass(frozen=True, slots=True)
class OfferHolder:
    """The waiting guest an offer's order is for: its confirmation and messages go to their email, else their mobile."""

    name: str
    email: str
    phone: str
    locale: str


async def lock_counters(event_id: int, type_ids: Collection[int]) -> None:
    """Lock an event's counter rows until the caller's write transaction ends, in the order every writer takes them
    (ticket types by id, then the event). SQLite: nothing to lock (the IMMEDIATE transaction is the only lock)."""
    if db.is_sqlite():
        return
    if type_ids:
        await db.run(queries.LOCK_TYPES_ON_SALE, event_id, sorted(type_ids))
    await db.run(queries.LOCK_EVENT_ON_SALE, event_id)


async def hold_paid_offer(
    event_id: int, ticket_type_id: int, places: int, *, holder: OfferHolder, hold_expires_at: datetime, now: datetime
) -> int | None:
    """A pending order (channel waitlist) holding ``places`` of a ticket type for a waiting guest until
    ``hold_expires_at``, priced as online. Inside the caller's write transaction, with the counters locked
    (lock_counters). None, with nothing changed, when the places are not free."""
    event_row = await Event.select().where(Event.id == event_id).first()
    type_row = await TicketType.select().where(TicketType.id == ticket_type_id, TicketType.event == event_id).first()
    if event_row is None or type_row is None or places < 1:
        return None
    quote = pricing.quote_offer(_type_on_sale(type_row), _event_terms(event_row, {}), places)
    if not await take_places(event_id, quote.places_by_type):
        return None
    order_id, _ = await _insert_order(
        EventRow.of(event_row),
        quote,
        status=OrderStatus.pending,
        channel=WAITLIST_CHANNEL,
        buyer_name=holder.name,
        buyer_email=holder.email,
        buyer_phone=holder.phone,
        locale=holder.locale,
        hold_expires_at=hold_expires_at,
        now=now,
    )
    await _note(order_id, "created", f"{places} places offered from the waiting list until {hold_expires_at.isoformat()}", now)
    return order_id


async def hold_free_offer(event_id: int, *, holder: OfferHolder, hold_expires_at: datetime, now: datetime) -> int | None:
    """A pending order (channel waitlist, nothing to pay) holding one free place for a waiting guest until
    ``hold_expires_at``, taken as a claim takes it. Inside the caller's write transaction with the event locked. None,
    with nothing changed, when no free place is left."""
    event_row = await Event.select().where(Event.id == event_id).first()
    if event_row is None:
        return None
    event = EventRow.of(event_row)
    ticket_type = await free_place_type(event_id)
    if ticket_type is None or not await take_free_place(event):
        return None
    line = pricing.Line("ticket", ticket_type["name"], 1, 0, 0, ticket_type_id=ticket_type["id"])
    order_id, _ = await _insert_order(
        event,
        pricing.Quote((line,), {ticket_type["id"]: 1}),
        status=OrderStatus.pending,
        channel=WAITLIST_CHANNEL,
        buyer_name=holder.name,
        buyer_email=holder.email,
        buyer_phone=holder.phone,
        locale=holder.locale,
        hold_expires_at=hold_expires_at,
        now=now,
        payment_provider=FREE_OFFER_PROVIDER,
    )
    await _note(order_id, "created", f"A free place offered from the waiting list until {hold_expires_at.isoformat()}", now)
    return order_id


async def free_place_type(event_id: int) -> dict[str, Any] | None:
    """The ticket type a free place is issued as (its id and name): the event's first that is not hidden (sold only
    with an access code), so that nothing tells a free ticket from a bought one. None when the event has no such
    ticket type."""
    return (
        await TicketType.select(TicketType.id, TicketType.name)
        .where(TicketType.event == event_id, TicketType.hidden.eq(False))
        .order_by(TicketType.position)
        .order_by(TicketType.id)
        .first()
    )


async def take_free_place(event: EventRow) -> bool:
    """Count one free place as claimed: a reserved one, else (where the organiser lets funded places convert
    general ones) a funded place beyond them. Inside a write transaction; False, with nothing changed, when none is
    left."""
    if await db.run(queries.TAKE_RESERVED_PLACE, event.id):
        return True
    extra = (await sales.event_free_places(event)).funded - event.reserved_free_places
    return extra > 0 and bool(await db.run(queries.TAKE_CONVERTED_PLACE, event.id, extra))


async def release_free_place(event_id: int) -> bool:
    """Give one claimed free place back (the inverse of take_free_place). Inside a write transaction, with the
    counters locked (lock_counters). False if no free place was claimed."""
    return bool(await db.run(queries.RELEASE_FREE_PLACE, event_id))


async def take_up_paid_offer(order_id: int, places: int, *, hold_until: datetime, now: datetime) -> PlacedOrder:
    """A waiting guest takes ``places`` of the places their offer's order holds: the order keeps that many (the rest
    given back to the counters, for the next person), repriced, and its hold becomes a checkout hold until
    ``hold_until``. Inside the caller's write transaction, with the order and the counters locked; the order is
    pending and holds at least ``places``."""
    order = await _lock_order_by_id(order_id)
    [line] = await OrderLine.select().where(OrderLine.order_id == order_id, OrderLine.kind == "ticket")
    if order.status != OrderStatus.pending or not 1 <= places <= line["quantity"]:
        raise RuntimeError("Only a pending offer's order can be taken up, for at most the places it holds.")
    given_back = line["quantity"] - places
    if given_back:
        await release_places(order.event, {line["ticket_type"]: given_back})
        await OrderLine.update(
            {OrderLine.quantity: places, OrderLine.total_pence: places * (line["unit_price_pence"] + line["booking_fee_pence"])}
        ).where(OrderLine.id == line["id"])
    tickets_pence = places * line["unit_price_pence"]
    booking_fees_pence = places * line["booking_fee_pence"]
    await Order.update(
        {
            Order.places: places,
            Order.tickets_pence: tickets_pence,
            Order.booking_fees_pence: booking_fees_pence,
            Order.total_pence: tickets_pence + booking_fees_pence,
            Order.hold_expires_at: hold_until,
        }
    ).where(Order.id == order_id)
    await _note(order_id, "offer_taken_up", f"{places} of {line['quantity']} places taken; held until {hold_until.isoformat()}", now)
    slug = await Event.select(Event.slug).where(Event.id == order.event).first()
    assert slug is not None
    return PlacedOrder(
        id=order_id,
        reference=order.reference,
        event_slug=slug["slug"],
        currency=order.currency,
        total_pence=tickets_pence + booking_fees_pence,
        hold_expires_at=hold_until,
        buyer_name=order.buyer_name,
        buyer_email=order.buyer_email,
    )


async def reopen_paid_offer(order_id: int, hold_until: datetime, now: datetime) -> int | None:
    """A taken-up offer whose payment could not start is an offer again: its order, still pending (its places were
    never given back), holds them until ``hold_until`` (the offer's own expiry) instead of a checkout hold. Inside the
    caller's write transaction; the order is locked here (first: orders come before everything else). The places it
    holds, or None, with nothing changed, when it no longer holds any (it ran out or was paid meanwhile)."""
    order = await _lock_order_by_id(order_id)
    if order.status != OrderStatus.pending or order.channel != WAITLIST_CHANNEL:
        return None
    await Order.update({Order.hold_expires_at: hold_until}).where(Order.id == order_id)
    await _note(order_id, "offer_reopened", f"The payment could not start: {order.places} places held until {hold_until.isoformat()}", now)
    return order.places


async def take_up_free_offer(order_id: int, now: datetime, *, issue: Issuer) -> Settlement:
    """A waiting guest takes the free place their offer's order holds: it becomes a claimed free place (identical to
    one claimed with the link) and its ticket is issued. Inside the caller's write transaction, the order pending."""
    await Order.update({Order.channel: FREE_PLACE_CHANNEL}).where(Order.id == order_id, Order.status == OrderStatus.pending)
    settled = await settle_paid_order(order_id, now, issue=issue)
    await _note(order_id, "free_place", WAITLIST_CHANNEL, now)
    return settled


async def take_places(event_id: int, per_type: Mapping[int, int]) -> bool:
    """Count places as taken, if capacity and quotas allow. Call inside a write transaction. All or nothing:
    on False every counter is as it was, because callers carry on in the same transaction (a retry after
    releasing overdue holds, or a late payment marked refund_due)."""
    taken: dict[int, int] = {}
    for type_id in sorted(per_type):
        quantity = per_type[type_id]
        if not await db.run(queries.TAKE_TYPE_PLACES, quantity, type_id, event_id, quantity):
            break
        taken[type_id] = quantity
    else:
        total = sum(per_type.values())
        if await db.run(queries.TAKE_EVENT_PLACES, total, event_id, total):
            return True
    for type_id in sorted(taken):
        await db.run(queries.RELEASE_TYPE_PLACES, taken[type_id], type_id)
    return False


async def release_places(event_id: int, per_type: Mapping[int, int]) -> None:
    for type_id in sorted(per_type):
        await db.run(queries.RELEASE_TYPE_PLACES, per_type[type_id], type_id)
    if per_type:
        await db.run(queries.RELEASE_EVENT_PLACES, sum(per_type.values()), event_id)


async def places_by_type(order_id: int) -> dict[int, int]:
    lines = await OrderLine.select(OrderLine.ticket_type, OrderLine.quantity).where(OrderLine.order_id == order_id, OrderLine.kind == "ticket")
    return {line["ticket_type"]: line["quantity"] for line in lines}


async def lock_order(reference: str) -> OrderRow:
    """The order, locked against concurrent refunds and settlements until the transaction ends."""
    order = await db.locked(Order.select().where(Order.reference == codes.normalise_reference(reference))).first()
    if order is None:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return OrderRow.of(order)


async def _lock_order_by_id(order_id: int) -> OrderRow:
    [order] = await db.run(queries.ORDER_BY_ID if db.is_sqlite() else queries.LOCK_ORDER_BY_ID, order_id)
    return OrderRow.of(order)


async def find_order(reference: str) -> OrderRow:
    rows = await db.run(queries.ORDER_BY_REFERENCE, codes.normalise_reference(reference))
    if not rows:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return OrderRow.of(rows[0])


async def note(order_id: int, kind: str, detail: str, now: datetime) -> None:
    await _note(order_id, kind, detail, now)


@dataclass(frozen=True, slots=True)
class OrderLineRow:
    """An order line as its pages and receipt show it (order_lines), with its partner project."""

    kind: str
    description: str
    quantity: int
    unit_price_pence: int
    booking_fee_pence: int
    total_pence: int
    partner_slug: str | None
    partner_name: str | None


async def order_lines(order_id: int) -> list[OrderLineRow]:
    """The order's lines in the order they were written."""
    return [
        OrderLineRow(
            kind=row["kind"],
            description=row["description"],
            quantity=row["quantity"],
            unit_price_pence=row["unit_price_pence"],
            booking_fee_pence=row["booking_fee_pence"],
            total_pence=row["total_pence"],
            partner_slug=row["partner.slug"],
            partner_name=row["partner.name"],
        )
        for row in await db.run(queries.ORDER_LINES, order_id)
    ]


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What an order's receipt shows beyond the order's row and lines: the value of its event's pay-it-forward place,
    whom the guest paid, and the Gift Aid the donor declared."""

    place_pence: int
    charity: receipts.Charity
    gift_aid: receipts.GiftAidNote | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ReceiptFacts:
        """From a row read with queries.RECEIPT_FACTS."""
        declared = row["gift_aid.eligible_pence"] is not None
        return cls(
            place_pence=row["event.pay_it_forward_place_pence"],
            charity=receipts.Charity(name=row["organisation.charity_name"] or row["organisation.name"], number=row["organisation.charity_number"]),
            gift_aid=receipts.GiftAidNote(
                donor=receipts.donor_name(row["gift_aid.title"], row["gift_aid.first_name"], row["gift_aid.last_name"]),
                eligible_pence=row["gift_aid.eligible_pence"],
            )
            if declared
            else None,
        )


def receipt_of(order: OrderRow, lines: Sequence[OrderLineRow], facts: ReceiptFacts) -> receipts.Receipt:
    """The order's receipt (see orders.receipts), from what its page has read already."""
    return receipts.build_receipt(
        [
            receipts.OrderLineFacts(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                booking_fee_pence=line.booking_fee_pence,
                partner_name=line.partner_name or "",
            )
            for line in lines
        ],
        reference=order.reference,
        currency=order.currency,
        refunded_pence=order.refunded_pence,
        payment_provider=order.payment_provider,
        paid=order.paid_at is not None,
        place_pence=facts.place_pence,
        gift_aid=facts.gift_aid,
        charity=facts.charity,
    )


async def order_receipt(order_id: int) -> receipts.Receipt:
    """The order's receipt, as its email and its pages show it (see orders.receipts)."""
    rows = await db.run(queries.RECEIPT, order_id)
    if not rows:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return receipt_of(OrderRow.of(rows[0]), await order_lines(order_id), ReceiptFacts.of(rows[0]))


async def remember_language(reference: str, locale: str, now: datetime) -> None:
    """The guest chose a language on their ticket or order page: their order's later emails, texts, reminders and
    PDFs follow it. Choosing the language it already has changes nothing."""
    if locale not in SUPPORTED_LOCALES:
        message = N_("We do not have that language yet.")
        raise InvalidInput(message, fields={"lang": message})
    async with db.write_transaction():
        changed = (
            await Order.update({Order.locale: locale})
            .where(Order.reference == codes.normalise_reference(reference), Order.locale != locale)
            .returning(Order.id)
        )
        if changed:
            await _note(changed[0]["id"], "language_chosen", locale, now)


async def _insert_order(
    event: EventRow,
    quote: pricing.Quote,
    *,
    status: OrderStatus,
    channel: str,
    buyer_name: str,
    buyer_email: str,
    locale: str,
    hold_expires_at: datetime | None,
    now: datetime,
    payment_provider: str = "",
    buyer_phone: str = "",
) -> tuple[int, str]:
    reference = await new_unique_reference()
    order = Order(
        reference=reference,
        event=event.id,
        status=status,
        channel=channel,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        buyer_phone=buyer_phone,
        locale=locale,
        currency=event.currency,
        tickets_pence=quote.tickets_pence,
        booking_fees_pence=quote.booking_fees_pence,
        pay_it_forward_pence=quote.pay_it_forward_pence,
        donation_pence=quote.donation_pence,
        total_pence=quote.total_pence,
        places=quote.places,
        payment_provider=payment_provider,
        hold_expires_at=hold_expires_at,
        created_at=now,
        paid_at=now if status == OrderStatus.paid else None,
    )
    await order.save()
    await OrderLine.insert(
        *[
            OrderLine(
                order_id=order.id,
                kind=line.kind,
                ticket_type=line.ticket_type_id,
                partner=line.partner_id,
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                booking_fee_pence=line.booking_fee_pence,
                total_pence=line.total_pence,
            )
            for line in quote.lines
        ]
    )
    return order.id, reference


def _line_values(order_id: int, line: pricing.Line) -> tuple[Any, ...]:
    """An order line's values in queries.LINE_COLUMNS order."""
    return (
        order_id,
        line.kind,
        line.ticket_type_id,
        line.partner_id,
        line.description,
        line.quantity,
        line.unit_price_pence,
        line.booking_fee_pence,
        line.total_pence,
    )


async def new_unique_reference() -> str:
    """A fresh order reference (the unique constraint is the final word; a clash is astronomically rare)."""
    for _ in range(5):
        reference = codes.new_order_reference()
        if not await Order.exists().where(Order.reference == reference):
            return reference
    return codes.new_order_reference()


async def _transition(order_id: int, current: OrderStatus, new: OrderStatus, now: datetime) -> bool:
    rows = await db.run(queries.TRANSITION, new, now if new == OrderStatus.paid else None, order_id, current)
    return bool(rows)


async def _event_of(order_id: int) -> int:
    row = await Order.select(Order.event).where(Order.id == order_id).first()
    assert row is not None
    return row["event"]


async def _note(order_id: int, kind: str, detail: str, now: datetime) -> None:
    await db.run(queries.NOTE, order_id, kind, detail, now)


async def _ordered_ticket_types(type_ids: Collection[int]) -> set[int]:
    rows = await OrderLine.select(OrderLine.ticket_type).where(OrderLine.ticket_type.is_in(list(type_ids)))
    return {row["ticket_type"] for row in rows}


# The catalogue sits below orders: it asks whether a ticket type was ever ordered through catalogue.sales.
sales.register_orders(_ordered_ticket_types)
