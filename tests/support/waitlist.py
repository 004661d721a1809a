"""Waiting-list entries written straight to the table, for tests of what organisers see and do with them (guests
join through the waiting-list API, which is tested on its own)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from events.catalogue.tables import Event, TicketType
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry


async def add_waiting_entry(
    slug: str,
    *,
    now: datetime,
    name: str = "Amal Guest",
    email: str = "",
    phone: str = "",
    quantity: int = 1,
    partner: str = "",
    status: WaitingStatus = WaitingStatus.waiting,
    locale: str = "en",
    offered_places: int = 0,
) -> int:
    """An entry on the event's paid list (its first ticket type), or on its free list when ``partner`` is given."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    ticket_type = await TicketType.select(TicketType.id).where(TicketType.event == event["id"]).order_by(TicketType.id).first()
    offered = status in (WaitingStatus.offered, WaitingStatus.accepted)
    entry = WaitingEntry(
        event=event["id"],
        kind=WaitingKind.free if partner else WaitingKind.paid,
        ticket_type=None if partner else ticket_type["id"],
        partner_name=partner,
        name=name,
        email=email,
        phone=phone,
        locale=locale,
        quantity=quantity,
        token=secrets.token_urlsafe(16),
        status=status,
        offered_places=offered_places or (quantity if offered else 0),
        offered_at=now if offered else None,
        offer_expires_at=now + timedelta(hours=12) if offered else None,
        answered_at=now if status not in (WaitingStatus.waiting, WaitingStatus.offered) else None,
        created_at=now,
        updated_at=now,
    )
    await entry.save()
    return entry.id
