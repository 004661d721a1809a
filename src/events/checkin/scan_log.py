"""What the doors recorded: every scan of an event, newest first, and the offline admissions that conflicted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.audit.service import PER_PAGE, paging
from events.checkin.tables import Scan


async def conflicts(event_id: int) -> list[dict[str, Any]]:
    """Offline scans that let a ticket in after another door already had: for the organiser's event page."""
    rows = (
        await Scan.select(Scan.ticket, Scan.ticket.holder_name, Scan.device, Scan.scanned_at, Scan.ticket.checked_in_by, Scan.ticket.checked_in_at)
        .where(Scan.event == event_id, Scan.conflict == True)  # noqa: E712  # Piccolo builds SQL from ==
        .order_by(Scan.scanned_at)
    )
    return [
        {
            "ticket": r["ticket"],
            "holder": r["ticket.holder_name"],
            "device": r["device"],
            "scanned_at": r["scanned_at"],
            "first_admitted_by": r["ticket.checked_in_by"],
            "first_admitted_at": r["ticket.checked_in_at"],
        }
        for r in rows
    ]


async def list_scans(event_id: int, *, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
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
            Scan.ticket.order_id.reference,  # type: ignore[union-attr]  # Piccolo types a joined column loosely
        )
        .where(Scan.event == event_id)
        .order_by(Scan.scanned_at, ascending=False)
        .order_by(Scan.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    for row in rows:
        for key in ("scanned_at", "received_at"):
            if isinstance(row[key], str):
                row[key] = datetime.fromisoformat(row[key])
    return rows, await Scan.count().where(Scan.event == event_id)


async def scans_page(event_id: int, *, page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    total = await Scan.count().where(Scan.event == event_id)
    page, pages, offset = paging(total, page, per_page)
    scans, _ = await list_scans(event_id, limit=per_page, offset=offset)
    return {"scans": scans, "page": page, "pages": pages, "total": total}
