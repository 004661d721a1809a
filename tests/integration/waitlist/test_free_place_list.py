"""The free-place waiting list: guests whose referral link ran out wait with a first name and a phone or email; a
released free place and a place newly funded by pay-it-forward buyers go to them in the order they joined, as
time-limited offers; an offer that runs out gives the free place back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx

from events import db
from events.catalogue.tables import Event
from events.orders import service as orders
from events.orders.tables import Order
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket
from events.waitlist import service as waitlist
from tests.factories import make_event
from tests.integration.waitlist.helpers import entries, event_row, join, offer_messages, status
from tests.support.orders import pay_with_test_page, place_order


async def claim_link(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, places: int, partner: str = "Drop-in Centre") -> str:
    response = await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": partner, "places": places}, headers=organiser)
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def free_places(client: httpx.AsyncClient, slug: str) -> dict[str, int]:
    return (await client.get(f"/api/events/{slug}")).json()["free_places"]


async def release_claimed_place(reference: str) -> None:
    """A guest gives their free place back (the releases package's "Can't come?"): the ticket stops working and the
    free place is free again."""
    order = await Order.select(Order.id, Order.event).where(Order.reference == reference).first()
    assert order is not None
    async with db.write_transaction():
        await Ticket.update({Ticket.status: TicketStatus.released}).where(Ticket.order_id == order["id"])
        await orders.release_free_place(order["event"])


async def test_a_released_and_a_newly_funded_free_place_go_to_the_list_in_order(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=1, pay_it_forward_place_pence=3000)
    assert (await client.patch(f"/api/events/{slug}", json={"pay_it_forward_converts_general": True}, headers=organiser)).status_code == 200
    code = await claim_link(client, organiser, slug, places=1)
    early = await join(client, slug, "Farah", free_place={"claim_code": code})
    assert early.status_code == 409 and early.json()["error"] == "places_available"  # claim it instead
    claimed = await client.post("/api/claims", json={"code": code, "name": "Leila"})
    assert claimed.status_code == 201

    farah = await join(client, slug, "Farah", phone="07911 123456", free_place={"claim_code": code})
    assert farah.status_code == 201 and farah.json()["position"] == 1, farah.text
    goli = await join(client, slug, "Goli", free_place={"claim_code": code})
    assert goli.status_code == 201 and goli.json()["position"] == 2
    two = await join(client, slug, "Hana", quantity=2, free_place={"claim_code": code})
    assert two.status_code == 422
    wrong = await join(client, slug, "Hana", free_place={"claim_code": "nothing-like-a-code"})
    assert wrong.status_code == 404 and wrong.json()["error"] == "claim_code_not_found"
    assert [(row["kind"], row["partner_name"], row["ticket_type"]) for row in await entries()] == [("free", "Drop-in Centre", None)] * 2

    # Leila cannot come: her free place goes to the list first, not to a guest the organiser names.
    [leila] = await Order.select(Order.reference).where(Order.channel == "claim")
    await release_claimed_place(leila["reference"])
    assert (await free_places(client, slug))["available"] == 0
    refused = await client.post(f"/api/events/{slug}/free-tickets", json={"name": "Quick", "email": "quick@example.org"}, headers=organiser)
    assert refused.status_code == 409 and refused.json()["error"] == "no_places_left"

    assert await waitlist.offer_freed_places((await event_row(slug))["id"], now) == 1
    offered = await status(client, farah.json()["access_token"])
    assert offered["status"] == "offered" and offered["offer"] == {
        "places": 1,
        "expires_at": offered["offer"]["expires_at"],
        "total_pence": 0,
        "currency": "GBP",
        "free": True,
    }
    [message] = await offer_messages()
    assert message["channel"] == "sms" and message["recipient"] == "+447911123456" and json.loads(message["detail"])["free"] is True
    assert (await status(client, goli.json()["access_token"]))["position"] == 1

    taken = await client.post(f"/api/waiting-list/{farah.json()['access_token']}/accept")
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    assert ticket["status"] == "paid" and ticket["total_pence"] == 0 and [t["holder"] for t in ticket["tickets"]] == ["Farah"]
    farahs = await Order.select(Order.channel, Order.status, Order.buyer_phone).where(Order.reference == ticket["reference"]).first()
    assert farahs == {"channel": "claim", "status": "paid", "buyer_phone": "+447911123456"}  # a claimed free place like any other
    assert (await event_row(slug))["free_places_claimed"] == 1

    # Two diners pay forward two places: one beyond the reserved place, which becomes free from a general place.
    created = (await place_order(client, slug, quantity=1, pay_it_forward_places=2)).json()
    await pay_with_test_page(client, created)
    taken_before = (await event_row(slug))["places_taken"]
    assert await waitlist.offer_freed_places((await event_row(slug))["id"], now) == 1
    assert (await status(client, goli.json()["access_token"]))["status"] == "offered"
    event = await event_row(slug)
    assert (event["free_places_claimed"], event["places_taken"]) == (2, taken_before + 1)

    # Goli does not answer: the converted place goes back to general places, and the free place count with it.
    expires = datetime.fromisoformat((await status(client, goli.json()["access_token"]))["offer"]["expires_at"])
    assert await waitlist.offer_freed_places(event["id"], expires + timedelta(seconds=1)) == 0
    after = await event_row(slug)
    assert (after["free_places_claimed"], after["places_taken"]) == (1, taken_before)
    assert [row["status"] for row in await entries()] == ["accepted", "lapsed"]


async def test_an_offer_of_a_reserved_free_place_that_runs_out_gives_it_back_to_the_next_guest(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=1)
    code = await claim_link(client, organiser, slug, places=1)
    assert (await client.post("/api/claims", json={"code": code, "name": "Leila"})).status_code == 201
    tokens = [(await join(client, slug, name, free_place={"claim_code": code})).json()["access_token"] for name in ("Farah", "Goli")]
    [leila] = await Order.select(Order.reference).where(Order.channel == "claim")
    await release_claimed_place(leila["reference"])
    event_id = (await event_row(slug))["id"]
    assert await waitlist.offer_freed_places(event_id, now) == 1
    places_taken = (await event_row(slug))["places_taken"]
    expires = datetime.fromisoformat((await status(client, tokens[0]))["offer"]["expires_at"])
    assert await waitlist.offer_freed_places(event_id, expires + timedelta(minutes=1)) == 1
    assert [(await status(client, token))["status"] for token in tokens] == ["lapsed", "offered"]
    event = await Event.select(Event.free_places_claimed, Event.places_taken).where(Event.id == event_id).first()
    assert event == {"free_places_claimed": 1, "places_taken": places_taken}  # a reserved place: general places untouched
    assert await Order.count().where(Order.channel == "waitlist", Order.status == "expired") == 1


async def test_a_closed_links_unclaimed_places_go_to_the_waiting_list(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """The list is never offered the places a live link still has to give; once that link closes, its unclaimed
    places are the event's again, and the first guest waiting is offered one."""
    from events.orders.tables import ClaimCode

    slug = await make_event(now, capacity=10, reserved_free_places=3)
    used = await claim_link(client, organiser, slug, places=1)
    assert (await client.post("/api/claims", json={"code": used, "name": "Leila"})).status_code == 201
    farah = await join(client, slug, "Farah", free_place={"claim_code": used})
    assert farah.status_code == 201, farah.text
    closing = await client.post(
        f"/api/events/{slug}/claim-codes",
        json={"partner_name": "Night shelter", "places": 2, "closes_at": (now + timedelta(hours=2)).isoformat()},
        headers=organiser,
    )
    assert closing.status_code == 201
    event_id = (await event_row(slug))["id"]
    assert await waitlist.offer_freed_places(event_id, now) == 0  # the shelter's link still has two to give

    await ClaimCode.update({ClaimCode.closes_at: now - timedelta(seconds=1)}).where(ClaimCode.partner_name == "Night shelter")
    assert await waitlist.offer_freed_places(event_id, now) == 1
    assert (await status(client, farah.json()["access_token"]))["status"] == "offered"
