"""Scans that arrive together (on PostgreSQL, admitted in one statement): each still gets its own answer.

A burst from two doors at once holds, besides ordinary first scans, the same ticket at both doors, the same
nonce sent twice by one door (a retry racing its original), and an unpaid ticket. Every rule holds as if each
scan came alone: one admission per ticket, one scan per nonce, the unpaid ticket refused, the others admitted.
"""

import asyncio
from collections import Counter
from datetime import datetime

import httpx

from events.checkin.tables import Scan
from events.orders.tables import Order
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, paid_tickets, scan


async def test_scans_that_arrive_together_each_get_their_own_answer(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    first_door = await door_team(now, slug=slug)
    second_door = await door_team(now, name="Door 2", email="door2@test.example", slug=slug)
    contested, retried, *ordinary = [
        *await paid_tickets(client, app, slug, quantity=4, now=now),
        *await paid_tickets(client, app, slug, quantity=3, now=now),
    ]
    [unpaid] = await paid_tickets(client, app, slug, quantity=1, now=now)
    await Order.update({Order.status: "pending"}).where(Order.reference == unpaid.order_reference)
    burst = [
        (first_door, scan(slug, contested.code)),
        (second_door, scan(slug, contested.code)),
        (first_door, scan(slug, retried.code, nonce="retried-together-1")),
        (first_door, scan(slug, retried.code, nonce="retried-together-1")),
        (second_door, scan(slug, unpaid.code)),
        *[(first_door if index % 2 else second_door, scan(slug, ticket.code)) for index, ticket in enumerate(ordinary)],
    ]

    answers = await asyncio.gather(*(client.post("/api/checkin/redeem", json=body, headers=door) for door, body in burst))

    assert all(answer.status_code == 200 for answer in answers), [answer.text for answer in answers]
    results = [answer.json() for answer in answers]
    assert Counter([results[0]["reason"], results[1]["reason"]]) == Counter([None, "already_redeemed"])  # one door admits it
    assert results[2] == results[3] and results[2]["status"] == "ok"  # the retry gets the first answer
    assert (results[4]["status"], results[4]["reason"]) == ("error", "unpaid")
    assert [result["status"] for result in results[5:]] == ["ok"] * len(ordinary)
    ok_scans = Counter(row["ticket"] for row in await Scan.select(Scan.ticket).where(Scan.status == "ok"))
    assert ok_scans == Counter({ticket.id: 1 for ticket in [contested, retried, *ordinary]})
    assert await Scan.count().where(Scan.nonce == "retried-together-1") == 1
    assert await Ticket.count().where(Ticket.checked_in_at.is_not_null()) == len(ordinary) + 2
