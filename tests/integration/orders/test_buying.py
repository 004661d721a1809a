"""Buying online with the development test provider: holds, totals, tickets, and clear refusals."""

import re
from datetime import datetime, timedelta

import httpx

from events.catalogue.tables import Event, TicketType
from events.orders.codes import SECRET_ALPHABET
from events.orders.tables import Order
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order, ticket_type_id


async def places_left(client: httpx.AsyncClient, slug: str) -> int:
    return (await client.get(f"/api/events/{slug}")).json()["places_left"]


async def test_a_guest_holds_places_pays_and_gets_tickets(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.payments.service import pay_with_test_provider

    slug = await make_event(now, pay_it_forward_place_pence=3000)
    response = await place_order(client, slug, quantity=2, pay_it_forward_places=1, donation_pence=500, donation_partner="welcome-cinema")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending"
    assert created["total_pence"] == 2 * 3000 + 3000 + 500
    assert re.fullmatch(r"[A-Z2-9]{3}-[A-Z2-9]{3}", created["reference"])
    assert created["payment"]["provider"] == "test" and created["payment"]["url"].startswith(f"/orders/{created['reference']}/pay")
    hold = datetime.fromisoformat(created["hold_expires_at"])
    assert timedelta(minutes=14) < hold - now <= timedelta(minutes=15, seconds=5)
    assert await places_left(client, slug) == 18  # held places are not for sale

    pending = await get_order(client, created)
    assert pending["tickets"] == [] and pending["status"] == "pending"
    assert [(line["kind"], line["total_pence"], line["partner"]) for line in pending["lines"]] == [
        ("ticket", 6000, None),
        ("pay_it_forward", 3000, None),
        ("donation", 500, "welcome-cinema"),
    ]

    paid = await pay_with_test_page(client, created)
    assert paid.status_code == 303
    order = await get_order(client, created)
    assert order["status"] == "paid"
    assert len(order["tickets"]) == 2
    for ticket in order["tickets"]:
        assert ticket["holder"] == "Amal Haddad" and ticket["type"] == "Supper"
        assert len(ticket["secret"]) == 20 and set(ticket["secret"]) <= set(SECRET_ALPHABET)
        # The page's address has a key of its own: the code the QR code carries opens nothing.
        assert re.fullmatch(r"/tickets/[a-z2-9]{20}", ticket["url"]) and ticket["secret"] not in ticket["url"]
        assert ticket["pdf_url"] == ticket["url"] + "/ticket.pdf"
    assert await places_left(client, slug) == 18  # sold now, still not for sale
    assert (await client.get(created["payment"]["url"])).status_code in (302, 303)  # nothing left to pay
    again = await pay_with_test_provider(created["reference"], gateway=app.state.gateways.environment, now=now)
    assert again.outcome == "already_recorded"  # paying twice books nothing more
    assert len((await get_order(client, created))["tickets"]) == 2


async def test_booking_fees_are_added_per_paid_ticket(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(
        now, booking_fee_pence=50, reserved_free_places=0, ticket_types=[{"name": "Advance", "price_pence": 600, "channel": "online"}]
    )
    created = (await place_order(client, slug, quantity=3)).json()
    assert created["total_pence"] == 3 * 650
    order = await get_order(client, created)
    assert order["booking_fees_pence"] == 150 and order["tickets_pence"] == 1800


async def test_an_order_cannot_be_read_without_its_token(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    created = (await place_order(client, slug)).json()
    for headers in ({}, {"Authorization": "Bearer ord_wrong"}, {"Authorization": f"Bearer {created['access_token']}x"}):
        response = await client.get(f"/api/orders/{created['reference']}", headers=headers)
        assert response.status_code == 404, headers
    assert (await client.get(f"/orders/{created['reference']}?token=nope")).status_code == 404


async def test_bad_orders_are_refused_with_a_message_and_hold_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 4}])
    type_id = await ticket_type_id(client, slug)
    buyer = {"name": "Amal", "email": "amal@example.org"}
    for body, field in (
        ({"buyer": buyer, "items": [{"ticket_type": type_id, "quantity": 0}]}, "items"),
        ({"buyer": buyer, "items": [{"ticket_type": type_id, "quantity": -2}]}, "items"),
        ({"buyer": buyer, "items": [{"ticket_type": 999999, "quantity": 1}]}, "items[0].ticket_type"),
        ({"buyer": buyer, "items": [{"ticket_type": type_id, "quantity": 5}]}, "items[0].quantity"),
        ({"buyer": {"name": "Amal", "email": "amal-at-example"}, "items": [{"ticket_type": type_id, "quantity": 1}]}, "buyer.email"),
        ({"buyer": buyer, "items": []}, "items"),
    ):
        response = await client.post(f"/api/events/{slug}/orders", json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert problem["error"] == "invalid" and problem["detail"]
        assert any(key.startswith(field) for key in problem["fields"]), (field, problem)
    assert await places_left(client, slug) == 20
    assert await Order.count() == 0


async def test_the_last_places_sell_once_and_then_it_is_sold_out(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=25, reserved_free_places=20)
    assert (await place_order(client, slug, quantity=3)).status_code == 201
    too_many = await place_order(client, slug, quantity=3)
    assert too_many.status_code == 409 and too_many.json()["error"] == "sold_out"
    assert (await place_order(client, slug, quantity=2)).status_code == 201
    sold_out = await place_order(client, slug, quantity=1)
    assert sold_out.status_code == 409 and sold_out.json()["error"] == "sold_out"
    assert await places_left(client, slug) == 0
    assert await Order.count() == 2  # refused orders leave nothing behind


async def test_quotas_limit_a_ticket_type_within_the_event(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(
        now,
        reserved_free_places=0,
        ticket_types=[
            {"name": "Early bird", "price_pence": 2000, "quota": 2},
            {"name": "Standard", "price_pence": 3000},
        ],
    )
    assert (await place_order(client, slug, quantity=2, type_name="Early bird")).status_code == 201
    assert (await place_order(client, slug, quantity=1, type_name="Early bird")).json()["error"] == "sold_out"
    assert (await place_order(client, slug, quantity=1, type_name="Standard")).status_code == 201
    types = {t["name"]: t["available"] for t in (await client.get(f"/api/events/{slug}")).json()["ticket_types"]}
    assert types == {"Early bird": 0, "Standard": 37}


async def test_door_only_or_closed_sales_are_refused_as_sales_closed(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(
        now,
        reserved_free_places=0,
        ticket_types=[
            {"name": "Advance", "price_pence": 600, "channel": "online", "sales_end": (now - timedelta(minutes=1)).isoformat()},
            {"name": "Door", "price_pence": 900, "channel": "door"},
        ],
    )
    for name in ("Advance", "Door"):
        response = await place_order(client, slug, type_name=name)
        assert response.status_code == 409 and response.json()["error"] == "sales_closed", name
    await client.patch(f"/api/events/{slug}", json={"status": "sales_closed"}, headers=organiser)
    assert (await place_order(client, slug, type_name="Door")).json()["error"] == "sales_closed"


async def test_the_sweeper_releases_expired_holds_and_the_next_buyer_gets_them(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.payments.service import sweep_expired_holds

    slug = await make_event(now, capacity=22, reserved_free_places=20)
    created = (await place_order(client, slug, quantity=2)).json()
    assert await places_left(client, slug) == 0
    await sweep_expired_holds(now + timedelta(minutes=14), gateways=app.state.gateways)
    assert await places_left(client, slug) == 0  # not yet
    await sweep_expired_holds(now + timedelta(minutes=16), gateways=app.state.gateways)
    assert await places_left(client, slug) == 2
    assert (await get_order(client, created))["status"] == "expired"
    assert (await place_order(client, slug, quantity=2)).status_code == 201


async def test_a_buyer_is_not_turned_away_by_holds_that_ran_out_before_the_sweeper_came(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=21, reserved_free_places=20)
    first = (await place_order(client, slug)).json()
    await Order.update({Order.hold_expires_at: now - timedelta(seconds=1)}).where(Order.reference == first["reference"])
    assert (await place_order(client, slug)).status_code == 201
    assert (await get_order(client, first))["status"] == "expired"


async def test_late_payment_gets_tickets_while_places_remain(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.payments.service import sweep_expired_holds

    slug = await make_event(now, capacity=22, reserved_free_places=20)
    created = (await place_order(client, slug, quantity=2)).json()
    await sweep_expired_holds(now + timedelta(minutes=20), gateways=app.state.gateways)
    await pay_with_test_page(client, created)
    order = await get_order(client, created)
    assert order["status"] == "paid" and len(order["tickets"]) == 2
    assert any("places were still free" in notice for notice in order["notices"])
    assert await places_left(client, slug) == 0


async def test_late_payment_is_refunded_when_the_event_filled_up(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.payments.service import sweep_expired_holds
    from events.payments.tables import Payment, Refund

    slug = await make_event(now, capacity=22, reserved_free_places=20)
    late = (await place_order(client, slug, quantity=2)).json()
    await sweep_expired_holds(now + timedelta(minutes=20), gateways=app.state.gateways)
    on_time = (await place_order(client, slug, quantity=2)).json()
    await pay_with_test_page(client, on_time)
    await pay_with_test_page(client, late)
    order = await get_order(client, late)
    assert order["status"] == "refunded" and order["tickets"] == []
    assert order["refunded_pence"] == order["total_pence"] == 6000
    assert any("refunded you in full" in notice for notice in order["notices"])
    [refund] = await Refund.select().where(Refund.order_id.reference == late["reference"])
    assert refund["amount_pence"] == 6000 and refund["status"] == "succeeded"
    assert await Payment.count().where(Payment.order_id.reference == late["reference"]) == 1  # the payment is recorded too
    assert await places_left(client, slug) == 0
    assert len((await get_order(client, on_time))["tickets"]) == 2


async def test_free_orders_are_confirmed_without_payment(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Volunteer", "price_pence": 0}])
    created = (await place_order(client, slug, quantity=1)).json()
    assert created["status"] == "paid" and created["payment"]["provider"] == "none"
    assert len((await get_order(client, created))["tickets"]) == 1


async def test_counters_always_match_the_orders(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """After a mix of holds, payments, expiries and refunds the capacity counters equal a recount."""
    from events.payments.service import refund_order, sweep_expired_holds

    slug = await make_event(now, capacity=30, reserved_free_places=10)
    orders = [(await place_order(client, slug, quantity=q)).json() for q in (1, 2, 3, 4)]
    await pay_with_test_page(client, orders[0])
    await pay_with_test_page(client, orders[1])
    await refund_order(
        orders[1]["reference"],
        ticket_ids=None,
        amount_pence=None,
        reason="can't come",
        requested_by="t",
        gateway=app.state.gateways.environment,
        now=now,
    )
    await Order.update({Order.hold_expires_at: now - timedelta(minutes=1)}).where(Order.reference == orders[2]["reference"])
    await sweep_expired_holds(now, gateways=app.state.gateways)
    event = await Event.select(Event.places_taken).where(Event.slug == slug).first()
    assert event["places_taken"] == 1 + 4  # paid 1, refunded 2 released, expired 3 released, pending 4 held
    [supper] = await TicketType.select(TicketType.places_taken).where(TicketType.event.slug == slug)
    assert supper["places_taken"] == 5


async def test_when_the_payment_provider_is_down_the_hold_is_released_and_the_guest_told(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from events.payments.gateway import PaymentProviderError, TestGateway

    class Unreachable(TestGateway):
        async def create_intent(self, **_: object) -> tuple[str, str]:
            raise PaymentProviderError("We could not reach the payment provider. Please try again in a moment.")

    slug = await make_event(now, capacity=21, reserved_free_places=20)
    from events.payments.gateways import Gateways

    working = app.state.gateways
    app.state.gateways = Gateways(Unreachable(), app.state.settings)
    try:
        response = await place_order(client, slug)
    finally:
        app.state.gateways = working
    assert response.status_code == 503
    assert response.json() == {"error": "payment_unavailable", "detail": "We could not reach the payment provider. Please try again in a moment."}
    assert await places_left(client, slug) == 1  # the place went straight back on sale
    [order] = await Order.select(Order.status)
    assert order["status"] == "expired"
