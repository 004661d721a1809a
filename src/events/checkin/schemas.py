"""Door API shapes (msgspec)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from events import text

Reason = Literal["already_redeemed", "unknown", "wrong_event", "unpaid", "refunded", "void"]


class RedeemIn(Struct, forbid_unknown_fields=True):
    """A scan: the QR text (signed code) or a bare ticket secret, and a client-made id for this scan."""

    event: Annotated[str, Meta(min_length=1, max_length=80), text.LINE]
    secret: Annotated[str, Meta(min_length=1, max_length=1000), text.LINE]
    nonce: Annotated[str, Meta(min_length=8, max_length=80), text.LINE]
    scanned_at: datetime | None = None
    direction: Literal["in", "out"] = "in"


class ScannedTicketOut(Struct):
    holder: str
    type: str
    checked_in_at: datetime | None
    checked_in_by: str


class TicketEventOut(Struct):
    """The event a wrong_event ticket is for: told only to someone who may scan that event."""

    slug: str
    title: str


class RedeemOut(Struct):
    status: Literal["ok", "error"]
    reason: Reason | None
    ticket: ScannedTicketOut | None
    ticket_event: TicketEventOut | None = None


class OfflineScanIn(Struct, forbid_unknown_fields=True):
    secret: Annotated[str, Meta(min_length=1, max_length=1000), text.LINE]
    nonce: Annotated[str, Meta(min_length=8, max_length=80), text.LINE]
    scanned_at: datetime
    result: Annotated[str, Meta(max_length=24), text.OPTIONAL_LINE]  # what the offline door showed: ok or a reason
    direction: Literal["in", "out"] = "in"


class SyncIn(Struct, forbid_unknown_fields=True):
    event: Annotated[str, Meta(min_length=1, max_length=80), text.LINE]
    scans: Annotated[list[OfflineScanIn], Meta(max_length=5000)]


class SyncedScan(Struct):
    nonce: str
    status: Literal["ok", "error"]
    reason: Reason | None
    conflict: bool
    # Who holds the ticket and where it was first admitted, so a door can say which other door let them in.
    ticket: ScannedTicketOut | None = None
    ticket_event: TicketEventOut | None = None


class SyncOut(Struct):
    scans: list[SyncedScan]
    conflicts: int


class CountsOut(Struct):
    admitted: int
    expected: int
    inside: int


class SearchHit(Struct):
    id: int
    secret: str
    holder: str
    type: str
    # What the door makes of it (checkin.rules.door_state): valid, refunded (the ticket or its order), unpaid, void,
    # released or passed_on; only a valid one admits.
    status: str
    checked_in_at: datetime | None
    order: str
    # Short flags for the door (e.g. "Dietary note"), one per question the organiser flagged that the guest answered.
    notes: list[str] = msgspec.field(default_factory=list)


class OfflineTicket(Struct):
    id: int
    version: int
    secret: str
    holder: str
    type: str
    status: str
    checked_in: bool


class OfflineEvent(Struct):
    id: int
    slug: str
    title: str
    allow_reentry: bool


class OfflineBundle(Struct):
    event: OfflineEvent
    keys: dict[str, str]
    tickets: list[OfflineTicket]
    revoked: list[int]
    generated_at: datetime = msgspec.field(default_factory=lambda: datetime.now().astimezone())
