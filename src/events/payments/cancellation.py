"""Cancelling an event: stop sales, release holds, refund every paid order and tell every guest, in their
language. Safe to run again: each order's refund and email happen once, and a second run finishes the job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from piccolo.query.functions.aggregate import Count, Sum

from events import db, text
from events.accounts import service as accounts
from events.accounts.roles import door_scope
from events.audit import service as audit
from events.catalogue import rules
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, TicketType
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.orders import service as orders
from events.orders.service import OrderRow
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderHistory
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.refunds import CancellationSteps, cancellation_steps
from events.payments.statuses import RefundStatus
from events.payments.tables import Payment, Refund
from events.tickets import outbox
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket

CANCELLED_NOTE = "event_cancelled"
REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class OutstandingRefund:
    order_reference: str
    amount_pence: int
    status: RefundStatus  # pending (the worker retries it) or failed (Stripe refused: give the money back another way)


@dataclass(frozen=True, slots=True)
class CancellationProgress:
    """Where a cancellation stands, for the organiser: what is done and what the worker is still retrying."""

    status: EventStatus
    guests_told: int
    orders_to_finish: int
    tickets_still_valid: int
    refunds_done: int
    refunded_pence: int
    refunds_pending: int
    pending_pence: int
    refunds_failed: int
    failed_pence: int
    currency: str
    outstanding: tuple[OutstandingRefund, ...] = ()

    @property
    def complete(self) -> bool:
        return self.status == EventStatus.cancelled and not (self.orders_to_finish or self.tickets_still_valid or self.refunds_pending)


async def cancel_event(slug: str, *, reason: str, requested_by: str, gateway: Gateway, now: datetime) -> CancellationProgress:
    """Cancel the event (once) and bring every order up to date. Refunds go through record_refund and send_refund,
    with an idempotency key per refund; one Stripe cannot take now stays pending and retry_pending_refunds sends it."""
    reason = _checked_reason(reason)
    event_id = await _mark_cancelled(slug, reason=reason, now=now)
    refund_reason = f"Event cancelled{': ' + reason if reason else ''}"[:REASON_MAX]
    for order in (
        await Order.select(Order.id, Order.reference)
        .where(Order.event == event_id, Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]))
        .order_by(Order.id)
    ):
        await _finish_order(order["id"], order["reference"], refund_reason, requested_by, gateway, now)
    return await cancellation_progress(slug)


def _checked_reason(reason: str) -> str:
    """The reason as it goes into every refund, note and email, or InvalidInput: all of the input is checked
    before anything changes, so a cancellation never stops half-way on it."""
    problem = text.form_value_problem(reason)
    reason = " ".join(reason.split())
    problem = problem or text.line_problem(reason, required=False)
    if problem is not None:
        raise InvalidInput(problem, fields={"reason": problem})
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", fields={"reason": f"At most {REASON_MAX} characters."})
    return reason


async def cancellation_progress(slug: str) -> CancellationProgress:
    event = await Event.select(Event.id, Event.status, Event.currency).where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    refunds = (
        await Refund.select(Refund.status, Count(alias="refunds"), Sum(Refund.amount_pence, alias="pence"))
        .where(Refund.order_id.event == event["id"])
        .group_by(Refund.status)
    )
    by_status = {row["status"]: (int(row["refunds"]), int(row["pence"] or 0)) for row in refunds}
    done, pending, failed = (by_status.get(status, (0, 0)) for status in (RefundStatus.succeeded, RefundStatus.pending, RefundStatus.failed))
    told = OrderHistory.select(OrderHistory.order_id).where(OrderHistory.order_id.event == event["id"], OrderHistory.kind == CANCELLED_NOTE)
    unnotified = await Order.count().where(
        Order.event == event["id"], Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]), Order.id.not_in(told)
    )
    valid_tickets = await Ticket.count().where(Ticket.event == event["id"], Ticket.status == TicketStatus.valid)
    notified = await OrderHistory.count().where(OrderHistory.order_id.event == event["id"], OrderHistory.kind == CANCELLED_NOTE)
    outstanding = (
        await Refund.select(Refund.order_id.reference, Refund.amount_pence, Refund.status)
        .where(Refund.order_id.event == event["id"], Refund.status.is_in([RefundStatus.pending, RefundStatus.failed]))
        .order_by(Refund.id)
    )
    return CancellationProgress(
        status=EventStatus(event["status"]),
        guests_told=notified,
        orders_to_finish=unnotified,
        tickets_still_valid=valid_tickets,
        refunds_done=done[0],
        refunded_pence=done[1],
        refunds_pending=pending[0],
        pending_pence=pending[1],
        refunds_failed=failed[0],
        failed_pence=failed[1],
        currency=event["currency"],
        outstanding=tuple(OutstandingRefund(r["order_id.reference"], r["amount_pence"], RefundStatus(r["status"])) for r in outstanding),
    )


async def _mark_cancelled(slug: str, *, reason: str, now: datetime) -> int:
    """Mark the event cancelled (once), release its holds and close its door; returns its id."""
    async with db.write_transaction():
        event = await db.locked(Event.select().where(Event.slug == slug)).first()
        if event is None:
            raise NotFound(N_("We could not find that event."), code="event_not_found")
        if event["status"] == EventStatus.cancelled:
            return int(event["id"])  # a retry: finish what the first attempt left
        problem = rules.status_change_problem(
            event["status"],
            EventStatus.cancelled,
            ticket_type_count=await TicketType.count().where(TicketType.event == event["id"]),
            share_count=await BeneficiaryShare.count().where(BeneficiaryShare.event == event["id"]),
        )
        if problem:
            raise Conflict(problem, code="cannot_cancel")
        await Event.update({Event.status: EventStatus.cancelled, Event.updated_at: now}).where(Event.id == event["id"])
        released = await orders.release_event_holds(event["id"], now, reason="event cancelled")
        door_tokens = await accounts.revoke_all_scoped_tokens(door_scope(event["id"]), now=now)  # no door to open now
        await audit.record(
            "event.cancelled",
            now=now,
            event_id=event["id"],
            subject_type="event",
            subject_id=slug,
            before={"status": event["status"]},
            after={"status": EventStatus.cancelled, "reason": reason, "holds_released": released, "door_tokens_revoked": door_tokens},
        )
    return int(event["id"])


async def _finish_order(order_id: int, reference: str, reason: str, requested_by: str, gateway: Gateway, now: datetime) -> None:
    """Note the cancellation, refund what is left and tell the guest, in one transaction under the order's lock, so
    each order is finished once however many cancellations run. The guest gets one message: the cancellation email,
    which states the refund made with it (its amount and when the money arrives). Stripe is asked after the commit."""
    refund_id: int | None = None
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        steps = await _steps(order)
        if steps.notify:
            if not await Payment.exists().where(Payment.order_id == order_id):
                # Free places: nothing to refund, so they are voided here (record_refund voids paid tickets).
                # Not through void_tickets: a free place was counted as claimed, not in the general pool.
                await Ticket.update({Ticket.status: TicketStatus.void}).where(Ticket.order_id == order_id, Ticket.status == TicketStatus.valid)
            await orders.note(order_id, CANCELLED_NOTE, reason, now)
        if steps.refund:
            # A guest told of the cancellation before its refund (by an earlier version that did the two apart)
            # hears of the refund with the ordinary refund notice.
            notice = "event_cancelled" if steps.notify else payments.REFUND_NOTICE
            refund_id = await payments.record_refund(
                order, ticket_ids=None, amount_pence=None, reason=reason, requested_by=requested_by, now=now, notice=notice
            )
        elif steps.notify:
            await outbox.enqueue("event_cancelled", order_id=order_id, now=now)
    if refund_id is not None:
        await payments.send_refund(refund_id, gateway=gateway, now=now)


async def _steps(order: OrderRow) -> CancellationSteps:
    payment = await Payment.select(Payment.amount_pence).where(Payment.order_id == order.id).order_by(Payment.id).first()
    notified = await OrderHistory.exists().where(OrderHistory.order_id == order.id, OrderHistory.kind == CANCELLED_NOTE)
    return cancellation_steps(
        order_status=order.status,
        notified=notified,
        paid_pence=payment["amount_pence"] if payment else None,
        refunded_pence=order.refunded_pence,
    )
