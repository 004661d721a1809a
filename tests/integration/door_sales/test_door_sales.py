"""Selling at the door: door prices, tickets issued and checked in, the payment recorded; never past capacity."""

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from litestar import Litestar

from events.accounts import service as accounts
from events.payments.tables import Payment
from events.tickets.outbox import drain_outbox
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.support.orders import ticket_type_id


async def door_headers(now: datetime, slug: str | None = None) -> dict[str, str]:
    """A door volunteer's token; on the door team for ``slug`` when given."""
    user = await accounts.create_user("door@test.example", role="door", password=None, display_name="Door 1")
    if slug:
        from events.catalogue.tables import Event
        from events.checkin.door_team import assign_door_staff

        event = await Event.select(Event.id).where(Event.slug == slug).first()
        await assign_door_staff(event["id"], user.id)
    return {"Authorization": f"Bearer {await accounts.create_api_token('door@test.example', now=now)}"}


async def club_night(now: datetime) -> str:
    return await make_event(
        now,
        slug="club-night",
        capacity=10,
        reserved_free_places=0,
        booking_fee_pence=50,
        ticket_types=[{"name": "Advance", "price_pence": 600, "channel": "online"}, {"name": "Door", "price_pence": 900, "channel": "door"}],
    )


async def test_door_staff_sell_at_the_door_price_and_the_tickets_are_checked_in(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await club_night(now)
    door = await door_headers(now, slug)
    door_type = await ticket_type_id(client, slug, "Door")
    response = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 2}], "payment_method": "cash"}, headers=door
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "paid" and order["total_pence"] == 1800  # door price, no booking fee
    assert len(order["tickets"]) == 2
    [payment] = await Payment.select().where(Payment.order_id.reference == order["reference"])
    assert payment["provider"] == "cash" and payment["amount_pence"] == 1800
    from events.tickets.tables import Ticket

    assert await Ticket.count().where(Ticket.order_id.reference == order["reference"], Ticket.checked_in_at.is_not_null()) == 2
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 8


async def test_the_door_cannot_sell_online_only_types_or_past_capacity(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await club_night(now)
    door = await door_headers(now, slug)
    advance = await ticket_type_id(client, slug, "Advance")
    door_type = await ticket_type_id(client, slug, "Door")
    refused = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": advance, "quantity": 1}], "payment_method": "cash"}, headers=door
    )
    assert refused.status_code == 422
    full = await client.post(
        f"/api/events/{slug}/door-sales",
        json={"items": [{"ticket_type": door_type, "quantity": 11}], "payment_method": "card_terminal"},
        headers=door,
    )
    assert full.status_code in (409, 422)
    anonymous = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 1}], "payment_method": "cash"}
    )
    assert anonymous.status_code == 401
    await accounts.create_user("other-door@test.example", role="door", password=None)
    other_door = {"Authorization": f"Bearer {await accounts.create_api_token('other-door@test.example', now=now)}"}
    not_their_event = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": 1}], "payment_method": "cash"}, headers=other_door
    )
    assert not_their_event.status_code == 403


async def test_a_door_sales_emailed_tickets_offer_no_way_to_give_back_places_already_used(
    client: httpx.AsyncClient, now: datetime, app: Litestar, tmp_path: Path
) -> None:
    """Sold at the door, the tickets are admitted as they are sold (before the start, doors open early): their email
    carries them and the way there, not "Can't come? Give your place back", which the release page would refuse."""
    slug = await club_night(now)
    door = await door_headers(now, slug)
    door_type = await ticket_type_id(client, slug, "Door")
    for quantity in (1, 2):
        sold = await client.post(
            f"/api/events/{slug}/door-sales",
            json={
                "items": [{"ticket_type": door_type, "quantity": quantity}],
                "payment_method": "cash",
                "buyer_email": f"guest{quantity}@example.org",
            },
            headers=door,
        )
        assert sold.status_code == 201, sold.text
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await drain_outbox(now + timedelta(minutes=1), settings=settings)
    sent = sorted((tmp_path / "outbox").glob("*-order_confirmation.eml"))
    assert len(sent) == 2
    for eml in sent:
        words = eml.read_text()
        assert "Your ticket" in words and "cant-come" not in words and "Can't come?" not in words
    # Nor does their page, which the email links to.
    [page_key] = await Ticket.select(Ticket.page_secret).where(Ticket.order_id.buyer_email == "guest1@example.org").output(as_list=True)
    page = await client.get(f"/tickets/{page_key}")
    assert page.status_code == 200 and "cant-come" not in page.text
