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


async def sell(client: httpx.AsyncClient, slug: str, door: dict[str, str], quantity: int = 2, method: str = "cash") -> dict[str, object]:
    door_type = await ticket_type_id(client, slug, "Door")
    response = await client.post(
        f"/api/events/{slug}/door-sales", json={"items": [{"ticket_type": door_type, "quantity": quantity}], "payment_method": method}, headers=door
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_door_sale_made_by_mistake_is_undone_once_and_its_places_go_back_on_sale(client: httpx.AsyncClient, now: datetime) -> None:
    """Two tickets rung up instead of one: undone at the door, the £18 is recorded as handed back in cash, both
    tickets stop working, the places are on sale again, and the books show the sale and its reversal (nothing lost,
    nothing left over). A second tap changes nothing."""
    from events.audit.tables import AuditEntry
    from events.ledger.tables import LedgerEntry
    from events.payments.tables import Refund

    slug = await club_night(now)
    door = await door_headers(now, slug)
    sold = await sell(client, slug, door)
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 8

    undone = await client.post(f"/api/events/{slug}/door-sales/{sold['reference']}/undo", headers=door)
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "refunded" and undone.json()["refunded_pence"] == 1800
    assert {ticket["status"] for ticket in undone.json()["tickets"]} == {"refunded"}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 10
    [refund] = await Refund.select(Refund.amount_pence, Refund.method, Refund.status, Refund.requested_by)
    assert refund == {"amount_pence": 1800, "method": "cash", "status": "succeeded", "requested_by": "Door 1"}
    booked = await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.amount_pence).where(LedgerEntry.event.slug == slug)
    assert sum(row["amount_pence"] for row in booked if row["kind"] == "payment") == 1800
    assert sum(row["amount_pence"] for row in booked if row["kind"] == "refund") == -1800
    assert await AuditEntry.count().where(AuditEntry.action == "door.sale_undone", AuditEntry.subject_id == sold["reference"]) == 1

    again = await client.post(f"/api/events/{slug}/door-sales/{sold['reference']}/undo", headers=door)
    assert again.status_code == 409 and again.json()["error"] == "door_sale_undone"
    assert await Refund.count() == 1 and (await client.get(f"/api/events/{slug}")).json()["places_left"] == 10


async def test_only_a_recent_door_sale_of_the_doors_own_event_is_undone(client: httpx.AsyncClient, now: datetime, organiser: dict[str, str]) -> None:
    from events.orders.tables import Order
    from events.payments.tables import Refund
    from tests.support.orders import pay_with_test_page, place_order

    slug = await club_night(now)
    door = await door_headers(now, slug)
    late = await sell(client, slug, door, quantity=1)
    await Order.update({Order.paid_at: Order.paid_at - timedelta(minutes=31)}).where(Order.reference == late["reference"])
    closed = await client.post(f"/api/events/{slug}/door-sales/{late['reference']}/undo", headers=door)
    assert closed.status_code == 409 and closed.json()["error"] == "undo_window_closed"

    online = (await place_order(client, slug, quantity=1, buyer={"name": "Ana", "email": "ana@example.org"})).json()
    await pay_with_test_page(client, online)
    refused = await client.post(f"/api/events/{slug}/door-sales/{online['reference']}/undo", headers=door)
    assert refused.status_code == 409 and refused.json()["error"] == "not_a_door_sale"

    other = await make_event(now, slug="other-night", ticket_types=[{"name": "Door", "price_pence": 500, "channel": "door"}])
    theirs = await sell(client, other, organiser, quantity=1)
    elsewhere = await client.post(f"/api/events/{slug}/door-sales/{theirs['reference']}/undo", headers=door)
    assert elsewhere.status_code == 404  # another event's sale, through this event's door
    not_their_door = await client.post(f"/api/events/{other}/door-sales/{theirs['reference']}/undo", headers=door)
    assert not_their_door.status_code == 403
    assert (await client.post(f"/api/events/{slug}/door-sales/{late['reference']}/undo")).status_code == 401
    assert (await client.post(f"/api/events/{slug}/door-sales/NOT-REAL/undo", headers=door)).status_code == 404
    assert await Refund.count() == 0

    # The organiser undoes a sale of any event they run, within the same half hour.
    assert (await client.post(f"/api/events/{other}/door-sales/{theirs['reference']}/undo", headers=organiser)).status_code == 200


async def test_a_free_door_ticket_sold_by_mistake_is_undone_too(client: httpx.AsyncClient, now: datetime) -> None:
    """A £0 door ticket (a free place handed out at the door) has no money to give back: undoing it voids its tickets
    and frees their places, with no refund."""
    from events.payments.tables import Refund

    slug = await make_event(
        now, slug="free-night", capacity=10, reserved_free_places=0, ticket_types=[{"name": "Door", "price_pence": 0, "channel": "door"}]
    )
    door = await door_headers(now, slug)
    sold = await sell(client, slug, door)
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 8
    undone = await client.post(f"/api/events/{slug}/door-sales/{sold['reference']}/undo", headers=door)
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "refunded" and {ticket["status"] for ticket in undone.json()["tickets"]} == {"void"}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 10
    assert await Refund.count() == 0
    again = await client.post(f"/api/events/{slug}/door-sales/{sold['reference']}/undo", headers=door)
    assert again.status_code == 409 and again.json()["error"] == "door_sale_undone"


async def test_the_statement_counts_the_door_takings_to_check_the_tin_against(client: httpx.AsyncClient, now: datetime) -> None:
    """At the end of the night the treasurer counts the cash tin and the card terminal's report: the event's statement
    says what was sold and given back by each, the sales undone at the door among them, and what should be there."""
    from tests.support.backoffice import sign_in_organiser

    slug = await club_night(now)
    door = await door_headers(now, slug)
    await sell(client, slug, door, quantity=2)  # £18 cash
    mistake = await sell(client, slug, door, quantity=1)  # £9 cash, undone
    await sell(client, slug, door, quantity=1, method="card_terminal")  # £9 on the terminal
    assert (await client.post(f"/api/events/{slug}/door-sales/{mistake['reference']}/undo", headers=door)).status_code == 200

    await sign_in_organiser(client)
    page = await client.get(f"/manage/events/{slug}/statement")
    assert page.status_code == 200 and "Money taken at the door" in page.text
    cash = " ".join(page.text.split('id="door-takings-cash"')[1].split("</tr>")[0].split())
    assert (
        "£27" in cash
        and "2 sales" in cash
        and "£9" in cash
        and "1 refund, including 1 sale undone at the door" in cash
        and "<strong>£18</strong>" in cash
    )
    terminal = " ".join(page.text.split('id="door-takings-card_terminal"')[1].split("</tr>")[0].split())
    assert "1 sale" in terminal and "0 refunds" in terminal and "<strong>£9</strong>" in terminal
