"""The audit log table: append-only, one row per organiser or door action."""

from typing import Any

from piccolo.columns import JSON, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from events.organisations.tables import Organisation

# catalogue is a layer above this one: the foreign key names its table lazily, so this module does not import it.
_EVENT = LazyTableReference("Event", module_path="events.catalogue.tables")


class AuditEntry(Table, tablename="audit_entry"):
    """One action. ``actor_*`` are copied, not linked, so the entry survives the account's removal;
    ``before``/``after`` hold only the fields the action changed (never secrets)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=254, default="")
    device = Varchar(length=120, default="")
    action = Varchar(length=60, index=True)
    # Whose log it is in (none: a platform admin's action on the service itself).
    organisation = ForeignKey(references=Organisation, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    event: ForeignKey[Any] = ForeignKey(references=_EVENT, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    subject_type = Varchar(length=40, default="")
    subject_id = Varchar(length=80, default="")
    before = JSON(default="{}")
    after = JSON(default="{}")
