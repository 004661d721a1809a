"""Series API shapes (msgspec): a series as organisers create and read it, its public page, and a copy of an event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from events import text
from events.catalogue.schemas import EventSummaryOut, Name, OrganisationRefOut, Slug
from events.catalogue.statuses import EventStatus

SeriesDescription = Annotated[str, Meta(max_length=5000), text.OPTIONAL_TEXT]


class SeriesIn(Struct, forbid_unknown_fields=True):
    """A new series; its slug (made from the title when left out) is unique across the service, like an event's."""

    title: Name
    slug: Slug | None = None
    description: SeriesDescription = ""


class SeriesPatch(Struct, forbid_unknown_fields=True):
    """Fields of a series to change."""

    title: Name | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    description: SeriesDescription | UnsetType = UNSET


class SeriesEventOut(Struct):
    """One event of a series, as its organisers see it (drafts and past events too)."""

    slug: str
    title: str
    status: EventStatus
    starts_at: datetime
    url: str


class SeriesOut(Struct):
    """A series as its organisers see it: every event in it, soonest first."""

    slug: str
    title: str
    description: str
    url: str
    events: list[SeriesEventOut]


class SeriesPageOut(Struct):
    """A series as guests see it: who runs it, and its upcoming events on sale."""

    slug: str
    title: str
    description: str
    url: str
    organisation: OrganisationRefOut
    events: list[EventSummaryOut]


class EventCopyIn(Struct, forbid_unknown_fields=True):
    """A copy of an event's set-up as a new draft: its web address and dates (times without an offset are read in the
    event's time zone) and, optionally, a new title (else the event's own)."""

    slug: Slug
    starts_at: datetime
    ends_at: datetime
    title: Name | None = None
