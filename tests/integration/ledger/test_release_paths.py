"""Every "Can't come?" and waiting-list path, worked by hand to the penny in one event: an offer taken up for fewer
places than offered (repriced, then paid), the rest taken up by the next guest, a refund in the window through POST /api/tickets/{id}/release, a ticket
passed on to a friend and a free place given back. After each, the ledger, the event's reconciliation and the
partners' statements say exactly what the money did, and the paths that move no money change none of them.
(A ticket donated through the release API is test_donated_refunds' and the releases' own.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.orders.codes import order_access_token
from events.orders.tables import Order
from events.payments.tables import Payment
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.ledger.test_donated_refunds import ledger, paid, schedule_rows, ticket_ids
from tests.integration.waitlist.helpers import joined, status
from tests.integration.waitlist.test_waiting_list import raise_capacity, sweep
from tests.support.orders import pay_with_test_page

PARTNERS = ("welcome-kitchen", "welcome-cinema")  # 70/30 (the factory's shares)


async def books(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, now: datetime) -> dict[str, Any]:
    """The ledger by kind and component, the reconciliation's totals and partners, and each partner's statement."""
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    period = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    statements = {}
    for partner in PARTNERS:
        response = await client.get(f"/api/partners/{partner}/statement", params=period, headers=organiser)
        assert response.status_code == 200, response.text
        statements[partner] = response.json()["totals"]
    return {
        "ledger": await ledger(slug),
        "totals": reconciliation["totals"],
        "partners": {p["partner"]: p for p in reconciliation["partners"]},
        "statements": statements,
    }


def nets(state: dict[str, Any]) -> tuple[int, int, int]:
    partners = state["partners"]
    return state["totals"]["net_pence"], partners[PARTNERS[0]]["net_pence"], partners[PARTNERS[1]]["net_pence"]


async def test_offers_refunds_passing_on_and_free_places_add_up_to_the_penny(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    # Tickets £30 with a 50p booking fee; four general places and one free place; the test provider charges no fee.
    slug = await make_event(now, booking_fee_pence=50, capacity=5, reserved_free_places=1)
    maria = await paid(client, slug, "Maria", 2)  # 6000 + 100
    omar = await paid(client, slug, "Omar", 1)  # 3000 + 50
    await paid(client, slug, "Sami", 1)  # 3000 + 50: sold out
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 1}, headers=organiser)).json()
    leila = await client.post("/api/claims", json={"code": link["code"], "name": "Leila", "email": "leila@example.org"})
    assert leila.status_code == 201, leila.text
    start = await books(client, organiser, slug, now)
    assert start["ledger"] == {("payment", "tickets"): 12_000, ("payment", "booking_fees"): 200}
    assert nets(start) == (12_200, 8_540, 3_660)

    # An offer of two places, taken up for one: repriced to one ticket and its fee, paid; the other place passed on.
    amira = await joined(client, slug, "Amira", quantity=2)
    bashir = await joined(client, slug, "Bashir", quantity=1)
    await raise_capacity(client, organiser, slug, by=2)
    assert await sweep(slug, now) == 1
    assert (await status(client, amira))["offer"]["total_pence"] == 2 * 3050
    taken = await client.post(f"/api/waiting-list/{amira}/accept", json={"quantity": 1})
    assert taken.status_code == 201, taken.text
    offer = taken.json()
    assert offer["total_pence"] == 3050
    assert (await status(client, bashir))["offer"]["places"] == 1
    assert await ledger(slug) == start["ledger"]  # nothing paid yet
    assert (await pay_with_test_page(client, offer)).status_code == 303
    [payment] = await Payment.select(Payment.amount_pence).where(Payment.order_id.reference == offer["reference"])
    assert payment == {"amount_pence": 3050}
    # Bashir takes up the place passed on to him, all of it, and pays.
    whole = await client.post(f"/api/waiting-list/{bashir}/accept", json={})
    assert whole.status_code == 201 and whole.json()["total_pence"] == 3050, whole.text
    assert (await pay_with_test_page(client, whole.json())).status_code == 303
    accepted = await books(client, organiser, slug, now)
    assert accepted["ledger"] == {("payment", "tickets"): 18_000, ("payment", "booking_fees"): 300}
    assert nets(accepted) == (18_300, 12_810, 5_490)
    assert {p: accepted["statements"][p]["net_pence"] for p in PARTNERS} == {PARTNERS[0]: 12_810, PARTNERS[1]: 5_490}

    # A refund in the window through the release API: the ticket and its fee, exactly, out of each partner's share.
    omar_bearer = {"Authorization": f"Bearer {omar['access_token']}"}
    [omar_ticket] = await ticket_ids(client, omar)
    refunded = await client.post(f"/api/tickets/{omar_ticket}/release", json={"choice": "refund"}, headers=omar_bearer)
    assert refunded.status_code == 200 and refunded.json()["refund_pence"] == 3050, refunded.text
    after_refund = await books(client, organiser, slug, now)
    assert after_refund["ledger"] == {
        ("payment", "tickets"): 18_000,
        ("payment", "booking_fees"): 300,
        ("refund", "tickets"): -3_000,
        ("refund", "booking_fees"): -50,
    }
    assert nets(after_refund) == (15_250, 12_810 - 2_135, 5_490 - 915)
    kitchen, cinema = (after_refund["partners"][p] for p in PARTNERS)
    assert (kitchen["refunds_pence"], cinema["refunds_pence"]) == (2_135, 915)
    assert {p: after_refund["statements"][p]["net_pence"] for p in PARTNERS} == {PARTNERS[0]: 10_675, PARTNERS[1]: 4_575}

    # Passing a ticket on moves no money: the books are as they were; the friend's order costs nothing, pays nothing.
    maria_bearer = {"Authorization": f"Bearer {maria['access_token']}"}
    await client.patch(f"/api/events/{slug}", json={"refund_days_before": None}, headers=organiser)  # passing on is offered
    passed = await client.post(
        f"/api/tickets/{(await ticket_ids(client, maria))[0]}/transfer", json={"holder": "Sam", "email": "sam@example.org"}, headers=maria_bearer
    )
    assert passed.status_code == 201, passed.text
    friends = await Order.select(Order.id, Order.total_pence, Order.status).where(Order.reference == passed.json()["order"]).first()
    assert friends is not None and (friends["total_pence"], friends["status"]) == (0, "paid")
    assert await Payment.count().where(Payment.order_id == friends["id"]) == 0
    assert await books(client, organiser, slug, now) == after_refund

    # A free place given back: no money either way.
    leila_ticket = await Ticket.select(Ticket.id, Ticket.order_id.reference).where(Ticket.id == leila.json()["id"]).first()
    assert leila_ticket is not None
    reference = leila_ticket["order_id.reference"]
    leila_bearer = {"Authorization": f"Bearer {order_access_token(app.state.settings.secret_key, reference)}"}
    released = await client.post(f"/api/tickets/{leila_ticket['id']}/release", json={"choice": "free_place"}, headers=leila_bearer)
    assert released.status_code == 200, released.text
    assert await books(client, organiser, slug, now) == after_refund

    # Every order's money: what was paid less what was refunded, to the penny; nothing on the Gift Aid schedule.
    assert sum(after_refund["ledger"].values()) == 6_100 + 3_050 + 3_050 + 3_050 + 3_050 - 3_050 == 15_250
    assert await schedule_rows(client, organiser, now) == []
