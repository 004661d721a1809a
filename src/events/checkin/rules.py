"""Deciding a scan at the door. Pure: the caller passes the ticket's state and ``now``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.orders.statuses import OrderStatus
from events.tickets.statuses import TicketStatus

# A door device's token: it lasts until DOOR_TOKEN_GRACE after its event ends (a late finish, the last offline
# scans to sync) if it is set up within DOOR_TOKEN_LEAD of the doors opening; set up earlier, it lasts
# DOOR_TOKEN_LEAD only (long enough to try the phone out), and the phone is set up again nearer the night.
DOOR_TOKEN_GRACE = timedelta(hours=12)
DOOR_TOKEN_LEAD = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class TicketAtDoor:
    id: int
    event_id: int
    version: int
    status: str  # a TicketStatus
    order_status: str  # an OrderStatus
    checked_in_at: datetime | None
    inside: bool


@dataclass(frozen=True, slots=True)
class Admit:
    ticket_id: int


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str
    ticket_id: int | None = None


# What the door makes of a ticket before it is scanned: the offline guest list's states, and the search's.
OFFLINE_STATES = ("valid", "refunded", "unpaid", "void")


def door_state(ticket_status: str, order_status: str) -> str:
    """ "valid" (it admits), "refunded" (the ticket, or its whole order), "unpaid", or what else ended it (the ticket's
    own status: void, released, passed_on), in the order decide_entry refuses them."""
    if ticket_status == TicketStatus.refunded or order_status in (OrderStatus.refunded, OrderStatus.refund_due):
        return "refunded"
    if ticket_status != TicketStatus.valid:
        return str(ticket_status)
    return "valid" if order_status == OrderStatus.paid else "unpaid"


def offline_state(ticket_status: str, order_status: str) -> str:
    """door_state as the offline guest list keeps it: a ticket given back or passed on is void there."""
    state = door_state(ticket_status, order_status)
    return state if state in OFFLINE_STATES else "void"


def decide_entry(ticket: TicketAtDoor | None, *, event_id: int, scanned_version: int | None, reentry_allowed: bool) -> Admit | Reject:
    """Admit a genuine, paid, valid ticket of this event that is not already inside."""
    if ticket is None:
        return Reject("unknown")
    if ticket.event_id != event_id:
        return Reject("wrong_event", ticket.id)
    state = offline_state(ticket.status, ticket.order_status)  # the rule the guest list and the search use
    if state == "refunded":
        return Reject("refunded", ticket.id)
    if state == "void" or (scanned_version is not None and scanned_version != ticket.version):
        return Reject("void", ticket.id)  # voided, or an old code of a re-issued ticket
    if state == "unpaid":
        return Reject("unpaid", ticket.id)
    if ticket.checked_in_at is not None and (not reentry_allowed or ticket.inside):
        return Reject("already_redeemed", ticket.id)
    return Admit(ticket.id)


def decide_exit(ticket: TicketAtDoor | None, *, event_id: int) -> Admit | Reject:
    """An exit scan lets the ticket back in later (only for events that allow re-entry)."""
    if ticket is None:
        return Reject("unknown")
    if ticket.event_id != event_id:
        return Reject("wrong_event", ticket.id)
    if not ticket.inside:
        return Reject("void" if ticket.checked_in_at is None else "already_redeemed", ticket.id)
    return Admit(ticket.id)


def door_token_expiry(*, starts_at: datetime, ends_at: datetime, now: datetime) -> datetime:
    """When a door device's token made at ``now`` stops working (see DOOR_TOKEN_LEAD): never more than
    DOOR_TOKEN_LEAD before the doors open plus the event plus DOOR_TOKEN_GRACE."""
    if now < starts_at - DOOR_TOKEN_LEAD:
        return now + DOOR_TOKEN_LEAD
    return max(ends_at, now) + DOOR_TOKEN_GRACE
