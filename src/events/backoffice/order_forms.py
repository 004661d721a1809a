"""The bodies of the organiser's order, refund and holder forms. Pure."""

from __future__ import annotations

import msgspec


class SearchForm(msgspec.Struct):
    q: str = ""
    status: str = ""
    page: int = 1


class RefundForm(msgspec.Struct):
    scope: str = ""  # all, part
    tickets: list[int] = msgspec.field(default_factory=list)
    amount: str = ""
    reason: str = ""
    confirm: str = ""


class HolderForm(msgspec.Struct):
    holder: str = ""
    confirm: str = ""
