"""The thank-you after an event: the periodic job that tells everyone who paid places forward or donated what their
money did, as the event's totals from the ledger (free places funded and taken up, what went to each partner
project). It names no guest.

It lives in the ledger because the totals are the ledger's; the message is queued through tickets' outbox with the
key ``thank_you:<order id>``, so each giver hears once however many workers run the job. The totals are read once
per event, and only when someone there is still to be thanked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from events import db
from events.catalogue.freeplaces import funded_places_used
from events.catalogue.lookup import find_event
from events.catalogue.sales import event_free_places
from events.catalogue.tables import Event
from events.ledger import service, statements
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.tickets import outbox, rules
from events.tickets.email import PartnerAmount, ThankYouTotals
from events.tickets.statuses import MessageKind
from events.tickets.tables import OutboxMessage

logger = logging.getLogger("events.thank_you")

# Events are looked at for this long after their thank-you is due (a worker stopped for a few days still sends it),
# and never again after that, so runs do not read every past event.
THANK_YOU_LOOKBACK = timedelta(days=7)


async def queue_thank_yous(now: datetime) -> int:
    """Queue the thank-yous that are due at ``now``; return how many givers were queued one."""
    events = await Event.select(Event.id, Event.slug, Event.ends_at, Event.timezone).where(
        Event.status.is_in(list(rules.THANKED_EVENT_STATUSES)),
        Event.thank_you_enabled.eq(True),
        Event.ends_at <= now - rules.THANK_YOU_DELAY,  # no event's thank-you is due sooner (rules.thank_you_at)
        Event.ends_at > now - rules.THANK_YOU_DELAY - THANK_YOU_LOOKBACK,
        Event.organisation._.suspended_at.is_null(),
    )
    queued = 0
    for event in events:
        if rules.thank_you_at(event["ends_at"], event["timezone"]) > now:
            continue
        try:
            queued += await _thank_givers(event["id"], event["slug"], now=now)
        except Exception:
            # One event whose totals cannot be read must not hold up the others' thank-yous; it is tried next run.
            logger.exception("Could not queue the thank-yous of event %s", event["id"])
    if queued:
        logger.info("Queued %d thank-yous", queued)
    return queued


async def _thank_givers(event_id: int, slug: str, *, now: datetime) -> int:
    givers = await _givers_to_thank(event_id)
    if not givers:
        return 0
    detail = (await event_thank_you_totals(slug, now=now)).as_detail()
    async with db.write_transaction():
        for order_id in givers:
            await outbox.enqueue(MessageKind.thank_you, order_id=order_id, now=now, key=f"thank_you:{order_id}", detail=detail)
    return len(givers)


async def event_thank_you_totals(slug: str, *, now: datetime) -> ThankYouTotals:
    """What the event's givers did together: whole places paid forward and how many of them guests took up, and each
    partner project's share of the event (its net in the event's statement: after refunds, fees and costs)."""
    event = await find_event(slug)
    await service.book_event(event.id, now=now)  # anything that slipped past booking counts too
    statement = await statements.event_statement(slug)
    free = await event_free_places(event)
    return ThankYouTotals(
        currency=event.currency,
        free_places_funded=free.funded,
        free_places_used=funded_places_used(free.funded, free.claimed),
        partners=tuple(PartnerAmount(line.name, line.net_pence) for line in statement.partners if line.net_pence > 0),
    )


async def _givers_to_thank(event_id: int) -> list[int]:
    """The event's orders whose guests paid forward or donated and have not been queued a thank-you yet."""
    rows: list[dict[str, Any]] = await (
        Order.select(
            Order.id,
            Order.status,
            Order.pay_it_forward_pence,
            Order.donation_pence,
            Order.total_pence,
            Order.refunded_pence,
            Order.buyer_email,
            Order.buyer_phone,
        )
        .where(
            Order.event == event_id,
            Order.status == OrderStatus.paid,
            (Order.pay_it_forward_pence > 0) | (Order.donation_pence > 0),
            (Order.buyer_email != "") | (Order.buyer_phone != ""),
            Order.id.not_in(
                OutboxMessage.select(OutboxMessage.order_id).where(
                    OutboxMessage.kind == MessageKind.thank_you, OutboxMessage.order_id.is_not_null(), OutboxMessage.order_id._.event == event_id
                )
            ),
        )
        .order_by(Order.id)
    )
    return [
        row["id"]
        for row in rows
        if rules.thank_you_due(
            order_status=row["status"],
            pay_it_forward_pence=row["pay_it_forward_pence"],
            donation_pence=row["donation_pence"],
            total_pence=row["total_pence"],
            refunded_pence=row["refunded_pence"],
            has_contact=bool(row["buyer_email"].strip() or row["buyer_phone"].strip()),
        )
    ]
