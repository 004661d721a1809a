"""A ticket as guests and the door see it, with its signed code. Free and paid tickets look the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events.errors import NotFound
from events.i18n import N_
from events.orders.codes import normalise_reference
from events.tickets import keys
from events.tickets.signing import TicketClaims, sign_ticket
from events.tickets.tables import Ticket

# The door accepts a ticket from a day before the event until a day after it ends.
VALIDITY_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    secret: str
    version: int
    status: str
    holder: str
    type_name: str
    ticket_type_id: int
    order_reference: str
    event_id: int
    event_slug: str
    event_title: str
    venue: str
    address: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    code: str

    @property
    def url(self) -> str:
        return f"/tickets/{self.secret}"


_COLUMNS = (
    Ticket.id,
    Ticket.secret,
    Ticket.version,
    Ticket.status,
    Ticket.holder_name,
    Ticket.ticket_type,
    Ticket.ticket_type.name,
    Ticket.order_id.reference,
    Ticket.event,
    Ticket.event.slug,
    Ticket.event.title,
    Ticket.event.venue,
    Ticket.event.address,
    Ticket.event.starts_at,
    Ticket.event.ends_at,
    Ticket.event.timezone,
)


async def ticket_by_secret(secret: str, *, secret_key: str, now: datetime) -> TicketView:
    row = await Ticket.select(*_COLUMNS).where(Ticket.secret == secret.strip().lower()).first()
    if row is None:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    return (await _views([row], secret_key=secret_key, now=now))[0]


async def tickets_of_order(reference: str, *, secret_key: str, now: datetime, include_void: bool = False) -> list[TicketView]:
    query = Ticket.select(*_COLUMNS).where(Ticket.order_id.reference == normalise_reference(reference))
    if not include_void:
        query = query.where(Ticket.status == "valid")
    return await _views(await query.order_by(Ticket.id), secret_key=secret_key, now=now)


async def _views(rows: list[dict[str, Any]], *, secret_key: str, now: datetime) -> list[TicketView]:
    signing: dict[int, Any] = {}
    views = []
    for row in rows:
        event_id = row["event"]
        if event_id not in signing:
            signing[event_id] = await keys.current_signing_key(event_id, secret_key=secret_key, now=now)
        key_id, private_key = signing[event_id]
        zone = ZoneInfo(row["event.timezone"])
        claims = TicketClaims(
            key_id=key_id,
            ticket_id=row["id"],
            version=row["version"],
            event_id=event_id,
            ticket_type_id=row["ticket_type"],
            secret=row["secret"],
            valid_from=int((row["event.starts_at"] - VALIDITY_MARGIN).timestamp()),
            valid_until=int((row["event.ends_at"] + VALIDITY_MARGIN).timestamp()),
        )
        views.append(
            TicketView(
                id=row["id"],
                secret=row["secret"],
                version=row["version"],
                status=row["status"],
                holder=row["holder_name"],
                type_name=row["ticket_type.name"],
                ticket_type_id=row["ticket_type"],
                order_reference=row["order_id.reference"],
                event_id=event_id,
                event_slug=row["event.slug"],
                event_title=row["event.title"],
                venue=row["event.venue"],
                address=row["event.address"],
                starts_at=row["event.starts_at"].astimezone(zone),
                ends_at=row["event.ends_at"].astimezone(zone),
                timezone=row["event.timezone"],
                code=sign_ticket(claims, private_key),
            )
        )
    return views
