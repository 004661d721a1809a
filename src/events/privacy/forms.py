"""The body of the organiser's guest-data form (find, export or erase one guest's data). Pure."""

from __future__ import annotations

import msgspec


class GuestForm(msgspec.Struct):
    contact: str = ""  # an email address or a phone number
    orders: list[str] = msgspec.field(default_factory=list)  # the references ticked
    waiting: list[str] = msgspec.field(default_factory=list)  # the waiting-list entries ticked (their ids)
    confirm: str = ""
