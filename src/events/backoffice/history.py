"""An order's history notes made readable at display: a time in a note ("held until 2026-12-05T06:19:54.737993+00:00")
becomes a time at the event's venue, and an amount ("3600 pence") pounds. The notes themselves stay as they were
written (the history is append-only), so old and new notes read the same. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

# An ISO 8601 time as datetime.isoformat() writes it (seconds, fractions and offset optional), or "N pence".
_PARTS = re.compile(
    r"(?P<moment>\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"|(?P<pence>(?<![\w.,-])-?\d{1,12}) pence\b"
)


@dataclass(frozen=True, slots=True)
class DetailPart:
    """One part of a note: text as written, a moment (at the venue), or an amount in pence."""

    text: str = ""
    moment: datetime | None = None
    pence: int | None = None


def detail_parts(detail: str, zone: ZoneInfo) -> tuple[DetailPart, ...]:
    """The note as parts, its times moved to ``zone`` and its amounts read as pence; anything else as written."""
    parts: list[DetailPart] = []
    written = 0
    for found in _PARTS.finditer(detail):
        value: DetailPart | None
        if found["moment"] is not None:
            moment = _moment(found["moment"])
            value = DetailPart(moment=moment.astimezone(zone)) if moment is not None else None
        else:
            value = DetailPart(pence=int(found["pence"]))
        if value is None:
            continue
        if found.start() > written:
            parts.append(DetailPart(text=detail[written : found.start()]))
        parts.append(value)
        written = found.end()
    if written < len(detail):
        parts.append(DetailPart(text=detail[written:]))
    return tuple(parts)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)  # stored notes are UTC
