"""Which of several orders for one event fit in the places left, and in the uses left of the codes they are placed
with, first come first served; and how long a hold has left.

Pure: the caller reads the counters (and the codes' uses) under their row locks and passes them in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class PlacesLeft:
    """Places still free on the event, and per ticket type (None: the type has no quota of its own); and the uses
    left of the codes (events.codes) the orders are placed with, by code id."""

    event: int
    by_type: Mapping[int, int | None]
    code_uses: Mapping[int, int] = field(default_factory=dict)


class Fit(StrEnum):
    fits = "fits"
    no_places = "no_places"
    code_used_up = "code_used_up"


def fit_in_turn(left: PlacesLeft, wanted: Sequence[Mapping[int, int]]) -> list[bool]:
    """For each order (places wanted per ticket type), in arrival order: does it fit after the earlier ones
    that did? An order that does not fit takes nothing, so a smaller one behind it may still fit."""
    return [fit == Fit.fits for fit in fit_each_in_turn(left, wanted)]


def fit_each_in_turn(left: PlacesLeft, wanted: Sequence[Mapping[int, int]], codes: Sequence[Mapping[int, int]] = ()) -> list[Fit]:
    """As fit_in_turn, with the codes' uses counted exactly as places are: ``codes[i]`` is the uses of each code
    order i needs (one of the code it is placed with; less one of a code its replaced hold gives back, so possibly
    negative). An order whose code has no use left for it is ``code_used_up``, and takes nothing."""
    event_left = left.event
    type_left = dict(left.by_type)
    code_left = dict(left.code_uses)
    fits: list[Fit] = []
    for index, per_type in enumerate(wanted):
        per_code = codes[index] if index < len(codes) else {}
        if not all(uses <= code_left.get(code_id, 0) for code_id, uses in per_code.items()):
            fits.append(Fit.code_used_up)
            continue
        total = sum(per_type.values())
        ok = total <= event_left and all(
            type_id in type_left and (type_left[type_id] is None or quantity <= type_left[type_id])  # type: ignore[operator]
            for type_id, quantity in per_type.items()
        )
        if ok:
            event_left -= total
            for type_id, quantity in per_type.items():
                if type_left[type_id] is not None:
                    type_left[type_id] -= quantity  # type: ignore[operator]
            for code_id, uses in per_code.items():
                code_left[code_id] = code_left.get(code_id, 0) - uses
        fits.append(Fit.fits if ok else Fit.no_places)
    return fits


def totals(wanted: Sequence[Mapping[int, int]]) -> dict[int, int]:
    """Places per ticket type over several orders."""
    summed: dict[int, int] = {}
    for per_type in wanted:
        for type_id, quantity in per_type.items():
            summed[type_id] = summed.get(type_id, 0) + quantity
    return summed


def seconds_left(ends_at: datetime, now: datetime) -> int:
    """Whole seconds until a hold ends (rounded up, so a hold is never shown as ended early); 0 once it has."""
    return max(0, math.ceil((ends_at - now).total_seconds()))


def minutes_left(ends_at: datetime, now: datetime) -> int:
    """Minutes until a hold ends, rounded up: '1 minute' until it has ended."""
    return math.ceil(seconds_left(ends_at, now) / 60)
