"""Referral partners' places and the free-place waiting list: the free places a partner's link still has to give stay
that partner's (its guests can claim them, nobody on the list is offered them); the list gets the free places beyond
them in join order; a place given back after being claimed through a link goes to that link's waiting guests first;
the organiser can still give a free place while guests wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.orders.codes import order_access_token
from events.orders.tables import Order
from events.waitlist import service as waitlist
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.integration.waitlist.helpers import event_row, joined, status
from tests.integration.waitlist.test_free_place_list import claim_link, free_places
from tests.support.orders import pay_with_test_page, place_order


async def claim(client: httpx.AsyncClient, code: str, name: str) -> httpx.Response:
    return await client.post("/api/claims", json={"code": code, "name": name, "email": f"{name.lower()}@example.org"})


async def claimed(client: httpx.AsyncClient, app: Litestar, code: str, name: str) -> dict[str, Any]:
    """A place claimed through the link: its ticket id and its order's bearer header (for "Can't come?")."""
    response = await claim(client, code, name)
    assert response.status_code == 201, response.text
    [order] = await Order.select(Order.reference).where(Order.buyer_name == name)
    token = order_access_token(app.state.settings.secret_key, order["reference"])
    return {"id": response.json()["id"], "bearer": {"Authorization": f"Bearer {token}"}}


async def statuses(client: httpx.AsyncClient, *tokens: str) -> list[str]:
    return [(await status(client, token))["status"] for token in tokens]


async def test_a_partners_unused_places_stay_its_own_while_another_partners_guests_wait(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=2)
    event_id = (await event_row(slug))["id"]
    drop_in = await claim_link(client, organiser, slug, places=1, partner="Drop-in Centre")
    shelter = await claim_link(client, organiser, slug, places=1, partner="Night Shelter")
    assert (await claim(client, drop_in, "Leila")).status_code == 201

    # The Drop-in Centre's link is used up: its next guest waits. The Night Shelter's guest can still claim, so waits not.
    farah = await joined(client, slug, "Farah", free_place={"claim_code": drop_in})
    early = await client.post(
        f"/api/events/{slug}/waiting-list", json={"name": "Bea", "email": "bea@example.org", "free_place": {"claim_code": shelter}}
    )
    assert early.status_code == 409 and early.json()["error"] == "places_available"

    # The one free place left is the Night Shelter's: nobody on the list is offered it, by the sweep or by hand.
    assert await waitlist.offer_freed_places(event_id, now) == 0
    [entry] = await WaitingEntry.select(WaitingEntry.id)
    by_hand = await client.post(f"/api/events/{slug}/waiting-list/{entry['id']}/offer", headers=organiser)
    assert by_hand.status_code == 409 and by_hand.json()["error"] == "no_places"
    assert (await free_places(client, slug))["available"] == 1  # shown as free to claim, not kept for the list
    bea = await claim(client, shelter, "Bea")
    assert bea.status_code == 201, bea.text

    assert await waitlist.offer_freed_places(event_id, now) == 0
    assert await statuses(client, farah) == ["waiting"]
    assert await Order.count().where(Order.channel == "waitlist") == 0
    assert (await event_row(slug))["free_places_claimed"] == 2


async def test_the_organiser_can_give_a_free_place_while_guests_wait(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=2)
    drop_in = await claim_link(client, organiser, slug, places=1, partner="Drop-in Centre")
    await claim_link(client, organiser, slug, places=1, partner="Night Shelter")
    assert (await claim(client, drop_in, "Leila")).status_code == 201
    farah = await joined(client, slug, "Farah", free_place={"claim_code": drop_in})

    # Nothing is kept for the list (the free place left is a link's), so the organiser's own gift goes through.
    given = await client.post(f"/api/events/{slug}/free-tickets", json={"name": "Quick", "email": "quick@example.org"}, headers=organiser)
    assert given.status_code == 201, given.text
    assert (await event_row(slug))["free_places_claimed"] == 2
    assert await statuses(client, farah) == ["waiting"]


async def test_a_place_given_back_goes_first_to_the_waiting_guests_of_the_link_it_was_claimed_through(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Litestar, now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=3)
    drop_in = await claim_link(client, organiser, slug, places=1, partner="Drop-in Centre")
    shelter = await claim_link(client, organiser, slug, places=2, partner="Night Shelter")
    leila = await claimed(client, app, drop_in, "Leila")
    for name in ("Bea", "Bo"):
        assert (await claim(client, shelter, name)).status_code == 201
    # The Night Shelter's guest joined first; then the Drop-in Centre's.
    goli = await joined(client, slug, "Goli", free_place={"claim_code": shelter})
    farah = await joined(client, slug, "Farah", free_place={"claim_code": drop_in})

    # Leila, who claimed through the Drop-in Centre's link, can't come: the place goes to the Drop-in Centre's guest.
    released = await client.post(f"/api/tickets/{leila['id']}/release", json={"choice": "free_place"}, headers=leila["bearer"])
    assert released.status_code == 200, released.text
    assert await statuses(client, farah, goli) == ["offered", "waiting"]
    assert (await status(client, goli))["position"] == 1

    # Farah's offer runs out unanswered: the place is the list's again, and goes on in join order.
    expires = datetime.fromisoformat((await status(client, farah))["offer"]["expires_at"])
    event_id = (await event_row(slug))["id"]
    assert await waitlist.offer_freed_places(event_id, expires + timedelta(minutes=1)) == 1
    assert await statuses(client, farah, goli) == ["lapsed", "offered"]


async def test_newly_funded_places_go_to_the_list_in_join_order_across_partners_once_links_have_theirs(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=20, reserved_free_places=0, pay_it_forward_place_pence=3000)
    assert (await client.patch(f"/api/events/{slug}", json={"pay_it_forward_converts_general": True}, headers=organiser)).status_code == 200
    event_id = (await event_row(slug))["id"]

    async def fund(places: int) -> None:
        created = await place_order(client, slug, quantity=1, pay_it_forward_places=places)
        assert created.status_code == 201, created.text
        await pay_with_test_page(client, created.json())

    await fund(2)
    drop_in = await claim_link(client, organiser, slug, places=1, partner="Drop-in Centre")
    shelter = await claim_link(client, organiser, slug, places=1, partner="Night Shelter")
    assert (await claim(client, drop_in, "Leila")).status_code == 201
    assert (await claim(client, shelter, "Bea")).status_code == 201
    goli = await joined(client, slug, "Goli", free_place={"claim_code": shelter})
    farah = await joined(client, slug, "Farah", free_place={"claim_code": drop_in})
    womens_group = await claim_link(client, organiser, slug, places=1, partner="Women's Group")

    # The next funded place is the Women's Group's, whose link has not been used: nobody waiting is offered it.
    await fund(1)
    assert await waitlist.offer_freed_places(event_id, now) == 0
    # Each place funded beyond that goes to the list, in the order people joined, whichever partner sent them.
    await fund(1)
    assert await waitlist.offer_freed_places(event_id, now) == 1
    assert await statuses(client, goli, farah) == ["offered", "waiting"]
    await fund(1)
    assert await waitlist.offer_freed_places(event_id, now) == 1
    assert await statuses(client, goli, farah) == ["offered", "offered"]
    # And the Women's Group's guest still has a place.
    assert (await claim(client, womens_group, "Nour")).status_code == 201
