"""Announcement tables: what an organiser wrote to an event's guests, and its versions per language."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event


class Announcement(Table, tablename="announcement"):
    """One message to an event's guests, sent through the outbox (one message per order, keyed
    ``announcement:<id>:<order>``), so its delivered and failed counts are read from there."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    # The organiser's own text, sent to guests whose language has no version below.
    subject = Varchar(length=200)
    body = Text()
    locale = Varchar(length=8, default="en")
    # A JSON list of ticket type ids it went to the holders of; [] for every guest.
    ticket_types = Text(default="[]")
    recipients = Integer(default=0)
    sent_by = Varchar(length=254, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class AnnouncementVersion(Table, tablename="announcement_version"):
    """The organiser's wording in another language."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    announcement = ForeignKey(references=Announcement, on_delete=OnDelete.cascade, index=True)
    locale = Varchar(length=8)
    subject = Varchar(length=200)
    body = Text()
