"""payments.bookkeeping: how payments tell the ledger (a layer above them) that an order's money moved."""

from datetime import datetime, timezone

import pytest

from events.payments import bookkeeping

NOW = datetime(2026, 8, 1, 19, 0, tzinfo=timezone.utc)


async def test_every_registered_booker_books_the_order_once_however_often_it_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookkeeping, "_bookers", [])
    booked: list[tuple[str, int, datetime]] = []

    async def ledger(order_id: int, *, now: datetime) -> None:
        booked.append(("ledger", order_id, now))

    async def other(order_id: int, *, now: datetime) -> None:
        booked.append(("other", order_id, now))

    for booker in (ledger, ledger, other):
        bookkeeping.on_money_moved(booker)
    await bookkeeping.money_moved(42, now=NOW)
    assert booked == [("ledger", 42, NOW), ("other", 42, NOW)]


async def test_money_moving_with_no_ledger_listening_is_an_error_not_a_silent_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bookkeeping, "_bookers", [])
    with pytest.raises(RuntimeError, match="ledger"):
        await bookkeeping.money_moved(42, now=NOW)


def test_the_ledger_registers_its_booking_when_it_is_imported() -> None:
    from events.ledger import service as ledger

    assert ledger.book_order in bookkeeping._bookers
