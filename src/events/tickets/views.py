"""What guests, the API and the door see: an order read back with its lines, totals, tickets and notices, and a
ticket with its signed code. Free and paid tickets look the same."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events import db
from events.catalogue.schemas import OrganisationRefOut
from events.catalogue.service import organisation_ref
from events.catalogue.statuses import EventStatus
from events.errors import NotFound
from events.i18n import DEFAULT_LOCALE, N_
from events.orders.codes import normalise_reference
from events.orders.schemas import OrderLineOut, OrderOut, TicketOut
from events.orders.service import OrderLineRow, OrderRow, may_change, order_lines
from events.orders.statuses import OrderStatus
from events.tickets import keys, queries
from events.tickets.signing import TicketClaims, sign_ticket
from events.tickets.statuses import TicketStatus

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
    secret: str  # the code the QR code carries and the ticket shows for typing at the door
    page_secret: str  # the key in the ticket page's address (url): never in the QR code
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
    # How to get there and in (a step-free entrance, the nearest station), as the organiser wrote it: the ticket page
    # shows it under the place.
    access_information: str = ""
    # Used at the door already (a door sale's ticket is admitted as it is sold): it can no longer be given back.
    checked_in: bool = False
    # The organisers called the event off: the ticket page says so, whatever became of the ticket.
    event_cancelled: bool = False

    @property
    def url(self) -> str:
        return ticket_url(self.page_secret)

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
        given back). read_order tells an order's donated tickets the same way."""
        return self.status == TicketStatus.released and self.worth_pence > 0 and self.order_channel not in GIVEN_BACK_CHANNELS


async def ticket_by_page_secret(page_secret: str, *, secret_key: str, now: datetime) -> TicketView:
    """The ticket whose page's address the guest holds (its page secret, not the code its QR code carries)."""
    return await _ticket_with_key(queries.TICKET_BY_PAGE_SECRET, page_secret.strip().lower(), secret_key=secret_key, now=now)


async def ticket_by_id(ticket_id: int, *, secret_key: str, now: datetime) -> TicketView:
    """A ticket the app itself names (the one a guest has just claimed, say)."""
    return await _ticket_with_key(queries.TICKET_BY_ID, ticket_id, secret_key=secret_key, now=now)


async def _ticket_with_key(sql: str, key: str | int, *, secret_key: str, now: datetime) -> TicketView:
    rows = await db.run(sql, key)
    if not rows:
        raise NotFound(N_("We could not find that ticket."), code="ticket_not_found")
    row = rows[0]
    # The event's active key came with the ticket; an event whose first ticket is shown now has none yet.
    known = {row["event"]: keys.unsealed(row["signing.key_id"], row["signing.private_key"], secret_key)} if row["signing.key_id"] else {}
    return (await _views(rows, secret_key=secret_key, now=now, signing=known))[0]


async def tickets_of_order(reference: str, *, secret_key: str, now: datetime, include_void: bool = False) -> list[TicketView]:
    reference = normalise_reference(reference)
    rows = await (
        db.run(queries.TICKETS_OF_ORDER, reference) if include_void else db.run(queries.VALID_TICKETS_OF_ORDER, reference, TicketStatus.valid)
    )
    return await _views(rows, secret_key=secret_key, now=now)


async def _views(
    rows: Sequence[Mapping[str, Any]], *, secret_key: str, now: datetime, signing: dict[int, tuple[str, Ed25519PrivateKey]] | None = None
) -> list[TicketView]:
    """``signing``: the events' active keys already read, by event id."""
    signing = dict(signing or {})
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
                page_secret=row["page_secret"],
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
                access_information=row["event.access_information"],
                checked_in=row["checked_in_at"] is not None,
                event_cancelled=row["event.status"] == EventStatus.cancelled,
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


def ticket_url(page_secret: str) -> str:
    """A ticket's page: its address holds the page secret, never the code its QR code carries (which door staff's
    devices hold and anyone who sees the ticket can read), because the page also gives the ticket up or passes it on."""
    return f"/tickets/{page_secret}"


def ticket_out(row: Mapping[str, Any]) -> TicketOut:
    """A ticket as the API shows it, from a row with id, holder_name, secret, page_secret, status and ticket_type.name."""
    return TicketOut(
        id=row["id"],
        holder=row["holder_name"],
        type=row["ticket_type.name"],
        secret=row["secret"],
        status=row["status"],
        url=ticket_url(row["page_secret"]),
        pdf_url=ticket_url(row["page_secret"]) + "/ticket.pdf",
    )


@dataclass(frozen=True, slots=True)
class OrderRead:
    """An order as its guest's pages read it (read_order): its row; the row it came in, with its event, organisation,
    receipt facts and notices (queries.ORDER_PAGE); its lines; and the order as the API shows it."""

    order: OrderRow
    row: Mapping[str, Any]
    lines: list[OrderLineRow]
    details: OrderOut
    # The tickets whose guest donated them ("Can't come?"): released, as a place given back is, but paid for.
    donated_tickets: frozenset[int] = frozenset()


async def read_order(reference: str) -> OrderRead:
    """The order with its lines, tickets and notices: three round trips."""
    rows = await db.run(queries.ORDER_PAGE, normalise_reference(reference))
    if not rows:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    row = rows[0]
    order = OrderRow.of(row)
    lines = await order_lines(order.id)
    tickets = await db.run(queries.ORDER_TICKETS, order.id)
    donated = frozenset(
        t["id"] for t in tickets if t["status"] == TicketStatus.released and t["worth_pence"] > 0 and order.channel not in GIVEN_BACK_CHANNELS
    )
    return OrderRead(order, row, lines, _details(order, row, lines, tickets), donated)


def _notices(order: OrderRow, row: Mapping[str, Any]) -> list[str]:
    """The notices of the order's history, in the order they first happened."""
    kinds = [kind for _, kind in sorted((row[f"notice.{kind}"], kind) for kind in queries.NOTICE_KINDS if row[f"notice.{kind}"] is not None)]
    wording = NOTICES if order.places else NOTICES | NOTICES_WITHOUT_PLACES
    notices = [wording[kind] for kind in kinds if kind in wording]
    if order.status == OrderStatus.paid and "payment_failed" in kinds:
        notices.remove(wording["payment_failed"])
    return notices


def _details(order: OrderRow, row: Mapping[str, Any], lines: Sequence[OrderLineRow], tickets: Sequence[Mapping[str, Any]]) -> OrderOut:
    return OrderOut(
        reference=order.reference,
        status=order.status,
        event=row["event.slug"],
        event_title=row["event.title"],
        currency=order.currency,
        buyer_name=order.buyer_name,
        lines=[
            OrderLineOut(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price_pence=line.unit_price_pence,
                booking_fee_pence=line.booking_fee_pence,
                total_pence=line.total_pence,
                partner=line.partner_slug,
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
        notices=_notices(order, row),
        organisation=organisation_ref(row["organisation.slug"], row["organisation.name"], row["organisation.logo_content_type"]),
        discount_pence=order.discount_pence,
    )


async def order_details(reference: str) -> OrderOut:
    """The order with its lines, tickets and notices."""
    return (await read_order(reference)).details


@dataclass(frozen=True, slots=True)
class CheckoutDetails:
    """What the buyer's own payment page shows: the order, its PaymentIntent's client secret, and whether "Change
    order" may take it back to the event page's form."""

    order: OrderOut
    client_secret: str
    changeable: bool


async def checkout_details(reference: str) -> CheckoutDetails:
    read = await read_order(reference)
    return CheckoutDetails(read.details, read.order.client_secret, may_change(read.order))
