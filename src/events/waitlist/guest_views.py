"""What a guest's own waiting-list page shows: their entry, its place in the queue, the event and the current offer,
read by the entry's token (never by anything a guest could guess)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events.catalogue.schemas import OrganisationRefOut
from events.catalogue.service import organisation_ref
from events.errors import NotFound
from events.i18n import N_
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry

# The shape of a token (secrets.token_urlsafe, at most 32 characters): anything else is not looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def entry_not_found() -> NotFound:
    return NotFound(N_("We could not find this waiting list place. Please check the link."), code="waiting_entry_not_found")


@dataclass(frozen=True, slots=True)
class EntryPage:
    """A guest's entry as their page shows it. Times are in the event's time zone."""

    token: str
    kind: WaitingKind
    status: WaitingStatus
    position: int | None  # 1 is next; None once they are no longer waiting
    quantity: int
    locale: str
    by_email: bool
    by_text: bool
    ticket_type_name: str
    price_pence: int  # each place, before any booking fee (0: free places)
    booking_fee_pence: int
    offered_places: int
    offer_expires_at: datetime | None
    offer_order: str | None  # the reference of the offer's order
    offer_hours: int
    event_slug: str
    event_title: str
    event_starts_at: datetime
    event_ends_at: datetime
    event_venue: str
    event_address: str
    currency: str
    waiting_list_open: bool
    organisation: OrganisationRefOut

    @property
    def free(self) -> bool:
        return self.kind == WaitingKind.free


async def entry_page(token: str) -> EntryPage:
    """The entry with this token, or NotFound (an unknown or malformed token, or an organisation suspended since)."""
    if not _TOKEN.fullmatch(token or ""):
        raise entry_not_found()
    event = WaitingEntry.event._
    row = (
        await WaitingEntry.select(
            WaitingEntry.id,
            WaitingEntry.token,
            WaitingEntry.kind,
            WaitingEntry.status,
            WaitingEntry.quantity,
            WaitingEntry.locale,
            WaitingEntry.email,
            WaitingEntry.phone,
            WaitingEntry.ticket_type._.name,
            WaitingEntry.ticket_type._.price_pence,
            WaitingEntry.offered_places,
            WaitingEntry.offer_expires_at,
            WaitingEntry.offer_order._.reference,
            WaitingEntry.event,
            event.slug,
            event.title,
            event.starts_at,
            event.ends_at,
            event.timezone,
            event.venue,
            event.address,
            event.currency,
            event.booking_fee_pence,
            event.offer_hours,
            event.waiting_list_open,
            event.organisation._.slug,
            event.organisation._.name,
            event.organisation._.logo_content_type,
        )
        .where(WaitingEntry.token == token, event.organisation._.suspended_at.is_null())
        .first()
    )
    if row is None:
        raise entry_not_found()
    zone = ZoneInfo(row["event.timezone"])
    status = WaitingStatus(row["status"])
    kind = WaitingKind(row["kind"])
    position = None
    if status == WaitingStatus.waiting:
        # The design's queue: join order (id) among the waiting entries of the same event and kind.
        position = await WaitingEntry.count().where(
            WaitingEntry.event == row["event"],
            WaitingEntry.kind == kind,
            WaitingEntry.status == WaitingStatus.waiting,
            WaitingEntry.id <= row["id"],
        )
    expires = row["offer_expires_at"]
    return EntryPage(
        token=row["token"],
        kind=kind,
        status=status,
        position=position,
        quantity=row["quantity"],
        locale=row["locale"],
        by_email=bool(row["email"]),
        by_text=bool(row["phone"]),
        ticket_type_name=row["ticket_type.name"] or "",
        price_pence=(row["ticket_type.price_pence"] or 0) if kind == WaitingKind.paid else 0,
        booking_fee_pence=row["event.booking_fee_pence"] if kind == WaitingKind.paid else 0,
        offered_places=row["offered_places"],
        offer_expires_at=expires.astimezone(zone) if expires else None,
        offer_order=row["offer_order.reference"],
        offer_hours=row["event.offer_hours"],
        event_slug=row["event.slug"],
        event_title=row["event.title"],
        event_starts_at=row["event.starts_at"].astimezone(zone),
        event_ends_at=row["event.ends_at"].astimezone(zone),
        event_venue=row["event.venue"],
        event_address=row["event.address"],
        currency=row["event.currency"],
        waiting_list_open=row["event.waiting_list_open"],
        organisation=organisation_ref(row["event.organisation.slug"], row["event.organisation.name"], row["event.organisation.logo_content_type"]),
    )
