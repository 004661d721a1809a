"""A waiting-list entry's kind and status."""

from enum import StrEnum


class WaitingKind(StrEnum):
    paid = "paid"  # wants to buy places of a sold-out event
    free = "free"  # a guest referred by a partner, waiting for a free place


class WaitingStatus(StrEnum):
    waiting = "waiting"  # in the queue
    offered = "offered"  # places are held for them until offer_expires_at
    accepted = "accepted"  # took the offer: an order (paid places) or tickets (free places)
    lapsed = "lapsed"  # let the offer run out; the places went to the next person
    left = "left"  # left the list themselves
    removed = "removed"  # removed by an organiser, or the list closed with them on it
