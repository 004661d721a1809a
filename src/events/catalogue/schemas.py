"""Catalogue API shapes (msgspec): what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from events import text
from events.catalogue.rules import (
    NAME_CHANGES_CLOSE_HOURS_DEFAULT,
    NAME_CHANGES_CLOSE_HOURS_MAX,
    OFFER_HOURS_DEFAULT,
    OFFER_HOURS_MAX,
    OFFER_HOURS_MIN,
    REFUND_DAYS_DEFAULT,
    REFUND_DAYS_MAX,
    REMINDER_HOURS_DEFAULT,
    REMINDER_HOURS_MAX,
    REMINDER_HOURS_MIN,
)
from events.catalogue.statuses import EventStatus

Name = Annotated[str, Meta(min_length=1, max_length=200), text.LINE]
TypeName = Annotated[str, Meta(min_length=1, max_length=120), text.LINE]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64), text.LINE]
Venue = Annotated[str, Meta(max_length=200), text.OPTIONAL_LINE]
Address = Annotated[str, Meta(max_length=1000), text.OPTIONAL_TEXT]
# Step-free access, the nearest stop, what happens at the door: shown to guests on the event, claim and order pages.
AccessInformation = Annotated[str, Meta(max_length=2000), text.OPTIONAL_TEXT]
EventDescription = Annotated[str, Meta(max_length=20_000), text.OPTIONAL_TEXT]
TypeDescription = Annotated[str, Meta(max_length=2000), text.OPTIONAL_TEXT]
Slug = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*" + text.END)]
Pence = Annotated[int, Meta(ge=0, le=100_000_000)]
Places = Annotated[int, Meta(ge=0, le=100_000)]
BasisPoints = Annotated[int, Meta(ge=1, le=10_000)]
Channel = Literal["online", "door", "both"]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}" + text.END)]
# Hours before the start that guests are reminded (null: no reminder).
ReminderHours = Annotated[int, Meta(ge=REMINDER_HOURS_MIN, le=REMINDER_HOURS_MAX)]
# How long a waiting-list offer holds its places, in hours.
OfferHours = Annotated[int, Meta(ge=OFFER_HOURS_MIN, le=OFFER_HOURS_MAX)]
# Until how many days before the start a guest who can't come gets a refund (null: no refunds).
RefundDays = Annotated[int, Meta(ge=0, le=REFUND_DAYS_MAX)]
# Until how many hours before the start the buyer may change the names on their tickets (0: until it starts).
NameChangeHours = Annotated[int, Meta(ge=0, le=NAME_CHANGES_CLOSE_HOURS_MAX)]
# A web address shown as a link: http or https, then a host (a name, an IPv4 address, a port; no user name, brackets or
# backslash, which browsers and URL parsers read differently or refuse), then any path, query or fragment, all without
# spaces or controls. Empty: none.
Url = Annotated[str, Meta(max_length=500, pattern=rf"^(https?://[^\s{text.CONTROLS}/?#\[\]@\\]+([/?#][^\s{text.CONTROLS}]*)?)?" + text.END)]


class TicketTypeIn(Struct, forbid_unknown_fields=True):
    name: TypeName
    price_pence: Pence
    channel: Channel = "both"
    description: TypeDescription = ""
    sales_start: datetime | None = None
    sales_end: datetime | None = None
    quota: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    max_per_order: Annotated[int, Meta(ge=1, le=100)] = 10
    # Guests may join the event's waiting list for this type once it is sold out.
    waiting_list: bool = True
    # Sold only with an access code that unlocks it (volunteers, partner staff, performers): to everyone else the
    # event has no such type (POST /api/events/{slug}/codes).
    hidden: bool = False


class TicketTypePatch(Struct, forbid_unknown_fields=True):
    """A ticket type to change (with ``id``) or add (without)."""

    id: int | UnsetType = UNSET
    name: TypeName | UnsetType = UNSET
    price_pence: Pence | UnsetType = UNSET
    channel: Channel | UnsetType = UNSET
    description: TypeDescription | UnsetType = UNSET
    sales_start: datetime | UnsetType | None = UNSET
    sales_end: datetime | UnsetType | None = UNSET
    quota: Annotated[int, Meta(ge=1, le=100000)] | UnsetType | None = UNSET
    max_per_order: Annotated[int, Meta(ge=1, le=100)] | UnsetType = UNSET
    waiting_list: bool | UnsetType = UNSET
    hidden: bool | UnsetType = UNSET


class ShareIn(Struct, forbid_unknown_fields=True):
    partner: Slug
    share_bp: BasisPoints


class EventCreate(Struct, forbid_unknown_fields=True):
    """A new event. Times without an offset are read in the event's time zone."""

    title: Name
    starts_at: datetime
    ends_at: datetime
    capacity: Annotated[int, Meta(ge=1, le=100_000)]
    slug: Slug | None = None
    description: EventDescription = ""
    venue: Venue = ""
    address: Address = ""
    access_information: AccessInformation = ""
    timezone: TimeZone = "Europe/London"
    reserved_free_places: Places = 0
    currency: Currency = "GBP"
    booking_fee_pence: Pence = 0
    pay_it_forward_place_pence: Pence = 0
    pay_it_forward_converts_general: bool = False
    allow_reentry: bool = False
    cost_per_attendee_pence: Pence = 0
    booking_fees_to_cause: bool = True
    reminder_hours_before: ReminderHours | None = REMINDER_HOURS_DEFAULT
    thank_you_enabled: bool = True
    # Waiting lists: open to guests once places run out; freed places go to the list before general sale; an
    # offer holds its places this many hours.
    waiting_list_open: bool = True
    waiting_list_first: bool = True
    offer_hours: OfferHours = OFFER_HOURS_DEFAULT
    # "Can't come?": a paid place is refunded until this many days before the start (null: no refunds).
    refund_days_before: RefundDays | None = REFUND_DAYS_DEFAULT
    # The buyer may put other guests' names on their tickets (each re-issued) until this many hours before the start.
    name_changes_close_hours_before: NameChangeHours = NAME_CHANGES_CLOSE_HOURS_DEFAULT
    status: Literal["draft", "on_sale"] = "draft"
    ticket_types: list[TicketTypeIn] = msgspec.field(default_factory=list)
    beneficiaries: list[ShareIn] = msgspec.field(default_factory=list)
    # The slug of one of the organisation's series (events.series) the event belongs to, if any.
    series: Slug | None = None


class EventPatch(Struct, forbid_unknown_fields=True):
    """Fields to change. ``beneficiaries`` replaces every share; ``ticket_types`` changes or adds types."""

    title: Name | UnsetType = UNSET
    # Only while the event is a draft: once published, its address is on tickets, emails and posters.
    slug: Slug | UnsetType = UNSET
    description: EventDescription | UnsetType = UNSET
    venue: Venue | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    access_information: AccessInformation | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    capacity: Annotated[int, Meta(ge=1, le=100_000)] | UnsetType = UNSET
    reserved_free_places: Places | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    booking_fee_pence: Pence | UnsetType = UNSET
    pay_it_forward_place_pence: Pence | UnsetType = UNSET
    pay_it_forward_converts_general: bool | UnsetType = UNSET
    allow_reentry: bool | UnsetType = UNSET
    cost_per_attendee_pence: Pence | UnsetType = UNSET
    booking_fees_to_cause: bool | UnsetType = UNSET
    reminder_hours_before: ReminderHours | UnsetType | None = UNSET
    thank_you_enabled: bool | UnsetType = UNSET
    waiting_list_open: bool | UnsetType = UNSET
    waiting_list_first: bool | UnsetType = UNSET
    offer_hours: OfferHours | UnsetType = UNSET
    refund_days_before: RefundDays | UnsetType | None = UNSET
    name_changes_close_hours_before: NameChangeHours | UnsetType = UNSET
    # Cancelling refunds and tells every guest, so it has its own call: POST /api/events/{slug}/cancel.
    status: Literal["draft", "on_sale", "sales_closed", "finished"] | UnsetType = UNSET
    ticket_types: list[TicketTypePatch] | UnsetType = UNSET
    beneficiaries: list[ShareIn] | UnsetType = UNSET
    # One of the organisation's series, by slug; null takes the event out of its series.
    series: Slug | UnsetType | None = UNSET


class PartnerIn(Struct, forbid_unknown_fields=True):
    name: Name
    slug: Slug | None = None
    description: Annotated[str, Meta(max_length=5000), text.OPTIONAL_TEXT] = ""
    website: Url = ""


class PartnerOut(Struct):
    organisation: str  # the slug of the organisation that added it
    slug: str
    name: str
    description: str
    website: str


class BeneficiaryOut(Struct):
    partner: str
    name: str
    website: str
    share_bp: int


class FreePlacesOut(Struct):
    """Free places for refugee and asylum-seeking guests: reserved, funded by buyers, claimed, claimable now."""

    reserved: int
    funded: int
    claimed: int
    available: int


class TicketTypeOut(Struct):
    id: int
    name: str
    description: str
    price_pence: int
    channel: Channel
    available: int
    on_sale: bool
    sales_start: datetime | None
    sales_end: datetime | None
    max_per_order: int
    waiting_list: bool  # guests may join the waiting list for it once it is sold out
    # Whether a guest can join this type's waiting list now: sold out online, with its and the event's list open.
    waiting_list_open: bool = False
    # Sold only with an access code: listed only to organisers, and to guests whose code unlocks it.
    hidden: bool = False


class OrganisationRefOut(Struct):
    """Who runs an event: the organisation's slug (its page is /organisations/{slug}), name and logo (if any)."""

    slug: str
    name: str
    url: str
    logo_url: str | None = None


class SeriesRefOut(Struct):
    """The series an event belongs to (e.g. "First Thursday supper club"): its page, /series/{slug}, lists its
    upcoming dates."""

    slug: str
    title: str
    url: str


class EventSummaryOut(Struct):
    slug: str
    title: str
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: str
    currency: str
    places_left: int
    from_price_pence: int | None
    url: str
    organisation: OrganisationRefOut
    series: SeriesRefOut | None = None


class EventDetailOut(Struct):
    slug: str
    title: str
    status: EventStatus
    description: str
    venue: str
    address: str
    access_information: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    currency: str
    capacity: int
    reserved_free_places: int
    booking_fee_pence: int
    pay_it_forward_place_pence: int
    pay_it_forward_converts_general: bool
    allow_reentry: bool
    # Guest messages: when guests are reminded (hours before the start, null: never), and whether givers are thanked.
    reminder_hours_before: int | None
    thank_you_enabled: bool
    # Waiting lists: open to new guests (who join per ticket type once places run out: TicketTypeOut.waiting_list_open); freed places offered to the list before general sale; hours an offer holds.
    waiting_list_open: bool
    waiting_list_first: bool
    offer_hours: int
    # A guest who can't come is refunded until this many days before the start (null: no refunds).
    refund_days_before: int | None
    places_left: int
    free_places: FreePlacesOut
    url: str
    ticket_types: list[TicketTypeOut]
    beneficiaries: list[BeneficiaryOut]
    organisation: OrganisationRefOut
    series: SeriesRefOut | None = None
    # Until how many hours before the start the buyer may change the names on their tickets.
    name_changes_close_hours_before: int = NAME_CHANGES_CLOSE_HOURS_DEFAULT


class OrganisationOut(Struct):
    """An organisation's public details: who they are, how to reach them, their charity registration, and their
    upcoming events."""

    slug: str
    name: str
    url: str
    contact_email: str
    accent_colour: str
    logo_url: str | None
    charity_name: str
    charity_number: str
    events: list[EventSummaryOut]
