"""Ticket API shapes (msgspec)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from events import text
from events.tickets.statuses import MessageStatus


class HolderChange(Struct, forbid_unknown_fields=True):
    """The name printed on the ticket. Changing it re-issues the ticket with a new code."""

    holder: Annotated[str, Meta(min_length=1, max_length=200), text.LINE]


class EmailQueued(Struct):
    """The email is queued; the worker sends it within a minute or so."""

    status: MessageStatus = MessageStatus.queued


class DeliveryReportReceipt(Struct):
    """Twilio's report of how a text went was taken: ``outcome`` is ``failed`` (the text is now marked failed),
    ``unchanged`` or ``unknown`` (no such text)."""

    received: bool
    outcome: str
