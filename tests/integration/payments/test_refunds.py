"""Refunding: money back never exceeds what was paid, places go back on sale."""

from datetime import datetime

import httpx

from events.catalogue.tables import Event
from events.payments.tables import Refund
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.door_sales.test_door_sales import club_night, door_headers
from tests.support.orders import get_order, pay_with_test_page, place_order, ticket_type_id


async def test_an_organiser_refunds_one_ticket_then_the_rest(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await club_night(now)
    created = (await place_order(client, slug, quantity=2, type_name="Advance", donation_pence=300)).json()
    await pay_with_test_page(client, created)
    order = await get_order(client, created)
    first, second = order["tickets"]

    one = await client.post(
        f"/api/orders/{created['reference']}/refunds", json={"tickets": [first["id"]], "reason": "Cannot come"}, headers=organiser
    )
    assert one.status_code == 201, one.text
    assert one.json()["amount_pence"] == 650 and one.json()["status"] == "succeeded"
    after_one = await get_order(client, created)
    assert after_one["status"] == "paid" and after_one["refunded_pence"] == 650
    assert {t["id"]: t["status"] for t in after_one["tickets"]} == {first["id"]: "refunded", second["id"]: "valid"}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 9  # the place is back on sale

    again = await client.post(f"/api/orders/{created['reference']}/refunds", json={"tickets": [first["id"]], "reason": "twice"}, headers=organiser)
    assert again.status_code == 422

    too_much = await client.post(f"/api/orders/{created['reference']}/refunds", json={"amount_pence": 1000, "reason": "x"}, headers=organiser)
    assert too_much.status_code == 422 and "cannot be more" in too_much.json()["detail"]

    rest = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "Event moved"}, headers=organiser)
    assert rest.status_code == 201 and rest.json()["amount_pence"] == 650 + 300
    final = await get_order(client, created)
    assert final["status"] == "refunded" and final["refunded_pence"] == final["total_pence"] == 1600
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 10
    assert sum(r["amount_pence"] for r in await Refund.select(Refund.amount_pence)) == 1600
    nothing_left = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "again"}, headers=organiser)
    assert nothing_left.status_code == 409


async def test_cash_sales_are_refunded_in_cash_and_only_organisers_refund(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await club_night(now)
    door = await door_headers(now, slug)
    door_type = await ticket_type_id(client, slug, "Door")
    sold = (
        await client.post(
            f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 1}], "payment_method": "cash"}, headers=door
        )
    ).json()
    forbidden = await client.post(f"/api/orders/{sold['reference']}/refunds", json={"reason": "x"}, headers=door)
    assert forbidden.status_code == 403
    refund = await client.post(f"/api/orders/{sold['reference']}/refunds", json={"reason": "Wrong night"}, headers=organiser)
    assert refund.status_code == 201 and refund.json()["method"] == "cash" and refund.json()["status"] == "succeeded"


async def test_unpaid_orders_cannot_be_refunded(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await club_night(now)
    created = (await place_order(client, slug, type_name="Advance")).json()
    response = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "x"}, headers=organiser)
    assert response.status_code == 409 and response.json()["error"] == "not_refundable"
    missing = await client.post("/api/orders/ZZZ-ZZZ/refunds", json={"reason": "x"}, headers=organiser)
    assert missing.status_code == 404


async def test_a_whole_order_refund_leaves_out_a_ticket_passed_on_until_the_event_is_cancelled(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """A ticket passed on to a friend is the friend's place: refunding "everything" on the buyer's order does not give
    its price back while the friend's ticket still works. Cancelling the event voids the friend's ticket too, and
    then the buyer who paid for it has it back."""
    slug = await make_event(now)
    await Event.update({Event.refund_days_before: None}).where(Event.slug == slug)  # passing on is offered
    created = (await place_order(client, slug, quantity=3)).json()
    await pay_with_test_page(client, created)
    bearer = {"Authorization": f"Bearer {created['access_token']}"}
    passed, donated, kept = (t["id"] for t in (await get_order(client, created))["tickets"])
    worth = 3000  # each Supper ticket: its price, no booking fee
    friend = await client.post(f"/api/tickets/{passed}/transfer", json={"holder": "Sam", "email": "sam@example.org"}, headers=bearer)
    assert friend.status_code == 201, friend.text
    assert (await client.post(f"/api/tickets/{donated}/release", json={"choice": "donate"}, headers=bearer)).status_code == 200

    everything = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "Asked by phone"}, headers=organiser)
    assert everything.status_code == 201, everything.text
    assert everything.json()["amount_pence"] == worth  # the kept ticket only: not the donated one, not the friend's
    after = await get_order(client, created)
    assert after["status"] == "paid" and after["refunded_pence"] == worth
    assert {t["id"]: t["status"] for t in after["tickets"]} == {passed: "passed_on", donated: "released", kept: "refunded"}
    assert (await Ticket.select(Ticket.status).where(Ticket.order_id.reference == friend.json()["order"]).first()) == {"status": "valid"}
    nothing_more = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "again"}, headers=organiser)
    assert nothing_more.status_code == 422 and "nothing left" in nothing_more.json()["detail"]
    more = await client.post(f"/api/orders/{created['reference']}/refunds", json={"amount_pence": 1, "reason": "x"}, headers=organiser)
    assert more.status_code == 422

    cancelled = await client.post(f"/api/events/{slug}/cancel", json={"reason": "Flooded hall", "donation_choice_days": 0}, headers=organiser)
    assert cancelled.status_code == 200, cancelled.text
    refunds = [r["amount_pence"] for r in await Refund.select(Refund.amount_pence).where(Refund.order_id.reference == created["reference"])]
    assert refunds == [worth, worth]  # the friend's ticket is void now: the buyer has its price back
    final = await get_order(client, created)
    assert final["status"] == "refunded" and final["refunded_pence"] == 2 * worth  # the donation stays a donation
    assert await Ticket.count().where(Ticket.status == "valid") == 0
