"""Tickets service: emailing an order's tickets again, re-issuing a ticket to a new holder, the language a guest
chooses on their ticket page, and Twilio's reports of how each text went."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events import db, text
from events.audit import service as audit
from events.config import TwilioSettings
from events.errors import Conflict, InvalidInput, NotAllowed, NotFound, TooManyAttempts
from events.i18n import N_
from events.orders import service as orders
from events.orders.codes import normalise_reference
from events.orders.schemas import TicketOut
from events.orders.statuses import OrderStatus
from events.ratelimit import service as ratelimit
from events.tickets import delivery_reports, outbox, rules, sms
from events.tickets.secrets import new_ticket_secret
from events.tickets.signing import MAX_TICKET_VERSION
from events.tickets.statuses import MessageChannel, MessageStatus, TicketStatus
from events.tickets.tables import OutboxMessage, Ticket
from events.tickets.views import ticket_out

RESEND_LIMIT = 3
RESEND_WINDOW_SECONDS = 3600
MAX_HOLDER_LENGTH = 200  # Ticket.holder_name

logger = logging.getLogger("events.email")


class NotSignedByTwilio(NotAllowed):
    code = "invalid_signature"


async def resend_tickets(reference: str, *, now: datetime) -> None:
    """Queue the tickets to the buyer again (by email, or by text to a buyer who gave only a mobile number), at most
    three times an hour per order."""
    order = await orders.find_order(reference)
    has_tickets = await Ticket.exists().where(Ticket.order_id == order.id, Ticket.status == TicketStatus.valid)
    if order.status != OrderStatus.paid or not has_tickets or not (order.buyer_email or order.buyer_phone):
        raise Conflict(N_("This order has no tickets to email."), code="no_tickets")
    decision = await ratelimit.hit(
        "resend-tickets", order.reference, limit=RESEND_LIMIT, window_seconds=RESEND_WINDOW_SECONDS, now_epoch=int(now.timestamp())
    )
    if not decision.allowed:
        raise TooManyAttempts(
            N_("We have already emailed these tickets several times in the last hour. Please check your spam folder, or try again later."),
            retry_after_seconds=decision.retry_after_seconds,
        )
    async with db.write_transaction():
        await outbox.enqueue("tickets_resent", order_id=order.id, now=now)
        await audit.record(
            "order.tickets_resent",
            now=now,
            event_id=order.event,
            subject_type="order",
            subject_id=order.reference,
            after={"email": MessageStatus.queued},
            anonymous_actor="guest",
        )


async def remember_ticket_language(page_secret: str, locale: str, *, now: datetime) -> None:
    """The guest chose a language on a ticket's page. Where the ticket is its order's only one, its holder is the
    guest who ordered or claimed it, and the order follows the choice from now on (orders.remember_language). A
    ticket of a group order may be a friend's: their choice is theirs (the page's cookie), and the buyer's messages
    keep the buyer's language, which the buyer changes from the order page."""
    ticket = await Ticket.select(Ticket.order_id, Ticket.order_id.reference).where(Ticket.page_secret == page_secret.strip().lower()).first()
    if ticket is None:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    if await Ticket.count().where(Ticket.order_id == ticket["order_id"]) == 1:
        await orders.remember_language(ticket["order_id.reference"], locale, now)


class NameChangesClosed(Conflict):
    code = "name_changes_closed"


async def change_holder(ticket_id: int, holder: str, *, now: datetime, buyer_reference: str | None = None) -> TicketOut:
    """Re-issue a ticket to a new holder name: a new secret and version, so the old code no longer gets in,
    and the buyer is emailed the updated tickets.

    ``buyer_reference``: the buyer asks, from their order (whose access token the caller checked): the ticket must
    be one of that order's (else NotFound, as for a ticket that does not exist), and names can be changed only until
    the event's cut-off (rules.name_change_open; else NameChangesClosed, 409). Without it, the organiser asks, at
    any time."""
    holder = holder.strip()
    if not holder:
        message = N_("Please give the ticket holder's name.")
        raise InvalidInput(message, fields={"holder": message})
    if len(holder) > MAX_HOLDER_LENGTH:
        message = N_("That name is too long.")
        raise InvalidInput(message, fields={"holder": message})
    if (problem := text.line_problem(holder)) is not None:
        raise InvalidInput(problem, fields={"holder": problem})
    async with db.write_transaction():
        ticket = (
            await Ticket.select(
                Ticket.version,
                Ticket.status,
                Ticket.event,
                Ticket.order_id,
                Ticket.order_id.buyer_email,
                Ticket.order_id.reference,
                Ticket.order_id.status,
                Ticket.event.starts_at,
                Ticket.event.name_changes_close_hours_before,
            )
            .where(Ticket.id == ticket_id)
            .first()
        )
        if ticket is None or (buyer_reference is not None and ticket["order_id.reference"] != normalise_reference(buyer_reference)):
            raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
        if ticket["status"] != TicketStatus.valid:
            raise Conflict(N_("Only valid tickets can be changed."), code="ticket_not_valid")
        if buyer_reference is not None and not rules.name_change_open(
            order_status=ticket["order_id.status"],
            ticket_status=ticket["status"],
            starts_at=ticket["event.starts_at"],
            close_hours_before=ticket["event.name_changes_close_hours_before"],
            now=now,
        ):
            raise NameChangesClosed(N_("It is too close to the event to change the names on its tickets."))
        version = ticket["version"] + 1
        if version > MAX_TICKET_VERSION:
            raise Conflict(N_("This ticket has been re-issued too many times. Refund it and issue a new one."), code="ticket_reissue_limit")
        # Conditional on the version read above, so two changes at once cannot both win.
        changed = (
            await Ticket.update(
                {Ticket.holder_name: holder, Ticket.secret: new_ticket_secret(), Ticket.page_secret: new_ticket_secret(), Ticket.version: version}
            )
            .where(Ticket.id == ticket_id, Ticket.version == ticket["version"], Ticket.status == TicketStatus.valid)
            .returning(Ticket.id)
        )
        if not changed:
            raise Conflict(N_("The ticket changed at the same moment. Please try again."), code="ticket_changed")
        await orders.note(ticket["order_id"], "ticket_reissued", f"Ticket {ticket_id} re-issued as version {version} for a new holder", now)
        await outbox.enqueue("tickets_reissued", order_id=ticket["order_id"], now=now)
        # Versions, not names: the audit log keeps no guest's personal data, so erasing a guest leaves it whole.
        await audit.record(
            "ticket.holder_changed",
            now=now,
            event_id=ticket["event"],
            subject_type="ticket",
            subject_id=ticket_id,
            before={"version": ticket["version"], "order": ticket["order_id.reference"]},
            after={"version": version, "order": ticket["order_id.reference"], "old_code": "revoked"},
            anonymous_actor="guest" if buyer_reference is not None else audit.SYSTEM_ACTOR,
        )
    row = (
        await Ticket.select(Ticket.id, Ticket.holder_name, Ticket.ticket_type.name, Ticket.secret, Ticket.page_secret, Ticket.status)
        .where(Ticket.id == ticket_id)
        .first()
    )
    assert row is not None
    return ticket_out(row)


@dataclass(frozen=True, slots=True)
class HolderChangeFacts:
    """One ticket of a buyer's order, for the page that changes its holder's name: whose it is, what for, and until
    when its name can be changed (``open``: now)."""

    ticket_id: int
    order_reference: str
    holder: str
    type_name: str
    status: TicketStatus
    event_title: str
    starts_at: datetime  # in the event's time zone
    closes_at: datetime  # in the event's time zone
    open: bool


async def holder_change_facts(reference: str, ticket_id: int, *, now: datetime) -> HolderChangeFacts:
    """The ticket ``ticket_id`` of the order ``reference`` (whose access token the caller checked), or NotFound."""
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.holder_name,
            Ticket.status,
            Ticket.ticket_type.name,
            Ticket.order_id.reference,
            Ticket.order_id.status,
            Ticket.event.title,
            Ticket.event.starts_at,
            Ticket.event.timezone,
            Ticket.event.name_changes_close_hours_before,
        )
        .where(Ticket.id == ticket_id, Ticket.order_id.reference == normalise_reference(reference))
        .first()
    )
    if row is None:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    zone = ZoneInfo(row["event.timezone"])
    hours = row["event.name_changes_close_hours_before"]
    return HolderChangeFacts(
        ticket_id=row["id"],
        order_reference=row["order_id.reference"],
        holder=row["holder_name"],
        type_name=row["ticket_type.name"] or "",
        status=TicketStatus(row["status"]),
        event_title=row["event.title"],
        starts_at=row["event.starts_at"].astimezone(zone),
        closes_at=rules.name_changes_close_at(row["event.starts_at"], hours).astimezone(zone),
        open=rules.name_change_open(
            order_status=row["order_id.status"], ticket_status=row["status"], starts_at=row["event.starts_at"], close_hours_before=hours, now=now
        ),
    )


async def record_delivery_report(form: Sequence[tuple[str, str]], signature: str, *, url: str, settings: TwilioSettings, now: datetime) -> str:
    """Twilio's report of how a text went (a status callback to ``url``, the public address it was given): refused
    (403) unless Twilio signed it, refused (422) unless it is a report Twilio could send; then a text Twilio could not
    deliver is marked failed with Twilio's code, once. Returns what happened: ``failed`` when it marked one,
    ``unchanged`` (a repeat, a success, a status on its way, a report about a text already failed) or ``unknown``
    (no such text: not ours, or forgotten since). A WhatsApp message that failed (the guest is not on WhatsApp, or
    WhatsApp refused it) is sent again by SMS, once, so the guest still gets their ticket."""
    if not sms.signed_by_twilio(url, form, signature, settings=settings):
        raise NotSignedByTwilio(N_("This request is not signed by Twilio."))
    if problems := delivery_reports.problems(form):
        raise InvalidInput(N_("This is not a status report Twilio sends."), fields=problems)
    report = delivery_reports.report_of(form)
    failure = delivery_reports.failure_of(report, kind=sms.DELIVERY_REPORT)
    the_text = (OutboxMessage.provider_reference == report.message_sid) & (OutboxMessage.channel != MessageChannel.email)
    if failure is None:
        return "unchanged" if await OutboxMessage.exists().where(the_text) else "unknown"
    async with db.write_transaction():
        # Only a text still marked sent: a repeated or a second failure report changes nothing, whatever their order.
        failed = await (
            OutboxMessage.update({OutboxMessage.status: MessageStatus.failed, OutboxMessage.last_error: failure})
            .where(the_text, OutboxMessage.status == MessageStatus.sent)
            .returning(
                OutboxMessage.id, OutboxMessage.kind, OutboxMessage.order_id, OutboxMessage.recipient, OutboxMessage.channel, OutboxMessage.detail
            )
        )
        if not failed:
            return "unchanged" if await OutboxMessage.exists().where(the_text) else "unknown"
        if failed[0]["channel"] == MessageChannel.whatsapp:
            await outbox.send_again_by_sms(failed[0], now=now)
    logger.warning("Text %s was not delivered (%s)", failed[0]["id"], failure)
    return "failed"
