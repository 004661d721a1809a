"""The messages-to-guests API's bodies: what an organiser sends, and a message sent with how it went."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from events import text
from events.announcements.rules import BODY_MAX, SUBJECT_MAX
from events.row_ids import RowId

Locale = Literal["en", "ar", "fr", "fa"]
Subject = Annotated[str, Meta(max_length=SUBJECT_MAX), text.LINE]
Body = Annotated[str, Meta(max_length=BODY_MAX), text.TEXT]
TicketTypeId = RowId


class VersionIn(Struct, forbid_unknown_fields=True):
    """The message in another language, for guests whose order is in that language."""

    locale: Locale
    subject: Subject
    body: Body


class AnnouncementIn(Struct, forbid_unknown_fields=True):
    subject: Subject
    body: Body  # plain text; line breaks are kept
    locale: Locale = "en"  # the language subject and body are written in
    # Only guests holding a valid ticket of one of these types (ids of the event's ticket types); none: every guest.
    ticket_types: Annotated[list[TicketTypeId], Meta(max_length=100)] = []
    versions: Annotated[list[VersionIn], Meta(max_length=4)] = []


class VersionOut(Struct):
    locale: str
    subject: str
    body: str


class DeliveryOut(Struct):
    """How the messages went so far, one per guest: ``sent`` (taken by the mail server or Twilio), ``failed``,
    ``waiting`` (not yet sent, or to be tried again) and ``not_sent`` (the guest no longer held a ticket it was for)."""

    sent: int
    failed: int
    waiting: int
    not_sent: int


class AnnouncementOut(Struct):
    id: int
    subject: str
    body: str
    locale: str
    ticket_types: list[int]
    versions: list[VersionOut]
    recipients: int  # guests it was sent to: one message each, by email or text
    sent_by: str
    created_at: datetime
    delivery: DeliveryOut
