"""Which of several orders for one event fit in the places left, first come first served.

Pure: the caller reads the counters under their row locks and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlacesLeft:
    """Places still free on the event, and per ticket type (None: the type has no quota of its own)."""

    event: int
    by_type: Mapping[int, int | None]


def fit_in_turn(left: PlacesLeft, wanted: Sequence[Mapping[int, int]]) -> list[bool]:
    """For each order (places wanted per ticket type), in arrival order: does it fit after the earlier ones
    that did? An order that does not fit takes nothing, so a smaller one behind it may still fit."""
    event_left = left.event
    type_left = dict(left.by_type)
    fits: list[bool] = []
    for per_type in wanted:
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
        fits.append(ok)
    return fits


def totals(wanted: Sequence[Mapping[int, int]]) -> dict[int, int]:
    """Places per ticket type over several orders."""
    summed: dict[int, int] = {}
    for per_type in wanted:
        for type_id, quantity in per_type.items():
            summed[type_id] = summed.get(type_id, 0) + quantity
    return summed
