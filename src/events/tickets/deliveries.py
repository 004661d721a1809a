"""How the messages about an order went, as its guest's and its organiser's order pages say it: "Text sent 19:02",
"Text failed: number unreachable", "Email sent 18:40"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events.i18n import N_
from events.orders.codes import normalise_reference
from events.tickets import sms
from events.tickets.statuses import MessageChannel, MessageStatus
from events.tickets.tables import OutboxMessage

# A text skipped because the service has no Twilio account (sms.NO_PROVIDER), as the pages say it.
NOT_SET_UP = N_("text messages are not set up")


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
    rows = (
        await OutboxMessage.select(
            OutboxMessage.channel,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.sent_at,
            OutboxMessage.order_id._.event._.timezone,
        )
        .where(OutboxMessage.order_id.reference == normalise_reference(reference))
        .order_by(OutboxMessage.id, ascending=False)
    )
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
            reason=NOT_SET_UP if skipped else (sms.failure_reason(row["last_error"]) if row["status"] == MessageStatus.failed else ""),
            retrying=row["status"] == MessageStatus.queued and row["attempts"] > 0,
        )
    return list(latest.values())
