"""Personal data service: one guest's data found, exported and erased on request, and every event's guests
erased on schedule (the worker), each recorded in the audit log in the transaction that does it.

Erasing blanks names, emails and phone numbers and drops the order's emails; amounts, statuses, references
and tickets stay, so statements, reconciliation and door counts read the same afterwards (see rules). People on an
event's waiting lists are found, exported and erased with the rest: their entries keep their place, status and counts,
without the name and contact details. A Gift Aid declaration made with a donated refund (payments.tables.RefundDonation)
is treated as an order's declaration is: found, exported, and kept for HMRC's period before it is erased."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.query.functions.string import Lower

from events import db
from events.audit import service as audit
from events.audit.context import acting_as_system
from events.errors import InvalidInput, NotFound
from events.i18n import N_
from events.orders.statuses import OrderStatus
from events.orders.tables import GiftAidDeclaration, Order, OrderGuestName, OrderHistory, OrderLine
from events.payments.statuses import PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund, RefundDonation
from events.privacy import rules
from events.privacy.schemas import (
    ExportedAnswer,
    ExportedDeclaration,
    ExportedEmail,
    ExportedEvent,
    ExportedGuestName,
    ExportedHistory,
    ExportedLine,
    ExportedOrder,
    ExportedPayment,
    ExportedRefund,
    ExportedTicket,
    ExportedWaitingEntry,
    FoundBy,
    GuestData,
)
from events.questions import service as questions
from events.questions.tables import Answer
from events.tickets.outbox import SMS_FALLBACK_PREFIX
from events.tickets.statuses import MessageStatus, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket
from events.waitlist import rules as waitlist_rules
from events.waitlist.statuses import WaitingStatus
from events.waitlist.tables import WaitingEntry

MAX_BATCHES_PER_RUN = 25
# A donated refund carries a Gift Aid declaration when it keeps the words the donor agreed to (kept, as an order's
# declaration's are, when the name and address are erased).
DECLARED_REFUND = RefundDonation.gift_aid_statement != ""


@dataclass(frozen=True, slots=True)
class GuestOrder:
    """One of a guest's orders, as the organiser sees it before exporting or erasing."""

    reference: str
    status: OrderStatus
    created_at: datetime
    places: int
    buyer_name: str
    event_title: str
    event_starts_at: datetime


@dataclass(frozen=True, slots=True)
class GuestWaiting:
    """One of a guest's places on a waiting list, as the organiser sees it before exporting or erasing."""

    id: int
    name: str
    status: WaitingStatus
    quantity: int
    joined_at: datetime
    event_title: str
    event_starts_at: datetime


@dataclass(frozen=True, slots=True)
class Guest:
    """What is held about a guest: their orders (newest first), their places on waiting lists, and how many
    declarations and emails they hold."""

    contact: str
    orders: list[GuestOrder]
    declarations: int
    emails: int
    several_names: bool  # the orders and entries carry different names (a shared address or phone number)
    waiting: list[GuestWaiting] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Erased:
    orders: int
    tickets: int
    emails: int
    gift_aid_erased: int
    gift_aid_kept: int
    waiting_entries: int = 0
    answers: int = 0  # answers to the event's questions (dietary and allergen needs among them)


def _clean_contact(text: str) -> rules.Contact:
    contact = rules.read_contact(text)
    if contact is None:
        message = N_("Enter the email address (like name@example.org) or the phone number the guest booked with.")
        raise InvalidInput(message, fields={"contact": message})
    return contact


async def _guest_orders(contact: rules.Contact, organisation_id: int) -> dict[int, str]:
    """The guest's orders with this organisation, id to reference (another organisation's are never found).
    Phone numbers are stored as the guest typed them (only free places ask for one, so there are few), and are
    compared in one normal form."""
    if contact.kind == "email":
        rows = (
            await Order.select(Order.id, Order.reference)
            .where(Lower(Order.buyer_email) == contact.value, Order.event.organisation == organisation_id)
            .order_by(Order.id)
        )
        return {row["id"]: row["reference"] for row in rows}
    rows = (
        await Order.select(Order.id, Order.reference, Order.buyer_phone)
        .where(Order.buyer_phone != "", Order.event.organisation == organisation_id)
        .order_by(Order.id)
    )
    return {row["id"]: row["reference"] for row in rows if rules.normalise_phone(row["buyer_phone"]) == contact.value}


async def _guest_waiting(contact: rules.Contact, organisation_id: int) -> list[int]:
    """The guest's entries on this organisation's waiting lists, by the email address or phone number they gave."""
    if contact.kind == "email":
        rows = await WaitingEntry.select(WaitingEntry.id).where(
            Lower(WaitingEntry.email) == contact.value, WaitingEntry.event.organisation == organisation_id
        )
        return sorted(row["id"] for row in rows)
    rows = await WaitingEntry.select(WaitingEntry.id, WaitingEntry.phone).where(
        WaitingEntry.phone != "", WaitingEntry.event.organisation == organisation_id
    )
    return sorted(row["id"] for row in rows if rules.normalise_phone(row["phone"]) == contact.value)


async def _chosen(contact: rules.Contact, references: Sequence[str], entry_ids: Sequence[str], organisation_id: int) -> tuple[list[int], list[int]]:
    """The guest's orders and waiting-list entries that the organiser ticked. Two guests can share a phone number (a
    drop-in centre's, a caseworker's), so each is shown with its name and only the ticked ones are exported or
    erased."""
    found = await _guest_orders(contact, organisation_id)
    waiting = await _guest_waiting(contact, organisation_id)
    if not found and not waiting:
        raise _no_data(contact)
    chosen = {reference.strip().upper() for reference in references}
    picked = sorted(order_id for order_id, reference in found.items() if reference in chosen)
    chosen_entries = {entry.strip() for entry in entry_ids}
    picked_entries = [entry_id for entry_id in waiting if str(entry_id) in chosen_entries]
    if not picked and not picked_entries:
        message = N_("Tick at least one order.") if not waiting else N_("Tick at least one order or waiting list.")
        raise InvalidInput(message, fields={"orders": message})
    return picked, picked_entries


def _no_data(contact: rules.Contact) -> NotFound:
    if contact.kind == "phone":
        return NotFound(N_("We hold no orders for that phone number."), code="guest_not_found")
    return NotFound(N_("We hold no orders for that email address."), code="guest_not_found")


async def find_guest(contact_text: str, *, organisation_id: int) -> Guest:
    """What is held about a guest: their orders and waiting-list entries, with the event, for the organiser to check
    before acting."""
    contact = _clean_contact(contact_text)
    ids = list(await _guest_orders(contact, organisation_id)) or [-1]
    entry_ids = await _guest_waiting(contact, organisation_id)
    if ids == [-1] and not entry_ids:
        raise _no_data(contact)
    waiting = (
        await WaitingEntry.select(
            WaitingEntry.id,
            WaitingEntry.name,
            WaitingEntry.status,
            WaitingEntry.quantity,
            WaitingEntry.created_at,
            WaitingEntry.event.title,
            WaitingEntry.event.starts_at,
        )
        .where(WaitingEntry.id.is_in(entry_ids or [-1]))
        .order_by(WaitingEntry.id, ascending=False)
    )
    orders = (
        await Order.select(Order.reference, Order.status, Order.created_at, Order.places, Order.buyer_name, Order.event.title, Order.event.starts_at)
        .where(Order.id.is_in(ids))
        .order_by(Order.created_at, ascending=False)
    )
    declarations = await GiftAidDeclaration.count().where(GiftAidDeclaration.order_id.is_in(ids))
    declarations += await RefundDonation.count().where(RefundDonation.order_id.is_in(ids), DECLARED_REFUND)
    emails = await OutboxMessage.count().where(OutboxMessage.order_id.is_in(ids))
    names = ({order["buyer_name"] for order in orders} | {entry["name"] for entry in waiting}) - {""}
    return Guest(
        contact=contact.value,
        orders=[
            GuestOrder(
                reference=order["reference"],
                status=OrderStatus(order["status"]),
                created_at=order["created_at"],
                places=order["places"],
                buyer_name=order["buyer_name"],
                event_title=order["event.title"],
                event_starts_at=order["event.starts_at"],
            )
            for order in orders
        ],
        declarations=declarations,
        emails=emails,
        several_names=len(names) > 1,
        waiting=[
            GuestWaiting(
                id=entry["id"],
                name=entry["name"],
                status=WaitingStatus(entry["status"]),
                quantity=entry["quantity"],
                joined_at=entry["created_at"],
                event_title=entry["event.title"],
                event_starts_at=entry["event.starts_at"],
            )
            for entry in waiting
        ],
    )


async def export_guest(
    contact_text: str, references: Sequence[str], *, organisation_id: int, now: datetime, waiting: Sequence[str] = ()
) -> GuestData:
    """Everything held about one guest in the orders and waiting-list entries ticked, as a JSON-ready document (no
    ticket codes, no waiting-list links: they would still open the door, or the guest's offer)."""
    contact = _clean_contact(contact_text)
    async with db.write_transaction():
        ids, entry_ids = await _chosen(contact, references, waiting, organisation_id)
        document = await _document(contact, ids, now, entry_ids)
        after: dict[str, Any] = {"orders": [order.reference for order in document.orders]}
        if entry_ids:
            after["waiting_entries"] = entry_ids
        await audit.record("guest_data.exported", now=now, organisation_id=organisation_id, subject_type="guest", after=after)
    return document


async def erase_guest(contact_text: str, references: Sequence[str], *, organisation_id: int, now: datetime, waiting: Sequence[str] = ()) -> Erased:
    """Erase one guest's personal data in the orders and waiting-list entries ticked, now, on their request. Gift Aid
    declarations HMRC needs are kept."""
    contact = _clean_contact(contact_text)
    async with db.write_transaction():
        order_ids, entry_ids = await _chosen(contact, references, waiting, organisation_id)
        rows = await Order.select(Order.id, Order.event, Order.reference).where(Order.id.is_in(order_ids or [-1]))
        erased = await _erase_orders([row["id"] for row in rows], now, reason="on request") if rows else Erased(0, 0, 0, 0, 0)
        entries = await _erase_waiting_entries(entry_ids, now)
        if entry_ids:
            # Nobody can tell them of an offer any more, so they leave the list rather than hold places back.
            await WaitingEntry.update({WaitingEntry.status: WaitingStatus.left, WaitingEntry.answered_at: now}).where(
                WaitingEntry.id.is_in(list(entry_ids)), WaitingEntry.status == WaitingStatus.waiting
            )
        by_event: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"orders": [], "waiting_entries": []})
        for row in rows:
            by_event[row["event"]]["orders"].append(row["reference"])
        for entry in entries:
            by_event[entry["event"]]["waiting_entries"].append(entry["id"])
        for event_id, erased_here in by_event.items():
            after: dict[str, Any] = {"orders": erased_here["orders"], "gift_aid_kept": erased.gift_aid_kept, "reason": "on request"}
            if erased_here["waiting_entries"]:
                after["waiting_entries"] = erased_here["waiting_entries"]
            await audit.record("guest_data.erased", now=now, event_id=event_id, subject_type="guest", after=after)
    return dataclasses.replace(erased, waiting_entries=len(entries))


async def _erase_waiting_entries(entry_ids: Sequence[int], now: datetime) -> list[dict[str, Any]]:
    """Blank the name and contact details of these waiting-list entries (their place, status and counts stay). Inside
    the caller's write transaction. The entries' ids and events."""
    if not entry_ids:
        return []
    # The message that told them they joined (and told them again, when they joined again having lost it) holds their
    # name and address, and their entry's link; so does its second try by SMS, when it went by WhatsApp and failed.
    keys = [key for entry_id in entry_ids for key in waitlist_rules.joined_message_keys(entry_id)]
    told = await OutboxMessage.delete().where(OutboxMessage.dedupe_key.is_in(keys)).returning(OutboxMessage.id)
    if told:
        await OutboxMessage.delete().where(OutboxMessage.dedupe_key.is_in([f"{SMS_FALLBACK_PREFIX}{row['id']}" for row in told]))
    return await (
        WaitingEntry.update(
            {WaitingEntry.name: rules.ERASED, WaitingEntry.email: rules.ERASED, WaitingEntry.phone: rules.ERASED, WaitingEntry.updated_at: now}
        )
        .where(WaitingEntry.id.is_in(list(entry_ids)))
        .returning(WaitingEntry.id, WaitingEntry.event)
    )


async def erase_expired(now: datetime, *, retention_days: int, batch: int = rules.ERASE_BATCH) -> int:
    """The worker's job: erase the guests of events that ended ``retention_days`` ago, a batch per
    transaction, and declarations past HMRC's keeping period. Running it again erases nothing new."""
    with acting_as_system():
        return await _erase_expired(now, retention_days, batch)


async def _erase_expired(now: datetime, retention_days: int, batch: int) -> int:
    cutoff = rules.ended_before(now, retention_days)
    total = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        async with db.write_transaction():
            due = await _orders_due(cutoff, batch)
            if not due:
                break
            await _erase_orders([row["id"] for row in due], now, reason="retention")
            per_event: dict[int, int] = defaultdict(int)
            for row in due:
                per_event[row["event"]] += 1
            for event_id, count in per_event.items():
                await audit.record(
                    "guest_data.expired",
                    now=now,
                    event_id=event_id,
                    subject_type="event",
                    subject_id=event_id,
                    after={"orders": count, "retention_days": retention_days},
                )
        total += len(due)
        if len(due) < batch:
            break
    total += await _erase_expired_waiting_lists(cutoff, now, retention_days, batch)
    await _erase_old_declarations(now, batch)
    return total


async def _erase_expired_waiting_lists(cutoff: datetime, now: datetime, retention_days: int, batch: int) -> int:
    """The waiting lists of events that ended before the cut-off, without names and contact details, a batch per
    transaction: the number of entries erased."""
    total = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        async with db.write_transaction():
            due = (
                await WaitingEntry.select(WaitingEntry.id)
                .where(
                    WaitingEntry.event.ends_at < cutoff,
                    (WaitingEntry.name != rules.ERASED) | (WaitingEntry.email != rules.ERASED) | (WaitingEntry.phone != rules.ERASED),
                )
                .order_by(WaitingEntry.id)
                .limit(batch)
            )
            if not due:
                break
            erased = await _erase_waiting_entries([row["id"] for row in due], now)
            per_event: dict[int, int] = defaultdict(int)
            for row in erased:
                per_event[row["event"]] += 1
            for event_id, count in per_event.items():
                await audit.record(
                    "guest_data.expired",
                    now=now,
                    event_id=event_id,
                    subject_type="event",
                    subject_id=event_id,
                    after={"waiting_entries": count, "retention_days": retention_days},
                )
        total += len(due)
        if len(due) < batch:
            break
    return total


async def _orders_due(cutoff: datetime, batch: int) -> list[dict[str, Any]]:
    """Orders of events that ended before the cut-off and still hold something personal (id and event)."""
    named_tickets = Ticket.select(Ticket.order_id).where(Ticket.holder_name != rules.ERASED, Ticket.order_id._.event._.ends_at < cutoff)
    emails = OutboxMessage.select(OutboxMessage.order_id).where(OutboxMessage.order_id._.event._.ends_at < cutoff)
    answers = Answer.select(Answer.order_id).where(Answer.order_id._.event._.ends_at < cutoff)
    guest_names = OrderGuestName.select(OrderGuestName.order_id).where(OrderGuestName.order_id._.event._.ends_at < cutoff)
    personal = (
        (Order.buyer_name != rules.ERASED)
        | (Order.buyer_email != rules.ERASED)
        | (Order.buyer_phone != rules.ERASED)
        | Order.id.is_in(named_tickets)
        | Order.id.is_in(emails)
        | Order.id.is_in(answers)
        | Order.id.is_in(guest_names)
    )
    return await Order.select(Order.id, Order.event).where(Order.event.ends_at < cutoff, personal).order_by(Order.id).limit(batch)


async def _declarations_due(cutoff: datetime, batch: int) -> list[dict[str, Any]]:
    """Declarations kept for HMRC whose keeping period is over (their orders were erased long ago): id and event."""
    paid_at, created_at = GiftAidDeclaration.order_id.paid_at, GiftAidDeclaration.order_id.created_at
    return (
        await GiftAidDeclaration.select(GiftAidDeclaration.id, GiftAidDeclaration.order_id.event.as_alias("event"))
        .where(
            (GiftAidDeclaration.first_name != rules.ERASED)
            | (GiftAidDeclaration.last_name != rules.ERASED)
            | (GiftAidDeclaration.house != rules.ERASED)
            | (GiftAidDeclaration.postcode != rules.ERASED),
            (paid_at < cutoff) | (paid_at.is_null() & (created_at < cutoff)),  # COALESCE(paid_at, created_at) < cutoff
        )
        .order_by(GiftAidDeclaration.id)
        .limit(batch)
    )


async def _donated_refund_declarations_due(cutoff: datetime, batch: int) -> list[dict[str, Any]]:
    """Declarations made with donated refunds before the cut-off that still name the donor: id and event."""
    return (
        await RefundDonation.select(RefundDonation.id, RefundDonation.order_id.event.as_alias("event"))
        .where(
            (RefundDonation.gift_aid_title != rules.ERASED)
            | (RefundDonation.gift_aid_first_name != rules.ERASED)
            | (RefundDonation.gift_aid_last_name != rules.ERASED)
            | (RefundDonation.gift_aid_house != rules.ERASED)
            | (RefundDonation.gift_aid_postcode != rules.ERASED),
            RefundDonation.created_at < cutoff,
        )
        .order_by(RefundDonation.id)
        .limit(batch)
    )


async def _erase_old_declarations(now: datetime, batch: int) -> None:
    cutoff = rules.gift_aid_cutoff(now)
    for _ in range(MAX_BATCHES_PER_RUN):
        async with db.write_transaction():
            due = await _declarations_due(cutoff, batch)
            donated = await _donated_refund_declarations_due(cutoff, batch)
            if not due and not donated:
                return
            await _blank_declarations([row["id"] for row in due])
            await _blank_donated_refund_declarations([row["id"] for row in donated])
            per_event: dict[int, int] = defaultdict(int)
            for row in [*due, *donated]:
                per_event[row["event"]] += 1
            for event_id, count in per_event.items():
                await audit.record(
                    "gift_aid.records_expired",
                    now=now,
                    event_id=event_id,
                    subject_type="event",
                    subject_id=event_id,
                    after={"declarations": count, "kept_years": rules.GIFT_AID_KEEP_YEARS},
                )
        if len(due) < batch and len(donated) < batch:
            return


async def _blank_declarations(ids: Sequence[int]) -> None:
    if ids:
        await GiftAidDeclaration.update(
            {
                GiftAidDeclaration.title: rules.ERASED,
                GiftAidDeclaration.first_name: rules.ERASED,
                GiftAidDeclaration.last_name: rules.ERASED,
                GiftAidDeclaration.house: rules.ERASED,
                GiftAidDeclaration.postcode: rules.ERASED,
            }
        ).where(GiftAidDeclaration.id.is_in(list(ids)))


async def _blank_donated_refund_declarations(ids: Sequence[int]) -> None:
    """The donor's name and home go; the amount, the date and the words they agreed to stay, as for an order's
    declaration, so statements and the Gift Aid schedule read the same afterwards."""
    if ids:
        await RefundDonation.update(
            {
                RefundDonation.gift_aid_title: rules.ERASED,
                RefundDonation.gift_aid_first_name: rules.ERASED,
                RefundDonation.gift_aid_last_name: rules.ERASED,
                RefundDonation.gift_aid_house: rules.ERASED,
                RefundDonation.gift_aid_postcode: rules.ERASED,
            }
        ).where(RefundDonation.id.is_in(list(ids)))


async def _erase_orders(order_ids: Sequence[int], now: datetime, *, reason: str) -> Erased:
    """Blank the personal fields of these orders, their tickets and declarations (unless HMRC needs them),
    and drop their emails and their answers to the event's questions. Inside the caller's write transaction."""
    ids = list(order_ids)
    await Order.update(
        {Order.buyer_name: rules.ERASED, Order.buyer_email: rules.ERASED, Order.buyer_phone: rules.ERASED, Order.client_key: None}
    ).where(Order.id.is_in(ids))
    tickets = await Ticket.update({Ticket.holder_name: rules.ERASED}).where(Ticket.order_id.is_in(ids)).returning(Ticket.id)
    # The guests named for tickets not issued (yet): an unpaid order's, or one paid too late for places.
    await OrderGuestName.delete().where(OrderGuestName.order_id.is_in(ids))
    emails = await OutboxMessage.delete().where(OutboxMessage.order_id.is_in(ids)).returning(OutboxMessage.id)
    answers = await questions.erase_answers(ids)
    declarations = await GiftAidDeclaration.select(
        GiftAidDeclaration.id, GiftAidDeclaration.first_name, GiftAidDeclaration.order_id.status, GiftAidDeclaration.order_id.paid_at
    ).where(GiftAidDeclaration.order_id.is_in(ids))
    kept = [d for d in declarations if rules.keeps_gift_aid(d["order_id.status"], d["order_id.paid_at"], now)]
    to_blank = [d["id"] for d in declarations if d not in kept and d["first_name"] != rules.ERASED]
    await _blank_declarations(to_blank)
    donated = await RefundDonation.select(
        RefundDonation.id, RefundDonation.gift_aid_first_name, RefundDonation.refund_offered, RefundDonation.created_at
    ).where(RefundDonation.order_id.is_in(ids), DECLARED_REFUND)
    donated_kept = [d for d in donated if rules.keeps_donated_refund_gift_aid(d["refund_offered"], d["created_at"], now)]
    donated_to_blank = [d["id"] for d in donated if d not in donated_kept and d["gift_aid_first_name"] != rules.ERASED]
    await _blank_donated_refund_declarations(donated_to_blank)
    await OrderHistory.insert(*[OrderHistory(order_id=order_id, kind="personal_data_erased", detail=reason, created_at=now) for order_id in ids])
    return Erased(len(ids), len(tickets), len(emails), len(to_blank) + len(donated_to_blank), len(kept) + len(donated_kept), answers=answers)


async def _document(contact: rules.Contact, order_ids: list[int], now: datetime, entry_ids: Sequence[int] = ()) -> GuestData:
    ids = order_ids or [-1]
    waiting = (
        await WaitingEntry.select(
            WaitingEntry.kind,
            WaitingEntry.name,
            WaitingEntry.email,
            WaitingEntry.phone,
            WaitingEntry.locale,
            WaitingEntry.quantity,
            WaitingEntry.partner_name,
            WaitingEntry.status,
            WaitingEntry.created_at,
            WaitingEntry.offered_at,
            WaitingEntry.offer_expires_at,
            WaitingEntry.answered_at,
            WaitingEntry.ticket_type.name,
            WaitingEntry.event.title,
            WaitingEntry.event.starts_at,
            WaitingEntry.event.venue,
        )
        .where(WaitingEntry.id.is_in(list(entry_ids) or [-1]))
        .order_by(WaitingEntry.id)
    )
    orders = (
        await Order.select(
            Order.id,
            Order.reference,
            Order.status,
            Order.channel,
            Order.buyer_name,
            Order.buyer_email,
            Order.buyer_phone,
            Order.locale,
            Order.currency,
            Order.total_pence,
            Order.refunded_pence,
            Order.created_at,
            Order.paid_at,
            Order.event.slug,
            Order.event.title,
            Order.event.starts_at,
            Order.event.venue,
        )
        .where(Order.id.is_in(ids))
        .order_by(Order.id)
    )
    lines = (
        await OrderLine.select(OrderLine.order_id, OrderLine.kind, OrderLine.description, OrderLine.quantity, OrderLine.total_pence)
        .where(OrderLine.order_id.is_in(ids))
        .order_by(OrderLine.id)
    )
    tickets = (
        await Ticket.select(Ticket.order_id, Ticket.holder_name, Ticket.ticket_type.name, Ticket.status, Ticket.created_at, Ticket.checked_in_at)
        .where(Ticket.order_id.is_in(ids))
        .order_by(Ticket.id)
    )
    guest_names = (
        await OrderGuestName.select(OrderGuestName.order_id, OrderGuestName.position, OrderGuestName.name)
        .where(OrderGuestName.order_id.is_in(ids))
        .order_by(OrderGuestName.order_id, OrderGuestName.position)
    )
    payments = (
        await Payment.select(Payment.order_id, Payment.provider, Payment.amount_pence, Payment.created_at)
        .where(Payment.order_id.is_in(ids))
        .order_by(Payment.id)
    )
    refunds = (
        await Refund.select(Refund.order_id, Refund.amount_pence, Refund.status, Refund.created_at)
        .where(Refund.order_id.is_in(ids))
        .order_by(Refund.id)
    )
    history = (
        await OrderHistory.select(OrderHistory.order_id, OrderHistory.kind, OrderHistory.created_at)
        .where(OrderHistory.order_id.is_in(ids))
        .order_by(OrderHistory.id)
    )
    declarations = (
        await GiftAidDeclaration.select(
            GiftAidDeclaration.order_id.reference,
            GiftAidDeclaration.title,
            GiftAidDeclaration.first_name,
            GiftAidDeclaration.last_name,
            GiftAidDeclaration.house,
            GiftAidDeclaration.postcode,
            GiftAidDeclaration.eligible_pence,
            GiftAidDeclaration.statement,
            GiftAidDeclaration.created_at,
        )
        .where(GiftAidDeclaration.order_id.is_in(ids))
        .order_by(GiftAidDeclaration.id)
    )
    donated_refunds = (
        await RefundDonation.select(
            RefundDonation.order_id.reference,
            RefundDonation.gift_aid_title,
            RefundDonation.gift_aid_first_name,
            RefundDonation.gift_aid_last_name,
            RefundDonation.gift_aid_house,
            RefundDonation.gift_aid_postcode,
            RefundDonation.tickets_pence,
            RefundDonation.booking_fees_pence,
            RefundDonation.gift_aid_statement,
            RefundDonation.created_at,
        )
        .where(RefundDonation.order_id.is_in(ids), DECLARED_REFUND)
        .order_by(RefundDonation.id)
    )
    emails = (
        await OutboxMessage.select(
            OutboxMessage.order_id.reference,
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.status,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.order_id.is_in(ids))
        .order_by(OutboxMessage.id)
    )

    answers = await questions.exported_answers(order_ids)

    def of(rows: list[dict[str, Any]], order_id: int) -> list[dict[str, Any]]:
        """This order's rows."""
        return [row for row in rows if row["order_id"] == order_id]

    return GuestData(
        exported_at=now,
        found_by=FoundBy(kind=contact.kind, value=contact.value),
        orders=[
            ExportedOrder(
                reference=order["reference"],
                event=ExportedEvent(title=order["event.title"], starts_at=order["event.starts_at"], venue=order["event.venue"]),
                status=OrderStatus(order["status"]),
                channel=order["channel"],
                name=order["buyer_name"],
                email=order["buyer_email"],
                phone=order["buyer_phone"],
                language=order["locale"],
                currency=order["currency"],
                total_pence=order["total_pence"],
                refunded_pence=order["refunded_pence"],
                created_at=order["created_at"],
                paid_at=order["paid_at"],
                lines=[ExportedLine(r["kind"], r["description"], r["quantity"], r["total_pence"]) for r in of(lines, order["id"])],
                tickets=[
                    ExportedTicket(r["holder_name"], r["ticket_type.name"], TicketStatus(r["status"]), r["created_at"], r["checked_in_at"])
                    for r in of(tickets, order["id"])
                ],
                payments=[ExportedPayment(PaymentMethod(r["provider"]), r["amount_pence"], r["created_at"]) for r in of(payments, order["id"])],
                refunds=[ExportedRefund(r["amount_pence"], RefundStatus(r["status"]), r["created_at"]) for r in of(refunds, order["id"])],
                history=[ExportedHistory(r["kind"], r["created_at"]) for r in of(history, order["id"])],
                answers=[ExportedAnswer(line.question, line.ticket_number, line.answer) for line in answers.get(order["id"], [])],
                guest_names=[ExportedGuestName(r["position"] + 1, r["name"]) for r in of(guest_names, order["id"])],
            )
            for order in orders
        ],
        gift_aid_declarations=[
            ExportedDeclaration(
                order=row["order_id.reference"],
                title=row["title"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                house=row["house"],
                postcode=row["postcode"],
                eligible_pence=row["eligible_pence"],
                statement=row["statement"],
                declared_at=row["created_at"],
            )
            for row in declarations
        ]
        + [
            ExportedDeclaration(
                order=row["order_id.reference"],
                title=row["gift_aid_title"],
                first_name=row["gift_aid_first_name"],
                last_name=row["gift_aid_last_name"],
                house=row["gift_aid_house"],
                postcode=row["gift_aid_postcode"],
                # What the declaration covers: the ticket income and booking fees that became a donation.
                eligible_pence=row["tickets_pence"] + row["booking_fees_pence"],
                statement=row["gift_aid_statement"],
                declared_at=row["created_at"],
                donated_refund=True,
            )
            for row in donated_refunds
        ],
        emails=[
            ExportedEmail(
                order=row["order_id.reference"],
                kind=row["kind"],
                recipient=row["recipient"],
                status=MessageStatus(row["status"]),
                queued_at=row["created_at"],
                sent_at=row["sent_at"],
            )
            for row in emails
        ],
        waiting_lists=[
            ExportedWaitingEntry(
                event=ExportedEvent(title=row["event.title"], starts_at=row["event.starts_at"], venue=row["event.venue"]),
                kind=row["kind"],
                name=row["name"],
                email=row["email"],
                phone=row["phone"],
                language=row["locale"],
                quantity=row["quantity"],
                ticket_type=row["ticket_type.name"] or "",
                referral_partner=row["partner_name"],
                status=WaitingStatus(row["status"]),
                joined_at=row["created_at"],
                offered_at=row["offered_at"],
                offer_expires_at=row["offer_expires_at"],
                answered_at=row["answered_at"],
            )
            for row in waiting
        ],
    )
