"""What the doors recorded: every scan of an event, newest first, and the offline admissions that conflicted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.audit.service import PER_PAGE, paging
from events.checkin.tables import Scan


@dataclass(frozen=True, slots=True)
class DoorConflict:
    """An offline scan that let a ticket in after another door already had."""

    ticket: int
    holder: str
    device: str  # the door that let it in again
    scanned_at: datetime
    first_admitted_by: str
    first_admitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One scan as the door recorded it."""

    id: int
    direction: str  # in, out
    status: str  # ok, error (pending while a scan is being decided)
    reason: str | None  # why it was refused
    device: str
    scanned_by: str
    scanned_at: datetime
    received_at: datetime
    offline: bool
    conflict: bool
    ticket: int | None
    order_reference: str | None  # the ticket's order


@dataclass(frozen=True, slots=True)
class ScanLogPage:
    scans: list[ScanRecord]
    page: int
    pages: int
    total: int


async def conflicts(event_id: int) -> list[DoorConflict]:
    """Offline scans that let a ticket in after another door already had: for the organiser's event page."""
    rows = (
        await Scan.select(Scan.ticket, Scan.ticket.holder_name, Scan.device, Scan.scanned_at, Scan.ticket.checked_in_by, Scan.ticket.checked_in_at)
        .where(Scan.event == event_id, Scan.conflict == True)  # noqa: E712  # Piccolo builds SQL from ==
        .order_by(Scan.scanned_at)
    )
    return [
        DoorConflict(
            ticket=r["ticket"],
            holder=r["ticket.holder_name"],
            device=r["device"],
            scanned_at=r["scanned_at"],
            first_admitted_by=r["ticket.checked_in_by"],
            first_admitted_at=r["ticket.checked_in_at"],
        )
        for r in rows
    ]


async def list_scans(event_id: int, *, limit: int = 100, offset: int = 0) -> tuple[list[ScanRecord], int]:
    """One event's door scans, newest first, as the door recorded them (device, who, when, result), and their count."""
    rows = await (
        Scan.select(
            Scan.id,
            Scan.direction,
            Scan.status,
            Scan.reason,
            Scan.device,
            Scan.scanned_by,
            Scan.scanned_at,
            Scan.received_at,
            Scan.offline,
            Scan.conflict,
            Scan.ticket,
            Scan.ticket.event,
            Scan.ticket.order_id.reference,  # type: ignore[union-attr]  # Piccolo types a joined column loosely
        )
        .where(Scan.event == event_id)
        .order_by(Scan.scanned_at, ascending=False)
        .order_by(Scan.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    return [_scan(row, event_id) for row in rows], await Scan.count().where(Scan.event == event_id)


def _scan(row: dict[str, Any], event_id: int) -> ScanRecord:
    # A ticket of another event scanned at this door (perhaps another organisation's) is logged as a wrong-event
    # scan; which ticket and order it was is that event's business, not this door's.
    own = row["ticket.event"] == event_id
    return ScanRecord(
        id=row["id"],
        direction=row["direction"],
        status=row["status"],
        reason=row["reason"],
        device=row["device"],
        scanned_by=row["scanned_by"],
        scanned_at=_moment(row["scanned_at"]),
        received_at=_moment(row["received_at"]),
        offline=row["offline"],
        conflict=row["conflict"],
        ticket=row["ticket"] if own else None,
        order_reference=row["ticket.order_id.reference"] if own else None,
    )


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def scans_page(event_id: int, *, page: int = 1, per_page: int = PER_PAGE) -> ScanLogPage:
    total = await Scan.count().where(Scan.event == event_id)
    page, pages, offset = paging(total, page, per_page)
    scans, _ = await list_scans(event_id, limit=per_page, offset=offset)
    return ScanLogPage(scans=scans, page=page, pages=pages, total=total)
