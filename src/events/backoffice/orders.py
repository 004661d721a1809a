"""Orders for the organiser: finding them, one order in full, and the attendee list as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from piccolo.columns import Column
from piccolo.columns.combination import Combinable, Where
from piccolo.columns.operators.comparison import ComparisonOperator
from piccolo.query.functions.aggregate import Count
from piccolo.query.functions.string import Lower

from events import db, text
from events.backoffice.history import DetailPart, detail_parts
from events.backoffice.order_forms import GivenBackForm, HolderForm, RefundForm
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.statuses import EventStatus
from events.errors import InvalidInput, NotFound
from events.i18n import N_
from events.money import format_money
from events.orders import codes
from events.orders.forms import parse_pounds
from events.orders.service import HOLD_ENDED, replaced_orders, replaced_where, was_replaced
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderHistory, OrderLine
from events.payments import donations
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.refunds import RefundableTicket, refundable_pence
from events.payments.statuses import PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund
from events.questions import service as questions
from events.tickets import service as tickets
from events.tickets.statuses import MessageChannel, MessageStatus, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket

PER_PAGE = 25
# Spreadsheets run a cell that starts with one of these as a formula (OWASP's list, tab and CR included).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# What the status filter offers: every state an order can be in, and "replaced" (an expired order the buyer's changed
# order replaced, as the list shows it; "expired" then means the others).
REPLACED_STATUS = "replaced"
ORDER_STATUSES = (OrderStatus.paid, OrderStatus.pending, OrderStatus.refunded, OrderStatus.refund_due, OrderStatus.expired, REPLACED_STATUS)


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """An order as the event's order list shows it."""

    id: int
    reference: str
    status: OrderStatus
    channel: str
    buyer_name: str
    buyer_email: str
    currency: str
    total_pence: int
    refunded_pence: int
    places: int
    created_at: datetime
    valid_tickets: int
    tickets: int
    replaced: bool = False  # expired because the buyer's changed order replaced it, not for want of payment


@dataclass(frozen=True, slots=True)
class OrderPage:
    event: EventRow
    query: str
    status: str
    orders: list[ListedOrder]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class ManagedOrder:
    """The order itself, as its organiser sees it (never its payment's client secret)."""

    id: int
    reference: str
    status: OrderStatus
    channel: str
    buyer_name: str
    buyer_email: str
    buyer_phone: str
    currency: str
    total_pence: int
    refunded_pence: int
    created_at: datetime
    paid_at: datetime | None
    replaced: bool = False  # expired because the buyer's changed order replaced it, not for want of payment


@dataclass(frozen=True, slots=True)
class EventLink:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ManagedLine:
    kind: str
    description: str
    quantity: int
    unit_price_pence: int
    booking_fee_pence: int
    total_pence: int
    partner_name: str | None


@dataclass(frozen=True, slots=True)
class ManagedPayment:
    provider: PaymentMethod
    amount_pence: int
    fee_pence: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ManagedRefund:
    id: int
    amount_pence: int
    method: PaymentMethod
    status: RefundStatus
    reason: str
    requested_by: str
    created_at: datetime
    # What it gave back of each part of the order's money (payments.refunds.refund_parts), as the ledger books it.
    tickets_pence: int = 0
    booking_fees_pence: int = 0
    contributions_pence: int = 0
    donations_pence: int = 0


@dataclass(frozen=True, slots=True)
class ManagedTicket:
    id: int
    holder_name: str
    ticket_type: str  # its type's name
    status: TicketStatus
    version: int
    price_pence: int
    booking_fee_pence: int
    checked_in_at: datetime | None
    checked_in_by: str


@dataclass(frozen=True, slots=True)
class ManagedEmail:
    kind: str
    status: MessageStatus
    created_at: datetime
    sent_at: datetime | None
    channel: MessageChannel = MessageChannel.email  # or a text (SMS, WhatsApp) to a buyer who gave only a mobile number


@dataclass(frozen=True, slots=True)
class HistoryItem:
    kind: str
    detail: str  # as stored
    created_at: datetime
    parts: tuple[DetailPart, ...] = ()  # the detail to show: its times at the venue, its amounts in pence (history)


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """One order in full, for its organiser: what the order page shows."""

    order: ManagedOrder
    event: EventLink
    lines: list[ManagedLine]
    payments: list[ManagedPayment]
    refunds: list[ManagedRefund]
    tickets: list[ManagedTicket]
    emails: list[ManagedEmail]
    history: list[HistoryItem]
    refundable_pence: int
    valid_tickets: list[ManagedTicket]


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _LikeEscaped(ComparisonOperator):
    """SQLite's LIKE (without regard to capitals, for ASCII) told that a backslash escapes a wildcard, as it does
    in PostgreSQL's ILIKE without being told."""

    template = "{name} LIKE {value} ESCAPE '\\'"


def _contains(column: Column, text: str) -> Where:
    """Rows whose ``column`` contains ``text`` without regard to capitals, LIKE's wildcards in it searched for literally."""
    if db.is_sqlite():  # no ILIKE, and LIKE has no escape character unless told
        return Where(column=column, value=_like(text), operator=_LikeEscaped)
    return column.ilike(_like(text))


async def search_orders(slug: str, query: str = "", page: int = 1, per_page: int = PER_PAGE, *, status: str = "") -> OrderPage:
    """An event's orders, newest first, matching a reference exactly or part of a buyer's or holder's name or
    email, and in one status when given (an unknown status is ignored)."""
    event = await find_event(slug)
    query = " ".join(query.split())[:200]
    status = status if status in ORDER_STATUSES else ""
    found: list[Combinable] = [Order.event == event.id]
    if query:
        holders = Ticket.select(Ticket.order_id).where(Ticket.order_id.event == event.id, _contains(Ticket.holder_name, query))
        found.append(
            (Order.reference == codes.normalise_reference(query))
            | _contains(Order.buyer_name, query)
            | _contains(Order.buyer_email, query)
            | Order.id.is_in(holders)
        )
    if status == REPLACED_STATUS:
        found.append(replaced_where())
    elif status == OrderStatus.expired:
        found.append((Order.status == status) & Order.id.not_in(Order.select(Order.id).where(Order.event == event.id, replaced_where())))
    elif status:
        found.append(Order.status == status)
    total = await Order.count().where(*found)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = (
        await Order.select(
            Order.id,
            Order.reference,
            Order.status,
            Order.channel,
            Order.buyer_name,
            Order.buyer_email,
            Order.currency,
            Order.total_pence,
            Order.refunded_pence,
            Order.places,
            Order.created_at,
        )
        .where(*found)
        .order_by(Order.created_at, Order.id, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    tickets = await _ticket_counts([row["id"] for row in rows])
    replaced = await replaced_orders({row["id"]: row["status"] for row in rows})
    listed = [
        ListedOrder(
            id=row["id"],
            reference=row["reference"],
            status=OrderStatus(row["status"]),
            channel=row["channel"],
            buyer_name=row["buyer_name"],
            buyer_email=row["buyer_email"],
            currency=row["currency"],
            total_pence=row["total_pence"],
            refunded_pence=row["refunded_pence"],
            places=row["places"],
            created_at=row["created_at"],
            valid_tickets=tickets.get(row["id"], (0, 0))[0],
            tickets=tickets.get(row["id"], (0, 0))[1],
            replaced=row["id"] in replaced,
        )
        for row in rows
    ]
    return OrderPage(event, query, status, listed, page, pages, total)


async def _ticket_counts(order_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Order id -> its valid tickets and all its tickets."""
    if not order_ids:
        return {}
    rows = (
        await Ticket.select(Ticket.order_id, Ticket.status, Count(alias="tickets"))
        .where(Ticket.order_id.is_in(order_ids))
        .group_by(Ticket.order_id, Ticket.status)
    )
    counts: dict[int, tuple[int, int]] = {}
    for row in rows:
        valid, every = counts.get(row["order_id"], (0, 0))
        counts[row["order_id"]] = (valid + (row["tickets"] if row["status"] == TicketStatus.valid else 0), every + row["tickets"])
    return counts


_Moment = TypeVar("_Moment", datetime, datetime | None)


def _at(moment: _Moment, zone: ZoneInfo) -> _Moment:
    return moment.astimezone(zone) if moment is not None else moment


async def order_for_organiser(reference: str) -> OrderDetail:
    """One order in full: its event, lines, payments, refunds, tickets, emails and history (every time at the event's
    venue)."""
    order = (
        await Order.select(
            *Order.all_columns(exclude=[Order.client_secret]), Order.event.slug, Order.event.title, Order.event.status, Order.event.timezone
        )
        .where(Order.reference == codes.normalise_reference(reference))
        .first()
    )
    if order is None:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    order_id = order["id"]
    zone = ZoneInfo(order["event.timezone"] or "UTC")
    lines = (
        await OrderLine.select(
            OrderLine.kind,
            OrderLine.description,
            OrderLine.quantity,
            OrderLine.unit_price_pence,
            OrderLine.booking_fee_pence,
            OrderLine.total_pence,
            OrderLine.partner.name,
        )
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
    )
    payments = (
        await Payment.select(Payment.provider, Payment.amount_pence, Payment.fee_pence, Payment.created_at)
        .where(Payment.order_id == order_id)
        .order_by(Payment.id)
    )
    refunds = (
        await Refund.select(
            Refund.id,
            Refund.amount_pence,
            Refund.method,
            Refund.status,
            Refund.reason,
            Refund.requested_by,
            Refund.created_at,
            Refund.tickets_pence,
            Refund.booking_fees_pence,
            Refund.contributions_pence,
            Refund.donations_pence,
        )
        .where(Refund.order_id == order_id)
        .order_by(Refund.id)
    )
    tickets = (
        await Ticket.select(
            Ticket.id,
            Ticket.holder_name,
            Ticket.ticket_type.name,
            Ticket.status,
            Ticket.version,
            Ticket.price_pence,
            Ticket.booking_fee_pence,
            Ticket.checked_in_at,
            Ticket.checked_in_by,
        )
        .where(Ticket.order_id == order_id)
        .order_by(Ticket.id)
    )
    emails = (
        await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.status, OutboxMessage.created_at, OutboxMessage.sent_at, OutboxMessage.channel)
        .where(OutboxMessage.order_id == order_id)
        .order_by(OutboxMessage.id)
    )
    history = (
        await OrderHistory.select(OrderHistory.kind, OrderHistory.detail, OrderHistory.created_at)
        .where(OrderHistory.order_id == order_id)
        .order_by(OrderHistory.id)
    )
    paid = sum(payment["amount_pence"] for payment in payments[:1])  # refunds come out of the first payment
    hold_ended = [entry["detail"] for entry in history if entry["kind"] == HOLD_ENDED]
    managed_tickets = [
        ManagedTicket(
            id=t["id"],
            holder_name=t["holder_name"],
            ticket_type=t["ticket_type.name"],
            status=TicketStatus(t["status"]),
            version=t["version"],
            price_pence=t["price_pence"],
            booking_fee_pence=t["booking_fee_pence"],
            checked_in_at=_at(t["checked_in_at"], zone),
            checked_in_by=t["checked_in_by"],
        )
        for t in tickets
    ]
    return OrderDetail(
        order=ManagedOrder(
            id=order["id"],
            reference=order["reference"],
            status=OrderStatus(order["status"]),
            channel=order["channel"],
            buyer_name=order["buyer_name"],
            buyer_email=order["buyer_email"],
            buyer_phone=order["buyer_phone"],
            currency=order["currency"],
            total_pence=order["total_pence"],
            refunded_pence=order["refunded_pence"],
            created_at=_at(order["created_at"], zone),
            paid_at=_at(order["paid_at"], zone),
            replaced=was_replaced(order["status"], hold_ended[-1] if hold_ended else None),
        ),
        event=EventLink(slug=order["event.slug"], title=order["event.title"]),
        lines=[
            ManagedLine(
                kind=line["kind"],
                description=line["description"],
                quantity=line["quantity"],
                unit_price_pence=line["unit_price_pence"],
                booking_fee_pence=line["booking_fee_pence"],
                total_pence=line["total_pence"],
                partner_name=line["partner.name"],
            )
            for line in lines
        ],
        payments=[ManagedPayment(PaymentMethod(p["provider"]), p["amount_pence"], p["fee_pence"], _at(p["created_at"], zone)) for p in payments],
        refunds=[
            ManagedRefund(
                r["id"],
                r["amount_pence"],
                PaymentMethod(r["method"]),
                RefundStatus(r["status"]),
                r["reason"],
                r["requested_by"],
                _at(r["created_at"], zone),
                r["tickets_pence"],
                r["booking_fees_pence"],
                r["contributions_pence"],
                r["donations_pence"],
            )
            for r in refunds
        ],
        tickets=managed_tickets,
        emails=[
            ManagedEmail(e["kind"], MessageStatus(e["status"]), _at(e["created_at"], zone), _at(e["sent_at"], zone), MessageChannel(e["channel"]))
            for e in emails
        ],
        history=[HistoryItem(h["kind"], h["detail"], _at(h["created_at"], zone), detail_parts(h["detail"], zone)) for h in history],
        refundable_pence=max(
            0,
            refundable_pence(
                paid_pence=paid - await donations.donated_pence(order_id),
                refunded_pence=order["refunded_pence"],
                tickets=[RefundableTicket(t.id, t.price_pence, t.booking_fee_pence, t.status) for t in managed_tickets],
                event_cancelled=order["event.status"] == EventStatus.cancelled,
            ),
        )
        if order["status"] in (OrderStatus.paid, OrderStatus.refund_due)
        else 0,
        valid_tickets=[ticket for ticket in managed_tickets if ticket.status == TicketStatus.valid],
    )


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _utc_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(timezone.utc).isoformat(timespec="seconds")


async def attendees_csv(slug: str) -> str:
    """One row per valid ticket of a paid order: holder, ticket type, order reference, who booked it and the language
    they booked in (for a guest who needs it at the door), check-in time (UTC), then the guest's answer to each of the
    event's questions (events.questions), if it asks any. No contact details: a free place's guest may have given
    none, and a blank would tell their row from a bought one's (the order pages have them)."""
    event = await find_event(slug)
    answers = await questions.attendee_answers(event.id)
    # Valid tickets of paid orders, with nothing that tells a free place from a bought one (no price, no channel).
    rows = (
        await Ticket.select(
            Ticket.id,
            Ticket.holder_name,
            Ticket.ticket_type.name.as_alias("ticket_type"),
            Ticket.order_id.reference.as_alias("reference"),
            Ticket.order_id.buyer_name.as_alias("buyer_name"),
            Ticket.order_id.locale.as_alias("locale"),
            Ticket.checked_in_at,
        )
        .where(
            Ticket.event == event.id,
            Ticket.status == TicketStatus.valid,
            Ticket.order_id.status == OrderStatus.paid,
            Ticket.ticket_type.is_not_null(),
        )
        .order_by(Lower(Ticket.holder_name), Ticket.ticket_type.name, Ticket.order_id.reference, Ticket.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    headings = ["holder", "ticket_type", "order_reference", "booked_by", "language", "checked_in_at"]
    writer.writerow([*headings, *[safe_cell(heading) for heading in answers.headings]])
    blank = [""] * len(answers.headings)
    for row in rows:
        said = answers.by_ticket.get(row["id"], blank)
        writer.writerow(
            [
                safe_cell(row["holder_name"]),
                safe_cell(row["ticket_type"]),
                safe_cell(row["reference"]),
                safe_cell(row["buyer_name"]),
                safe_cell(row["locale"]),
                _utc_text(row["checked_in_at"]),
                *[safe_cell(answer) for answer in said],
            ]
        )
    return buffer.getvalue()


# --- the organiser's actions on one order ------------------------------------------------------------


def _problem(fields: dict[str, str]) -> InvalidInput:
    return InvalidInput(next(iter(fields.values())), fields=fields)


async def refund(reference: str, form: RefundForm, *, requested_by: str, gateway: Gateway, now: datetime) -> payments.RefundRow:
    """The refund form: everything left, or chosen tickets and/or an amount, with a reason and a confirmation.
    What the order allows is checked again under the order's lock by payments.refund_order."""
    detail = await order_for_organiser(reference)
    order = detail.order
    fields: dict[str, str] = {}
    if form.scope not in ("all", "part"):
        fields["scope"] = N_("Choose whether to refund everything or part of the order.")
    amount: int | None = None
    if form.amount.strip():
        amount = parse_pounds(form.amount)
        if amount is None:
            fields["amount"] = N_("Write the amount in pounds and pence, like 12.50.")
    if form.scope == "part" and not form.tickets and amount is None and "amount" not in fields:
        fields["tickets"] = N_("Choose the tickets to refund, or enter an amount.")
    if amount is not None and amount <= 0:
        fields["amount"] = N_("Refund more than nothing.")
    elif amount is not None and amount > detail.refundable_pence:
        fields["amount"] = N_("That is more than can be refunded: at most %(most)s is left of the payment.") % {
            "most": format_money(detail.refundable_pence, order.currency)
        }
    if not form.reason.strip():
        fields["reason"] = N_("Say why you are refunding (the guest does not see this).")
    elif (problem := text.line_problem(form.reason.strip())) is not None:
        fields["reason"] = problem
    if not form.confirm:
        fields["confirm"] = N_("Tick the box to confirm the refund.")
    if fields:
        raise _problem(fields)
    part = form.scope == "part"
    try:
        return await payments.refund_order(
            reference,
            ticket_ids=form.tickets if part and form.tickets else None,
            amount_pence=amount if part else None,
            reason=form.reason.strip(),
            requested_by=requested_by,
            gateway=gateway,
            now=now,
            seen_refunded_pence=int(form.refunded) if form.refunded.strip().isdigit() else None,
        )
    except InvalidInput as refused:
        raise InvalidInput(refused.message, fields={"amount" if k == "amount_pence" else k: v for k, v in refused.fields.items()}) from None


async def give_back_refund(reference: str, refund_id: int, form: GivenBackForm, *, requested_by: str, now: datetime) -> payments.RefundRow:
    """The form under a refund Stripe refused: how the money was given back instead, and a confirmation. Whether the
    refund was refused is checked under the order's lock by payments.give_back_refused_refund."""
    fields: dict[str, str] = {}
    if form.method not in payments.GIVEN_BACK_ANOTHER_WAY:
        fields["method"] = payments.CHOOSE_HOW_GIVEN_BACK
    if not form.confirm:
        fields["confirm"] = N_("Tick the box to confirm the guest has the money back.")
    if fields:
        raise _problem(fields)
    return await payments.give_back_refused_refund(reference, refund_id, method=form.method, requested_by=requested_by, now=now)


async def change_holder(reference: str, ticket_id: int, form: HolderForm, *, now: datetime) -> None:
    """Re-issue one of this order's tickets to a new holder (its old code stops working), once confirmed."""
    detail = await order_for_organiser(reference)
    if ticket_id not in {ticket.id for ticket in detail.tickets}:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    fields: dict[str, str] = {}
    if not form.holder.strip():
        fields["holder"] = N_("Please give the ticket holder's name.")
    elif len(form.holder.strip()) > 200:
        fields["holder"] = N_("That name is too long.")
    elif (problem := text.line_problem(form.holder.strip())) is not None:
        fields["holder"] = problem
    if not form.confirm:
        fields["confirm"] = N_("Tick the box to confirm: the old ticket code will stop working.")
    if fields:
        raise _problem(fields)
    await tickets.change_holder(ticket_id, form.holder, now=now)
