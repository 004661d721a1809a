"""Door tables: which events door staff may scan, every scan with its result (append-only), and the
one-time codes that pair a phone with an event's door."""

from piccolo.columns import Boolean, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.accounts.tables import User
from events.catalogue.tables import Event
from events.tickets.tables import Ticket


class DoorAssignment(Table, tablename="door_assignment"):
    """A door-staff user may scan this event (organisers and admins may scan any)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)


class Scan(Table, tablename="scan"):
    """One scan at a door, accepted or refused. ``nonce`` is the client's id for the scan, unique per
    (event, scanner, device) - the index scan_nonce_key, made by a raw migration - so a retried request gets
    the first answer back, and the same nonce from another door or for another event is a scan of its own.
    ``scanner`` is the account that scanned (a person, or a paired phone's own account); scans logged before
    it was recorded have none."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    nonce = Varchar(length=80)
    scanner = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    ticket = ForeignKey(references=Ticket, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    direction = Varchar(length=4, default="in")  # in, out
    status = Varchar(length=8, default="pending")  # pending, ok, error
    reason = Varchar(length=24, null=True, default=None)
    device = Varchar(length=120, default="")
    scanned_by = Varchar(length=120, default="")
    scanned_at = Timestamptz(default=TimestamptzNow())
    received_at = Timestamptz(default=TimestamptzNow())
    offline = Boolean(default=False)
    conflict = Boolean(default=False)
    detail = Text(default="")


class DevicePairing(Table, tablename="device_pairing"):
    """A one-time code an organiser shows as a QR so a phone can scan one event without anyone's password.

    Only the code's SHA-256 is stored. Using it makes a door account for the device (named ``device_name``),
    assigns it to the event and gives the phone an API token; ``used_at`` makes the code single-use."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    code_hash = Varchar(length=64, unique=True, index=True)
    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    device_name = Varchar(length=60)
    created_by = Varchar(length=120, default="")
    # Who made the code: taking them off the team expires their unused codes and switches off the phones they paired.
    paired_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    device_user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
