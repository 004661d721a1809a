"""Ticket signing keys: one or more Ed25519 keys per event; the newest active one signs."""

from piccolo.columns import ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event


class EventSigningKey(Table, tablename="event_signing_key"):
    """``private_key`` is encrypted with a key derived from EVENTS_SECRET_KEY; retired keys still verify."""

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    key_id = Varchar(length=24, unique=True)
    public_key = Varchar(length=64)
    private_key = Text(secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)
