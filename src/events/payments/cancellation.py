"""Cancelling an event: stop sales, release holds, refund every paid order and tell every guest, in their
language. Safe to run again: each order's refund and email happen once, and a second run finishes the job.

The organiser may give guests who paid by card some days to donate their refund to the event's partner projects
instead (``donation_choice_days``): their orders are refunded when that time ends (refund_unchosen, a worker job)
unless the guest chose first (choose_refund). Orders paid at the door (cash, card terminal) are refunded as arranged
at the door straight away, as without a choice: nothing can be handed back later on a card that was never stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from piccolo.query.functions.aggregate import Count, Sum

from events import db, text
from events.accounts import service as accounts
from events.accounts.roles import door_scope
from events.audit import service as audit
from events.audit.tables import AuditEntry
from events.catalogue import rules
from events.catalogue.statuses import EventStatus
from events.catalogue.tables import BeneficiaryShare, Event, TicketType
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.orders import service as orders
from events.orders.service import OrderRow
from events.orders.statuses import OrderStatus
from events.orders.tables import Order, OrderHistory
from events.payments import donations
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.gateways import Gateways
from events.payments.refunds import CancellationSteps, cancellation_steps
from events.payments.statuses import RefundStatus
from events.payments.tables import Payment, Refund, RefundDonation
from events.tickets import issuing, outbox
from events.tickets.statuses import MessageKind, MessageStatus, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket

CANCELLED_NOTE = "event_cancelled"
REASON_MAX = 200
# The organiser's own words to the guests (a few short paragraphs: a new date, where to follow news, an apology).
GUEST_MESSAGE_MAX = 1000
# The longest an organiser may give guests to choose between a refund and a donation: card refunds should not wait long.
MAX_CHOICE_DAYS = 30
# Donating instead of a refund is offered wherever a refund is (issue 17): a week to choose unless the organiser
# refunds at once (0).
DEFAULT_CHOICE_DAYS = 7
UNCHOSEN_REFUND_REASON = "Event cancelled: refunded when the time to choose a donation instead ended"
CHOSEN_REFUND_REASON = "Event cancelled: the guest chose a refund"
Choice = Literal["refund", "donate"]
DONATED_KEY_PREFIX = "refund_donated:"


@dataclass(frozen=True, slots=True)
class OutstandingRefund:
    order_reference: str
    amount_pence: int
    status: RefundStatus  # pending (the worker retries it) or failed (Stripe refused: give the money back another way)


@dataclass(frozen=True, slots=True)
class UntoldGuest:
    """An order whose guest the cancellation could not reach by email or text."""

    order_reference: str
    buyer_name: str


@dataclass(frozen=True, slots=True)
class CancellationProgress:
    """Where a cancellation stands, for the organiser: what is done and what the worker is still retrying."""

    status: EventStatus
    guests_told: int  # orders whose cancellation message went, or is queued, to an email address or mobile number
    orders_to_finish: int
    tickets_still_valid: int
    refunds_done: int  # the cancellation's own: refunds made since the event was cancelled (earlier ones are not its)
    refunded_pence: int
    refunds_pending: int
    pending_pence: int
    refunds_failed: int
    failed_pence: int
    currency: str
    outstanding: tuple[OutstandingRefund, ...] = ()
    # Orders dealt with whose guest no message reaches (a door sale with neither an email address nor a mobile
    # number, or a message that failed): the organiser tells them another way.
    not_told: tuple[UntoldGuest, ...] = ()
    # Guests given time to donate their refund instead, who have not chosen yet (refunded when it ends), and donations.
    awaiting_choice: int = 0
    awaiting_choice_pence: int = 0
    choice_until: datetime | None = None
    refunds_donated: int = 0
    donated_pence: int = 0
    guest_message: str = ""  # the organiser's words sent with the cancellation (user text)

    @property
    def complete(self) -> bool:
        return self.status == EventStatus.cancelled and not (
            self.orders_to_finish or self.tickets_still_valid or self.refunds_pending or self.awaiting_choice
        )


async def cancel_event(
    slug: str,
    *,
    reason: str,
    requested_by: str,
    gateway: Gateway,
    now: datetime,
    donation_choice_days: int | None = None,
    guest_message: str = "",
) -> CancellationProgress:
    """Cancel the event (once) and bring every order up to date. Refunds go through record_refund and send_refund,
    with an idempotency key per refund; one Stripe cannot take now stays pending and retry_pending_refunds sends it.

    With ``donation_choice_days`` (DEFAULT_CHOICE_DAYS unless given; 0 refunds at once), card-paid orders are not
    refunded now: each guest is told their refund comes in that many days unless they choose to donate it
    (choose_refund), and refund_unchosen refunds the rest then. A second run keeps the time the first one gave (and,
    not given days, the days it was given: "Finish the cancellation" does as the first run would have).

    ``guest_message``, the organiser's own words to the guests, goes with every cancellation email and on each order
    page; it is kept from the first run (a repeat's is ignored: the guests already told read the first)."""
    reason = _checked_reason(reason)
    message = _checked_guest_message(guest_message)
    asked = None if donation_choice_days is None else _checked_choice_days(donation_choice_days)
    event_id, again = await _mark_cancelled(
        slug, reason=reason, guest_message=message, now=now, donation_choice_days=DEFAULT_CHOICE_DAYS if asked is None else asked
    )
    days = asked if asked is not None else await _first_choice_days(event_id) if again else DEFAULT_CHOICE_DAYS
    refund_reason = f"Event cancelled{': ' + reason if reason else ''}"[:REASON_MAX]
    choice_until = await _choice_deadline(event_id, days, now)
    for order in (
        await Order.select(Order.id, Order.reference)
        .where(Order.event == event_id, Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]))
        .order_by(Order.id)
    ):
        await _finish_order(order["id"], order["reference"], refund_reason, requested_by, gateway, now, choice_until=choice_until)
    return await cancellation_progress(slug)


def _checked_choice_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_CHOICE_DAYS:
        problem = f"Give a whole number of days from 0 (refund at once) to {MAX_CHOICE_DAYS}."
        raise InvalidInput(problem, fields={"donation_choice_days": problem})
    return days


async def _choice_deadline(event_id: int, days: int, now: datetime) -> datetime | None:
    """Until when guests may choose to donate their refund: the time an earlier run of this cancellation gave, else
    ``days`` from now (None: refund at once)."""
    earlier = (
        await Order.select(Order.refund_choice_until)
        .where(Order.event == event_id, Order.refund_choice_until.is_not_null())
        .order_by(Order.refund_choice_until, ascending=False)
        .first()
    )
    if earlier is not None:
        return earlier["refund_choice_until"]
    return now + timedelta(days=days) if days else None


async def _first_choice_days(event_id: int) -> int:
    """The days the event's cancellation first gave guests to choose, as its audit entry records them (0 for a
    cancellation made before guests could choose: they were refunded at once)."""
    first = (
        await AuditEntry.select(AuditEntry.after)
        .where(AuditEntry.event == event_id, AuditEntry.action == "event.cancelled")
        .order_by(AuditEntry.id)
        .first()
    )
    after = json.loads(first["after"] or "{}") if first else {}
    days = after.get("donation_choice_days", 0)
    return days if isinstance(days, int) and 0 <= days <= MAX_CHOICE_DAYS else 0


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


def _checked_guest_message(message: str) -> str:
    """The organiser's message as every guest reads it (line breaks kept, each line's ends trimmed), or InvalidInput."""
    message = "\n".join(line.strip() for line in message.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()
    problem = text.form_value_problem(message) or text.text_problem(message, required=False)
    if problem is None and len(message) > GUEST_MESSAGE_MAX:
        problem = f"Keep the message to your guests under {GUEST_MESSAGE_MAX} characters."
    if problem is not None:
        raise InvalidInput(problem, fields={"guest_message": problem})
    return message


async def cancellation_progress(slug: str) -> CancellationProgress:
    event = (
        await Event.select(Event.id, Event.status, Event.currency, Event.cancelled_at, Event.cancellation_message).where(Event.slug == slug).first()
    )
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    # The cancellation's own refunds: those made since the event was cancelled (a guest refunded a week before it, and
    # whatever became of that refund, is not one of them; its order's page tells it).
    since = [Refund.order_id.event == event["id"]]
    if event["cancelled_at"] is not None:  # None: not cancelled (the confirmation page reads the progress before)
        since.append(Refund.created_at >= event["cancelled_at"])
    refunds = (
        await Refund.select(Refund.status, Count(alias="refunds"), Sum(Refund.amount_pence, alias="pence")).where(*since).group_by(Refund.status)
    )
    by_status = {row["status"]: (int(row["refunds"]), int(row["pence"] or 0)) for row in refunds}
    done, pending, failed = (by_status.get(status, (0, 0)) for status in (RefundStatus.succeeded, RefundStatus.pending, RefundStatus.failed))
    told = OrderHistory.select(OrderHistory.order_id).where(OrderHistory.order_id.event == event["id"], OrderHistory.kind == CANCELLED_NOTE)
    unnotified = await Order.count().where(
        Order.event == event["id"], Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]), Order.id.not_in(told)
    )
    valid_tickets = await Ticket.count().where(Ticket.event == event["id"], Ticket.status == TicketStatus.valid)
    # Told: a cancellation message on its way to an address or number (the note alone says the order was dealt
    # with, which a door sale with no contact details also is).
    messaged = OutboxMessage.select(OutboxMessage.order_id).where(
        OutboxMessage.order_id.event == event["id"],
        OutboxMessage.kind == MessageKind.event_cancelled,
        OutboxMessage.status.is_in([MessageStatus.queued, MessageStatus.sent]),
    )
    notified = await Order.count().where(Order.event == event["id"], Order.id.is_in(told), Order.id.is_in(messaged))
    untold = (
        await Order.select(Order.reference, Order.buyer_name)
        .where(Order.event == event["id"], Order.id.is_in(told), Order.id.not_in(messaged))
        .order_by(Order.id)
    )
    outstanding = (
        await Refund.select(Refund.order_id.reference, Refund.amount_pence, Refund.status)
        .where(*since, Refund.status.is_in([RefundStatus.pending, RefundStatus.failed]))
        .order_by(Refund.id)
    )
    given = (
        await RefundDonation.select(Count(alias="donations"), Sum(RefundDonation.amount_pence, alias="pence"))
        .where(RefundDonation.order_id.event == event["id"], RefundDonation.cause == donations.CANCELLED)
        .first()
    )
    waiting = await Order.select(Order.id, Order.refunded_pence, Order.refund_choice_until).where(
        Order.event == event["id"],
        Order.refund_choice_until.is_not_null(),
        Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]),
        Order.id.not_in(RefundDonation.select(RefundDonation.order_id).where(RefundDonation.cause == donations.CANCELLED)),
    )
    paid = {
        row["order_id"]: row["amount_pence"]
        for row in await Payment.select(Payment.order_id, Payment.amount_pence).where(Payment.order_id.is_in([w["id"] for w in waiting] or [0]))
    }
    awaiting = [paid.get(w["id"], 0) - w["refunded_pence"] for w in waiting]
    awaiting = [pence for pence in awaiting if pence > 0]
    return CancellationProgress(
        awaiting_choice=len(awaiting),
        awaiting_choice_pence=sum(awaiting),
        choice_until=max((w["refund_choice_until"] for w in waiting), default=None),
        refunds_donated=int(given["donations"]) if given else 0,
        donated_pence=int(given["pence"] or 0) if given else 0,
        status=EventStatus(event["status"]),
        guests_told=notified,
        not_told=tuple(UntoldGuest(row["reference"], row["buyer_name"]) for row in untold),
        orders_to_finish=unnotified,
        tickets_still_valid=valid_tickets,
        refunds_done=done[0],
        refunded_pence=done[1],
        refunds_pending=pending[0],
        pending_pence=pending[1],
        refunds_failed=failed[0],
        failed_pence=failed[1],
        currency=event["currency"],
        guest_message=event["cancellation_message"],
        outstanding=tuple(OutstandingRefund(r["order_id.reference"], r["amount_pence"], RefundStatus(r["status"])) for r in outstanding),
    )


async def _mark_cancelled(slug: str, *, reason: str, guest_message: str, now: datetime, donation_choice_days: int) -> tuple[int, bool]:
    """Mark the event cancelled (once), release its holds and close its door; returns its id, and whether it was
    cancelled already (a repeat)."""
    async with db.write_transaction():
        event = await db.locked(Event.select().where(Event.slug == slug)).first()
        if event is None:
            raise NotFound(N_("We could not find that event."), code="event_not_found")
        if event["status"] == EventStatus.cancelled:
            if guest_message and guest_message != event["cancellation_message"]:
                # Its guests have been told with the first message: a second one would reach only some of them.
                raise Conflict(
                    N_("The message to the guests went with the cancellation and cannot change now."),
                    code="guest_message_sent",
                )
            return int(event["id"]), True  # a retry: finish what the first attempt left
        problem = rules.status_change_problem(
            event["status"],
            EventStatus.cancelled,
            ticket_type_count=await TicketType.count().where(TicketType.event == event["id"]),
            share_count=await BeneficiaryShare.count().where(BeneficiaryShare.event == event["id"]),
        )
        if problem:
            raise Conflict(problem, code="cannot_cancel")
        await Event.update(
            {Event.status: EventStatus.cancelled, Event.cancelled_at: now, Event.cancellation_message: guest_message, Event.updated_at: now}
        ).where(Event.id == event["id"])
        released = await orders.release_event_holds(event["id"], now, reason="event cancelled")
        door_tokens = await accounts.revoke_all_scoped_tokens(door_scope(event["id"]), now=now)  # no door to open now
        await audit.record(
            "event.cancelled",
            now=now,
            event_id=event["id"],
            subject_type="event",
            subject_id=slug,
            before={"status": event["status"]},
            after={
                "status": EventStatus.cancelled,
                "reason": reason,
                "guest_message": guest_message,
                "holds_released": released,
                "door_tokens_revoked": door_tokens,
                "donation_choice_days": donation_choice_days,
            },
        )
    return int(event["id"]), False


async def _finish_order(
    order_id: int, reference: str, reason: str, requested_by: str, gateway: Gateway, now: datetime, *, choice_until: datetime | None = None
) -> None:
    """Note the cancellation, refund what is left and tell the guest, in one transaction under the order's lock, so
    each order is finished once however many cancellations run. The guest gets one message: the cancellation email,
    which states the refund made with it (its amount and when the money arrives), or, with ``choice_until`` and a
    card payment, the date of the refund and the link to donate it instead. Stripe is asked after the commit."""
    refund_id: int | None = None
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        payment = await Payment.select(Payment.amount_pence, Payment.provider).where(Payment.order_id == order_id).order_by(Payment.id).first()
        steps = await _steps(order, payment)
        open_until = await _choice_open_until(order_id)
        offer = (
            steps.notify
            and steps.refund
            and choice_until is not None
            and payment is not None
            and payment["provider"] not in payments.DOOR_PAYMENT_METHODS
        )
        if steps.notify:
            if payment is None:
                # Free places: nothing to refund, so they are voided here (record_refund voids paid tickets).
                # Not through void_tickets: a free place was counted as claimed, not in the general pool.
                await Ticket.update({Ticket.status: TicketStatus.void}).where(Ticket.order_id == order_id, Ticket.status == TicketStatus.valid)
            elif offer:
                # The tickets stop working now; the money waits for the guest's choice.
                valid = await Ticket.select(Ticket.id).where(Ticket.order_id == order_id, Ticket.status == TicketStatus.valid)
                await issuing.void_tickets(order_id, [t["id"] for t in valid], TicketStatus.void, now)
            await orders.note(order_id, CANCELLED_NOTE, reason, now)
        if offer:
            assert choice_until is not None and payment is not None
            left = payment["amount_pence"] - order.refunded_pence - await donations.donated_pence(order_id)
            await Order.update({Order.refund_choice_until: choice_until}).where(Order.id == order_id)
            await orders.note(order_id, "refund_choice_offered", f"refund on {choice_until.isoformat()} unless donated", now)
            detail = {"refund_choice_until": choice_until.isoformat(), "choice_pence": left, "currency": order.currency}
            await outbox.enqueue("event_cancelled", order_id=order_id, now=now, detail=detail)
        elif steps.refund and (open_until is None or open_until <= now):
            # A guest told of the cancellation before its refund (by an earlier version that did the two apart, or
            # given time to choose a donation that has now run out) hears of the refund with the ordinary refund notice.
            notice = "event_cancelled" if steps.notify else payments.REFUND_NOTICE
            refund_id = await payments.record_refund(
                order, ticket_ids=None, amount_pence=None, reason=reason, requested_by=requested_by, now=now, notice=notice
            )
        elif steps.notify:
            await outbox.enqueue("event_cancelled", order_id=order_id, now=now)
    if refund_id is not None:
        await payments.send_refund(refund_id, gateway=gateway, now=now)


async def _steps(order: OrderRow, payment: dict[str, Any] | None) -> CancellationSteps:
    notified = await OrderHistory.exists().where(OrderHistory.order_id == order.id, OrderHistory.kind == CANCELLED_NOTE)
    return cancellation_steps(
        order_status=order.status,
        notified=notified,
        paid_pence=payment["amount_pence"] if payment else None,
        refunded_pence=order.refunded_pence,
        donated_pence=await donations.donated_pence(order.id),
    )


async def _choice_open_until(order_id: int) -> datetime | None:
    row = await Order.select(Order.refund_choice_until).where(Order.id == order_id).first()
    return row["refund_choice_until"] if row else None


# --- the guest's choice: their refund, or a donation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundChoiceState:
    """Where a guest of a cancelled event stands: what they may still choose, or what they chose."""

    reference: str
    event_title: str
    currency: str
    choice_until: datetime | None  # None: they were never offered a choice
    timezone: str
    choosable_pence: int  # what is still waiting for their choice (0 once chosen or refunded)
    donated_pence: int  # what they gave (the cancellation's refund, donated)
    refunded_pence: int
    gift_aid: bool  # their donation carries a Gift Aid declaration
    cancellation_message: str = ""  # the organisers' own words to the guests when they cancelled (user text)

    def open(self, now: datetime) -> bool:
        """Whether they may still donate (a refund may be asked for as long as the money waits)."""
        return self.choice_until is not None and self.choosable_pence > 0 and now < self.choice_until


@dataclass(frozen=True, slots=True)
class RefundChoiceMade:
    choice: Choice
    amount_pence: int
    currency: str
    refund_status: RefundStatus | None  # the refund's, for a refund (pending until Stripe takes it)
    gift_aid: bool


class NoRefundChoice(Conflict):
    code = "no_refund_choice"


class AlreadyChosen(Conflict):
    code = "already_chosen"


class ChoiceClosed(Conflict):
    code = "choice_closed"


async def refund_choice(reference: str) -> RefundChoiceState:
    """What the guest of a cancelled event may choose (the choice page and the API read it)."""
    row = (
        await Order.select(
            Order.id,
            Order.reference,
            Order.currency,
            Order.refunded_pence,
            Order.refund_choice_until,
            Order.event.title,
            Order.event.timezone,
            Order.event.cancellation_message,
        )
        .where(Order.reference == reference)
        .first()
    )
    if row is None:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return await _choice_state(row)


async def _choice_state(row: dict[str, Any]) -> RefundChoiceState:
    payment = await Payment.select(Payment.amount_pence).where(Payment.order_id == row["id"]).order_by(Payment.id).first()
    given = (
        await RefundDonation.select(RefundDonation.amount_pence, RefundDonation.gift_aid_statement)
        .where(RefundDonation.order_id == row["id"], RefundDonation.cause == donations.CANCELLED)
        .first()
    )
    donated = await donations.donated_pence(row["id"])
    paid = payment["amount_pence"] if payment else 0
    return RefundChoiceState(
        reference=row["reference"],
        event_title=row["event.title"],
        currency=row["currency"],
        choice_until=row["refund_choice_until"],
        timezone=row["event.timezone"],
        choosable_pence=max(0, paid - row["refunded_pence"] - donated) if row["refund_choice_until"] is not None else 0,
        donated_pence=given["amount_pence"] if given else 0,
        refunded_pence=row["refunded_pence"],
        gift_aid=bool(given and given["gift_aid_statement"]),
        cancellation_message=row["event.cancellation_message"],
    )


async def choose_refund(
    reference: str, *, choice: Choice, declaration: donations.GiftAidChoice | None, gateway: Gateway, now: datetime
) -> RefundChoiceMade:
    """The guest's choice, once, under the order's lock: their refund now (through the ordinary refund, so its notice
    and ledger entries are as any refund's), or a donation of it to the event's partner projects, booked in the same
    transaction (payments.donations), with Gift Aid if they declare it: they were genuinely offered the money back.
    A second choice is refused (AlreadyChosen) and changes nothing; a donation after the time to choose is refused
    (ChoiceClosed), a refund is not (the money is still theirs)."""
    if choice not in ("refund", "donate"):
        raise InvalidInput("Choose refund or donate.", fields={"choice": "refund or donate"})
    if choice == "refund" and declaration is not None:
        raise InvalidInput("Gift Aid goes with a donation only.", fields={"gift_aid": "Only with a donation."})
    refund_id: int | None = None
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        state = await refund_choice(order.reference)
        if state.choice_until is None:
            raise NoRefundChoice(N_("There is no refund to choose for this order."))
        if state.choosable_pence <= 0 or order.status not in (OrderStatus.paid, OrderStatus.refund_due):
            raise AlreadyChosen(N_("You have already chosen: your refund or your donation is on its way."))
        if choice == "donate":
            if not state.open(now):
                raise ChoiceClosed(N_("The time to choose has ended: your refund is on its way."))
            donation_id = await donations.donate_refund(order, declaration=declaration, now=now)
            made = RefundChoiceMade("donate", state.choosable_pence, order.currency, None, declaration is not None)
            # The guest's thank-you, in their language, once (keyed by the donation, which is made once per order).
            await outbox.enqueue(
                MessageKind.refund_donated,
                order_id=order.id,
                now=now,
                key=f"{DONATED_KEY_PREFIX}{donation_id}",
                detail={"donated_pence": made.amount_pence, "currency": order.currency, "gift_aid": made.gift_aid},
            )
        else:
            refund_id = await payments.record_refund(
                order, ticket_ids=None, amount_pence=None, reason=CHOSEN_REFUND_REASON, requested_by="guest", now=now
            )
            made = RefundChoiceMade("refund", state.choosable_pence, order.currency, RefundStatus.pending, False)
    if refund_id is not None:
        await payments.send_refund(refund_id, gateway=gateway, now=now)
        row = await Refund.select(Refund.status).where(Refund.id == refund_id).first()
        made = RefundChoiceMade("refund", made.amount_pence, made.currency, RefundStatus(row["status"]) if row else None, False)
    return made


async def refund_unchosen(now: datetime, *, gateways: Gateways) -> int:
    """The worker's job: refund every order of a cancelled event whose time to choose a donation ran out unchosen,
    through the ordinary refund (its notice and ledger entries as any refund's). Each under the order's lock, so a
    guest choosing at the same moment and the job never both act."""
    donated = RefundDonation.select(RefundDonation.order_id).where(RefundDonation.cause == donations.CANCELLED)
    rows = (
        await Order.select(Order.id, Order.reference, Order.event._.organisation.as_alias("organisation"))
        .where(
            Order.refund_choice_until.is_not_null(),
            Order.refund_choice_until <= now,
            Order.status.is_in([OrderStatus.paid, OrderStatus.refund_due]),
            Order.id.not_in(donated),
        )
        .order_by(Order.refund_choice_until)
        .limit(200)
    )
    for row in rows:
        gateway = await gateways.for_organisation(row["organisation"])
        await _finish_order(row["id"], row["reference"], UNCHOSEN_REFUND_REASON, "system", gateway, now)
    return len(rows)
