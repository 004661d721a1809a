"""An audit entry's changes as an organiser reads them: amounts in pounds and pence, shares in per cent, times in
the event's zone, yes and no, lists as lists; nothing shown for a value that was and stays empty. Pure.

The entry keeps what the code recorded (pence, basis points, ISO times, JSON): this is only how the log page shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events.money import format_money

EMPTY = "—"
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True, slots=True)
class ShownChange:
    label: str
    before: str | None  # None: nothing to show before (a value that was not there, or did not change)
    after: str


def shown_changes(changes: Sequence[tuple[str, Any, Any]], *, currency: str = "GBP", timezone: str = "Europe/London") -> list[ShownChange]:
    """(name, before, after) of an entry's values as the page shows them, in the same order."""
    zone = ZoneInfo(timezone)
    shown = []
    for key, before, after in changes:
        if _empty(before) and _empty(after):
            continue
        was = None if before is None or before == after else shown_value(key, before, currency=currency, zone=zone)
        shown.append(ShownChange(label(key), was, shown_value(key, after, currency=currency, zone=zone)))
    return shown


def label(key: str) -> str:
    """'refunded_pence' reads 'refunded', 'share_bp' 'share', 'tickets_refunded' 'tickets refunded'."""
    for suffix in ("_pence", "_bp"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key.replace("_", " ")


def shown_value(key: str, value: Any, *, currency: str, zone: ZoneInfo) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and key.endswith("_pence"):
        return format_money(value, currency)
    if isinstance(value, int) and key.endswith("_bp"):
        return _percent(value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        return _time(value, zone)
    if isinstance(value, Mapping):
        if not value:
            return EMPTY
        # Partner shares are basis points by partner ("shares": {"help-refugees": 3000}).
        as_share = key in ("shares", "share_bp")
        return ", ".join(f"{name}: {_percent(item) if as_share and isinstance(item, int) else _plain(item)}" for name, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item) for item in value) if value else EMPTY
    return str(value)


def _percent(basis_points: int) -> str:
    return f"{basis_points / 100:g}%"


def _time(text: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return f"{moment.day} {moment:%b %Y, %H:%M}" if (moment.hour, moment.minute) != (0, 0) else f"{moment.day} {moment:%b %Y}"
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M}"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return EMPTY if value is None or value == "" else str(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}
