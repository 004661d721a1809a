"""What guests, the API and the door see: an order read back with its lines, totals, tickets and notices, and a
ticket with its signed code. Free and paid tickets look the same."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events.catalogue.schemas import OrganisationRefOut
from events.catalogue.service import organisation_ref
from events.catalogue.tables import Event
from events.errors import NotFound
from events.i18n import DEFAULT_LOCALE, N_
from events.orders.codes import normalise_reference
from events.orders.schemas import OrderLineOut, OrderOut, TicketOut
from events.orders.service import OrderRow, find_order
from events.orders.statuses import OrderStatus
from events.orders.tables import OrderHistory, OrderLine
from events.tickets import keys
from events.tickets.signing import TicketClaims, sign_ticket
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket

# Signing a code costs about 60 µs of CPU: a 500-ticket order's (its PDF, its email) would hold the event loop for
# some 30 ms in one go, so other requests (a door's check-ins) get their turn every so many tickets.
SIGNED_BETWEEN_YIELDS = 32
# The door accepts a ticket from a day before the event until a day after it ends.
VALIDITY_MARGIN = timedelta(days=1)
# Orders whose released tickets were given back rather than donated: free places (claimed or given) and tickets a
# friend passed on (as events.releases.rules decides which is which).
GIVEN_BACK_CHANNELS = frozenset({"claim", "gift", "transfer"})
# Paid at the door: a refund is handed back there, not to a card.
UNREFUNDABLE_ONLINE = frozenset({"cash", "card_terminal", "none", ""})


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    secret: str
    version: int
    status: TicketStatus
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
    # Who runs the event: the ticket page, its PDF and its email show them (organisation_id finds their logo).
    organisation_id: int
    organisation: OrganisationRefOut
    # The order's language (Order.locale, the guest's choice): its PDF and calendar file speak it, whatever
    # language the page that links to them is in.
    locale: str = DEFAULT_LOCALE
    # What the ticket cost and how it was paid: a page about a ticket that no longer works says what became of it
    # (a refund of how much, a donation, a place given back).
    price_pence: int = 0
    booking_fee_pence: int = 0
    order_channel: str = ""
    payment_provider: str = ""
    currency: str = "GBP"

    @property
    def url(self) -> str:
        return f"/tickets/{self.secret}"

    @property
    def worth_pence(self) -> int:
        """What the ticket cost its buyer: its price and booking fee (what a refund of it gives back)."""
        return self.price_pence + self.booking_fee_pence

    @property
    def refunded_to_card(self) -> bool:
        """Refunded to the card it was paid with (paid online), rather than handed back at the door."""
        return self.status == TicketStatus.refunded and self.worth_pence > 0 and self.payment_provider not in UNREFUNDABLE_ONLINE

    @property
    def donated(self) -> bool:
        """Given back as a donation: a place that was paid for and released ("Can't come?": events.releases.rules,
        where a paid place can only be released by donating it; a free place, or one passed on by a friend, is
        given back)."""
        return self.status == TicketStatus.released and self.worth_pence > 0 and self.order_channel not in GIVEN_BACK_CHANNELS


_COLUMNS = (
    Ticket.id,
    Ticket.secret,
    Ticket.version,
    Ticket.status,
    Ticket.holder_name,
    Ticket.ticket_type,
    Ticket.ticket_type.name,
    Ticket.order_id.reference,
    Ticket.order_id.locale,
    Ticket.order_id.channel,
    Ticket.order_id.payment_provider,
    Ticket.order_id.currency,
    Ticket.price_pence,
    Ticket.booking_fee_pence,
    Ticket.event,
    Ticket.event.slug,
    Ticket.event.title,
    Ticket.event.venue,
    Ticket.event.address,
    Ticket.event.starts_at,
    Ticket.event.ends_at,
    Ticket.event.timezone,
    Ticket.event.organisation,
    Ticket.event._.organisation._.slug,
    Ticket.event._.organisation._.name,
    Ticket.event._.organisation._.logo_content_type,
)


async def ticket_by_secret(secret: str, *, secret_key: str, now: datetime) -> TicketView:
    row = await Ticket.select(*_COLUMNS).where(Ticket.secret == secret.strip().lower()).first()
    if row is None:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    return (await _views([row], secret_key=secret_key, now=now))[0]


async def tickets_of_order(reference: str, *, secret_key: str, now: datetime, include_void: bool = False) -> list[TicketView]:
    query = Ticket.select(*_COLUMNS).where(Ticket.order_id.reference == normalise_reference(reference))
    if not include_void:
        query = query.where(Ticket.status == TicketStatus.valid)
    return await _views(await query.order_by(Ticket.id), secret_key=secret_key, now=now)


async def _views(rows: list[dict[str, Any]], *, secret_key: str, now: datetime) -> list[TicketView]:
    signing: dict[int, Any] = {}
    views = []
    for index, row in enumerate(rows):
        if index and index % SIGNED_BETWEEN_YIELDS == 0:
            await asyncio.sleep(0)
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
                status=TicketStatus(row["status"]),
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
                organisation_id=row["event.organisation"],
                organisation=organisation_ref(
                    row["event.organisation.slug"], row["event.organisation.name"], row["event.organisation.logo_content_type"]
                ),
                locale=row["order_id.locale"],
                price_pence=row["price_pence"],
                booking_fee_pence=row["booking_fee_pence"],
                order_channel=row["order_id.channel"],
                payment_provider=row["order_id.payment_provider"],
                currency=row["order_id.currency"],
            )
        )
    return views


NOTICES = {
    "late_payment_issued": N_("Your payment arrived after your places were released, but places were still free: your tickets are below."),
    "late_payment_refunded": N_("Your payment arrived after your places were released and the event is now full. We have refunded you in full."),
    "payment_failed": N_("Your card payment did not go through. You can try again with another card."),
}
# An order with no tickets (a donation, pay-it-forward places) held no places: its notices never mention them.
NOTICES_WITHOUT_PLACES = {
    "late_payment_issued": N_("Your payment arrived after the time to pay ran out. It has been accepted: thank you."),
}


def ticket_url(secret: str) -> str:
    return f"/tickets/{secret}"


def ticket_out(row: dict[str, Any]) -> TicketOut:
    """A ticket as the API shows it, from a row with id, holder_name, secret, status and ticket_type.name."""
    return TicketOut(
        id=row["id"],
        holder=row["holder_name"],
        type=row["ticket_type.name"],
        secret=row["secret"],
        status=row["status"],
        url=ticket_url(row["secret"]),
        pdf_url=ticket_url(row["secret"]) + "/ticket.pdf",
    )


# Built once: naming a column through a foreign key (Order.event.x) makes Piccolo copy every column of the table it
# points to, which cost more CPU than the query itself on the guest's paid path (bench/rush.py --profile).
_ORDER_EVENT_COLUMNS = (Event.slug, Event.title, Event.organisation.slug, Event.organisation.name, Event.organisation.logo_content_type)
_ORDER_LINE_COLUMNS = (
    OrderLine.kind,
    OrderLine.description,
    OrderLine.quantity,
    OrderLine.unit_price_pence,
    OrderLine.booking_fee_pence,
    OrderLine.total_pence,
    OrderLine.partner.slug,
)
_ORDER_TICKET_COLUMNS = (Ticket.id, Ticket.holder_name, Ticket.secret, Ticket.status, Ticket.ticket_type.name)


async def order_details(reference: str, *, order: OrderRow | None = None) -> OrderOut:
    """The order with its lines, tickets and notices. ``order``: the order's row, when the caller has just read it
    (the order page), so it is not read twice."""
    if order is None or order.reference != reference:
        order = await find_order(reference)
    event = await Event.select(*_ORDER_EVENT_COLUMNS).where(Event.id == order.event).first()
    assert event is not None
    lines = await OrderLine.select(*_ORDER_LINE_COLUMNS).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    tickets = await Ticket.select(*_ORDER_TICKET_COLUMNS).where(Ticket.order_id == order.id).order_by(Ticket.id)
    history = await OrderHistory.select(OrderHistory.kind).where(OrderHistory.order_id == order.id).order_by(OrderHistory.id)
    kinds = [row["kind"] for row in history]
    wording = NOTICES if order.places else NOTICES | NOTICES_WITHOUT_PLACES
    notices = [wording[kind] for kind in dict.fromkeys(kinds) if kind in wording]
    if order.status == OrderStatus.paid and "payment_failed" in kinds:
        notices.remove(wording["payment_failed"])
    return OrderOut(
        reference=order.reference,
        status=order.status,
        event=event["slug"],
        event_title=event["title"],
        currency=order.currency,
        buyer_name=order.buyer_name,
        lines=[
            OrderLineOut(
                kind=line["kind"],
                description=line["description"],
                quantity=line["quantity"],
                unit_price_pence=line["unit_price_pence"],
                booking_fee_pence=line["booking_fee_pence"],
                total_pence=line["total_pence"],
                partner=line["partner.slug"],
            )
            for line in lines
        ],
        tickets_pence=order.tickets_pence,
        booking_fees_pence=order.booking_fees_pence,
        pay_it_forward_pence=order.pay_it_forward_pence,
        donation_pence=order.donation_pence,
        total_pence=order.total_pence,
        refunded_pence=order.refunded_pence,
        hold_expires_at=order.hold_expires_at,
        paid_at=order.paid_at,
        tickets=[ticket_out(t) for t in tickets],
        notices=notices,
        organisation=organisation_ref(event["organisation.slug"], event["organisation.name"], event["organisation.logo_content_type"]),
        discount_pence=order.discount_pence,
    )


async def checkout_details(reference: str) -> tuple[OrderOut, str]:
    """The order and its PaymentIntent client secret, for the buyer's own checkout page."""
    row = await find_order(reference)
    return await order_details(row.reference, order=row), row.client_secret
