"""Steps on the organiser's set-up pages that several browser tests take the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


async def add_ticket_types(page: Any, ticket_types: Sequence[tuple[str, str, str]]) -> None:
    """On an event's Tickets tab, add each (name, price in pounds, where it is sold: the radio's label)."""
    for name, price, sold in ticket_types:
        await page.get_by_label("Name", exact=True).fill(name)
        await page.get_by_label("Price", exact=True).fill(price)
        await page.get_by_label(sold, exact=True).check()
        await page.get_by_role("button", name="Add ticket type").click()
        await page.wait_for_url("**/tickets?notice=added")
