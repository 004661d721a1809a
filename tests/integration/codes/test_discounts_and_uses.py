"""Discount codes take money off ticket prices only, to the penny; a code's uses are held by unpaid holds, given back
when a hold ends unpaid, and kept by paid orders."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.codes.tables import Code
from events.orders import service as orders
from events.orders.tables import Order, OrderLine
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.support.orders import another_browser, get_order, pay_with_test_page, ticket_type_id


def _order(type_id: int, quantity: int = 1, email: str = "sam@example.org", **extra: Any) -> dict[str, Any]:
    return {"buyer": {"name": "Sam Okafor", "email": email}, "items": [{"ticket_type": type_id, "quantity": quantity}], **extra}


async def _code(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, **body: Any) -> dict[str, Any]:
    made = await client.post(f"/api/events/{slug}/codes", json=body, headers=organiser)
    assert made.status_code == 201, made.text
    return made.json()


async def _tickets(reference: str) -> list[tuple[str, int, int]]:
    """The order's tickets: type, price and booking fee, sorted."""
    rows = await Ticket.select(Ticket.ticket_type.name, Ticket.price_pence, Ticket.booking_fee_pence).where(Ticket.order_id.reference == reference)
    return sorted((row["ticket_type.name"], row["price_pence"], row["booking_fee_pence"]) for row in rows)


async def _uses(code: str) -> int:
    row = await Code.select(Code.uses).where(Code.code == code).first()
    assert row is not None
    return int(row["uses"])


async def test_a_percentage_comes_off_ticket_prices_never_fees_pay_it_forward_or_donations(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, booking_fee_pence=100, pay_it_forward_place_pence=3000)
    supper = await ticket_type_id(client, slug)
    await _code(client, organiser, slug, code="HALF-PRICE", discount_percent=50, max_uses=10)

    created = await client.post(
        f"/api/events/{slug}/orders",
        json=_order(supper, 3, pay_it_forward_places=1, donation_pence=500, code="half-price"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["total_pence"] == 3 * 1500 + 3 * 100 + 3000 + 500
    order = await Order.select().where(Order.reference == created.json()["reference"]).first()
    assert order is not None
    assert (order["tickets_pence"], order["discount_pence"], order["booking_fees_pence"]) == (4500, 4500, 300)
    assert (order["pay_it_forward_pence"], order["donation_pence"]) == (3000, 500)
    assert order["code"] is not None

    checkout = await client.get(created.json()["payment"]["url"])
    assert re.search(r"Saved with your code \(already taken off the tickets\)</th><td>£45</td>", checkout.text)
    assert (await get_order(client, created.json()))["discount_pence"] == 4500
    await pay_with_test_page(client, created.json())
    tickets = await Ticket.select(Ticket.price_pence, Ticket.booking_fee_pence).where(Ticket.order_id == order["id"])
    assert [(t["price_pence"], t["booking_fee_pence"]) for t in tickets] == [(1500, 100)] * 3


async def test_a_fixed_amount_is_split_over_the_tickets_to_the_penny(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(
        now,
        booking_fee_pence=50,
        ticket_types=[{"name": "Supper", "price_pence": 1000, "max_per_order": 6}, {"name": "Child", "price_pence": 500, "max_per_order": 6}],
    )
    supper, child = await ticket_type_id(client, slug, "Supper"), await ticket_type_id(client, slug, "Child")
    await _code(client, organiser, slug, code="TEN-OFF", discount_pence=1000, max_uses=10)
    body = _order(supper, 2, code="TEN-OFF")
    body["items"].append({"ticket_type": child, "quantity": 1})

    created = await client.post(f"/api/events/{slug}/orders", json=body)
    assert created.status_code == 201, created.text
    # £10 off £25 of tickets, in proportion to their prices: £4 off each supper, £2 off the child's ticket.
    assert created.json()["total_pence"] == 2500 - 1000 + 3 * 50
    await pay_with_test_page(client, created.json())
    assert await _tickets(created.json()["reference"]) == [("Child", 300, 50), ("Supper", 600, 50), ("Supper", 600, 50)]

    # Three £10 tickets with £10 off: £6.66, £6.67 and £6.67, adding up to exactly £20.
    await _code(client, organiser, slug, code="TEN-AGAIN", discount_pence=1000, max_uses=10)
    thirds = await client.post(f"/api/events/{slug}/orders", json=_order(supper, 3, email="ana@example.org", code="TEN-AGAIN"))
    assert thirds.status_code == 201, thirds.text
    row = await Order.select(Order.id, Order.tickets_pence, Order.discount_pence).where(Order.reference == thirds.json()["reference"]).first()
    assert row is not None and (row["tickets_pence"], row["discount_pence"]) == (2000, 1000)
    lines = await OrderLine.select(OrderLine.quantity, OrderLine.unit_price_pence, OrderLine.booking_fee_pence).where(OrderLine.order_id == row["id"])
    assert sorted((line["quantity"], line["unit_price_pence"]) for line in lines) == [(1, 666), (2, 667)]
    await pay_with_test_page(client, thirds.json())
    prices = [t["price_pence"] for t in await Ticket.select(Ticket.price_pence).where(Ticket.order_id == row["id"])]
    assert sorted(prices) == [666, 667, 667] and sum(prices) == 2000


async def test_a_ticket_the_code_makes_free_has_no_fee_and_a_free_order_needs_no_payment(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, booking_fee_pence=100)
    supper = await ticket_type_id(client, slug)
    await _code(client, organiser, slug, code="ON-THE-HOUSE", discount_pence=50_000, max_uses=3)
    created = await client.post(f"/api/events/{slug}/orders", json=_order(supper, 2, code="ON-THE-HOUSE"))
    assert created.status_code == 201, created.text
    assert created.json()["total_pence"] == 0 and created.json()["status"] == "paid"
    assert len((await get_order(client, created.json()))["tickets"]) == 2
    assert await _tickets(created.json()["reference"]) == [("Supper", 0, 0), ("Supper", 0, 0)]
    row = await Order.select(Order.discount_pence, Order.total_pence).where(Order.reference == created.json()["reference"]).first()
    assert row == {"discount_pence": 6000, "total_pence": 0}


async def test_a_hold_that_runs_out_gives_its_use_back_and_a_paid_order_keeps_it(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    supper = await ticket_type_id(client, slug)
    await _code(client, organiser, slug, code="ONLY-ONE", discount_percent=10, max_uses=1)

    first = await client.post(f"/api/events/{slug}/orders", json=_order(supper, code="ONLY-ONE"))
    assert first.status_code == 201, first.text
    assert await _uses("ONLY-ONE") == 1
    async with another_browser(app, "10.0.0.2") as other:
        late = await other.post(f"/api/events/{slug}/orders", json=_order(supper, email="ana@example.org", code="ONLY-ONE"))
        assert late.status_code == 409 and late.json()["error"] == "code_used_up", late.text
        assert late.json()["fields"] == {"code": late.json()["detail"]}

        assert await orders.expire_holds(now + timedelta(hours=1)) == 1
        assert await _uses("ONLY-ONE") == 0
        again = await other.post(f"/api/events/{slug}/orders", json=_order(supper, email="ana@example.org", code="ONLY-ONE"))
        assert again.status_code == 201, again.text
        await pay_with_test_page(other, again.json())
    assert await _uses("ONLY-ONE") == 1
    await orders.expire_holds(now + timedelta(days=2))
    assert await _uses("ONLY-ONE") == 1  # paid: kept

    # The first buyer's payment arrives after their hold ran out and the code's one use went to someone else: like
    # a place that was sold meanwhile, it is refunded, and the code is not used twice.
    from events.payments.service import pay_with_test_provider

    settled = await pay_with_test_provider(first.json()["reference"], gateway=app.state.gateways.environment, now=now + timedelta(hours=2))
    assert settled.outcome != "issued"
    assert (await Order.select(Order.status).where(Order.reference == first.json()["reference"]).first())["status"] == "refunded"
    assert await _uses("ONLY-ONE") == 1


async def test_buying_again_from_the_form_replaces_the_hold_and_its_use(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """A buyer who goes back from the payment page and sends the form again gets a new hold in place of the first:
    the first's use of the code goes back as the new one takes it, so a one-use code still works for them."""
    slug = await make_event(now)
    supper = await ticket_type_id(client, slug)
    await _code(client, organiser, slug, code="ONCE-ONLY", discount_percent=20, max_uses=1)
    page = await client.get(f"/events/{slug}", params={"code": "ONCE-ONLY"})
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {"_csrf_token": csrf.group(1), "code": "ONCE-ONLY", f"quantity_{supper}": "1", "name": "Sam Okafor", "email": "sam@example.org"}
    assert (await client.post(f"/events/{slug}/buy", data=form)).status_code == 303
    again = await client.post(f"/events/{slug}/buy", data={**form, f"quantity_{supper}": "2"})
    assert again.status_code == 303, again.text[:3000]
    statuses = sorted(row["status"] for row in await Order.select(Order.status).where(Order.code.is_not_null()))
    assert statuses == ["expired", "pending"]
    assert await _uses("ONCE-ONLY") == 1
