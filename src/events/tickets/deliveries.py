"""How the messages about an order went, as its guest's and its organiser's order pages say it: "Text sent 19:02",
"Text failed: number unreachable", "Email sent 18:40"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events import db
from events.i18n import N_
from events.orders.codes import normalise_reference
from events.tickets import queries, sms
from events.tickets.outbox import SMS_FALLBACK_PREFIX
from events.tickets.statuses import MessageChannel, MessageStatus
from events.tickets.tables import OutboxMessage

# A text skipped because the service has no Twilio account (sms.NO_PROVIDER), as the pages say it.
NOT_SET_UP = N_("text messages are not set up")
# Why a text failed, by Twilio's error code (https://www.twilio.com/docs/api/errors), as the guest's and the
# organiser's order pages say it: 2xxxx when Twilio refused it at once, 30xxx when the phone network reported later
# that it was not delivered, 63xxx from WhatsApp.
REASONS = {
    21211: N_("not a valid phone number"),
    21217: N_("not a valid phone number"),
    21408: N_("texts to this country are not switched on"),
    21610: N_("the guest asked for no more texts (STOP)"),
    21612: N_("number unreachable"),
    21614: N_("not a mobile number"),
    30003: N_("number unreachable"),  # the phone is off or out of coverage
    30004: N_("blocked by the guest or their network"),
    30005: N_("the number does not exist"),
    30006: N_("not a mobile number"),  # a landline, or a network that takes no texts
    30007: N_("filtered by the phone network"),
    30034: N_("the phone network refused it"),  # unregistered sender (US A2P 10DLC)
    63003: N_("not on WhatsApp"),
    63016: N_("WhatsApp needs an approved template"),
    63024: N_("not on WhatsApp"),
}
COULD_NOT_SEND = N_("could not be sent")
COULD_NOT_DELIVER = N_("could not be delivered")  # e.g. 30008, the network's unknown error


@dataclass(frozen=True, slots=True)
class Delivery:
    """The latest message on one channel: its status, when it was sent (in the event's time zone) and, when it
    failed, why."""

    channel: MessageChannel
    status: MessageStatus
    sent_at: datetime | None
    sent_today: bool  # the pages give the time alone for a message sent today, else the date too
    reason: str  # marked for translation; "" unless it failed or was not sent
    retrying: bool  # queued after a failed try

    @property
    def is_text(self) -> bool:
        return self.channel != MessageChannel.email


async def deliveries_of(reference: str, *, now: datetime) -> list[Delivery]:
    """The newest message about the order on each channel (email, SMS, WhatsApp), newest first. Messages skipped
    because nothing was left to send are left out; a text skipped for want of a provider is shown."""
    rows = await db.run(queries.ORDER_MESSAGES, normalise_reference(reference))
    latest: dict[str, Delivery] = {}
    for row in rows:
        skipped = row["status"] == MessageStatus.skipped
        if row["channel"] in latest or (skipped and row["last_error"] != sms.NO_PROVIDER):
            continue
        zone = ZoneInfo(row["order_id.event.timezone"])
        sent_at = row["sent_at"].astimezone(zone) if row["sent_at"] else None
        latest[row["channel"]] = Delivery(
            channel=MessageChannel(row["channel"]),
            status=MessageStatus(row["status"]),
            sent_at=sent_at,
            sent_today=sent_at is not None and sent_at.date() == now.astimezone(zone).date(),
            reason=NOT_SET_UP if skipped else (failure_reason(row["last_error"]) if row["status"] == MessageStatus.failed else ""),
            retrying=row["status"] == MessageStatus.queued and row["attempts"] > 0,
        )
    return list(latest.values())


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """How many of a batch of messages (one per guest) went: sent (the mail server or Twilio took it, and Twilio has
    not reported it undelivered since), failed, still waiting to go (or to be tried again), and not sent (nothing left
    to send: the guest's tickets were refunded or given back before it went, or no text provider)."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    not_sent: int = 0


_COUNTED = {MessageStatus.sent: "sent", MessageStatus.failed: "failed", MessageStatus.queued: "waiting", MessageStatus.skipped: "not_sent"}


async def counts_by_key(prefix: str) -> DeliveryCounts:
    """How the messages whose dedupe key starts with ``prefix`` (e.g. ``announcement:7:``) went, read now. A WhatsApp
    message that failed and was sent again by SMS counts as its SMS went."""
    if "%" in prefix or "_" in prefix:
        raise ValueError(f"a key prefix cannot hold LIKE's wildcards: {prefix!r}")
    rows = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.channel).where(
        OutboxMessage.dedupe_key.like(prefix + "%")
    )
    statuses = {row["id"]: MessageStatus(row["status"]) for row in rows}
    failed_whatsapp = [row["id"] for row in rows if row["status"] == MessageStatus.failed and row["channel"] == MessageChannel.whatsapp]
    if failed_whatsapp:
        fallbacks = await OutboxMessage.select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
            OutboxMessage.dedupe_key.is_in([f"{SMS_FALLBACK_PREFIX}{message_id}" for message_id in failed_whatsapp])
        )
        for fallback in fallbacks:
            statuses[int(fallback["dedupe_key"].removeprefix(SMS_FALLBACK_PREFIX))] = MessageStatus(fallback["status"])
    counts = dict.fromkeys(_COUNTED.values(), 0)
    for status in statuses.values():
        counts[_COUNTED[status]] += 1
    return DeliveryCounts(**counts)


def failure_reason(last_error: str) -> str:
    """Why a text failed, from the outbox's record of it: "TwilioRestException 21614" -> "not a mobile number",
    "Twilio 30003" -> "number unreachable"; a code we do not name could not be sent (or, once Twilio had taken
    it, could not be delivered)."""
    kind, _, code = last_error.partition(" ")
    if kind not in sms.TWILIO_ERROR_KINDS:
        return COULD_NOT_SEND
    fallback = COULD_NOT_DELIVER if kind == sms.DELIVERY_REPORT else COULD_NOT_SEND
    return REASONS.get(int(code), fallback) if code.isascii() and code.isdigit() else fallback
