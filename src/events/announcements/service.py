"""Messages to guests: whom an organiser's message reaches, sending it, and the messages sent with how each went.

Sending is one transaction: the rate limits are counted, the announcement and its versions written, one outbox
message queued per guest (an order with a valid ticket of a chosen type and an email address or a mobile number),
each with the wording for that guest's language in its detail, and the audit entry recorded. The outbox worker
writes and sends each one (tickets.outbox), one guest per message. How they went is read back from the outbox by
their key, ``announcement:<id>:<order id>``, whenever the page is opened.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events import db
from events.announcements import rules
from events.announcements.rules import Audience, Draft, Guest, Wording
from events.announcements.tables import Announcement, AnnouncementVersion
from events.audit import service as audit
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.tables import Event, TicketType
from events.errors import Conflict, InvalidInput, TooManyAttempts
from events.i18n import N_
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.ratelimit import service as ratelimit
from events.tickets import outbox
from events.tickets.deliveries import DeliveryCounts, counts_by_key
from events.tickets.email import OrganiserMessage
from events.tickets.statuses import MessageKind, TicketStatus
from events.tickets.tables import Ticket
from events.tickets.texts import ANNOUNCEMENT_TEXT_CHARACTERS

KEY_PREFIX = "announcement:"
# The confirmation page's token is counted here once: the same confirmation sent again (a double click, a reload of
# the sending page) sends nothing more. Kept a day, as long as anyone leaves a confirmation page open.
ONCE_SCOPE = "announcement-once"
ONCE_WINDOW_SECONDS = 24 * 3600
SHOWN = 50  # the newest messages the page and the API list


class NoRecipients(Conflict):
    code = "no_recipients"


class AlreadySent(Conflict):
    code = "already_sent"


@dataclass(frozen=True, slots=True)
class TicketTypeChoice:
    """A ticket type of the event, with how many orders hold a valid ticket of it."""

    id: int
    name: str
    guests: int


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message sent to an event's guests, and how its messages went so far."""

    id: int
    subject: str
    body: str
    locale: str
    ticket_types: tuple[int, ...]  # () for every guest
    ticket_type_names: tuple[str, ...]
    versions: tuple[Wording, ...]
    recipients: int
    sent_by: str
    created_at: datetime  # in the event's time zone
    delivery: DeliveryCounts


@dataclass(frozen=True, slots=True)
class MessagesPage:
    """What the organiser's page shows: the event's ticket types to choose from, how many guests there are, and the
    messages sent so far, newest first."""

    event: EventRow
    ticket_types: tuple[TicketTypeChoice, ...]
    everyone: int  # orders with a valid ticket
    sent: tuple[SentMessage, ...]


def key_of(announcement_id: int, order_id: int) -> str:
    return f"{KEY_PREFIX}{announcement_id}:{order_id}"


async def messages_page(slug: str) -> MessagesPage:
    event = await find_event(slug)
    held = await _orders_by_type(event.id)
    types = await _ticket_types(event.id)
    return MessagesPage(
        event=event,
        ticket_types=tuple(TicketTypeChoice(type_id, name, len(held.get(type_id, ()))) for type_id, name in types.items()),
        everyone=len(set().union(*held.values())) if held else 0,
        sent=tuple(await sent_messages(slug)),
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """A draft as it would be sent (tidied), before anything is: whom it would reach now, and how."""

    event: EventRow
    draft: Draft
    audience: Audience
    ticket_type_names: tuple[str, ...]  # the chosen types' names; () for every guest


async def preview(slug: str, draft: Draft) -> Preview:
    """Whom the draft would reach now, by email and by text, in which language; 422 naming each field that is
    wrong. Nothing is written."""
    event = await find_event(slug)
    draft = await _checked(event, draft)
    guests = await _guests(event, draft.ticket_types)
    names = await _ticket_types(event.id)
    return Preview(
        event=event,
        draft=draft,
        audience=rules.audience([guest for _, guest, _ in guests], draft, text_characters=ANNOUNCEMENT_TEXT_CHARACTERS),
        ticket_type_names=tuple(names[type_id] for type_id in draft.ticket_types),
    )


async def send_announcement(slug: str, draft: Draft, *, sent_by: str, now: datetime, once: str = "") -> SentMessage:
    """Send the draft to the guests it is for, each in their language where the organiser gave a version: 422 naming
    the field that is wrong, 409 ``no_recipients`` when nobody could be reached, 429 past the limits (nothing sent).
    ``once`` is the confirmation page's token: sent again, it sends nothing (409 ``already_sent``)."""
    event = await find_event(slug)
    draft = await _checked(event, draft)
    async with db.write_transaction():
        if once:
            await _only_once(once, now)
        await _count_against_limits(event, now)
        guests = await _guests(event, draft.ticket_types)
        reached = [(order_id, guest, contact) for order_id, guest, contact in guests if contact is not None]
        if not reached:
            raise NoRecipients(
                N_("Nobody would receive this message: no guest with a valid ticket of those types gave an email address or a mobile number.")
            )
        inserted = await Announcement.insert(
            Announcement(
                event=event.id,
                subject=draft.message.subject,
                body=draft.message.body,
                locale=draft.message.locale,
                ticket_types=json.dumps(list(draft.ticket_types)),
                recipients=len(reached),
                sent_by=sent_by,
                created_at=now,
            )
        ).returning(Announcement.id)
        announcement_id = inserted[0]["id"]
        if draft.versions:
            await AnnouncementVersion.insert(
                *(AnnouncementVersion(announcement=announcement_id, locale=v.locale, subject=v.subject, body=v.body) for v in draft.versions)
            )
        await outbox.enqueue_many(
            MessageKind.announcement,
            [
                outbox.Outgoing(order_id, contact, key_of(announcement_id, order_id), _detail(rules.wording_for(guest.locale, draft), draft))
                for order_id, guest, contact in reached
            ],
            now=now,
        )
        told = rules.audience([guest for _, guest, _ in reached], draft, text_characters=ANNOUNCEMENT_TEXT_CHARACTERS)
        # Counts and choices only: never an address, a name or the words (a message may name people).
        await audit.record(
            "announcement_sent",
            now=now,
            event_id=event.id,
            subject_type="announcement",
            subject_id=announcement_id,
            after={
                "recipients": told.recipients,
                "by_email": told.by_email,
                "by_text": told.by_text,
                "ticket_types": list(draft.ticket_types),
                "locale": draft.message.locale,
                "versions": [version.locale for version in draft.versions],
            },
        )
    return (await _sent(event, [announcement_id]))[0]


async def sent_messages(slug: str) -> list[SentMessage]:
    """The event's messages to guests, newest first, each with how its messages went so far."""
    event = await find_event(slug)
    rows = (
        await Announcement.select(Announcement.id)
        .where(Announcement.event == event.id)
        .order_by(Announcement.created_at, ascending=False)
        .order_by(Announcement.id, ascending=False)
        .limit(SHOWN)
    )
    return await _sent(event, [row["id"] for row in rows])


# --- reading -----------------------------------------------------------------------------------------------------


async def _ticket_types(event_id: int) -> dict[int, str]:
    rows = (
        await TicketType.select(TicketType.id, TicketType.name)
        .where(TicketType.event == event_id)
        .order_by(TicketType.position)
        .order_by(TicketType.id)
    )
    return {row["id"]: row["name"] for row in rows}


async def _orders_by_type(event_id: int) -> dict[int, set[int]]:
    """For each ticket type, the paid orders holding a valid ticket of it."""
    rows = await Ticket.select(Ticket.ticket_type, Ticket.order_id).where(
        Ticket.event == event_id, Ticket.status == TicketStatus.valid, Ticket.order_id._.status == OrderStatus.paid
    )
    held: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        held[row["ticket_type"]].add(row["order_id"])
    return held


async def _checked(event: EventRow, draft: Draft) -> Draft:
    draft = rules.tidy(draft)
    if problems := rules.draft_problems(draft, event_ticket_types=await _ticket_types(event.id)):
        raise InvalidInput(N_("Some of the message's details are not valid."), fields=problems)
    return draft


async def _guests(event: EventRow, ticket_types: tuple[int, ...]) -> list[tuple[int, Guest, outbox.Contact | None]]:
    """Every paid order of the event with a valid ticket (of one of ``ticket_types``, when given), oldest first: its
    id, its guest's language and channel, and where they are reached (None: no email address nor mobile number)."""
    holding = Ticket.select(Ticket.order_id).where(Ticket.event == event.id, Ticket.status == TicketStatus.valid)
    if ticket_types:
        holding = holding.where(Ticket.ticket_type.is_in(list(ticket_types)))
    rows = (
        await Order.select(Order.id, Order.buyer_email, Order.buyer_phone, Order.locale)
        .where(Order.event == event.id, Order.status == OrderStatus.paid, Order.id.is_in(holding))
        .order_by(Order.id)
    )
    organisation = await Event.select(Event.organisation._.whatsapp_enabled).where(Event.id == event.id).first()
    whatsapp = bool(organisation and organisation["organisation.whatsapp_enabled"])
    guests = []
    for row in rows:
        contact = outbox.contact_of(row["buyer_email"], row["buyer_phone"], whatsapp=whatsapp)
        guests.append((row["id"], Guest(row["locale"], contact.channel if contact else ""), contact))
    return guests


def _detail(wording: Wording, draft: Draft) -> dict[str, Any]:
    """What the guest's message is written from (tickets.outbox): the words for their language, and the ticket types
    it is for (a guest who no longer holds one when it goes is not sent it)."""
    return OrganiserMessage(wording.subject, wording.body, wording.locale, draft.ticket_types).as_detail()


async def _sent(event: EventRow, announcement_ids: list[int]) -> list[SentMessage]:
    if not announcement_ids:
        return []
    rows = {row["id"]: row for row in await Announcement.select().where(Announcement.id.is_in(announcement_ids))}
    versions: dict[int, list[Wording]] = defaultdict(list)
    for version in (
        await AnnouncementVersion.select().where(AnnouncementVersion.announcement.is_in(announcement_ids)).order_by(AnnouncementVersion.id)
    ):
        versions[version["announcement"]].append(Wording(version["locale"], version["subject"], version["body"]))
    names = await _ticket_types(event.id)
    sent = []
    for announcement_id in announcement_ids:
        row = rows[announcement_id]
        ticket_types = tuple(int(type_id) for type_id in json.loads(row["ticket_types"] or "[]"))
        sent.append(
            SentMessage(
                id=announcement_id,
                subject=row["subject"],
                body=row["body"],
                locale=row["locale"],
                ticket_types=ticket_types,
                ticket_type_names=tuple(names.get(type_id, f"#{type_id}") for type_id in ticket_types),
                versions=tuple(versions[announcement_id]),
                recipients=row["recipients"],
                sent_by=row["sent_by"],
                created_at=row["created_at"].astimezone(ZoneInfo(event.timezone)),  # as the organiser reads times: at the venue
                delivery=await counts_by_key(f"{KEY_PREFIX}{announcement_id}:"),
            )
        )
    return sent


# --- limits ------------------------------------------------------------------------------------------------------


async def _only_once(token: str, now: datetime) -> None:
    """A confirmation page's token goes once: the second time (a double click), nothing is sent. Counted in the
    sending transaction, so a send that fails (a limit, nobody to reach) can be tried again with the same page."""
    decision = await ratelimit.hit(ONCE_SCOPE, token[:200], limit=1, window_seconds=ONCE_WINDOW_SECONDS, now_epoch=int(now.timestamp()))
    if not decision.allowed:
        raise AlreadySent(N_("This message has already been sent."))


async def _count_against_limits(event: EventRow, now: datetime) -> None:
    """Count this message against the event's hourly and the organisation's daily limit, in the sending transaction:
    a refused (or failed) send is not counted, and two sent at once are counted one after the other."""
    now_epoch = int(now.timestamp())
    per_event = await ratelimit.hit(
        "announcements-event", str(event.id), limit=rules.PER_EVENT, window_seconds=rules.PER_EVENT_WINDOW_SECONDS, now_epoch=now_epoch
    )
    if not per_event.allowed:
        raise TooManyAttempts(
            rules.limit_reached(per_event=True, retry_after_seconds=per_event.retry_after_seconds), retry_after_seconds=per_event.retry_after_seconds
        )
    per_organisation = await ratelimit.hit(
        "announcements-organisation",
        str(event.organisation),
        limit=rules.PER_ORGANISATION,
        window_seconds=rules.PER_ORGANISATION_WINDOW_SECONDS,
        now_epoch=now_epoch,
    )
    if not per_organisation.allowed:
        raise TooManyAttempts(
            rules.limit_reached(per_event=False, retry_after_seconds=per_organisation.retry_after_seconds),
            retry_after_seconds=per_organisation.retry_after_seconds,
        )
