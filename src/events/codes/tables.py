"""Code tables: an event's access and discount codes, and the hidden ticket types each unlocks."""

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, TicketType


class Code(Table, tablename="sale_code"):
    """An access or discount code. ``code`` is stored upper-case and is unique within its event (the index
    sale_code_event_code, in its migration). ``uses`` counts the orders holding or paid with it, changed only under
    the code's row lock in the transaction that holds or frees the order's places."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=40)
    # Who it is for (e.g. "volunteers"), shown to organisers only.
    note = Varchar(length=200, default="")
    # At most one of the two; neither for a code that only unlocks. Never applied to donations or pay it forward.
    discount_percent = Integer(null=True, default=None)
    discount_pence = Integer(null=True, default=None)
    max_uses = Integer()
    uses = Integer(default=0)
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class CodeUnlock(Table, tablename="sale_code_unlock"):
    """A hidden ticket type a code unlocks."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    code = ForeignKey(references=Code, on_delete=OnDelete.cascade, index=True)
    ticket_type = ForeignKey(references=TicketType, on_delete=OnDelete.cascade, index=True)
