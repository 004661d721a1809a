"""Payments service: booking card payments exactly once, webhooks, refunds and the re-checks
that make sure a successful payment always ends in tickets or a refund."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
import stripe
from msgspec import Meta

from events import db, text
from events.audit import service as audit
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import Event
from events.errors import Conflict, EventsError, InvalidInput, NotAllowed, NotFound
from events.i18n import N_
from events.orders import service as orders
from events.orders.service import OrderRow, Settlement
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderHistory
from events.organisations.tables import Organisation
from events.payments import donations, money_left, queries
from events.payments.bookkeeping import money_moved
from events.payments.gateway import (
    Gateway,
    IntentState,
    PaymentProviderError,
    ProviderRefund,
)
from events.payments.gateways import Gateways
from events.payments.refunds import MoneyParts, RefundableTicket, RefundRefused, plan_refund, refund_parts, refundable_parts, what_is_refunded_first
from events.payments.statuses import PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund, WebhookEvent
from events.tickets import issuing, outbox
from events.tickets.statuses import MessageKind, TicketStatus
from events.tickets.tables import Ticket

logger = logging.getLogger("events.payments")

RECHECK_PENDING_AFTER = timedelta(minutes=2)
RECHECK_EXPIRED_FOR = timedelta(days=2)
# How long the sweeper leaves a hold alone after its buyer's new hold replaced it: while the new hold starts its payment
# (at most three tries of Stripe's timeout) it may fail and put this one back (orders.release_hold), which must find its
# PaymentIntent still open. close_replaced_intent closes it as soon as the new payment has started.
REPLACED_HOLD_GRACE = timedelta(minutes=5)
DOOR_PAYMENT_METHODS = (PaymentMethod.cash, PaymentMethod.card_terminal)
# The guest's message about a refund (tickets.outbox composes it from the detail queued with it).
REFUND_NOTICE = MessageKind.refund_notice


class PaymentUnavailable(EventsError):
    status_code = 503
    code = "payment_unavailable"
    retry_after_seconds = 30  # Stripe's outages are mostly short: a buyer (or client) tries again soon, not at once

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class InvalidSignature(EventsError):
    status_code = 400
    code = "invalid_signature"


class BadWebhook(EventsError):
    """A correctly signed webhook whose body is not an event we can handle (answered 400, not retried as a 500)."""

    status_code = 400
    code = "bad_webhook"


class RefundChanged(Conflict):
    """A refund chosen while the order stood otherwise than it does now (another refund came first)."""

    code = "refund_changed"


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key sent again with a different refund request."""

    code = "idempotency_key_reused"


class UnknownPayment(Conflict):
    code = "unknown_payment"


class OtherOrganisationsPayment(UnknownPayment):
    """A payment that names an order of another organisation than the one whose Stripe account it came from."""

    code = "other_organisations_payment"


@dataclass(frozen=True, slots=True)
class RefundRow:
    """A refund as recorded: pending until the provider confirms it (door refunds are given back at once)."""

    id: int
    order_id: int
    payment: int
    amount_pence: int
    method: PaymentMethod
    provider_refund_id: str | None
    status: RefundStatus
    reason: str
    requested_by: str
    created_at: datetime


async def record_intent_payment(
    state: IntentState, *, provider: PaymentMethod, gateway: Gateway, now: datetime, order: OrderRow | None = None
) -> Settlement:
    """Book a succeeded payment once (unique provider reference) and settle its order; refund it when the
    event filled up after the hold ran out. Safe to call any number of times, in any order. ``order``: the order's
    row when the caller has just read it (the test payment); it must be the order started for this very intent.

    The refund is decided and recorded (pending, the guest's email queued) in the transaction that books the
    payment, so once the payment is booked it always ends in tickets or a refund; only asking Stripe for the
    money back comes after the commit, and a refund Stripe has not confirmed is retried by the worker."""
    if order is None or order.payment_intent_id != state.intent_id or order.reference != state.order_reference:
        order = await _order_for_intent(state)
    if state.amount_received < order.total_pence or (state.currency and state.currency.upper() != order.currency.upper()):
        # Less than the order costs (or in another currency) settles nothing: such a payment was not made through
        # our checkout. It stays in Stripe for a person to look at.
        logger.warning("Payment %s does not cover order %s; not settled", state.intent_id, order.reference)
        raise UnknownPayment(f"Payment {state.intent_id} does not cover its order.")
    refund_id: int | None = None
    async with db.write_transaction():
        booked = await db.run(
            queries.BOOK_PAYMENT,
            order.id,
            provider,
            state.intent_id,
            state.charge_id,
            state.amount_received,
            0 if provider == PaymentMethod.test else None,
            state.currency or order.currency,
            now,
        )
        if not booked:
            return Settlement("already_recorded", order.reference)
        settlement = await issuing.settle_paid_order(order.id, now)
        if settlement.outcome == "refund_due":
            refund_id = await _start_whole_refund(order, now=now, reason="Paid after the hold ran out; the event was full")
        await money_moved(order.id, now=now)
    if refund_id is not None:
        await send_refund(refund_id, gateway=gateway, now=now)
    if provider == PaymentMethod.stripe and state.charge_id:
        await _store_fee(state.intent_id, state.charge_id, gateway, now=now)
    return settlement


async def pay_with_test_provider(reference: str, *, gateway: Gateway, now: datetime) -> Settlement:
    """The development test page's 'Pay' button: the same booking and settling as a card payment."""
    if gateway.provider != PaymentMethod.test:
        raise NotAllowed(N_("Test payments are switched off here."))
    order = await orders.find_order(reference)
    state = IntentState(f"test_{order.reference}", "succeeded", order.total_pence, order.currency, "", order.reference, "")
    return await record_intent_payment(state, provider=PaymentMethod.test, gateway=gateway, now=now, order=order)


async def sync_intent(intent_id: str, *, gateway: Gateway, now: datetime, organisation: int | None = None, quick: bool = False) -> str:
    """Make our records agree with what Stripe says of one PaymentIntent (payment, failures, refunds). With
    ``organisation`` (the organisation whose Stripe account the intent was read from) an intent naming another
    organisation's order changes nothing (OtherOrganisationsPayment). ``quick``: Stripe is asked once, briefly
    (a page is waiting: Gateway.retrieve_intent)."""
    state = await gateway.retrieve_intent(intent_id, quick=quick)
    if organisation is not None:
        await _order_for_intent(state, organisation=organisation)
    if state.status == "succeeded":
        await record_intent_payment(state, provider=gateway.provider, gateway=gateway, now=now)
        await _sync_refunds(state, gateway=gateway, now=now)
    elif state.status == "requires_payment_method" and state.failure_message:
        order = await _order_for_intent(state)
        # The order page re-checks every few seconds: note each failure once, not on every look.
        last = (
            await OrderHistory.select(OrderHistory.kind, OrderHistory.detail)
            .where(OrderHistory.order_id == order.id)
            .order_by(OrderHistory.id, ascending=False)
            .first()
        )
        if last is None or (last["kind"], last["detail"]) != ("payment_failed", state.failure_message):
            await orders.note(order.id, "payment_failed", state.failure_message, now)
    return state.status


async def refresh_order(reference: str, *, gateway: Gateway, now: datetime) -> None:
    """Before showing a guest their order, ask the provider directly, so a slow webhook never blocks them. Only
    Stripe is asked (the test provider settles in the request that pays): for another, the order is not even read.
    Asked quickly, once: a Stripe that does not answer in a couple of seconds leaves the order as we know it (a
    payment still being confirmed), for the webhook or the worker's re-check to settle; the page never hangs on it."""
    if gateway.provider != PaymentMethod.stripe:
        return
    order = await orders.find_order(reference)
    if order.status in (OrderStatus.pending, OrderStatus.expired) and order.payment_intent_id:
        try:
            await sync_intent(order.payment_intent_id, gateway=gateway, now=now, quick=True)
        except PaymentProviderError:
            logger.warning("Could not reach Stripe to refresh order %s; the worker will re-check it", reference)
        except UnknownPayment:
            logger.warning("Stripe's answer for order %s does not match the payment we started; left as it is", reference)


async def handle_webhook(
    payload: bytes,
    signature: str | None,
    *,
    secret: str | None,
    gateway: Gateway,
    organisation: int | None,
    now: datetime,
    environment_endpoint: bool = False,
) -> str:
    """Verify with the receiving organisation's webhook secret, de-duplicate by event id, then sync the
    PaymentIntent the event is about with that organisation's gateway. Returns what happened.

    An event that names another organisation's order (``organisation`` is whose endpoint and account it came
    from) changes nothing: it is logged, recorded with the reason, and acknowledged (200, outcome
    ``other_organisation``), because it is a genuine, correctly signed delivery that no retry would make
    acceptable: answering 4xx would only have Stripe retry it for days and then disable the endpoint. The event is
    recorded as the organisation's, or with no organisation when it came to the environment's endpoint."""
    if not secret or not signature:
        raise InvalidSignature("Missing Stripe signature.")
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except (ValueError, stripe.SignatureVerificationError):
        raise InvalidSignature("Invalid Stripe signature.") from None
    event = _read_webhook(payload)
    obj = event.data.object
    intent_id = _intent_of(event.type, obj)
    recorded_for = None if environment_endpoint else organisation
    new = await db.run(queries.RECORD_WEBHOOK, event.id, recorded_for, event.type, intent_id or obj.id, now)
    if not new:
        seen = await WebhookEvent.select(WebhookEvent.processed_at).where(WebhookEvent.stripe_event_id == event.id).first()
        if seen and seen["processed_at"] is not None:
            return "duplicate"
    outcome = "ignored"
    if intent_id is not None:
        try:
            await _check_intent_organisation(intent_id, organisation)
            await sync_intent(intent_id, gateway=gateway, now=now, organisation=organisation)
        except OtherOrganisationsPayment as exc:
            logger.warning("Stripe event %s to organisation %s's endpoint is about another organisation's order; ignored", event.id, organisation)
            await WebhookEvent.update({WebhookEvent.processed_at: now, WebhookEvent.error: str(exc)[:500]}).where(
                WebhookEvent.stripe_event_id == event.id
            )
            return "other_organisation"
        except UnknownPayment:
            outcome = "ignored"  # a PaymentIntent that is not one of our orders
        except (PaymentProviderError, EventsError) as exc:
            await WebhookEvent.update({WebhookEvent.error: str(exc)[:500]}).where(WebhookEvent.stripe_event_id == event.id)
            raise PaymentUnavailable(N_("Could not process the event yet; Stripe will retry.")) from exc
        else:
            outcome = "processed"
    await WebhookEvent.update({WebhookEvent.processed_at: now, WebhookEvent.error: ""}).where(WebhookEvent.stripe_event_id == event.id)
    return outcome


async def handle_organisation_webhook(slug: str, payload: bytes, signature: str | None, *, gateways: Gateways, now: datetime) -> str:
    """An event sent to one organisation's own endpoint: verified with its webhook secret (the environment's for
    the first organisation while it has no account of its own), handled with its gateway, for its orders only."""
    row = await Organisation.select(Organisation.id).where(Organisation.slug == slug.strip().lower()[:100]).first()
    if row is None:
        raise NotFound(N_("We could not find that organisation."), code="organisation_not_found")
    account = await gateways.account(row["id"])
    secret = account.webhook_secret if account.gateway.provider == PaymentMethod.stripe else None
    return await handle_webhook(payload, signature, secret=secret, gateway=account.gateway, organisation=row["id"], now=now)


async def refund_order(
    reference: str,
    *,
    ticket_ids: Sequence[int] | None,
    amount_pence: int | None,
    reason: str,
    requested_by: str,
    gateway: Gateway,
    now: datetime,
    seen_refunded_pence: int | None = None,
    request_key: str | None = None,
) -> RefundRow:
    """Refund chosen tickets, an amount, or everything left (record_refund, under the order's lock), then ask the
    provider for the money with an idempotency key (cash and card-terminal refunds are recorded as given back at
    the door).

    ``seen_refunded_pence`` is how much of the order was refunded when the organiser chose this refund (the
    back office's form carries it): if another refund came first, e.g. the same form sent twice, nothing is
    refunded (RefundChanged), so a double click never gives the money back twice nor tells the guest twice.

    ``request_key`` is the API caller's Idempotency-Key: the same request again (a retry after a lost answer) gets
    the refund it made the first time, and nothing more is refunded or told; the same key with another request is
    refused (IdempotencyKeyReused), as Stripe does."""
    fingerprint = refund_request_fingerprint(ticket_ids, amount_pence, reason)
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        earlier = await _refund_for_key(order.id, request_key, fingerprint) if request_key else None
        if earlier is not None:
            return earlier
        if seen_refunded_pence is not None and seen_refunded_pence != order.refunded_pence:
            raise RefundChanged(N_("This order was refunded again since you opened it. Check what is left before refunding more."))
        refund_id = await record_refund(order, ticket_ids=ticket_ids, amount_pence=amount_pence, reason=reason, requested_by=requested_by, now=now)
        if request_key:
            await Refund.update({Refund.request_key: request_key, Refund.request_fingerprint: fingerprint}).where(Refund.id == refund_id)
    await send_refund(refund_id, gateway=gateway, now=now)
    row = await Refund.select().where(Refund.id == refund_id).first()
    assert row is not None
    return _refund_row(row)


def refund_request_fingerprint(ticket_ids: Sequence[int] | None, amount_pence: int | None, reason: str) -> str:
    """What a refund request asked, as a hash: a replay with the same Idempotency-Key must ask the same."""
    asked = {"tickets": sorted(set(ticket_ids or ())), "amount_pence": amount_pence, "reason": reason.strip()}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


async def _refund_for_key(order_id: int, request_key: str, fingerprint: str) -> RefundRow | None:
    """The refund an earlier request with this Idempotency-Key made on this order, if any (under the order's lock)."""
    row = await Refund.select().where(Refund.order_id == order_id, Refund.request_key == request_key).first()
    if row is None:
        return None
    if row["request_fingerprint"] != fingerprint:
        raise IdempotencyKeyReused(N_("This Idempotency-Key was used for a different refund of this order. Use a new key for a new refund."))
    return _refund_row(row)


def _refund_row(row: dict[str, Any]) -> RefundRow:
    fields = {name: row[name] for name in RefundRow.__dataclass_fields__}
    return RefundRow(**fields | {"method": PaymentMethod(row["method"]), "status": RefundStatus(row["status"])})


async def record_refund(
    order: OrderRow,
    *,
    ticket_ids: Sequence[int] | None,
    amount_pence: int | None,
    reason: str,
    requested_by: str,
    now: datetime,
    notice: str = REFUND_NOTICE,
) -> int:
    """Inside the caller's write transaction, with ``order`` locked (orders.lock_order): record a refund of chosen
    tickets, an amount, or everything left; void its tickets and put their places back on sale; and queue the
    guest's message about it, once (keyed by the refund). ``notice`` is that message's kind: the refund notice, or
    the message about what caused the refund (an event's cancellation), which then states the refund itself so the
    guest hears of it once. Returns the refund, to send to the provider once the transaction commits (send_refund)."""
    if order.status not in (OrderStatus.paid, OrderStatus.refund_due):
        raise Conflict(N_("Only paid orders can be refunded."), code="not_refundable")
    payment = await Payment.select().where(Payment.order_id == order.id).order_by(Payment.id).first()
    if payment is None:
        raise Conflict(N_("This order has no payment to refund."), code="not_refundable")
    tickets, event_cancelled = await _refundable_tickets(order)
    # Money the guest donated instead of taking it back is never refunded (payments.donations), nor, while the event
    # goes on, that of a ticket passed on to a friend (refunds.passed_on_pence).
    donated = await donations.donated_pence(order.id)
    try:
        plan = plan_refund(
            paid_pence=payment["amount_pence"] - donated,
            refunded_pence=order.refunded_pence,
            tickets=tickets,
            ticket_ids=ticket_ids,
            amount_pence=amount_pence,
            event_cancelled=event_cancelled,
        )
    except RefundRefused as refused:
        raise InvalidInput(str(refused), fields={refused.field: str(refused)}) from None
    refundable = refundable_parts(await money_left.parts_left(order), tickets, event_cancelled=event_cancelled)
    first = what_is_refunded_first(
        tickets=tickets,
        ticket_ids=plan.ticket_ids if ticket_ids else None,
        amount_pence=amount_pence,
        refundable=refundable,
    )
    parts = refund_parts(plan.amount_pence, first=first, left=refundable, paid=money_left.paid_parts(order))
    refund = Refund(
        order_id=order.id,
        payment=payment["id"],
        amount_pence=plan.amount_pence,
        **parts.columns(),
        method=payment["provider"],
        status=RefundStatus.succeeded if payment["provider"] in DOOR_PAYMENT_METHODS else RefundStatus.pending,
        reason=reason[:200],
        requested_by=requested_by,
        created_at=now,
    )
    await refund.save()
    voided = await issuing.void_tickets(order.id, plan.ticket_ids, TicketStatus.refunded, now) if plan.ticket_ids else 0
    fully = await _add_refunded(order.id, plan.amount_pence, payment["amount_pence"] - donated)
    await orders.note(order.id, "refunded", f"{plan.amount_pence} pence, {_tickets(voided)}: {reason}", now)
    await _queue_refund_notice(notice, refund, order, plan.ticket_ids, now=now)
    await audit.record(
        "order.refunded",
        now=now,
        event_id=order.event,
        subject_type="order",
        subject_id=order.reference,
        before={"status": order.status, "refunded_pence": order.refunded_pence},
        after={
            "status": OrderStatus.refunded if fully else order.status,
            "refunded_pence": order.refunded_pence + plan.amount_pence,
            "refund_pence": plan.amount_pence,
            "tickets_refunded": list(plan.ticket_ids),
            "reason": reason[:200],
        },
    )
    await money_moved(order.id, now=now)  # door refunds are given back at once; card ones once Stripe confirms
    return int(refund.id)


# How a refund Stripe refused can be given back instead: from the organisation's bank account, or in cash.
GIVEN_BACK_ANOTHER_WAY = (PaymentMethod.bank_transfer, PaymentMethod.cash)
CHOOSE_HOW_GIVEN_BACK = N_("Choose how the money was given back: by bank transfer or in cash.")


async def give_back_refused_refund(reference: str, refund_id: int, *, method: str, requested_by: str, now: datetime) -> RefundRow:
    """Record that a refund Stripe refused (the guest's card was closed, say) was given back another way: by bank
    transfer or in cash. Under the order's lock, in one transaction: the refund becomes one that went through, by that
    method, with the same parts, given back now (so the ledger books it now: the statements agree with the money that
    left), and the order's history and the audit log say who recorded it. Recording it again the same way changes
    nothing; another way is refused (Conflict). The guest gets no message from this service: the organiser arranged
    the payment with them."""
    if method not in GIVEN_BACK_ANOTHER_WAY:
        raise InvalidInput(CHOOSE_HOW_GIVEN_BACK, fields={"method": CHOOSE_HOW_GIVEN_BACK})
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        row = await Refund.select().where(Refund.id == refund_id, Refund.order_id == order.id).first()
        if row is None:
            raise NotFound(N_("We could not find that refund."), code="refund_not_found")
        if row["given_back_at"] is not None:
            if row["method"] == method:
                return _refund_row(row)  # recorded already (the form sent twice)
            already = (
                N_("This refund was already recorded as given back by bank transfer.")
                if row["method"] == PaymentMethod.bank_transfer
                else N_("This refund was already recorded as given back in cash.")
            )
            raise Conflict(already, code="refund_already_given_back")
        if row["status"] != RefundStatus.failed:
            raise Conflict(N_("Only a refund Stripe refused can be recorded as given back another way."), code="refund_not_refused")
        changed = (
            await Refund.update({Refund.status: RefundStatus.succeeded, Refund.method: PaymentMethod(method), Refund.given_back_at: now})
            .where(Refund.id == refund_id, Refund.status == RefundStatus.failed)
            .returning(*Refund.all_columns())
        )
        await orders.note(
            order.id, "refund_given_back", f"{row['amount_pence']} pence by {method} (Stripe had refused it), recorded by {requested_by}", now
        )
        await audit.record(
            "refund.given_back",
            now=now,
            event_id=order.event,
            subject_type="order",
            subject_id=order.reference,
            before={"refund": refund_id, "status": row["status"], "method": row["method"]},
            after={"refund": refund_id, "status": RefundStatus.succeeded, "method": method, "amount_pence": row["amount_pence"]},
        )
        await money_moved(order.id, now=now)
    return _refund_row(changed[0])


async def _refundable_tickets(order: OrderRow) -> tuple[list[RefundableTicket], bool]:
    """The order's tickets as a refund weighs them (payments.refunds), and whether its event is cancelled (then a
    ticket passed on to a friend is the buyer's to have back too)."""
    tickets = (
        await Ticket.select(Ticket.id, Ticket.price_pence, Ticket.booking_fee_pence, Ticket.status)
        .where(Ticket.order_id == order.id)
        .order_by(Ticket.id)
    )
    event = await Event.select(Event.status).where(Event.id == order.event).first()
    return [RefundableTicket(**t) for t in tickets], event is not None and event["status"] == EventStatus.cancelled


async def _queue_refund_notice(kind: str, refund: Refund, order: OrderRow, voided_ticket_ids: Sequence[int], *, now: datetime) -> None:
    """The guest's one message about a refund, in the transaction that records it: keyed by the refund, so it goes
    once however often it is queued, and carrying what this refund was (an order refunded twice gets two
    notices, each with its own amount), not the order's totals when the message is composed."""
    await outbox.enqueue(
        kind,
        order_id=order.id,
        now=now,
        key=f"{outbox.REFUND_KEY_PREFIX}{refund.id}",
        detail={
            "amount_pence": refund.amount_pence,
            "currency": order.currency,
            "method": refund.method,
            "ticket_ids": list(voided_ticket_ids),
        },
    )


async def _refund_stands(refund_id: int) -> bool | None:
    """Whether a refund's message may go (tickets.outbox asks before it sends one): not if Stripe refused the refund
    (nor once it was given back another way: the message says the money comes back to the card), not yet while Stripe has not answered (no Stripe id on a refund still pending); yes otherwise (a refund Stripe
    took, or one handed back at the door)."""
    row = await Refund.select(Refund.status, Refund.provider_refund_id, Refund.method, Refund.given_back_at).where(Refund.id == refund_id).first()
    if row is None:
        return True
    if row["status"] == RefundStatus.failed or row["given_back_at"] is not None:
        return False  # refused; or refused, then given back another way, as the organiser arranged with the guest
    if row["status"] == RefundStatus.pending and not row["provider_refund_id"] and row["method"] not in DOOR_PAYMENT_METHODS:
        return None
    return True


outbox.register_refund_check(_refund_stands)


async def _start_whole_refund(order: OrderRow, *, now: datetime, reason: str) -> int | None:
    """Inside the payment's transaction: a refund_due order becomes refunded, with its whole payment as a
    pending refund and the guest's email queued. Returns the refund to send to the provider."""
    if (
        not await Order.update({Order.status: OrderStatus.refunded})
        .where(Order.id == order.id, Order.status == OrderStatus.refund_due)
        .returning(Order.id)
    ):
        return None
    payment = await Payment.select().where(Payment.order_id == order.id).order_by(Payment.id).first()
    assert payment is not None
    # The whole payment back: every part of what the order paid for (nothing was refunded or donated before).
    paid = money_left.paid_parts(order)
    parts = refund_parts(payment["amount_pence"], first=paid, left=paid, paid=paid)
    refund = Refund(
        order_id=order.id,
        payment=payment["id"],
        amount_pence=payment["amount_pence"],
        **parts.columns(),
        method=payment["provider"],
        status=RefundStatus.pending,
        reason=reason,
        requested_by="system",
        created_at=now,
    )
    await refund.save()
    await Order.update({Order.refunded_pence: payment["amount_pence"]}).where(Order.id == order.id)
    await orders.note(order.id, "late_payment_refunded", reason, now)
    # Its email says why the payment came back, and is this refund's one notice (no tickets were issued to void).
    await _queue_refund_notice("late_payment_refunded", refund, order, (), now=now)
    return refund.id


async def send_refund(refund_id: int, *, gateway: Gateway, now: datetime) -> None:
    """Ask the provider for a pending refund (one given back at the door is not). On failure it stays pending and
    the worker retries it."""
    row = (
        await Refund.select(Refund.id, Refund.amount_pence, Refund.payment.provider_reference, Refund.order_id.reference)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.pending)
        .first()
    )
    if row is None:
        return
    try:
        result = await gateway.refund(
            intent_id=row["payment.provider_reference"],
            amount_pence=row["amount_pence"],
            local_refund_id=refund_id,
            reference=row["order_id.reference"],
        )
    except PaymentProviderError:
        logger.warning("Refund %s could not be sent yet; it will be retried", refund_id)
        return
    await _confirm_refund(refund_id, result, now=now)


async def _confirm_refund(refund_id: int, result: ProviderRefund, *, now: datetime, order_id: int | None = None) -> None:
    """Record Stripe's answer for one of our refunds: its id, and succeeded, still pending, or failed; a
    refund that went through is booked to the ledger with it. With ``order_id`` (a refund Stripe lists for a
    payment, whose metadata names our refund), only a refund of that order: metadata can name any number."""
    async with db.write_transaction():
        query = Refund.update({Refund.provider_refund_id: result.refund_id, Refund.status: _refund_status(result.status)}).where(
            Refund.id == refund_id, Refund.status == RefundStatus.pending
        )
        if order_id is not None:
            query = query.where(Refund.order_id == order_id)
        changed = await query.returning(Refund.order_id, Refund.status, Refund.amount_pence)
        if changed and changed[0]["status"] == RefundStatus.succeeded:
            await money_moved(changed[0]["order_id"], now=now)
        elif changed and changed[0]["status"] == RefundStatus.failed:
            # The organiser sees it on the order, and records there how the money was given back instead.
            await orders.note(
                changed[0]["order_id"], "refund_refused", f"{changed[0]['amount_pence']} pence: Stripe refused the refund ({result.status})", now
            )


def _refund_status(provider_status: str) -> RefundStatus:
    """Our refund's status for Stripe's refund status."""
    if provider_status == "succeeded":
        return RefundStatus.succeeded
    if provider_status in ("failed", "canceled"):
        return RefundStatus.failed
    return RefundStatus.pending  # pending, requires_action: Stripe tells us again when it settles


async def _sync_refunds(state: IntentState, *, gateway: Gateway, now: datetime) -> None:
    """Refunds made outside this service (e.g. in the Stripe dashboard) are recorded once; a full one voids
    the order's tickets and puts their places back on sale."""
    provider_refunds = await gateway.list_refunds(state.intent_id)
    if not provider_refunds:
        return
    order = await _order_for_intent(state)
    for provider_refund in provider_refunds:
        if provider_refund.local_refund_id is not None:
            await _confirm_refund(provider_refund.local_refund_id, provider_refund, now=now, order_id=order.id)
            continue
        if _refund_status(provider_refund.status) != RefundStatus.succeeded:
            continue  # recorded once Stripe says the money has actually gone back
        async with db.write_transaction():
            await orders.lock_order(order.reference)
            if await Refund.exists().where(Refund.provider_refund_id == provider_refund.refund_id):
                continue
            payment = await Payment.select().where(Payment.provider_reference == state.intent_id).first()
            if payment is None:
                continue
            # Stripe says only how much: it comes off ticket income first, as an amount refunded here would, and not off
            # the money of tickets passed on to a friend (the friend's places now) while the event goes on.
            tickets, event_cancelled = await _refundable_tickets(order)
            refundable = refundable_parts(await money_left.parts_left(order), tickets, event_cancelled=event_cancelled)
            parts = refund_parts(provider_refund.amount_pence, first=MoneyParts(), left=refundable, paid=money_left.paid_parts(order))
            refund = Refund(
                order_id=order.id,
                payment=payment["id"],
                amount_pence=provider_refund.amount_pence,
                **parts.columns(),
                method=PaymentMethod.stripe,
                provider_refund_id=provider_refund.refund_id,
                status=RefundStatus.succeeded,
                reason="Refunded in the Stripe dashboard",
                requested_by="stripe",
                created_at=now,
            )
            await refund.save()
            fully = await _add_refunded(order.id, provider_refund.amount_pence, payment["amount_pence"] - await donations.donated_pence(order.id))
            await money_moved(order.id, now=now)
            voided: list[int] = []
            if fully:
                valid = await Ticket.select(Ticket.id).where(Ticket.order_id == order.id, Ticket.status == TicketStatus.valid).order_by(Ticket.id)
                voided = [t["id"] for t in valid]
                await issuing.void_tickets(order.id, voided, TicketStatus.refunded, now)
            await _queue_refund_notice(REFUND_NOTICE, refund, order, voided, now=now)
            await orders.note(
                order.id,
                "external_refund",
                f"{provider_refund.amount_pence} pence refunded in Stripe"
                + ("" if fully else "; tickets left valid, cancel any that should not be used"),
                now,
            )


async def _add_refunded(order_id: int, amount_pence: int, paid_pence: int) -> bool:
    """Add to the order's refunded total; a full refund makes the order 'refunded'. Returns whether it is full."""
    order = await Order.select(Order.refunded_pence).where(Order.id == order_id).first()
    assert order is not None
    total = order["refunded_pence"] + amount_pence
    changes: dict[Any, Any] = {Order.refunded_pence: total}
    if total >= paid_pence:
        changes[Order.status] = OrderStatus.refunded
    await Order.update(changes).where(Order.id == order_id)
    return total >= paid_pence


async def _store_fee(intent_id: str, charge_id: str, gateway: Gateway, *, now: datetime) -> None:
    """Keep Stripe's fee once its balance transaction is available, and book it (pro rata) with it."""
    try:
        fee = await gateway.fee_for_charge(charge_id)
    except PaymentProviderError:
        return
    if fee is not None:
        async with db.write_transaction():
            stored = (
                await Payment.update({Payment.fee_pence: fee})
                .where(Payment.provider_reference == intent_id, Payment.fee_pence.is_null())
                .returning(Payment.order_id)
            )
            if stored:
                await money_moved(stored[0]["order_id"], now=now)


async def _order_for_intent(state: IntentState, *, organisation: int | None = None) -> OrderRow:
    """The order a PaymentIntent is for: the order we started that very PaymentIntent for (its id is noted on the
    order before the guest can pay). The reference in the intent's metadata is never trusted on its own: whoever
    holds a Stripe account can write any reference there, so it only has to agree. With ``organisation``, only if
    the order's event is that organisation's."""
    order = await Order.select().where(Order.payment_intent_id == state.intent_id).first()
    if order is None or (state.order_reference and order["reference"] != state.order_reference):
        raise UnknownPayment(f"No order for payment {state.intent_id}.")
    if organisation is not None and not await Event.exists().where(Event.id == order["event"], Event.organisation == organisation):
        raise OtherOrganisationsPayment(f"Payment {state.intent_id} is for an order of another organisation.")
    return OrderRow.of(order)


async def _check_intent_organisation(intent_id: str, organisation: int | None) -> None:
    """Before asking Stripe anything: a PaymentIntent we started for another organisation's order is not this one's."""
    if organisation is None:
        return
    row = await Order.select(Order.event.organisation.as_alias("organisation")).where(Order.payment_intent_id == intent_id).first()
    if row is not None and row["organisation"] != organisation:
        raise OtherOrganisationsPayment(f"Payment {intent_id} is for an order of another organisation.")


# What a webhook must hold to be handled: Stripe's ids are short ASCII tokens (evt_..., pi_...), and they
# go into varchar(80) columns.
_StripeId = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_]+" + text.END)]


class _WebhookObject(msgspec.Struct):
    id: Annotated[str, Meta(max_length=80, pattern=r"^[A-Za-z0-9_]*" + text.END)] = ""
    payment_intent: _StripeId | None = None


class _WebhookData(msgspec.Struct):
    object: _WebhookObject


class _Webhook(msgspec.Struct):
    id: _StripeId
    type: Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9_.]+" + text.END)]
    data: _WebhookData


def _read_webhook(payload: bytes) -> _Webhook:
    """A signed webhook's event, or BadWebhook (logged with its id when it has one): it will not get any
    better by being sent again."""
    try:
        return msgspec.json.decode(payload, type=_Webhook)
    except (msgspec.DecodeError, RecursionError) as exc:
        try:
            event_id = msgspec.json.decode(payload, type=_EventId).id
        except (msgspec.DecodeError, RecursionError):
            event_id = "(none)"
        logger.warning("Refused a signed Stripe webhook %r that is not a usable event: %s", str(event_id)[:100], exc)
        raise BadWebhook(f"Not a usable Stripe event: {exc}") from None


class _EventId(msgspec.Struct):
    id: Any = "(none)"


def _intent_of(event_type: str, obj: _WebhookObject) -> str | None:
    if event_type.startswith("payment_intent."):
        return obj.id or None
    if event_type.startswith(("charge.", "refund.")):
        return obj.payment_intent  # charges and refunds (charge.refunded, charge.refund.updated, refund.*)
    return None


# --- periodic jobs -----------------------------------------------------------------------------------


async def sweep_expired_holds(now: datetime, *, gateways: Gateways) -> int:
    """Release overdue holds, then cancel the PaymentIntents of every ended hold: run out, replaced by the
    buyer's new hold (once REPLACED_HOLD_GRACE has passed), or released for a cancelled event (a payment that slipped
    in is settled late). Each through its own organisation's Stripe account."""
    expired = await orders.expire_holds(now)
    unclosed = (Order.status == OrderStatus.expired) & Order.payment_intent_id.is_not_null() & Order.intent_closed_at.is_null()
    # Of those few, the ones replaced in the last REPLACED_HOLD_GRACE (their own history, by its order_id index).
    just_replaced = OrderHistory.select(OrderHistory.order_id).where(
        OrderHistory.order_id.is_in(Order.select(Order.id).where(unclosed)),
        OrderHistory.kind == orders.HOLD_ENDED,
        OrderHistory.detail.is_in(list(orders.REPLACED)),
        OrderHistory.created_at > now - REPLACED_HOLD_GRACE,
    )
    ended = unclosed & Order.id.not_in(just_replaced)
    usable = await _card_gateways(Order.select(Order.event._.organisation.as_alias("organisation")).where(ended).distinct(), gateways)
    rows = (
        await Order.select(Order.id, Order.payment_intent_id, Order.event._.organisation.as_alias("organisation"))
        .where(ended, Order.event._.organisation.is_in(list(usable) or [0]))
        .limit(100)
    )
    for row in rows:
        await _close_intent(row["id"], row["payment_intent_id"], gateway=usable[row["organisation"]], now=now)
    return expired


async def _card_gateways(organisations: Any, gateways: Gateways, *, stripe_only: bool = False) -> dict[int, Gateway]:
    """The gateways of the organisations a job has work for (a query answering rows with "organisation"), leaving
    out those that take no card payments now (no Stripe account): their rows wait, and never crowd out the
    others' within a job's batch."""
    found: dict[int, Gateway] = {}
    for row in await organisations:
        gateway = await gateways.for_organisation(row["organisation"])
        if gateway.takes_cards and (gateway.provider == PaymentMethod.stripe or not stripe_only):
            found[row["organisation"]] = gateway
    return found


async def _close_intent(order_id: int, intent_id: str, *, gateway: Gateway, now: datetime) -> None:
    """Cancel an ended hold's PaymentIntent, so its payment page can no longer charge. One that succeeded
    first is settled late: tickets if its places are still free, else a full refund. Noted as closed once
    Stripe says it is cancelled or succeeded; otherwise (unreachable, processing) the sweeper tries again."""
    try:
        status = await gateway.cancel_intent(intent_id)
        if status == "succeeded":
            await sync_intent(intent_id, gateway=gateway, now=now)
    except PaymentProviderError:
        return
    except UnknownPayment:
        logger.warning("PaymentIntent %s of an ended hold does not match its order; closed without settling", intent_id)
        status = "canceled"
    if status in ("canceled", "succeeded"):
        await Order.update({Order.intent_closed_at: now}).where(Order.id == order_id)


async def close_replaced_intent(reference: str, *, gateway: Gateway, now: datetime) -> None:
    """The buyer's earlier hold, if it has ended (their new hold replaced it), has its PaymentIntent closed now
    rather than at the next sweep: a second payment page for the same places stops taking payments."""
    row = (
        await Order.select(Order.id, Order.payment_intent_id)
        .where(
            Order.reference == reference, Order.status == OrderStatus.expired, Order.payment_intent_id.is_not_null(), Order.intent_closed_at.is_null()
        )
        .first()
    )
    if row is None:
        return
    try:
        await _close_intent(row["id"], row["payment_intent_id"], gateway=gateway, now=now)
    except EventsError:
        logger.warning("Closing the payment of replaced order %s failed; the sweeper will close it", reference)


async def recheck_payments(now: datetime, *, gateways: Gateways) -> int:
    """Ask Stripe about orders still waiting, so a lost webhook never loses a payment (each order at its own
    organisation's Stripe account)."""
    waiting = Order.payment_intent_id.is_not_null() & (
        ((Order.status == OrderStatus.pending) & (Order.created_at < now - RECHECK_PENDING_AFTER))
        | ((Order.status == OrderStatus.expired) & (Order.created_at > now - RECHECK_EXPIRED_FOR))
    )
    usable = await _card_gateways(
        Order.select(Order.event._.organisation.as_alias("organisation")).where(waiting).distinct(), gateways, stripe_only=True
    )
    rows = (
        await Order.select(Order.payment_intent_id, Order.event._.organisation.as_alias("organisation"))
        .where(waiting, Order.event._.organisation.is_in(list(usable) or [0]))
        .limit(200)
    )
    for row in rows:
        try:
            await sync_intent(row["payment_intent_id"], gateway=usable[row["organisation"]], now=now, organisation=row["organisation"])
        except (PaymentProviderError, EventsError):
            logger.warning("Re-check of a payment failed; it will be tried again")
    return len(rows)


async def fetch_missing_fees(now: datetime, *, gateways: Gateways) -> int:
    """Stripe's fees not known yet, each from the organisation's own Stripe account."""
    missing = (Payment.provider == PaymentMethod.stripe) & Payment.fee_pence.is_null() & (Payment.charge_id != "")
    organisation = Payment.order_id._.event._.organisation
    usable = await _card_gateways(Payment.select(organisation.as_alias("organisation")).where(missing).distinct(), gateways)
    rows = (
        await Payment.select(Payment.provider_reference, Payment.charge_id, organisation.as_alias("organisation"))
        .where(missing, organisation.is_in(list(usable) or [0]))
        .limit(200)
    )
    for row in rows:
        await _store_fee(row["provider_reference"], row["charge_id"], usable[row["organisation"]], now=now)
    return len(rows)


async def retry_pending_refunds(now: datetime, *, gateways: Gateways) -> int:
    """Refunds Stripe has not settled yet, or that could not be sent. Stripe (the organisation's own account) is
    asked first whether it already has the refund (our id is in its metadata), so a retry can never refund twice."""
    rows = await Refund.select(Refund.id, Refund.payment.provider_reference, Refund.order_id._.event._.organisation.as_alias("organisation")).where(
        Refund.status == RefundStatus.pending, Refund.created_at < now - timedelta(seconds=30)
    )
    for row in rows:
        gateway = await gateways.for_organisation(row["organisation"])
        try:
            known = {r.local_refund_id: r for r in await gateway.list_refunds(row["payment.provider_reference"])}
        except PaymentProviderError:
            continue
        if row["id"] in known:
            await _confirm_refund(row["id"], known[row["id"]], now=now)
        else:
            await send_refund(row["id"], gateway=gateway, now=now)
    return len(rows)


def _tickets(count: int) -> str:
    """'1 ticket', '2 tickets': a count as the order's history says it (staff pages are in English)."""
    return f"{count} ticket" if count == 1 else f"{count} tickets"
