"""Ledger service: booking payments, Stripe fees, refunds, costs and payouts as entries (each once), and
reading them back as per-event and per-partner statements through SQL aggregation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from piccolo.query.functions.aggregate import Sum

from events import db, text
from events.accounts.roles import CurrentUser
from events.audit import service as audit
from events.catalogue import access, sales
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, Partner
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ledger import queries
from events.ledger.allocation import INCOME_KINDS, Allocation, EventMoney, KindTotals, allocate
from events.ledger.schemas import Rebooked, UnusedDecision
from events.ledger.tables import EventAttendance, EventCost, LedgerEntry, LedgerTotal
from events.money import format_money, split_pence
from events.payments import bookkeeping

COMPONENTS = ("tickets", "booking_fees", "contributions", "donations")
# The ledger kind of money a guest could have had back and donated instead (ticket income moved to donations).
DONATED_REFUND = "donated_refund"
FAR_PAST = datetime(2000, 1, 1).astimezone()
FAR_FUTURE = datetime(2999, 1, 1).astimezone()


@dataclass(frozen=True, slots=True)
class AllocationContext:
    """What an allocation was made from: the event, its money, and what each partner was paid out (pence by partner id)."""

    event: EventRow
    money: EventMoney
    payouts: dict[int, int]


@dataclass(frozen=True, slots=True)
class EventCostRow:
    """An event cost as recorded (a negative amount corrects an earlier one)."""

    id: int
    description: str
    amount_pence: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    event_id: int
    kind: str
    component: str
    method: str
    partner_id: int | None
    amount_pence: int
    currency: str
    source: str
    occurred_at: datetime
    description: str = ""


def payment_entries(payment: dict[str, Any], order: dict[str, Any], donation_partner: int | None) -> list[Entry]:
    """A payment as one entry per component, and Stripe's fee (once known) borne pro rata by them."""
    parts = _components(order)
    entries = [
        Entry(
            order["event"],
            "payment",
            component,
            payment["provider"],
            donation_partner if component == "donations" else None,
            amount,
            order["currency"],
            f"payment:{payment['id']}:{component}",
            payment["created_at"],
        )
        for component, amount in parts.items()
        if amount
    ]
    if payment["fee_pence"]:
        shares = split_pence(payment["fee_pence"], [parts[c] for c in COMPONENTS]) if any(parts.values()) else []
        for component, fee in zip(COMPONENTS, shares, strict=False):
            if fee:
                entries.append(
                    Entry(
                        order["event"],
                        "stripe_fee",
                        component,
                        payment["provider"],
                        donation_partner if component == "donations" else None,
                        -fee,
                        order["currency"],
                        f"fee:{payment['id']}:{component}",
                        payment["created_at"],
                    )
                )
    return entries


def refund_entries(refund: dict[str, Any], order: dict[str, Any], donation_partner: int | None) -> list[Entry]:
    """A refund reverses exactly the parts it recorded giving back (payments.refunds.refund_parts: a refunded ticket
    its price and booking fee, not anyone's pay-it-forward or donation); Stripe keeps its fee, which stays a cost. It is
    booked when it was made, or, for one Stripe refused and the organiser gave back another way, when that was."""
    parts = {
        "tickets": refund["tickets_pence"],
        "booking_fees": refund["booking_fees_pence"],
        "contributions": refund["contributions_pence"],
        "donations": refund["donations_pence"],
    }
    return [
        Entry(
            order["event"],
            "refund",
            component,
            refund["method"],
            donation_partner if component == "donations" else None,
            -parts[component],
            order["currency"],
            f"refund:{refund['id']}:{component}",
            refund.get("given_back_at") or refund["created_at"],
        )
        for component in COMPONENTS
        if parts[component]
    ]


def donation_entries(donation: dict[str, Any], order: dict[str, Any]) -> list[Entry]:
    """A donated refund (payments.tables.RefundDonation): its tickets and booking fees parts come off those components
    and go to donations with no partner, shared by the partners' shares as an undesignated donation. Net zero."""
    moves = {
        "tickets": -donation["tickets_pence"],
        "booking_fees": -donation["booking_fees_pence"],
        "donations": donation["tickets_pence"] + donation["booking_fees_pence"],
    }
    return [
        Entry(
            order["event"],
            DONATED_REFUND,
            component,
            "",
            None,
            amount,
            order["currency"],
            f"donated:{donation['id']}:{component}",
            donation["created_at"],
        )
        for component, amount in moves.items()
        if amount
    ]


def _components(order: dict[str, Any]) -> dict[str, int]:
    return {
        "tickets": order["tickets_pence"],
        "booking_fees": order["booking_fees_pence"],
        "contributions": order["pay_it_forward_pence"],
        "donations": order["donation_pence"],
    }


async def book_event(event_id: int, *, now: datetime) -> int:
    """Book whatever of this event's payments, fees, refunds, costs and payouts is not in the ledger yet
    (one INSERT ... SELECT, see ledger.queries); returns how many entries were booked now.

    Money is booked when it moves (book_order, book_cost, book_payout, in the same transaction); this is
    the safety net the worker runs now and then (book_all_events) and the organiser's explicit rebook."""
    return await _book(queries.BOOK_EVENT, event_id, event_id, event_id, now, event_id, event_id)


async def book_all_events(now: datetime) -> int:
    """The periodic safety net: book anything any event is missing (e.g. rows written by hand in a repair)."""
    booked = 0
    for row in await Event.select(Event.id).order_by(Event.id):
        booked += await book_event(row["id"], now=now)
    return booked


async def rebook_event(slug: str, *, now: datetime) -> Rebooked:
    """The organiser's repair action: book whatever of the event's money is not in the ledger yet."""
    event = await find_event(slug)
    return Rebooked(event=event.slug, entries_booked=await book_event(event.id, now=now))


async def book_order(order_id: int, *, now: datetime) -> int:
    """Book one order's payments, Stripe fees, succeeded refunds and donated refunds not booked yet. Call it inside
    the transaction that records the money (payment settled, fee stored, refund confirmed, refund donated), so the
    ledger moves with the money."""
    return await _book(queries.BOOK_ORDER, order_id, order_id, order_id, now)


async def book_cost(cost_id: int, *, now: datetime) -> int:
    return await _book(queries.BOOK_COST, now, cost_id)


async def book_payout(payout_id: int, *, now: datetime) -> int:
    return await _book(queries.BOOK_PAYOUT, now, payout_id)


async def _book(booking: queries.Booking, *args: Any) -> int:
    # Joins the caller's transaction when there is one (Piccolo nests), else is its own.
    async with db.write_transaction():
        if db.is_sqlite():  # an INSERT cannot sit in a CTE there: SQLite counts what the last statement changed
            await db.run(booking.insert, *args)
            return int((await db.run(queries.CHANGES))[0]["n"])
        return int((await db.run(booking.counted, *args))[0]["n"])


UNUSED_DECISIONS = ("beneficiaries", "carry_over")


@dataclass(frozen=True, slots=True)
class UnusedPreview:
    """Where an event's unused pay-it-forward money can go, for the statement's form and its confirmation: how much,
    each partner project's share of it, and the events it may be carried to (amounts in pence)."""

    event: str
    title: str
    currency: str
    closed: bool  # sales closed or finished: only then is it decided
    decided: bool  # decided already (once only)
    unused_pence: int
    partner_shares: tuple[tuple[str, int], ...]  # (partner name, pence) if given to the partner projects
    targets: tuple[tuple[str, str], ...]  # (slug, title) of the events it may be carried to

    def target_title(self, slug: str) -> str | None:
        """The title of ``slug`` if the money may be carried there, else None."""
        return next((title for target, title in self.targets if target == slug), None)


def _pif_decision_source(event_id: int) -> str:
    return f"pif-decision:{event_id}"


async def unused_preview(slug: str, *, user: CurrentUser | None, now: datetime) -> UnusedPreview:
    """What deciding the event's unused pay-it-forward money would move, and where it may go."""
    event = await find_event(slug)
    decided = await LedgerEntry.exists().where(LedgerEntry.source == _pif_decision_source(event.id))
    money = await event_money(event.id)
    shares = await beneficiary_shares(event.id)
    unused = allocate(money, shares).unused_contributions_pence if shares else 0
    names = {row["id"]: row["name"] for row in await Partner.select(Partner.id, Partner.name).where(Partner.id.is_in([p for p, _ in shares] or [-1]))}
    split = split_pence(unused, [bp for _, bp in shares]) if shares else []
    candidates = (
        await Event.select(Event.id, Event.slug, Event.title)
        .where(
            Event.organisation == event.organisation,
            Event.id != event.id,
            Event.currency == event.currency,
            Event.status.is_in([EventStatus.draft, EventStatus.on_sale, EventStatus.sales_closed]),
            Event.ends_at >= now,
        )
        .order_by(Event.starts_at)
    )
    targets = [
        (row["slug"], row["title"]) for row in candidates if user is None or await access.may_reach_event_id(user, row["id"], event.organisation)
    ]
    return UnusedPreview(
        event=event.slug,
        title=event.title,
        currency=event.currency,
        closed=event.status in (EventStatus.sales_closed, EventStatus.finished),
        decided=decided,
        unused_pence=unused,
        partner_shares=tuple((names.get(partner, ""), pence) for (partner, _), pence in zip(shares, split, strict=True)),
        targets=tuple(targets),
    )


async def decide_unused_contributions(
    slug: str, *, decision: str, target_slug: str | None, now: datetime, user: CurrentUser | None = None
) -> UnusedDecision:
    """When an event closes, pay-it-forward money not spent on free guests either goes to the event's
    beneficiaries or is carried to a named future event's fund. Recorded once, as ledger entries, with an audit
    entry, in one transaction (the API and the statement page both come here)."""
    event = await find_event(slug)
    if event.status not in (EventStatus.sales_closed, EventStatus.finished):
        raise Conflict(N_("Close the event first: unused pay-it-forward money is decided when it closes."), code="event_open")
    if decision not in UNUSED_DECISIONS:
        raise InvalidInput("Choose beneficiaries or carry_over.", fields={"decision": "beneficiaries or carry_over"})
    target = await find_event(target_slug) if decision == "carry_over" and target_slug else None
    if target is not None and (
        target.organisation != event.organisation or (user is not None and not await access.may_reach_event_id(user, target.id, target.organisation))
    ):
        # Money stays with the organisation that raised it, and a limited organiser moves it only between their
        # own events: any other event is not found.
        target = None
    if decision == "carry_over" and (target is None or target.id == event.id or target.status in (EventStatus.cancelled, EventStatus.finished)):
        raise InvalidInput("Name a future event to carry the money to.", fields={"target_event": "A future event is needed."})
    if target is not None and target.currency != event.currency:
        raise InvalidInput("The other event uses another currency.", fields={"target_event": "Different currency."})
    async with db.write_transaction():
        # Locked first, so two decisions at once are made one after the other and the second finds the first.
        await lock_event_money(event.id)
        if await LedgerEntry.exists().where(LedgerEntry.source == _pif_decision_source(event.id)):
            raise Conflict(N_("The unused pay-it-forward money of this event has already been decided."), code="already_decided")
        await book_event(event.id, now=now)
        allocation, _ = await event_allocation(event.id)
        unused = allocation.unused_contributions_pence
        entries = [
            Entry(
                event.id,
                "pif_decision",
                "contributions",
                "",
                None,
                0,
                event.currency,
                _pif_decision_source(event.id),
                now,
                f"{decision}: {unused} pence" + (f" to {target.slug}" if target else ""),
            )
        ]
        if target is not None and unused:
            entries += [
                Entry(
                    event.id,
                    "carry_over",
                    "contributions",
                    "",
                    None,
                    -unused,
                    event.currency,
                    f"carry-out:{event.id}",
                    now,
                    f"Carried to {target.slug}",
                ),
                Entry(
                    target.id,
                    "carry_over",
                    "contributions",
                    "",
                    None,
                    unused,
                    event.currency,
                    f"carry-in:{event.id}",
                    now,
                    f"Carried from {event.slug}",
                ),
            ]
        for entry in entries:
            await LedgerEntry.insert(
                LedgerEntry(
                    event=entry.event_id,
                    kind=entry.kind,
                    component=entry.component,
                    method=entry.method,
                    partner=entry.partner_id,
                    amount_pence=entry.amount_pence,
                    currency=entry.currency,
                    source=entry.source,
                    occurred_at=entry.occurred_at,
                    created_at=now,
                    description=entry.description,
                )
            ).on_conflict(target=LedgerEntry.source, action="DO NOTHING")
        await Event.update({Event.unused_contributions: "beneficiaries" if decision == "beneficiaries" else "carried_over"}).where(
            Event.id == event.id
        )
        await audit.record(
            "pay_it_forward.decided",
            now=now,
            event_id=event.id,
            subject_type="event",
            subject_id=event.slug,
            actor=user,
            before={"unused_contributions": "held"},
            after={"decision": decision, "unused_pence": unused, "target_event": target.slug if target else None},
        )
    return UnusedDecision(decision=decision, unused_pence=unused, target_event=target.slug if target else None)


async def add_event_cost(slug: str, *, description: str, amount_pence: int, now: datetime) -> None:
    """Record a cost (a negative amount corrects an earlier one: costs are never edited or deleted)."""
    event = await find_event(slug)
    line_problem = text.line_problem(description.strip(), required=False)
    description = " ".join(description.split())
    problems: dict[str, str] = {}
    if line_problem is not None:
        problems["description"] = line_problem
    elif not description:
        problems["description"] = "Say what the cost is for, e.g. Hall hire."
    elif len(description) > 200:
        problems["description"] = "Use at most 200 characters."
    if amount_pence == 0:
        problems["amount_pence"] = "Give an amount that is not zero (a negative one corrects an earlier cost)."
    elif abs(amount_pence) > 100_000_000:
        problems["amount_pence"] = "That amount is too large."
    if problems:
        raise InvalidInput(N_("Give the cost a description and an amount."), fields=problems)
    async with db.write_transaction():
        await lock_event_money(event.id)
        if amount_pence < 0:
            recorded = await _recorded_costs(event.id)
            if recorded + amount_pence < 0:
                raise InvalidInput(
                    N_("A correction can bring the event's costs down to zero, not below."),
                    code="costs_below_zero",
                    fields={"amount_pence": f"At most {format_money(recorded, event.currency)} can be taken off: the costs recorded so far."},
                )
        cost = EventCost(event=event.id, description=description, amount_pence=amount_pence, created_at=now)
        await cost.save()
        await book_cost(cost.id, now=now)
        await audit.record(
            "event_cost.recorded",
            now=now,
            event_id=event.id,
            subject_type="event_cost",
            subject_id=cost.id,
            after={"description": description, "amount_pence": amount_pence},
        )


async def lock_event_money(event_id: int) -> None:
    """Lock the event's row until the transaction ends, so costs and payouts recorded for it at the same
    time are checked one after the other (SQLite's write transaction already runs one at a time)."""
    if not db.is_sqlite():
        await Event.select(Event.id).where(Event.id == event_id).lock_rows("NO KEY UPDATE")


async def _recorded_costs(event_id: int) -> int:
    rows = await EventCost.select(EventCost.amount_pence).where(EventCost.event == event_id)
    return sum(row["amount_pence"] for row in rows)


async def copy_event_costs(source_event_id: int, target_event_id: int, *, now: datetime) -> int:
    """Record the costs of ``source_event_id`` again for a copy of it (events.series: the costs template), each booked
    as the copy's own, in the caller's transaction. Returns their total in pence (corrections included)."""
    rows = await EventCost.select(EventCost.description, EventCost.amount_pence).where(EventCost.event == source_event_id).order_by(EventCost.id)
    for row in rows:
        cost = EventCost(event=target_event_id, description=row["description"], amount_pence=row["amount_pence"], created_at=now)
        await cost.save()
        await book_cost(cost.id, now=now)
    return sum(row["amount_pence"] for row in rows)


async def list_event_costs(slug: str) -> tuple[list[EventCostRow], int]:
    """The event's costs in the order they were recorded, and their total (corrections included)."""
    event = await find_event(slug)
    rows = await EventCost.select().where(EventCost.event == event.id).order_by(EventCost.id)
    costs = [EventCostRow(row["id"], row["description"], row["amount_pence"], row["created_at"]) for row in rows]
    return costs, sum(cost.amount_pence for cost in costs)


async def event_allocation(event_id: int, *, start: datetime = FAR_PAST, end: datetime = FAR_FUTURE) -> tuple[Allocation, AllocationContext]:
    """The event's ledger totals (one GROUP BY) allocated to its partners."""
    event, money, payouts = await _event_money(event_id, start=start, end=end)
    shares = await beneficiary_shares(event_id)
    if not shares:
        raise Conflict(N_("Say which partner projects benefit from this event first."), code="no_beneficiaries")
    allocation = allocate(money, shares)
    return allocation, AllocationContext(event=event, money=money, payouts=payouts)


async def event_money(event_id: int) -> EventMoney:
    """All of the event's money as the allocation reads it (whether or not it has partner projects yet)."""
    _event, money, _payouts = await _event_money(event_id, start=FAR_PAST, end=FAR_FUTURE)
    return money


async def beneficiary_shares(event_id: int) -> list[tuple[int, int]]:
    """(partner id, basis points) of the event's partner projects, in the order they were given."""
    shares = (
        await BeneficiaryShare.select(BeneficiaryShare.partner, BeneficiaryShare.share_bp)
        .where(BeneficiaryShare.event == event_id)
        .order_by(BeneficiaryShare.id)
    )
    return [(s["partner"], s["share_bp"]) for s in shares]


async def _event_money(event_id: int, *, start: datetime, end: datetime) -> tuple[EventRow, EventMoney, dict[int, int]]:
    """The event, its money in [start, end), and what each partner was paid out then (pence by partner id)."""
    row = await Event.select().where(Event.id == event_id).first()
    if row is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    event = EventRow.of(row)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    designated: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    payouts: dict[int, int] = defaultdict(int)
    costs = 0
    for (kind, component, partner), pence in (await ledger_totals(event_id, start=start, end=end)).items():
        if kind == "event_cost":
            costs -= pence
        elif kind == "payout":
            payouts[partner] -= pence  # type: ignore[index]
        elif component == "donations" and partner is not None:
            designated[partner][kind] += pence
        else:
            totals[(kind, component)] += pence
    # Everyone admitted or expected (valid tickets of paid orders), free guests among them: the counts the
    # database keeps in event_attendance (see that table).
    attendance = (
        await EventAttendance.select(EventAttendance.free, Sum(EventAttendance.tickets, alias="tickets"))
        .where(EventAttendance.event == event_id)
        .group_by(EventAttendance.free)
    )
    money = EventMoney(
        tickets=_kind(totals, "tickets"),
        booking_fees=_kind(totals, "booking_fees"),
        contributions=_kind(totals, "contributions"),
        general_donations=_kind(totals, "donations"),
        designated_donations={partner: _kind_of(values) for partner, values in designated.items()},
        fixed_costs_pence=costs,
        per_attendee_cost_pence=event.cost_per_attendee_pence,
        attendees=sum(int(row["tickets"]) for row in attendance),
        free_guests=sum(int(row["tickets"]) for row in attendance if row["free"] == 1),
        booking_fees_to_cause=event.booking_fees_to_cause,
        unused_contributions=event.unused_contributions,
    )
    return event, money, dict(payouts)


async def ledger_totals(event_id: int, *, start: datetime, end: datetime) -> dict[tuple[str, str, int | None], int]:
    """The event's entries in [start, end) summed by kind, component and partner (None: no partner)."""
    totals: dict[tuple[str, str, int | None], int] = defaultdict(int)
    first_day, last_day, edges = _whole_days(start, end)
    # Whole UTC days from the totals the trigger keeps (ledger_total), the part-days at either end from the entries.
    if first_day < last_day:
        days = (
            await LedgerTotal.select(LedgerTotal.kind, LedgerTotal.component, LedgerTotal.partner_key, Sum(LedgerTotal.pence, alias="pence"))
            .where(LedgerTotal.event == event_id, LedgerTotal.day >= first_day, LedgerTotal.day < last_day)
            .group_by(LedgerTotal.kind, LedgerTotal.component, LedgerTotal.partner_key)
        )
        for row in days:
            totals[(row["kind"], row["component"], row["partner_key"] or None)] += int(row["pence"])
    for edge_start, edge_end in edges:
        if edge_start < edge_end:
            part = (
                await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.component, LedgerEntry.partner, Sum(LedgerEntry.amount_pence, alias="pence"))
                .where(LedgerEntry.event == event_id, LedgerEntry.occurred_at >= edge_start, LedgerEntry.occurred_at < edge_end)
                .group_by(LedgerEntry.kind, LedgerEntry.component, LedgerEntry.partner)
            )
            for row in part:
                totals[(row["kind"], row["component"], row["partner"])] += int(row["pence"])
    return dict(totals)


def _whole_days(start: datetime, end: datetime) -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """[start, end) as the whole UTC days in it, [first_day, last_day), and the part-days left at either end."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    first_day = start.date() if start.time() == time() else start.date() + timedelta(days=1)
    last_day = end.date()
    if first_day >= last_day:  # no whole day: every entry from the ledger itself
        return first_day, first_day, [(start, end)]
    return first_day, last_day, [(start, _midnight(first_day)), (_midnight(last_day), end)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), timezone.utc)


def _kind(totals: dict[tuple[str, str], int], component: str) -> KindTotals:
    # Money carried in from another event's pay-it-forward fund counts as contributions here (and
    # carried out, as less of them there); a donated refund moves ticket income and booking fees to donations.
    return KindTotals(
        gross_pence=totals.get(("payment", component), 0) + totals.get(("carry_over", component), 0) + totals.get((DONATED_REFUND, component), 0),
        refunds_pence=-totals.get(("refund", component), 0),
        fees_pence=-totals.get(("stripe_fee", component), 0),
    )


def _kind_of(values: dict[str, int]) -> KindTotals:
    return KindTotals(gross_pence=values.get("payment", 0), refunds_pence=-values.get("refund", 0), fees_pence=-values.get("stripe_fee", 0))


async def partner_names(partner_ids: list[int]) -> dict[int, dict[str, str]]:
    rows = await Partner.select(Partner.id, Partner.slug, Partner.name).where(Partner.id.is_in(partner_ids or [0]))
    return {row["id"]: {"slug": row["slug"], "name": row["name"]} for row in rows}


async def paid_forward_pence(event_id: int) -> int:
    """Money paid forward toward the event's free places, in pence: paid orders' pay-it-forward money, less what refunds
    gave back of it, plus what was carried in from or out to another event (the ledger's carry-overs)."""
    rows = await db.run(queries.PAID_FORWARD, event_id, event_id, event_id)
    return int(rows[0]["pence"])


__all__ = [
    "INCOME_KINDS",
    "add_event_cost",
    "beneficiary_shares",
    "book_all_events",
    "book_cost",
    "book_event",
    "book_order",
    "book_payout",
    "copy_event_costs",
    "donation_entries",
    "event_allocation",
    "event_money",
    "lock_event_money",
    "paid_forward_pence",
    "payment_entries",
    "rebook_event",
    "refund_entries",
]


# Payments sit below the ledger: they tell it when an order's money moves, and it books it (see payments.bookkeeping).
bookkeeping.on_money_moved(book_order)


# The catalogue shows an event's free places, funded by this money; it asks through catalogue.sales.
sales.register_pay_it_forward(paid_forward_pence)
