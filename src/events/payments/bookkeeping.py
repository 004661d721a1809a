"""Telling the books that money moved on an order. The ledger sits above payments, so payments never
imports it: events.ledger.service registers its booking here when it is imported (the app and the worker
import it), and every payment, fee and refund calls money_moved inside the transaction that records it,
so the ledger moves with the money."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Protocol


class Booker(Protocol):
    def __call__(self, order_id: int, *, now: datetime) -> Awaitable[Any]: ...


_bookers: list[Booker] = []


def on_money_moved(booker: Booker) -> None:
    """Book an order's money whenever it moves (registered once per booker, however often it is imported)."""
    if booker not in _bookers:
        _bookers.append(booker)


async def money_moved(order_id: int, *, now: datetime) -> None:
    """Inside the transaction that records a payment, a Stripe fee or a refund of the order."""
    if not _bookers:
        raise RuntimeError("Nothing books payments to the ledger: import events.ledger.service first (the app and the worker do).")
    for booker in _bookers:
        await booker(order_id, now=now)
