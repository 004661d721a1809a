"""An event at a glance for its organiser: sales, holds, free places, the door, door conflicts, revenue,
funds per partner and sales over time (from the ledger, as the statements read it)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from events.catalogue.sales import event_free_places
from events.catalogue.tables import Event
from events.checkin.scan_log import conflicts
from events.errors import Conflict, NotFound
from events.i18n import N_
from events.ledger import service as ledger
from events.ledger.statements import ticket_sales_by_day
from events.ledger.tables import LedgerEntry
from events.orders.tables import Order

_COUNTS_SQL = """
SELECT
  COALESCE(SUM(CASE WHEN o.channel NOT IN ('claim', 'gift') THEN 1 ELSE 0 END), 0) AS sold,
  COALESCE(SUM(CASE WHEN t.checked_in_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS checked_in,
  COUNT(*) AS expected
FROM ticket t JOIN ticket_order o ON o.id = t.order_id
WHERE t.event = {} AND t.status = 'valid' AND o.status = 'paid'
"""
_HELD_SQL = "SELECT COALESCE(SUM(places), 0) AS held FROM ticket_order WHERE event = {} AND status = 'pending'"
_REVENUE_SQL = "SELECT kind, component, SUM(amount_pence) AS pence FROM ledger_entry WHERE event = {} GROUP BY kind, component"


async def revenue(event_id: int) -> dict[str, int]:
    """Money in by kind (before refunds and fees), and refunds and Stripe fees as positive amounts."""
    figures = {"tickets": 0, "contributions": 0, "donations": 0, "booking_fees": 0, "refunds": 0, "fees": 0}
    for row in await LedgerEntry.raw(_REVENUE_SQL, event_id):
        pence = int(row["pence"])
        if row["kind"] == "payment" and row["component"] in figures:
            figures[row["component"]] += pence
        elif row["kind"] == "refund":
            figures["refunds"] -= pence
        elif row["kind"] == "stripe_fee":
            figures["fees"] -= pence
    figures["gross"] = figures["tickets"] + figures["contributions"] + figures["donations"] + figures["booking_fees"]
    figures["net_of_refunds"] = figures["gross"] - figures["refunds"]
    return figures


async def partner_funds(event_id: int) -> list[dict[str, Any]]:
    """What each partner project is due from the event, as the statement allocates it (empty without partners)."""
    try:
        allocation, _ = await ledger.event_allocation(event_id)
    except Conflict:
        return []
    names = await ledger.partner_names([p.partner_id for p in allocation.partners])
    return [{"slug": names[p.partner_id]["slug"], "name": names[p.partner_id]["name"], "net_pence": p.net_pence} for p in allocation.partners]


async def event_overview(slug: str, *, now: datetime) -> dict[str, Any]:
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    await ledger.book_event(event["id"], now=now)
    counts = (await Order.raw(_COUNTS_SQL, event["id"]))[0]
    held = (await Order.raw(_HELD_SQL, event["id"]))[0]["held"]
    return {
        "event": event,
        "sold": int(counts["sold"]),
        "held": int(held),
        "checked_in": int(counts["checked_in"]),
        "expected": int(counts["expected"]),
        "free_places": dataclasses.asdict(await event_free_places(event)),
        "conflicts": await conflicts(event["id"]),
        "revenue": await revenue(event["id"]),
        "partners": await partner_funds(event["id"]),
        "sales_by_day": await ticket_sales_by_day(event),
    }
