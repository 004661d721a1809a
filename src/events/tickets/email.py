"""Emails to buyers: plain text with an HTML alternative in the order's language, tickets attached as one PDF.

Built from plain data (no database): the outbox gathers what an email says, this module writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from jinja2 import Environment

from events import i18n
from events.i18n import N_
from events.orders.receipts import Receipt
from events.templating import create_environment
from events.tickets.statuses import TICKET_MESSAGES, MessageKind, refunded_at_the_door

# Kinds that are not ticket emails, and the template (under emails/) each one uses.
OTHER_TEMPLATES = {
    "late_payment_refunded": "refunded",
    "event_cancelled": "cancelled",
    "refund_notice": "refund_notice",
    MessageKind.reminder: "reminder",
    MessageKind.thank_you: "thank_you",
    MessageKind.place_released: "place_released",
    MessageKind.ticket_donated: "ticket_donated",
    MessageKind.ticket_passed_on: "ticket_passed_on",
    MessageKind.waiting_list_offer: "waiting_list_offer",
    MessageKind.refund_donated: "refund_donated",
    MessageKind.announcement: "announcement",
    MessageKind.waiting_list_joined: "waiting_list_joined",
}
# An order of pay-it-forward places or a donation alone (no ticket) is confirmed with this template and subject.
CONTRIBUTION_TEMPLATE = "contribution"
CONTRIBUTION_SUBJECT = N_("Thank you for your gift to %(event)s")
SUBJECTS = {
    "order_confirmation": N_("Your tickets for %(event)s"),
    "tickets_resent": N_("Your tickets for %(event)s"),
    "tickets_reissued": N_("Your updated tickets for %(event)s"),
    "late_payment_refunded": N_("Your payment for %(event)s has been refunded"),
    "event_cancelled": N_("%(event)s is cancelled"),
    MessageKind.reminder: N_("Reminder: %(event)s is coming up"),
    MessageKind.thank_you: N_("Thank you for your generosity at %(event)s"),
    "refund_notice": N_("Your refund for %(event)s"),
    MessageKind.place_released: N_("You gave back your place for %(event)s"),
    MessageKind.ticket_donated: N_("Thank you for donating your ticket for %(event)s"),
    MessageKind.ticket_passed_on: N_("Your ticket for %(event)s was passed on"),
    MessageKind.waiting_list_offer: N_("A place for you at %(event)s"),
    MessageKind.refund_donated: N_("Thank you for donating your refund for %(event)s"),
    MessageKind.waiting_list_joined: N_("You are on the waiting list for %(event)s"),
}


@dataclass(frozen=True, slots=True)
class TicketLink:
    holder: str
    type_name: str
    url: str  # absolute: the mobile ticket page


@dataclass(frozen=True, slots=True)
class VoidedTicket:
    """A ticket a refund cancelled, as its guest knows it."""

    holder: str
    type_name: str


@dataclass(frozen=True, slots=True)
class RefundSummary:
    """One refund as its message states it: what that refund was when it was made (a second refund of the same order
    has its own), never the order's totals when the email is written."""

    amount_pence: int
    currency: str
    method: str  # a PaymentMethod value: stripe, cash, card_terminal, test
    voided: Sequence[VoidedTicket] = ()
    # The order's tickets that still work when the notice is written, told only when this refund cancelled some
    # tickets and not all: a guest who gave one place back should not wonder whether the others went with it.
    still_valid: int = 0

    @property
    def at_the_door(self) -> bool:
        return refunded_at_the_door(self.method)


@dataclass(frozen=True, slots=True)
class ReleaseSummary:
    """A ticket its guest gave up ("Can't come?"), as its confirmation states it: which ticket, what its price became
    (a donation, with or without Gift Aid), and how many of the order's tickets still work."""

    ticket: VoidedTicket
    amount_pence: int = 0
    currency: str = "GBP"
    gift_aid: bool = False
    still_valid: int = 0


@dataclass(frozen=True, slots=True)
class DonatedRefund:
    """A cancelled event's refund its guest donated instead, as the thank-you states it: the amount given when they
    chose, and whether they added Gift Aid."""

    amount_pence: int
    currency: str = "GBP"
    gift_aid: bool = False

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> DonatedRefund:
        return cls(int(detail.get("donated_pence", 0)), str(detail.get("currency", "GBP")), bool(detail.get("gift_aid", False)))


# The organisation's logo travels inside the email (multipart/related, shown by its Content-ID) rather than as a
# link to /organisations/{slug}/logo: most mail clients hold back remote images until the reader allows them
# (a fetched image tells the sender the email was opened), the logo is small (at most 256 KB), and an email
# read years later still shows the logo it was sent with, whatever the organisation changes or removes since.
LOGO_CID = "organisation-logo"


@dataclass(frozen=True, slots=True)
class EmailOrganisation:
    """Who runs the event, as its emails show it: name and logo in their colour at the top, and the charity line
    and contact address at the bottom (a receipt names the charity it was paid to)."""

    name: str
    url: str  # absolute: the organisation's public page
    accent_colour: str  # "#rrggbb", checked when it was saved (organisations.rules)
    charity_name: str = ""
    charity_number: str = ""
    contact_email: str = ""
    logo: bytes | None = None
    logo_content_type: str = ""  # image/png or image/jpeg

    @property
    def registered_name(self) -> str:
        return self.charity_name or self.name


@dataclass(frozen=True, slots=True)
class PartnerAmount:
    name: str
    amount_pence: int


@dataclass(frozen=True, slots=True)
class ThankYouTotals:
    """What a thank-you tells: the event's totals (the same for every giver), never a guest's name. Queued as the
    thank_you message's detail, read back when it is composed."""

    currency: str
    free_places_funded: int
    free_places_used: int
    partners: tuple[PartnerAmount, ...] = ()

    def as_detail(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "free_places_funded": self.free_places_funded,
            "free_places_used": self.free_places_used,
            "partners": [{"name": partner.name, "amount_pence": partner.amount_pence} for partner in self.partners],
        }

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> ThankYouTotals:
        return cls(
            currency=str(detail["currency"]),
            free_places_funded=int(detail["free_places_funded"]),
            free_places_used=int(detail["free_places_used"]),
            partners=tuple(PartnerAmount(str(partner["name"]), int(partner["amount_pence"])) for partner in detail["partners"]),
        )


@dataclass(frozen=True, slots=True)
class OrganiserMessage:
    """An organiser's message to an event's guests (events.announcements), in the wording chosen for this guest: their
    version in the guest's language, else the message as written. Queued as the announcement's detail (so this layer
    never reads the announcement itself), read back when the email or text is written. The organiser's words are user
    text: templates escape them like any other."""

    subject: str
    body: str  # plain text; its line breaks are kept
    locale: str  # the language the words are in (the email around them is in the guest's)
    ticket_types: tuple[int, ...] = ()  # the guests it is for hold a valid ticket of one of these types; () for all

    def as_detail(self) -> dict[str, Any]:
        return {"subject": self.subject, "body": self.body, "locale": self.locale, "ticket_types": list(self.ticket_types)}

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> OrganiserMessage:
        return cls(
            subject=str(detail.get("subject", "")),
            body=str(detail.get("body", "")),
            locale=str(detail.get("locale", i18n.DEFAULT_LOCALE)),
            ticket_types=tuple(int(type_id) for type_id in detail.get("ticket_types", ())),
        )


@dataclass(frozen=True, slots=True)
class OfferSummary:
    """A waiting-list offer as its message states it (queued with the offer): the places held, until when (in the
    event's time zone), and the link that takes them."""

    link: str  # absolute: the guest's waiting-list page
    places: int
    expires_at: datetime | None
    free: bool  # a free place (nothing to pay)

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any], *, base_url: str, zone: Any) -> OfferSummary:
        expires = detail.get("expires_at")
        return cls(
            link=base_url + str(detail.get("link", "")),
            places=int(detail.get("places", 1)),
            expires_at=datetime.fromisoformat(str(expires)).astimezone(zone) if expires else None,
            free=bool(detail.get("free", False)),
        )


def map_url(venue: str, address: str) -> str:
    """A map of the venue (OpenStreetMap's search, as the event and ticket pages link), or "" with no place to show."""
    place = " ".join(f"{venue} {address}".split())  # an address's lines become one search
    return f"https://www.openstreetmap.org/search?query={quote(place)}" if place else ""


@dataclass(frozen=True, slots=True)
class RefundChoice:
    """A cancelled event's refund that waits for the guest's choice: refunded ``until`` then (the event's time zone),
    unless they donate it first at ``url``."""

    amount_pence: int
    currency: str
    until: datetime
    url: str


@dataclass(frozen=True, slots=True)
class JoinedSummary:
    """A guest's place on a waiting list, as the message confirming it says: where they are in the queue, for how many
    places, and their own page (to see their place, or leave)."""

    position: int
    places: int
    free: bool
    link: str  # absolute: the guest's own waiting-list page

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any], *, link: str) -> JoinedSummary:
        return cls(int(detail.get("position", 1)), int(detail.get("places", 1)), bool(detail.get("free")), link)


@dataclass(frozen=True, slots=True)
class OrderEmail:
    """What one email says about an order. Links are absolute, dates in the event's time zone."""

    kind: str
    reference: str
    locale: str
    buyer_name: str
    event_title: str
    starts_at: datetime
    venue: str
    order_url: str
    tickets: Sequence[TicketLink] = ()
    refunded_pence: int = 0
    currency: str = "GBP"
    paid_pence: int = 0
    organisation: EmailOrganisation | None = None
    # The way there, in the confirmation and the reminder: when it ends, the address, a map and the event's access
    # information (how to get in: a step-free entrance, the nearest station).
    address: str = ""
    map_url: str = ""
    access_information: str = ""
    ends_at: datetime | None = None
    # Where a guest who cannot come gives their place back (the confirmation, the tickets sent again, the reminder,
    # before the event starts): the ticket's "Can't come?" page, or the order page's list of tickets when there are
    # several. Shown only when there is one.
    cant_come_url: str = ""
    thank_you: ThankYouTotals | None = None
    refund: RefundSummary | None = None  # the refund this message tells of (queued with its detail)
    refund_choice: RefundChoice | None = None  # a cancellation's refund the guest may donate instead
    released: ReleaseSummary | None = None  # the ticket a "Can't come?" confirmation tells of
    # What the order paid for and how (ticket emails): the same receipt as the order's pages show.
    receipt: Receipt | None = None
    offer: OfferSummary | None = None  # the waiting-list offer this message tells of
    donated_refund: DonatedRefund | None = None  # the cancelled event's refund this message thanks the guest for
    announcement: OrganiserMessage | None = None  # an organiser's message to the event's guests, as this guest gets it
    joined: JoinedSummary | None = None  # a guest's new place on a waiting list (a message without an order)
    # The organisers' own words sent with a cancellation (user text, escaped; its line breaks kept), "" for none.
    cancellation_message: str = ""

    @property
    def contribution_only(self) -> bool:
        return confirms_contribution(self.kind, self.receipt)


def confirms_contribution(kind: str, receipt: Receipt | None) -> bool:
    """Whether a message confirms an order of pay-it-forward places or a donation alone (no ticket): its email or text
    is the receipt and a thank-you, with no tickets to carry and nothing about going to the event."""
    return kind == MessageKind.order_confirmation and receipt is not None and receipt.contribution_only


def build_email(content: OrderEmail, *, sender: str, recipient: str, pdf: bytes | None, templates_dir: Path, now: datetime) -> EmailMessage:
    """The message, ready to send: text and HTML alternatives, and the tickets PDF when there is one."""
    locale = content.locale if content.locale in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    # The templates' gettext and date filters read the language from request.state, as on the web.
    context = {"request": SimpleNamespace(state=SimpleNamespace(locale=locale)), "mail": content, "locale": locale}
    environment = _environment(templates_dir)
    name = _template_name(content)

    message = EmailMessage()
    if content.announcement is not None:
        # The organiser's own subject, as they wrote it (one line: checked when it was written).
        message["Subject"] = content.announcement.subject
    else:
        subject = CONTRIBUTION_SUBJECT if content.contribution_only else SUBJECTS[content.kind]
        message["Subject"] = i18n.translations(locale).gettext(subject) % {"event": content.event_title}
    message["From"] = sender_named_for(sender, content.organisation)
    message["To"] = recipient  # one guest per message: never another guest's address
    if content.organisation is not None and content.organisation.contact_email:
        # A guest answering ("can I bring my child?", "my name is wrong") writes to the organiser, not to the service's
        # sending address, which nobody reads.
        message["Reply-To"] = content.organisation.contact_email
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(environment.get_template(f"emails/{name}.txt").render(context))
    message.add_alternative(environment.get_template(f"emails/{name}.html").render(context), subtype="html")
    organisation = content.organisation
    if organisation is not None and organisation.logo:
        maintype, _, subtype = organisation.logo_content_type.partition("/")
        html = message.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        html.add_related(organisation.logo, maintype=maintype, subtype=subtype, cid=f"<{LOGO_CID}>", disposition="inline")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"tickets-{content.reference}.pdf")
    return message


def sender_named_for(sender: str, organisation: EmailOrganisation | None) -> str | Address:
    """The service's sending address, named for the organisation whose event the message is about ("Refugee Kitchen
    via Events <tickets@...>"): a guest sees who is writing to them, and the address stays the one the service's mail
    server may send from (so the message passes its domain's checks)."""
    service_name, address = parseaddr(sender)
    if organisation is None or not organisation.name or not address:
        return sender
    # An Address, which the message's policy quotes and encodes as a whole: a name with "(", "<" or a non-ASCII letter
    # ("Refugee Café (Brixton)") stays one display name, never part of the address.
    username, _, domain = address.rpartition("@")
    return Address(display_name=f"{organisation.name} via {service_name}" if service_name else organisation.name, username=username, domain=domain)


def _template_name(content: OrderEmail) -> str:
    """The email's templates under emails/ (.txt and .html)."""
    if content.contribution_only:
        return CONTRIBUTION_TEMPLATE
    return "tickets" if content.kind in TICKET_MESSAGES else OTHER_TEMPLATES[content.kind]


@lru_cache(maxsize=4)
def _environment(templates_dir: Path) -> Environment:
    return create_environment(templates_dir)
