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
    # How much of the order was refunded when the page was shown: a form sent twice refunds once (refund_order).
    refunded: str = ""


class HolderForm(msgspec.Struct):
    holder: str = ""
    confirm: str = ""


class GivenBackForm(msgspec.Struct):
    """A refund Stripe refused, given back to the guest another way."""

    method: str = ""  # bank_transfer, cash
    confirm: str = ""
