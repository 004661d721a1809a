"""The attendance the database keeps for the per-cover cost (event_attendance, by triggers) always equals a
count of the valid tickets of paid orders, whatever happens to tickets and orders, in any order."""

from __future__ import annotations

import random
from datetime import datetime

from events.catalogue.tables import Event
from events.ledger.tables import EventAttendance
from events.orders.tables import Order
from events.tickets.tables import Ticket
from tests.factories import make_event

COUNTED = """
SELECT t.event AS event, CASE WHEN o.channel IN ('claim', 'gift') THEN 1 ELSE 0 END AS free, COUNT(*) AS n
FROM ticket t JOIN ticket_order o ON o.id = t.order_id
WHERE t.status = 'valid' AND o.status = 'paid'
GROUP BY 1, 2
"""
KEPT = "SELECT event, free, SUM(tickets) AS n FROM event_attendance GROUP BY event, free"


async def counts(sql: str) -> dict[tuple[int, int], int]:
    return {(row["event"], row["free"]): int(row["n"]) for row in await EventAttendance.raw(sql) if int(row["n"])}


async def test_kept_attendance_follows_tickets_and_orders(clean_database: None, now: datetime) -> None:
    rng = random.Random(20261201)
    events = []
    for slug in ("supper-club", "film-night"):
        await make_event(now, slug=slug)
        events.append((await Event.select(Event.id).where(Event.slug == slug).first())["id"])
    type_ids = {event: (await Event.raw("SELECT id FROM ticket_type WHERE event = {} ORDER BY id", event))[0]["id"] for event in events}
    orders: list[int] = []
    for step in range(400):
        action = rng.random()
        if action < 0.3 or not orders:
            event = rng.choice(events)
            order = Order(
                reference=f"A{step:09d}",
                event=event,
                status=rng.choice(["paid", "paid", "pending", "expired"]),
                channel=rng.choice(["online", "door", "claim", "gift"]),
                currency="GBP",
                places=1,
                created_at=now,
            )
            await order.save()
            orders.append(order.id)
        elif action < 0.6:
            order = await Order.select(Order.id, Order.event).where(Order.id == rng.choice(orders)).first()
            for _ in range(rng.randint(1, 3)):
                await Ticket(
                    order_id=order["id"],
                    event=order["event"],
                    ticket_type=type_ids[order["event"]],
                    secret=f"s{step}{rng.random()}"[:32],
                    holder_name="Guest",
                    status=rng.choice(["valid", "valid", "void"]),
                    created_at=now,
                ).save()
        elif action < 0.8:
            tickets = await Ticket.select(Ticket.id).where(Ticket.order_id == rng.choice(orders))
            if tickets:
                ids = [t["id"] for t in rng.sample(tickets, rng.randint(1, len(tickets)))]
                await Ticket.update({Ticket.status: rng.choice(["valid", "refunded", "void"])}).where(Ticket.id.is_in(ids))
        else:
            await Order.update({Order.status: rng.choice(["paid", "refunded", "refund_due", "expired"])}).where(Order.id == rng.choice(orders))
        if step % 50 == 49:
            assert await counts(KEPT) == await counts(COUNTED), step
    assert await counts(KEPT) == await counts(COUNTED)
    assert sum((await counts(COUNTED)).values()) > 20  # the scenario is not trivial
