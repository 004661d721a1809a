"""The outbox: messages queued in the transaction that causes them, then sent (and retried) by the worker.
Two queues share it: messages about an order to its guest (outbox_message: an email, or a text message to a guest
who gave only a mobile number) and emails to a person about their account (accounts' account_message: a
password-reset link, made when it is sent).

This module gathers what a message is about and dispatches it: emails are written by tickets.email and sent over
SMTP; texts are written by tickets.texts and sent through Twilio by tickets.sms.

A text whose request Twilio never answered (a timeout, a dropped connection) may have been sent: its next try asks
Twilio before sending it again (tickets.sms, _deliver_text).

Without SMTP_HOST (development) each email is written to var/outbox/ as an .eml file instead of sent; without a
Twilio account each text is written there as a .txt file (production skips it: there is nothing to send it with).
Logs name a message by its id only: addresses, numbers, names and provider replies (which quote them) stay out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib
from piccolo.columns.combination import And

from events import db
from events.accounts import email as account_email
from events.accounts import invitations, resets
from events.accounts.roles import DOOR
from events.accounts.rules import INVITATION_LIFETIME, RESET_LINK_LIFETIME
from events.accounts.tables import AccountMessage, User
from events.catalogue.tables import Event
from events.config import Settings
from events.orders import phones
from events.orders.codes import order_access_token
from events.orders.service import order_receipt
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.organisations import rules as organisation_rules
from events.organisations import service as organisations
from events.tickets import email, queries, rules, sms, texts
from events.tickets.pdf import tickets_pdf
from events.tickets.statuses import RELEASE_MESSAGES, TICKET_MESSAGES, MessageChannel, MessageKind, MessageStatus, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket
from events.tickets.views import ticket_url, tickets_of_order

Queue = type[OutboxMessage] | type[AccountMessage]
# What time it is: read as each message is tried, for its own claim, sent_at and retry time.
Clock = Callable[[], datetime]

logger = logging.getLogger("events.email")

BATCH = 50
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(minutes=1)  # EVENTS_OUTBOX_RETRY_SECONDS; the longest wait is 60 of these (an hour)
LONGEST_RETRY_FIRSTS = 60
# A worker that dies mid-send frees its messages after this (EVENTS_OUTBOX_SENDING_LEASE_SECONDS). A try that has not
# finished within half of it is abandoned (see _deliver), so no worker is still talking to the mail server when
# another may take the message: the other half is room for finishing up and for clocks that differ between hosts.
SENDING_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT_SECONDS = 30


def retry_at(attempts: int, now: datetime, *, first: timedelta = FIRST_RETRY) -> datetime | None:
    """When to try again after ``attempts`` failed tries: 1 minute, 2, 4 … at most an hour apart (``first``, then
    doubling up to 60 times ``first``); None gives up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(first * 2 ** max(attempts - 1, 0), first * LONGEST_RETRY_FIRSTS)


def send_budget(lease: timedelta) -> float:
    """Seconds one try at a message may take, all told (composing it, the whole SMTP conversation): half its lease."""
    return lease.total_seconds() / 2


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a guest hears from us: their email address, else a text to their mobile number."""

    channel: MessageChannel
    recipient: str


def contact_of(email_address: str, phone: str, *, whatsapp: bool) -> Contact | None:
    """Email when the guest gave an address; a text (WhatsApp where the organisation turned it on, else SMS) when
    they gave only a mobile number; None when they gave neither (e.g. a door sale without an address) or the number
    cannot take texts."""
    if email_address.strip():
        return Contact(MessageChannel.email, email_address.strip())
    # Claims keep a number in E.164 form; one saved before they did (as the guest typed it) is put in that form here,
    # and one that cannot take texts gets none rather than failing at the provider.
    number = phones.mobile_number(phone) if phone.strip() else None
    if number is not None:
        return Contact(MessageChannel.whatsapp if whatsapp else MessageChannel.sms, number)
    return None


async def enqueue(kind: str, *, order_id: int, now: datetime, key: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
    """Queue a message about an order to the order's guest, inside the caller's transaction so it is sent if and
    only if that commits. A ``key`` makes it go once, however often it is queued (e.g. ``refund:42``);
    ``detail`` is what only the cause knows, kept for when the message is composed.

    Never raises: a message must not undo the payment it confirms. A failure is logged and the buyer can
    ask for their tickets again from the order page.
    """

    async def the_orders_guest() -> Contact | None:
        rows = await db.run(queries.CONTACT_OF_ORDER, order_id)
        order = rows[0] if rows else None
        return contact_of(order["buyer_email"], order["buyer_phone"], whatsapp=bool(order["event.organisation.whatsapp_enabled"])) if order else None

    await _queue(kind, order_id, the_orders_guest, key=key, detail=detail, now=now, about=f"order {order_id}")


async def enqueue_to(kind: str, *, contact: Contact, key: str, detail: Mapping[str, Any], now: datetime) -> None:
    """Queue a message to someone who has no order (yet): a guest who joined a waiting list. Everything it says travels
    in ``detail`` (composed by _compose_without_order); inside the caller's transaction, once per ``key``. Never raises,
    as ``enqueue``: the guest is on the list whether or not the message could be queued."""

    async def given() -> Contact:
        return contact

    await _queue(kind, None, given, key=key, detail=detail, now=now, about=key)


async def queued_at(keys: Sequence[str]) -> list[datetime]:
    """When the messages queued under these keys were queued (those still kept)."""
    rows = await OutboxMessage.select(OutboxMessage.created_at).where(OutboxMessage.dedupe_key.is_in(list(keys)))
    return [row["created_at"] for row in rows]


async def _queue(
    kind: str,
    order_id: int | None,
    recipient: Callable[[], Awaitable[Contact | None]],
    *,
    key: str | None,
    detail: Mapping[str, Any] | None,
    now: datetime,
    about: str,
) -> None:
    """One message queued in a savepoint of the caller's transaction (on PostgreSQL a failed statement aborts the whole
    transaction; the savepoint confines it), once per key; nothing when ``recipient()`` finds no way to reach them. A
    failure is logged, never raised: the cause stands without its message."""
    transaction = db.engine().current_transaction.get()
    savepoint = None
    try:
        savepoint = await transaction.savepoint() if transaction is not None else None
        contact = await recipient()
        if contact is not None:
            await db.run(
                queries.QUEUE_MESSAGE,
                kind,
                order_id,
                contact.recipient,
                contact.channel,
                key,
                json.dumps(dict(detail), sort_keys=True) if detail else "",
                MessageStatus.queued,
                now,
                now,
            )
    except Exception as exc:  # noqa: BLE001 - a failed message never undoes its cause (a sale, a place on a list); it is logged
        if savepoint is not None:
            await savepoint.rollback_to()
        logger.error("Could not queue the %s message for %s: %s", kind, about, type(exc).__name__)
        return
    if savepoint is not None:
        await savepoint.release()


# Whether a message without an order is still worth sending when its turn comes (a guest who left the waiting list a
# moment after joining need not hear they are on it), by kind; the layer that queues it registers the check.
StillWanted = Callable[[Mapping[str, Any]], Awaitable[bool]]
_still_wanted_checks: dict[str, StillWanted] = {}


def register_still_wanted(kind: str, check: StillWanted) -> None:
    """A message of ``kind`` without an order goes only while ``check(detail)`` says it is still wanted."""
    _still_wanted_checks[kind] = check


# The key of a failed WhatsApp message's second try by SMS, followed by the failed message's id.
SMS_FALLBACK_PREFIX = "sms-fallback:"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message of many queued at once (enqueue_many): to one order's guest, at the contact already found for it."""

    order_id: int
    contact: Contact
    key: str
    detail: Mapping[str, Any]


# Rows per INSERT when many messages are queued at once: well inside both engines' limits on a statement's arguments.
ENQUEUE_CHUNK = 500


async def enqueue_many(kind: str, messages: Sequence[Outgoing], *, now: datetime) -> None:
    """Queue many messages about orders at once (an organiser writing to every guest of an event), inside the
    caller's transaction, a few hundred rows per statement. Unlike ``enqueue`` it raises: the cause (an announcement)
    is nothing without its messages, so both commit or neither does. Each goes once per key, as with ``enqueue``."""
    rows = [
        OutboxMessage(
            kind=kind,
            order_id=message.order_id,
            recipient=message.contact.recipient,
            channel=message.contact.channel,
            dedupe_key=message.key,
            detail=json.dumps(dict(message.detail), sort_keys=True) if message.detail else "",
            next_attempt_at=now,
            created_at=now,
        )
        for message in messages
    ]
    for start in range(0, len(rows), ENQUEUE_CHUNK):
        await OutboxMessage.insert(*rows[start : start + ENQUEUE_CHUNK]).on_conflict(target=OutboxMessage.dedupe_key, action="DO NOTHING")


async def send_again_by_sms(message: Mapping[str, Any], *, now: datetime) -> None:
    """Queue a failed WhatsApp message again as an SMS to the same number, once (inside the caller's transaction)."""
    again = OutboxMessage(
        kind=message["kind"],
        order_id=message["order_id"],
        recipient=message["recipient"],
        channel=MessageChannel.sms,
        dedupe_key=f"{SMS_FALLBACK_PREFIX}{message['id']}",
        detail=message["detail"],
        next_attempt_at=now,
        created_at=now,
    )
    await OutboxMessage.insert(again).on_conflict(target=OutboxMessage.dedupe_key, action="DO NOTHING")


async def drain_outbox(now: datetime, *, settings: Settings, limit: int = BATCH, clock: Clock | None = None) -> int:
    """Send the messages that are due at ``now`` in both queues (the periodic job); return how many were sent.

    Each message's own times (its claim's lease, when it was sent, when it is tried again) are read from ``clock`` as
    it is tried, not taken from the batch's start: a batch of slow sends would otherwise claim its last messages with
    leases that have already run out, stamp them sent minutes early and schedule their retries too soon. The worker
    passes the wall clock; without one, every message is tried at ``now`` (a test's fixed instant)."""
    sent = 0
    lease = timedelta(seconds=settings.outbox_sending_lease_seconds)
    tick: Clock = clock or (lambda: now)
    for queue in (AccountMessage, OutboxMessage):  # a reset link is short-lived: it goes first
        # Oldest first, and those due at the same moment in the order they were queued (a reminder before the refund
        # notice queued after it in the same transaction).
        due = await queue.select(queue.id).where(_due(queue, now)).order_by(queue.next_attempt_at).order_by(queue.id).limit(limit)
        for row in due:
            message = await _claim(queue, row["id"], tick(), lease=lease)
            if message is not None:
                sent += await _deliver(queue, message, clock=tick, budget=send_budget(lease), settings=settings)
    return sent


async def purge_outbox(now: datetime, *, retention_days: int) -> int:
    """Forget finished messages (they hold an address) once they are older than EVENTS_RETENTION_DAYS."""
    rows = []
    for queue in (OutboxMessage, AccountMessage):
        rows += (
            await queue.delete()
            .where(queue.status != MessageStatus.queued, queue.created_at < now - timedelta(days=retention_days))
            .returning(queue.id)
        )
    return len(rows)


def _due(queue: Queue, now: datetime) -> And:
    return (queue.status == MessageStatus.queued) & (queue.next_attempt_at <= now) & (queue.sending_until.is_null() | (queue.sending_until < now))


async def _claim(queue: Queue, message_id: int, now: datetime, *, lease: timedelta = SENDING_LEASE) -> dict[str, Any] | None:
    """Take a message with one conditional UPDATE, so of two workers racing for it exactly one sends it.
    The attempt is counted here: a message that crashes its worker still runs out of attempts."""
    rows = (
        await queue.update({queue.sending_until: now + lease, queue.attempts: queue.attempts + 1})
        .where(queue.id == message_id, _due(queue, now))
        .returning(*queue.all_columns())
    )
    return rows[0] if rows else None


# Whether a refund stands: True once the provider took it (or it was handed back at the door), False once it refused
# it, None while it has not answered yet. Payments registers the check (tickets sit below payments).
RefundCheck = Callable[[int], Awaitable[bool | None]]
_refund_checks: list[RefundCheck] = []
REFUND_KEY_PREFIX = "refund:"
REFUND_MESSAGES = (MessageKind.refund_notice, MessageKind.late_payment_refunded)
# How long a refund's message waits for the provider's answer, a minute at a time. Past it the message goes: the
# refund is recorded and owed, and the organiser sees on the order that the provider has not confirmed it.
REFUND_ANSWER_WAIT = timedelta(minutes=15)
REFUND_ANSWER_POLL = timedelta(minutes=1)


def register_refund_check(check: RefundCheck) -> None:
    """A message about a refund (keyed ``refund:<id>``) goes only while ``check(id)`` says the refund stands."""
    _refund_checks.append(check)


async def _refund_answer(message: dict[str, Any]) -> bool | None:
    """What the provider said of the refund the message tells of: True (or not a refund message), False, or None.
    An event's cancellation is not held: the guest must hear of it, refund or not."""
    key = message.get("dedupe_key") or ""
    if message["kind"] not in REFUND_MESSAGES or not key.startswith(REFUND_KEY_PREFIX):
        return True
    refund_id = int(key.removeprefix(REFUND_KEY_PREFIX))
    answers = [await check(refund_id) for check in _refund_checks]
    if False in answers:
        return False
    return None if None in answers else True


async def _deliver(queue: Queue, message: dict[str, Any], *, clock: Clock, settings: Settings, budget: float) -> int:
    """One try at a claimed message. Composing and sending it are abandoned (and retried later) once they have taken
    ``budget`` seconds (half the lease): a mail server that stalls must not keep this worker sending while another
    takes the message for itself. Abandoning closes the SMTP connection before the server has said it accepts the
    message, and a server does not deliver a message whose sender hung up before the end of the conversation. (One
    whose "accepted" reply is lost on the way back cannot be told from one that was not: that message is sent again.)
    The try is composed at the time it starts and stamped (sent, or when to try again) with the time it ends."""
    name = _name(queue, message)
    now = clock()
    if queue is OutboxMessage:
        answer = await _refund_answer(message)
        if answer is False:
            # Stripe refused the refund: telling the guest the money is on its way would be untrue. The organiser
            # sees the failed refund on the order and acts.
            await _finish(queue, message, {queue.status: MessageStatus.skipped, queue.last_error: "refund refused"})
            return 0
        if answer is None and now < message["created_at"] + REFUND_ANSWER_WAIT:
            # Stripe has not answered yet (the refund is sent after its transaction commits): ask again shortly, without
            # using up one of the message's tries.
            await _finish(queue, message, {queue.next_attempt_at: now + REFUND_ANSWER_POLL, queue.attempts: message["attempts"] - 1})
            return 0
    if queue is OutboxMessage and message["channel"] != MessageChannel.email:
        return await _deliver_text(message, name, clock=clock, settings=settings, budget=budget)
    try:
        async with asyncio.timeout(budget):
            if queue is AccountMessage:
                composed = await _compose_account_email(message, settings=settings, now=now)
            else:
                composed = await _compose(message, settings=settings, now=now)
            if composed is not None:
                _keep_message_id(composed, name, settings=settings)
                await _send(composed, name, settings=settings)
    except Exception as exc:  # noqa: BLE001 - any failure (the budget's TimeoutError too) is retried later with backoff
        await _retry_later(queue, message, name, exc, now=clock(), settings=settings)
        return 0
    if composed is None:
        # Every ticket was refunded or voided before the email went (or the person was switched off): nothing to send.
        reason = "account deactivated" if queue is AccountMessage else "no valid tickets"
        await _finish(queue, message, {queue.status: MessageStatus.skipped, queue.last_error: reason})
        return 0
    await _finish(queue, message, {queue.status: MessageStatus.sent, queue.sent_at: clock(), queue.last_error: ""})
    logger.info("Email %s sent", name)
    return 1


def _keep_message_id(composed: EmailMessage, name: str, *, settings: Settings) -> None:
    """The same Message-ID at every try of one message. A worker that dies after the mail server took a message but
    before marking it sent sends it again once its claim runs out (SMTP cannot tell it which happened): the guest's
    mail system then knows the second copy for the same message, not a new one. Made from the message's queue and
    id (its name), keyed with the secret key so that no other installation's message has it."""
    domain = parseaddr(settings.smtp.sender)[1].rpartition("@")[2] or "localhost"
    digest = hmac.new(settings.secret_key.encode(), name.encode(), hashlib.sha256).hexdigest()[:32]
    del composed["Message-ID"]
    composed["Message-ID"] = f"<{digest}@{domain}>"


def _name(queue: Queue, message: dict[str, Any]) -> str:
    """How logs and development's .eml files name a message: its queue and id, never an address."""
    return f"account-{message['id']}-{message['kind']}" if queue is AccountMessage else f"{message['id']}-{message['kind']}"


async def _compose_account_email(message: dict[str, Any], *, settings: Settings, now: datetime) -> EmailMessage | None:
    """A password-reset email (or an invitation's): its single-use link is made now, so the token is never stored in
    the clear."""
    if message["kind"] == invitations.INVITATION:
        return await _compose_invitation_email(message, settings=settings, now=now)
    token = await resets.issue_reset_link(message["user"], now=now)
    if token is None:
        return None
    person = await User.select(User.display_name).where(User.id == message["user"]).first()
    content = account_email.PasswordResetEmail(
        locale=message["locale"],
        name=person["display_name"] if person else "",
        link=f"{settings.base_url}/reset-password/{token}",
        minutes=int(RESET_LINK_LIFETIME.total_seconds() // 60),
    )
    return account_email.build_password_reset_email(
        content, sender=settings.smtp.sender, recipient=message["recipient"], templates_dir=settings.templates_dir, now=now
    )


async def _compose_invitation_email(message: dict[str, Any], *, settings: Settings, now: datetime) -> EmailMessage | None:
    issued = await invitations.issue_invitation_link(message["invitation"], now=now)
    if issued is None:  # accepted or revoked since it was queued
        return None
    token, invitation, organisation = issued
    locale = message["locale"]
    content = account_email.InvitationEmail(
        locale=locale,
        organisation=organisation,
        role=account_email.role_name(invitation.role, locale),
        inviter=invitation.invited_by,
        link=f"{settings.base_url}/invitations/{token}",
        days=INVITATION_LIFETIME.days,
        door_pages=await _door_pages(invitation, base_url=settings.base_url),
    )
    return account_email.build_invitation_email(
        content, sender=settings.smtp.sender, recipient=message["recipient"], templates_dir=settings.templates_dir, now=now
    )


async def _door_pages(invitation: invitations.InvitationView, *, base_url: str) -> tuple[tuple[str, str], ...]:
    """A door-team invitation's events, each with its door page (the events were checked to be the organisation's
    when it was made): where the person will scan, once they have accepted."""
    if invitation.role != DOOR or not invitation.event_ids:
        return ()
    rows = await Event.select(Event.slug, Event.title).where(Event.id.is_in(invitation.event_ids)).order_by(Event.starts_at)
    return tuple((row["title"], f"{base_url}/door/{row['slug']}") for row in rows)


async def _order_of(message: dict[str, Any]) -> dict[str, Any]:
    """What a message about an order is composed from, email or text: the order and its event as they are now."""
    order = (
        await Order.select(
            Order.reference,
            Order.status,
            Order.locale,
            Order.buyer_name,
            Order.currency,
            Order.refunded_pence,
            Order.total_pence,
            Order.pay_it_forward_pence,
            Order.donation_pence,
            Order.event.title,
            Order.event.status,
            Order.event.cancellation_message,
            Order.event.venue,
            Order.event.address,
            Order.event.access_information,
            Order.event.starts_at,
            Order.event.ends_at,
            Order.event.timezone,
            Order.event.organisation,
            Order.event._.organisation._.name,
            Order.event.reminder_hours_before,
            Order.event.thank_you_enabled,
        )
        .where(Order.id == message["order_id"])
        .first()
    )
    assert order is not None  # messages are deleted with their order
    return order


async def _compose(message: dict[str, Any], *, settings: Settings, now: datetime) -> EmailMessage | None:
    if message["order_id"] is None:
        return await _compose_without_order(message, settings=settings, now=now)
    order = await _order_of(message)
    kind = message["kind"]
    reference = order["reference"]
    tickets = []
    pdf = None
    receipt = await order_receipt(message["order_id"]) if kind in TICKET_MESSAGES else None
    contribution = email.confirms_contribution(kind, receipt)
    if contribution and order["status"] != OrderStatus.paid:
        return None  # refunded before its confirmation went: nothing left to confirm
    if (kind in TICKET_MESSAGES and not contribution) or kind in (MessageKind.reminder, MessageKind.announcement):
        tickets = await tickets_of_order(reference, secret_key=settings.secret_key, now=now)
        if not tickets:
            return None
    announcement = await _announcement(message)
    if kind == MessageKind.announcement and announcement is None:
        return None
    if tickets and kind in TICKET_MESSAGES:
        pdf = await tickets_pdf(tickets, locale=order["locale"])
    if not _still_wanted(kind, order, valid_tickets=len(tickets), now=now):
        return None
    token = order_access_token(settings.secret_key, reference)
    content = email.OrderEmail(
        kind=kind,
        reference=reference,
        locale=order["locale"],
        buyer_name=order["buyer_name"],
        event_title=order["event.title"],
        starts_at=order["event.starts_at"].astimezone(ZoneInfo(order["event.timezone"])),
        venue=order["event.venue"],
        order_url=f"{settings.base_url}/orders/{reference}?token={token}",
        tickets=[email.TicketLink(t.holder, t.type_name, settings.base_url + t.url) for t in tickets],
        refunded_pence=order["refunded_pence"],
        currency=order["currency"],
        paid_pence=order["total_pence"],
        organisation=await _email_organisation(order["event.organisation"], base_url=settings.base_url),
        address=order["event.address"],
        map_url=email.map_url(order["event.venue"], order["event.address"]),
        access_information=order["event.access_information"],
        ends_at=order["event.ends_at"].astimezone(ZoneInfo(order["event.timezone"])),
        cant_come_url=await _cant_come_url(kind, message["order_id"], f"{settings.base_url}/orders/{reference}", token)
        if now < order["event.starts_at"]
        else "",
        thank_you=email.ThankYouTotals.from_detail(json.loads(message["detail"])) if kind == MessageKind.thank_you else None,
        refund=await _refund_summary(message),
        refund_choice=_refund_choice(message, reference, token, zone=ZoneInfo(order["event.timezone"]), base_url=settings.base_url),
        released=await _release_summary(message) if kind in RELEASE_MESSAGES else None,
        receipt=receipt,
        offer=email.OfferSummary.from_detail(
            json.loads(message["detail"] or "{}"), base_url=settings.base_url, zone=ZoneInfo(order["event.timezone"])
        )
        if kind == MessageKind.waiting_list_offer
        else None,
        donated_refund=email.DonatedRefund.from_detail(json.loads(message["detail"] or "{}")) if kind == MessageKind.refund_donated else None,
        announcement=announcement,
        cancellation_message=order["event.cancellation_message"] if kind == MessageKind.event_cancelled else "",
    )
    return email.build_email(
        content, sender=settings.smtp.sender, recipient=message["recipient"], pdf=pdf, templates_dir=settings.templates_dir, now=now
    )


def _still_wanted(kind: str, order: dict[str, Any], *, valid_tickets: int, now: datetime) -> bool:
    """Messages sent unasked are checked again when they go: a reminder not once its tickets are refunded or void (or
    the event is cancelled, has started, or has reminders turned off), a thank-you not once the order is refunded in
    full or the organiser turned thank-yous off."""
    if kind == MessageKind.reminder:
        return rules.reminder_still_wanted(
            order_status=order["status"],
            event_status=order["event.status"],
            starts_at=order["event.starts_at"],
            reminder_hours_before=order["event.reminder_hours_before"],
            valid_tickets=valid_tickets,
            now=now,
        )
    if kind == MessageKind.thank_you:
        return order["event.thank_you_enabled"] and rules.thank_you_due(
            order_status=order["status"],
            pay_it_forward_pence=order["pay_it_forward_pence"],
            donation_pence=order["donation_pence"],
            total_pence=order["total_pence"],
            refunded_pence=order["refunded_pence"],
            has_contact=True,  # it was queued to them
        )
    if kind == MessageKind.waiting_list_offer:
        # Not once the offer has been taken up, has run out or was given back: its link would only say so.
        return order["status"] == OrderStatus.pending
    return True


def refund_choice_url(base_url: str, reference: str, token: str) -> str:
    """The page where a cancelled event's guest takes their refund now or donates it (payments.controllers)."""
    return f"{base_url}/orders/{reference}/cancelled?token={token}"


def _refund_choice(message: dict[str, Any], reference: str, token: str, *, zone: ZoneInfo, base_url: str) -> email.RefundChoice | None:
    """A cancellation's refund waiting for the guest's choice, from the detail queued with the message (payments.cancellation)."""
    detail = json.loads(message["detail"]) if message["detail"] else {}
    if "refund_choice_until" not in detail:
        return None
    return email.RefundChoice(
        amount_pence=int(detail["choice_pence"]),
        currency=str(detail["currency"]),
        until=datetime.fromisoformat(detail["refund_choice_until"]).astimezone(zone),
        url=refund_choice_url(base_url, reference, token),
    )


async def _cant_come_url(kind: str, order_id: int, order_url: str, token: str) -> str:
    """A ticket message's or a reminder's "Can't come?" link, with the buyer's authority (the order's token: these go to
    the buyer, who may refund or donate any of the order's tickets): the one valid ticket's page for giving it up, or
    the order page's list of tickets, each with its own link, when there are several."""
    if kind != MessageKind.reminder and kind not in TICKET_MESSAGES:
        return ""
    # A ticket already used at the door (a door sale's, admitted as it was sold) cannot be given back.
    valid = (
        await Ticket.select(Ticket.id)
        .where(Ticket.order_id == order_id, Ticket.status == TicketStatus.valid, Ticket.checked_in_at.is_null())
        .order_by(Ticket.id)
    )
    if not valid:
        return ""
    if len(valid) == 1:
        return f"{order_url}/tickets/{valid[0]['id']}/cant-come?token={token}"
    return f"{order_url}?token={token}#cant-come"


async def _release_summary(message: dict[str, Any]) -> email.ReleaseSummary | None:
    """The ticket a "Can't come?" confirmation tells of, from the detail queued with it (events.releases)."""
    detail = json.loads(message["detail"]) if message["detail"] else {}
    if "ticket_id" not in detail:
        return None
    ticket = (
        await Ticket.select(Ticket.holder_name, Ticket.ticket_type.name)
        .where(Ticket.order_id == message["order_id"], Ticket.id == int(detail["ticket_id"]))
        .first()
    )
    if ticket is None:
        return None
    still_valid = await Ticket.count().where(Ticket.order_id == message["order_id"], Ticket.status == TicketStatus.valid)
    return email.ReleaseSummary(
        ticket=email.VoidedTicket(ticket["holder_name"], ticket["ticket_type.name"] or ""),
        amount_pence=int(detail.get("donated_pence", 0)),
        currency=str(detail.get("currency", "GBP")),
        gift_aid=bool(detail.get("gift_aid", False)),
        still_valid=still_valid,
    )


async def _announcement(message: dict[str, Any]) -> email.OrganiserMessage | None:
    """An organiser's message as this guest gets it (queued with the wording for their language, events.announcements),
    while the guest still holds a valid ticket of a type it was for: one whose tickets were refunded, given back or
    passed on since it was queued is no longer among its guests. None for any other kind of message."""
    if message["kind"] != MessageKind.announcement:
        return None
    announcement = email.OrganiserMessage.from_detail(json.loads(message["detail"] or "{}"))
    held = Ticket.count().where(Ticket.order_id == message["order_id"], Ticket.status == TicketStatus.valid)
    if announcement.ticket_types:
        held = held.where(Ticket.ticket_type.is_in(list(announcement.ticket_types)))
    return announcement if await held else None


async def _refund_summary(message: dict[str, Any]) -> email.RefundSummary | None:
    """The refund a message tells of, from the detail queued with it (payments.service), or None for a message about
    no refund (or queued before refunds carried their detail)."""
    detail = json.loads(message["detail"]) if message["detail"] else {}
    if "amount_pence" not in detail:
        return None
    ticket_ids = [int(ticket_id) for ticket_id in detail.get("ticket_ids", [])]
    voided: list[dict[str, Any]] = []
    still_valid = 0
    if ticket_ids:
        voided = (
            await Ticket.select(Ticket.holder_name, Ticket.ticket_type.name)
            .where(Ticket.order_id == message["order_id"], Ticket.id.is_in(ticket_ids))
            .order_by(Ticket.id)
        )
        # The refund voided its tickets before it queued this message, so the valid ones are the others.
        still_valid = await Ticket.count().where(Ticket.order_id == message["order_id"], Ticket.status == TicketStatus.valid)
    return email.RefundSummary(
        amount_pence=int(detail["amount_pence"]),
        currency=str(detail["currency"]),
        method=str(detail["method"]),
        voided=[email.VoidedTicket(t["holder_name"], t["ticket_type.name"] or "") for t in voided],
        still_valid=still_valid,
    )


async def _deliver_text(message: dict[str, Any], name: str, *, clock: Clock, settings: Settings, budget: float) -> int:
    """Compose and send a text message (SMS or WhatsApp); a number Twilio says cannot take texts fails at once. Abandoned
    after ``budget`` seconds, as an email is (_deliver).

    A text whose last request Twilio never answered (unanswered_request: a timeout, a dropped connection, a worker that
    died mid-send) is looked for at Twilio first: found, it is recorded as sent (or failed, as Twilio says) and not sent
    again; it is sent again only once Twilio's answer shows it has no such message. While Twilio cannot answer, the text
    waits for a later try."""
    now = clock()
    sent = None
    text = None
    settled = not message["unanswered_request"]  # no earlier request left unanswered, or Twilio has shown it made nothing
    try:
        async with asyncio.timeout(budget):
            if not settled:
                found = await _made_by_unanswered_request(message, settings=settings)
                if found is not None:
                    return await _record_found(message, found, name, now=clock())
                settled = True
            text = await _compose_text(message, settings=settings, now=now)
            if text is not None:
                sent = await _send_text(message, text, name, settings=settings, clock=clock)
    except Exception as exc:  # noqa: BLE001 - any failure is retried later with backoff, unless the number is the problem
        # The request is forgotten only when it certainly made nothing; while Twilio cannot say, the next try asks again.
        changes = {OutboxMessage.unanswered_request: ""} if settled and not sms.may_have_been_taken(exc) else {}
        await _retry_later(
            OutboxMessage, message, name, exc, now=clock(), settings=settings, what="Text", give_up=sms.gives_up_at_once(exc), changes=changes
        )
        return 0
    if text is None or sent is None:
        reason = "no valid tickets" if text is None else sms.NO_PROVIDER
        await _finish(
            OutboxMessage,
            message,
            {OutboxMessage.status: MessageStatus.skipped, OutboxMessage.last_error: reason, OutboxMessage.unanswered_request: ""},
        )
        return 0
    await _finish(
        OutboxMessage,
        message,
        {
            OutboxMessage.status: MessageStatus.sent,
            OutboxMessage.sent_at: clock(),
            OutboxMessage.last_error: "",
            OutboxMessage.provider_reference: sent.reference,
            OutboxMessage.channel: sent.channel,
            OutboxMessage.unanswered_request: "",
        },
    )
    logger.info("Text %s sent", name)
    return 1


async def _made_by_unanswered_request(message: dict[str, Any], *, settings: Settings) -> sms.FoundText | None:
    """The message Twilio made from this text's unanswered request, if it made one (None only when Twilio's answer rules
    it out). Messages to the same guest that the outbox knows other texts made are not it."""
    mark = sms.RequestMark.from_json(message["unanswered_request"])
    found = await sms.find_texts(message["recipient"], mark, settings=settings.twilio)
    known = {
        row["provider_reference"]
        for row in await OutboxMessage.select(OutboxMessage.provider_reference).where(
            OutboxMessage.provider_reference.is_in([text.sid for text in found] or [""]), OutboxMessage.id != message["id"]
        )
    }
    return sms.made_by(found, known=known)


async def _record_found(message: dict[str, Any], found: sms.FoundText, name: str, *, now: datetime) -> int:
    """Record a text an earlier, unanswered try had made after all: sent (when Twilio took it), or failed as Twilio
    reports it, a failed WhatsApp message then sent again by SMS as a status report would have it (tickets.service)."""
    channel = sms.RequestMark.from_json(message["unanswered_request"]).channel
    changes: dict[Any, Any] = {
        OutboxMessage.status: MessageStatus.sent,
        OutboxMessage.sent_at: found.created_at or now,
        OutboxMessage.last_error: "",
        OutboxMessage.provider_reference: found.sid,
        OutboxMessage.channel: channel,
        OutboxMessage.unanswered_request: "",
    }
    if not found.undelivered:
        await _finish(OutboxMessage, message, changes)
        logger.info("Text %s had reached Twilio on an earlier try: recorded as sent, not sent again", name)
        return 1
    failure = f"{sms.DELIVERY_REPORT} {found.error_code if found.error_code is not None else found.status}"
    async with db.write_transaction():
        finished = await _finish(OutboxMessage, message, {**changes, OutboxMessage.status: MessageStatus.failed, OutboxMessage.last_error: failure})
        if finished and channel == MessageChannel.whatsapp:
            await send_again_by_sms(message, now=now)
    logger.warning("Text %s had reached Twilio on an earlier try, which could not deliver it (%s)", name, failure)
    return 0


async def _compose_text(message: dict[str, Any], *, settings: Settings, now: datetime) -> texts.ComposedText | None:
    """The text's words, from the order as it is now; None when a message about tickets has no valid ticket left, or
    one sent unasked is no longer wanted (as for emails: _still_wanted). The confirmation of an order without tickets
    (pay-it-forward places or a donation alone) thanks the guest and links to the order page's receipt."""
    if message["order_id"] is None:
        about = await _without_order(message, settings=settings)
        if about is None:
            return None
        text = texts.OrderText(
            kind=message["kind"],
            locale=about.locale,
            organisation=about.organisation.name,
            event_title=about.event_title,
            starts_at=about.starts_at,
            venue=about.venue,
            link=about.link,
            detail=about.detail,
        )
        return texts.ComposedText(body=texts.compose(text), template_variables=texts.template_variables(text))
    order = await _order_of(message)
    kind = message["kind"]
    receipt = await order_receipt(message["order_id"]) if kind == MessageKind.order_confirmation else None
    contribution = email.confirms_contribution(kind, receipt)
    if contribution and order["status"] != OrderStatus.paid:
        return None  # refunded before its confirmation went: nothing left to confirm
    valid = (
        await Ticket.select(Ticket.page_secret).where(Ticket.order_id == message["order_id"], Ticket.status == TicketStatus.valid).order_by(Ticket.id)
    )
    ticket_urls = [settings.base_url + ticket_url(row["page_secret"]) for row in valid]
    # A contribution's confirmation links to the order page, which has its receipt.
    about_tickets = (kind in TICKET_MESSAGES and not contribution) or kind in (MessageKind.reminder, MessageKind.announcement)
    if about_tickets and not ticket_urls:
        return None
    if not _still_wanted(kind, order, valid_tickets=len(ticket_urls), now=now):
        return None
    if kind == MessageKind.announcement and await _announcement(message) is None:
        return None
    token = order_access_token(settings.secret_key, order["reference"])
    order_url = f"{settings.base_url}/orders/{order['reference']}?token={token}"
    link = texts.link_for(ticket_urls, order_url) if about_tickets else ("" if kind == MessageKind.thank_you else order_url)
    detail = json.loads(message["detail"]) if message["detail"] else {}
    if "refund_choice_until" in detail:
        link = refund_choice_url(settings.base_url, order["reference"], token)  # where they choose: refund now or donate
    offer = None
    if kind == MessageKind.waiting_list_offer:
        offer = email.OfferSummary.from_detail(detail, base_url=settings.base_url, zone=ZoneInfo(order["event.timezone"]))
        link = offer.link
    text = texts.OrderText(
        kind=kind,
        locale=order["locale"],
        organisation=order["event.organisation.name"],
        event_title=order["event.title"],
        starts_at=order["event.starts_at"].astimezone(ZoneInfo(order["event.timezone"])),
        venue=order["event.venue"],
        link=link,
        tickets=len(ticket_urls),
        currency=order["currency"],
        paid_pence=order["total_pence"],
        refunded_pence=order["refunded_pence"],
        detail=detail,
        offer_expires_at=offer.expires_at if offer is not None else None,
        contribution=contribution,
    )
    return texts.ComposedText(body=texts.compose(text), template_variables=texts.template_variables(text))


async def _send_text(message: dict[str, Any], text: texts.ComposedText, name: str, *, settings: Settings, clock: Clock) -> sms.SentText | None:
    """Through Twilio, which reports later how it went (tickets.delivery_reports); without a Twilio account, written to
    var/outbox/ in development and not sent (None) in production. A text meant for WhatsApp goes by SMS while the
    service cannot send WhatsApp (no sender or no approved template).

    The request is recorded on the message (unanswered_request) before it goes, and kept until Twilio answers: a try
    that ends without an answer, or a worker that dies mid-request, leaves it for the next try to look for."""
    channel = MessageChannel(message["channel"])
    if channel == MessageChannel.whatsapp and not settings.twilio.whatsapp_ready:
        channel = MessageChannel.sms
    if not settings.twilio.enabled:
        if settings.is_production:
            logger.warning("Text %s not sent: no Twilio account is set up (EVENTS_TWILIO_ACCOUNT_SID)", name)
            return None
        folder = settings.var_dir / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.txt"
        path.write_text(f"To: {message['recipient']}\nChannel: {channel}\n\n{text.body}\n", encoding="utf-8")
        logger.info("No Twilio account: text %s written to %s", name, path)
        return sms.SentText(reference="", channel=channel)
    request = sms.text_request(message["recipient"], text, channel, settings=settings.twilio)
    if not await _finish(OutboxMessage, message, {OutboxMessage.unanswered_request: request.mark(clock()).as_json()}, release=False):
        raise ClaimLost(name)  # another worker has the message now: this one must not send it
    return await sms.send_text(request, settings=settings.twilio, status_callback=settings.base_url + sms.STATUS_CALLBACK_PATH)


class ClaimLost(Exception):
    """This worker's claim on a message ran out and another worker took it: this try sends nothing more."""


@dataclass(frozen=True, slots=True)
class _NoOrder:
    """What a message without an order says, read from its detail and its event as it is now."""

    name: str
    locale: str
    event_title: str
    starts_at: datetime
    venue: str
    link: str  # absolute
    organisation: email.EmailOrganisation
    detail: Mapping[str, Any]


async def _without_order(message: dict[str, Any], *, settings: Settings) -> _NoOrder | None:
    """A message without an order, as it is to be sent; None when its event is gone or it is no longer wanted."""
    detail = json.loads(message["detail"]) if message["detail"] else {}
    check = _still_wanted_checks.get(message["kind"])
    if check is None:
        raise ValueError(f"no check registered for messages of kind {message['kind']!r} without an order")
    if not await check(detail):
        return None
    event = (
        await Event.select(Event.title, Event.starts_at, Event.timezone, Event.venue, Event.organisation).where(Event.id == detail["event"]).first()
    )
    if event is None:
        return None
    return _NoOrder(
        name=str(detail.get("name", "")),
        locale=str(detail.get("locale", "en")),
        event_title=event["title"],
        starts_at=event["starts_at"].astimezone(ZoneInfo(event["timezone"])),
        venue=event["venue"],
        link=settings.base_url + str(detail["link"]),
        organisation=await _email_organisation(event["organisation"], base_url=settings.base_url),
        detail=detail,
    )


async def _compose_without_order(message: dict[str, Any], *, settings: Settings, now: datetime) -> EmailMessage | None:
    """The email of a message without an order (a guest who joined a waiting list), from its detail."""
    about = await _without_order(message, settings=settings)
    if about is None:
        return None
    content = email.OrderEmail(
        kind=message["kind"],
        reference="",
        locale=about.locale,
        buyer_name=about.name,
        event_title=about.event_title,
        starts_at=about.starts_at,
        venue=about.venue,
        order_url="",
        organisation=about.organisation,
        joined=email.JoinedSummary.from_detail(about.detail, link=about.link),
    )
    return email.build_email(
        content, sender=settings.smtp.sender, recipient=message["recipient"], pdf=None, templates_dir=settings.templates_dir, now=now
    )


async def _email_organisation(organisation_id: int, *, base_url: str) -> email.EmailOrganisation:
    organisation = await organisations.by_id(organisation_id)
    return email.EmailOrganisation(
        name=organisation.name,
        url=f"{base_url}/organisations/{organisation.slug}",
        accent_colour=organisation_rules.theme_colour(organisation.accent_colour),
        charity_name=organisation.charity_name,
        charity_number=organisation.charity_number,
        contact_email=organisation.contact_email,
        logo=await organisations.logo_by_id(organisation_id) if organisation.has_logo else None,
        logo_content_type=organisation.logo_content_type,
    )


async def _send(composed: EmailMessage, name: str, *, settings: Settings) -> None:
    smtp = settings.smtp
    if not smtp.host:
        folder = settings.var_dir / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.eml"
        path.write_bytes(composed.as_bytes())
        logger.info("No SMTP_HOST: email %s written to %s", name, path)
        return
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.user,
        password=smtp.password if smtp.user else None,
        start_tls=smtp.starttls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )
    try:
        await client.connect()
        await client.send_message(composed)
    finally:
        # Hang up at once, without QUIT: a try abandoned mid-conversation (see _deliver) must not wait for the server to
        # finish accepting the message (aiosmtplib.send's QUIT would), and once the server has accepted it nothing may
        # keep the try running past its budget, which would have it recorded as failed and sent again.
        client.close()


async def _retry_later(
    queue: Queue,
    message: dict[str, Any],
    name: str,
    exc: Exception,
    *,
    now: datetime,
    settings: Settings,
    what: str = "Email",
    give_up: bool = False,
    changes: dict[Any, Any] | None = None,
) -> None:
    """Record a failed try: tried again later, with backoff, or given up; ``changes`` are recorded with it."""
    error = _describe(exc)
    changes = changes or {}
    if give_up:
        await _finish(queue, message, {**changes, queue.status: MessageStatus.failed, queue.last_error: error})
        logger.error("%s %s cannot be delivered (%s); giving up", what, name, error)
        return
    later = retry_at(message["attempts"], now, first=timedelta(seconds=settings.outbox_retry_seconds))
    if later is None:
        await _finish(queue, message, {**changes, queue.status: MessageStatus.failed, queue.last_error: error})
        logger.error("%s %s failed %d times (%s); giving up", what, name, message["attempts"], error)
        return
    await _finish(queue, message, {**changes, queue.next_attempt_at: later, queue.last_error: error})
    logger.warning("%s %s not sent (attempt %d, %s); trying again at %s", what, name, message["attempts"], error, later.isoformat())


async def _finish(queue: Queue, message: dict[str, Any], changes: dict[Any, Any], *, release: bool = True) -> bool:
    """Record how a try ended and release the claim (or, with ``release=False``, record something mid-try), only while
    the claim is still this try's: each claim counts an attempt, so a worker whose lease ran out (and whose message
    another worker has claimed since) changes nothing. Returns whether it was recorded."""
    finished = (
        await queue.update({**changes, queue.sending_until: None} if release else changes)
        .where(queue.id == message["id"], queue.attempts == message["attempts"])
        .returning(queue.id)
    )
    if not finished:
        logger.warning("Message %s was claimed again after this worker's lease ran out; its try is not recorded", _name(queue, message))
    return bool(finished)


def _describe(exc: BaseException) -> str:
    """The error's kind and SMTP or Twilio code, never its text: replies often quote the address or number."""
    code = getattr(exc, "code", None)
    return (f"{type(exc).__name__} {code}" if isinstance(code, int) else type(exc).__name__)[:200]
