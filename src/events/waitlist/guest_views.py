"""What a guest's own waiting-list page shows: their entry, its place in the queue, the event and the current offer,
read by the entry's token (never by anything a guest could guess)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from events.catalogue.schemas import OrganisationRefOut
from events.catalogue.service import organisation_ref
from events.errors import NotFound
from events.i18n import N_
from events.waitlist import service
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry


@dataclass(frozen=True, slots=True)
class EntryPage:
    """A guest's entry as their page shows it: its status, place in the queue and offer as the waiting list says
    (service.entry_status), with what the page adds (where the event is, who runs it, how they will be told). Times
    are in the event's time zone."""

    token: str
    kind: WaitingKind
    status: WaitingStatus
    position: int | None  # 1 is next; None once they are no longer waiting
    quantity: int
    locale: str
    by_email: bool
    by_text: bool
    ticket_type_name: str
    offered_places: int  # while an offer holds places (0 otherwise)
    offer_expires_at: datetime | None  # the current offer's end, or when the last one ran out
    offer_total_pence: int  # taking all the offered places
    order_reference: str | None  # the offer's order (once accepted: the guest's order)
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

    @property
    def offer_place_pence(self) -> int:
        """What one of the offered places costs (its price and booking fee): taking n of them costs n times this, as
        the offer's order is repriced when taken up (orders.service.take_up_paid_offer)."""
        return self.offer_total_pence // self.offered_places if self.offered_places else 0


async def entry_page(token: str, now: datetime, *, guest: service.Guest) -> EntryPage:
    """The entry with this token; NotFound for an unknown one (a wrong guess, counted against the guest's budget)."""
    entry = await service.entry_status(token, now, guest=guest)
    event = WaitingEntry.event._
    row = (
        await WaitingEntry.select(
            WaitingEntry.email,
            WaitingEntry.phone,
            WaitingEntry.offer_expires_at,
            event.ends_at,
            event.venue,
            event.address,
            event.currency,
            event.offer_hours,
            event.waiting_list_open,
            event.organisation._.slug,
            event.organisation._.name,
            event.organisation._.logo_content_type,
        )
        .where(WaitingEntry.id == entry.id, event.organisation._.suspended_at.is_null())
        .first()
    )
    if row is None:  # its organisation was suspended: its events are not found either
        raise NotFound(N_("We could not find that place on the waiting list. Please check the link."), code="waiting_entry_not_found")
    zone = ZoneInfo(entry.event_timezone)
    offer = entry.offer
    ended = row["offer_expires_at"]
    return EntryPage(
        token=token,
        kind=entry.kind,
        status=entry.status,
        position=entry.position,
        quantity=entry.quantity,
        locale=entry.locale,
        by_email=bool(row["email"]),
        by_text=bool(row["phone"]),
        ticket_type_name=entry.ticket_type_name,
        offered_places=offer.places if offer else 0,
        offer_expires_at=(offer.expires_at if offer else ended).astimezone(zone) if (offer or ended) else None,
        offer_total_pence=offer.total_pence if offer else 0,
        order_reference=entry.order_reference,
        offer_hours=row["event.offer_hours"],
        event_slug=entry.event_slug,
        event_title=entry.event_title,
        event_starts_at=entry.event_starts_at.astimezone(zone),
        event_ends_at=row["event.ends_at"].astimezone(zone),
        event_venue=row["event.venue"],
        event_address=row["event.address"],
        currency=row["event.currency"],
        waiting_list_open=row["event.waiting_list_open"],
        organisation=organisation_ref(row["event.organisation.slug"], row["event.organisation.name"], row["event.organisation.logo_content_type"]),
    )
