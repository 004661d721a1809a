"""Free places for refugee guests: how many are funded, and how many can still be claimed. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FreePlaces:
    reserved: int  # kept free whatever the funding
    funded: int  # whole places paid forward by buyers
    claimed: int
    available: int  # can be claimed now


def funded_places(contributions_pence: int, place_value_pence: int) -> int:
    """Contributions build up into whole places: floor(total / value); nothing when the event takes none."""
    if place_value_pence <= 0 or contributions_pence <= 0:
        return 0
    return contributions_pence // place_value_pence


def funded_places_used(funded: int, claimed: int) -> int:
    """Of the places buyers funded, how many went to a guest: free guests are counted against funded places first
    (their pay-it-forward money covers free guests' costs first, see ledger.allocation), never more than were funded."""
    return max(0, min(funded, claimed))


def free_places(
    *,
    capacity: int,
    reserved: int,
    places_taken: int,
    claimed: int,
    contributions_pence: int,
    place_value_pence: int,
    converts_general: bool,
) -> FreePlaces:
    """Reserved places are free whatever the funding. Funded places beyond them turn general places into
    free ones only if the organiser chose so, and only while general places are left (the general pool
    already counts the extra places claimed so far, so ``places_taken`` includes them)."""
    funded = funded_places(contributions_pence, place_value_pence)
    open_reserved = max(0, reserved - claimed)
    extra_claimed = max(0, claimed - reserved)
    extra = 0
    if converts_general:
        general_left = max(0, capacity - reserved - places_taken)
        extra = max(0, min(funded - reserved - extra_claimed, general_left))
    return FreePlaces(reserved=reserved, funded=funded, claimed=claimed, available=open_reserved + extra)
