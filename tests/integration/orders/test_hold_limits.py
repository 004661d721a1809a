"""Capacity can't be hoarded: unpaid places per email address, holds per client address a minute, and going
back from the payment page replacing the browser's own hold; and the JSON API takes JSON bodies only."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.catalogue.tables import Event, TicketType
from events.orders.tables import Order
from tests.factories import make_event
from tests.support.orders import (
    another_browser,
    pay_with_test_page,
    place_order,
    ticket_type_id,
)


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def hold_settings(app: Litestar) -> Iterator[Callable[..., None]]:
    """Change the running app's settings for one test (e.g. a lower limit), and put them back after."""
    original = app.state.settings

    def change(**changes: Any) -> None:
        app.state.settings = dataclasses.replace(original, **changes)

    yield change
    app.state.settings = original


async def one_window_ahead(seconds_needed: int = 15) -> None:
    """The client limit counts per clock minute: start early enough in one that a test's holds share it."""
    second = datetime.now(timezone.utc).second
    if second > 60 - seconds_needed:
        await asyncio.sleep(61 - second)


async def places_taken(slug: str) -> tuple[int, int]:
    event = await Event.select(Event.places_taken).where(Event.slug == slug).first()
    types = await TicketType.select(TicketType.places_taken).where(TicketType.event.slug == slug)
    return event["places_taken"], sum(row["places_taken"] for row in types)


def buyer(email: str, name: str = "Amal Haddad") -> dict[str, str]:
    return {"name": name, "email": email}


# --- unpaid places per email address ---------------------------------------------------------------------


async def test_one_email_address_holds_at_most_ten_unpaid_places_of_an_event(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=60, reserved_free_places=0)  # at most 6 a order
    first = await place_order(client, slug, quantity=6, buyer=buyer("amal@example.org"))
    second = await place_order(client, slug, quantity=4, buyer=buyer("amal@example.org"))
    assert first.status_code == second.status_code == 201

    for email in ("amal@example.org", "AMAL@Example.ORG"):  # the same person, whatever the capitals
        refused = await place_order(client, slug, quantity=1, buyer=buyer(email))
        assert refused.status_code == 429, refused.text
        body = refused.json()
        assert body["error"] == "hold_limit_reached"
        assert "already has as many unpaid places held for this event" in body["detail"]
        # Try again when the first hold ends (EVENTS_HOLD_MINUTES, 15 by default).
        assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    assert await places_taken(slug) == (10, 10)
    assert await Order.count().where(Order.event.slug == slug) == 2

    # Someone else is not held back by it, nor is the same address at another event.
    assert (await place_order(client, slug, quantity=2, buyer=buyer("layla@example.org"))).status_code == 201
    other = await make_event(now, slug="other-night", capacity=60, reserved_free_places=0)
    assert (await place_order(client, other, quantity=1, buyer=buyer("amal@example.org"))).status_code == 201


async def test_paid_places_do_not_count_against_the_limit(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    first = (await place_order(client, slug, quantity=6, buyer=buyer("amal@example.org"))).json()
    assert (await place_order(client, slug, quantity=6, buyer=buyer("amal@example.org"))).status_code == 429
    assert (await pay_with_test_page(client, first)).status_code == 303
    # The six are paid for: a group may go on buying, six more unpaid at a time.
    again = await place_order(client, slug, quantity=6, buyer=buyer("amal@example.org"))
    assert again.status_code == 201, again.text
    assert await places_taken(slug) == (12, 12)


async def test_one_order_of_more_places_than_an_address_may_hold_is_refused_outright(
    client: httpx.AsyncClient, now: datetime, hold_settings: Callable[..., None]
) -> None:
    hold_settings(hold_places_per_email=4)
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    refused = await place_order(client, slug, quantity=5, buyer=buyer("amal@example.org"))
    assert refused.status_code == 422 and refused.json()["error"] == "too_many_places"  # waiting would not help
    assert (await place_order(client, slug, quantity=4, buyer=buyer("amal@example.org"))).status_code == 201
    assert (await place_order(client, slug, quantity=1, buyer=buyer("amal@example.org"))).status_code == 429
    assert await places_taken(slug) == (4, 4)


async def test_the_buy_form_shows_the_limit_again_with_the_buyers_choices(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    assert (await place_order(client, slug, quantity=6, buyer=buyer("amal@example.org"))).status_code == 201
    assert (await place_order(client, slug, quantity=4, buyer=buyer("amal@example.org"))).status_code == 201
    type_id = await ticket_type_id(client, slug)
    async with another_browser(app) as browser:
        page = await browser.get(f"/events/{slug}")
        form = {f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
        refused = await browser.post(f"/events/{slug}/buy", data=form)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    text = re.sub(r"\s+", " ", refused.text)
    assert "already has as many unpaid places held for this event" in text and 'role="alert"' in text
    assert "<form" in text and 'value="amal@example.org"' in text and '<option value="2" selected>' in text
    assert await places_taken(slug) == (10, 10)


# --- holds per client address a minute -------------------------------------------------------------------


async def test_one_client_address_opens_a_limited_number_of_holds_a_minute(
    client: httpx.AsyncClient, app: Litestar, now: datetime, hold_settings: Callable[..., None]
) -> None:
    hold_settings(holds_per_client_per_minute=3)
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    await one_window_ahead()
    for index in range(3):  # different buyers, one address (e.g. a script)
        assert (await place_order(client, slug, buyer=buyer(f"buyer{index}@example.org"))).status_code == 201
    refused = await place_order(client, slug, buyer=buyer("buyer4@example.org"))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "too_many_holds"
    assert "Please wait a minute" in refused.json()["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert await places_taken(slug) == (3, 3)
    # Another address is not held back by it.
    async with another_browser(app, client_address="192.0.2.7") as elsewhere:
        assert (await place_order(elsewhere, slug, buyer=buyer("buyer5@example.org"))).status_code == 201


async def test_twenty_holds_a_minute_from_one_address_by_default(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    await one_window_ahead(40)
    statuses = [(await place_order(client, slug, buyer=buyer(f"buyer{index}@example.org"))).status_code for index in range(21)]
    assert statuses == [201] * 20 + [429]


# --- going back from the payment page --------------------------------------------------------------------


async def buy_with_form(
    browser: httpx.AsyncClient, slug: str, quantity: int, email: str = "amal@example.org", name: str = "Amal Haddad"
) -> httpx.Response:
    type_id = await ticket_type_id(browser, slug)
    page = await browser.get(f"/events/{slug}")
    form = {f"quantity_{type_id}": str(quantity), "name": name, "email": email, "_csrf_token": csrf(page.text)}
    return await browser.post(f"/events/{slug}/buy", data=form)


async def pending_orders(slug: str) -> list[dict[str, Any]]:
    return await Order.select(Order.reference, Order.places, Order.buyer_email).where(Order.event.slug == slug, Order.status == "pending")


async def test_going_back_from_payment_and_buying_again_replaces_the_hold(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    first = await buy_with_form(client, slug, 2)
    assert first.status_code == 303
    assert (await client.get(first.headers["location"])).status_code == 200  # the payment page
    # Back to the event page; the buyer changes their mind and sends the form again (their email typed with capitals).
    second = await buy_with_form(client, slug, 3, email="AMAL@example.org")
    assert second.status_code == 303 and second.headers["location"] != first.headers["location"]
    [held] = await pending_orders(slug)
    assert held["places"] == 3 and held["buyer_email"] == "AMAL@example.org"
    assert await places_taken(slug) == (3, 3)
    replaced = await Order.select(Order.status).where(Order.event.slug == slug, Order.reference != held["reference"]).first()
    assert replaced["status"] == "expired"
    # The earlier order's payment page no longer takes a payment.
    assert (await client.get(first.headers["location"], follow_redirects=False)).status_code in (302, 303)

    # Another browser's hold is its own: it adds to the places held.
    async with another_browser(app) as other:
        assert (await buy_with_form(other, slug, 3, email="layla@example.org")).status_code == 303
    assert await places_taken(slug) == (6, 6)
    assert sorted(o["places"] for o in await pending_orders(slug)) == [3, 3]


async def test_another_person_buying_on_the_same_browser_leaves_the_first_persons_hold(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    first = await buy_with_form(client, slug, 2, email="amal@example.org")
    assert first.status_code == 303
    # A shared computer: the next person buys on the same browser, with the cookie of Amal's hold still there.
    second = await buy_with_form(client, slug, 1, email="layla@example.org", name="Layla Ahmed")
    assert second.status_code == 303
    held = {o["buyer_email"]: o["places"] for o in await pending_orders(slug)}
    assert held == {"amal@example.org": 2, "layla@example.org": 1}
    assert await places_taken(slug) == (3, 3)
    # Amal's payment page still takes her payment.
    assert (await client.get(first.headers["location"], follow_redirects=False)).status_code == 200


async def test_going_back_to_correct_the_email_address_replaces_the_hold(client: httpx.AsyncClient, now: datetime) -> None:
    """The same buyer (their name) with their email address corrected: the same browser's hold is replaced, not
    added to; as is the same address with the name corrected."""
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    assert (await buy_with_form(client, slug, 2, email="amal@exmaple.org")).status_code == 303
    assert (await buy_with_form(client, slug, 2, email="amal@example.org", name="  amal  HADDAD ")).status_code == 303
    assert (await buy_with_form(client, slug, 2, email="amal@example.org", name="Amal Haddad-Said")).status_code == 303
    assert [(o["buyer_email"], o["places"]) for o in await pending_orders(slug)] == [("amal@example.org", 2)]
    assert await places_taken(slug) == (2, 2)


async def test_an_order_link_does_not_make_a_hold_cookie(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    async with another_browser(app) as other:
        bought = await buy_with_form(other, slug, 2, email="layla@example.org")
        genuine = other.cookies.get("held_order", path=f"/events/{slug}/buy")
    [theirs] = await pending_orders(slug)
    access_token = bought.headers["location"].partition("token=")[2]
    assert access_token and genuine and genuine.partition(".")[2] != access_token
    # Someone holding Layla's order link (her email, her reference) cannot make it into the cookie that replaces her hold.
    client.cookies.set("held_order", f"{theirs['reference']}.{access_token}", path=f"/events/{slug}/buy")
    assert (await buy_with_form(client, slug, 1, email="layla@example.org")).status_code == 303
    assert sorted(o["places"] for o in await pending_orders(slug)) == [1, 2]
    assert await places_taken(slug) == (3, 3)


async def test_a_replacing_hold_that_does_not_fit_keeps_the_earlier_one(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=3, reserved_free_places=0)
    assert (await buy_with_form(client, slug, 2)).status_code == 303
    [earlier] = await pending_orders(slug)
    too_many = await buy_with_form(client, slug, 4)  # 2 back, 4 wanted: one more than the 3 places
    assert too_many.status_code == 409 and "not enough places left" in too_many.text
    assert await pending_orders(slug) == [earlier] and await places_taken(slug) == (2, 2)
    # The full event still lets the buyer change their own hold: their places come back to them first.
    assert (await buy_with_form(client, slug, 3)).status_code == 303
    [now_held] = await pending_orders(slug)
    assert now_held["places"] == 3 and now_held["reference"] != earlier["reference"]
    assert await places_taken(slug) == (3, 3)


async def test_the_form_sent_twice_at_once_replaces_the_hold_once(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    assert (await buy_with_form(client, slug, 2)).status_code == 303
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    form = {f"quantity_{type_id}": "3", "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
    twice = await asyncio.gather(*[client.post(f"/events/{slug}/buy", data=form) for _ in range(2)])
    # Both name the same earlier hold: one replaces it (2 back, 3 held); the other cannot also count those 2.
    assert sorted(response.status_code for response in twice) == [303, 409]
    [held] = await pending_orders(slug)
    assert held["places"] == 3 and await places_taken(slug) == (3, 3)


async def test_a_forged_or_foreign_hold_cookie_replaces_nothing(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    async with another_browser(app) as other:
        assert (await buy_with_form(other, slug, 2, email="layla@example.org")).status_code == 303
        [theirs] = await pending_orders(slug)
    client.cookies.set("held_order", f"{theirs['reference']}.ord_forged", path=f"/events/{slug}/buy")
    assert (await buy_with_form(client, slug, 1)).status_code == 303
    assert sorted(o["places"] for o in await pending_orders(slug)) == [1, 2]
    assert await places_taken(slug) == (3, 3)


# --- unpaid places per client address ------------------------------------------------------------------


async def test_one_client_address_holds_a_limited_number_of_unpaid_places_whatever_the_emails(
    client: httpx.AsyncClient, app: Litestar, now: datetime, hold_settings: Callable[..., None]
) -> None:
    hold_settings(hold_places_per_client=5)
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    first = await place_order(client, slug, quantity=3, buyer=buyer("throwaway1@example.org"))
    assert first.status_code == 201
    assert (await place_order(client, slug, quantity=2, buyer=buyer("throwaway2@example.org"))).status_code == 201
    refused = await place_order(client, slug, quantity=1, buyer=buyer("throwaway3@example.org"))
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "client_hold_limit_reached"
    assert "held from your connection" in refused.json()["detail"]
    # Try again when the first of the address's holds ends.
    assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    assert await places_taken(slug) == (5, 5)
    # The address is not stored, only a keyed hash of it.
    kept = {row["client_key"] for row in await Order.select(Order.client_key).where(Order.event.slug == slug)}
    assert len(kept) == 1 and "127.0.0.1" not in next(iter(kept))

    # Another address is not held back by it; paying frees the first address's places again.
    async with another_browser(app, client_address="192.0.2.7") as elsewhere:
        assert (await place_order(elsewhere, slug, quantity=3, buyer=buyer("layla@example.org"))).status_code == 201
    assert (await pay_with_test_page(client, first.json())).status_code == 303
    assert (await place_order(client, slug, quantity=3, buyer=buyer("throwaway3@example.org"))).status_code == 201


async def test_ipv6_addresses_of_one_64_share_the_places_limit(
    client: httpx.AsyncClient, app: Litestar, now: datetime, hold_settings: Callable[..., None]
) -> None:
    hold_settings(hold_places_per_client=4)
    slug = await make_event(now, capacity=60, reserved_free_places=0)
    async with another_browser(app, client_address="2001:db8:5:6::1") as one, another_browser(app, client_address="2001:db8:5:6::beef") as two:
        assert (await place_order(one, slug, quantity=3, buyer=buyer("a@example.org"))).status_code == 201
        refused = await place_order(two, slug, quantity=2, buyer=buyer("b@example.org"))
        assert refused.status_code == 429 and refused.json()["error"] == "client_hold_limit_reached"
    async with another_browser(app, client_address="2001:db8:5:7::1") as next_network:
        assert (await place_order(next_network, slug, quantity=2, buyer=buyer("b@example.org"))).status_code == 201
    assert await places_taken(slug) == (5, 5)


# --- the JSON API takes JSON ---------------------------------------------------------------------------


async def test_the_json_api_refuses_forms_and_text_bodies_with_415(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    body = json.dumps({"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": type_id, "quantity": 1}]})
    # What a page on another site can make a visitor's browser send without asking first.
    for content_type, content in (
        ("text/plain", body),
        ("text/plain;charset=UTF-8", body),
        ("application/x-www-form-urlencoded", "buyer=x&items=y"),
        ("multipart/form-data; boundary=x", "--x--"),
    ):
        refused = await client.post(f"/api/events/{slug}/orders", content=content, headers={"Content-Type": content_type})
        assert refused.status_code == 415, (content_type, refused.text)
        assert refused.json()["error"] == "unsupported_media_type"
    no_type = await client.post(f"/api/events/{slug}/orders", content=body)
    assert no_type.status_code == 415
    assert await Order.count() == 0 and await places_taken(slug) == (0, 0)
    # Every JSON route, not only buying: e.g. an organiser's cost, with a token.
    cost = await client.post(
        f"/api/events/{slug}/costs", content='{"description": "Hall", "amount_pence": 100}', headers={**organiser, "Content-Type": "text/plain"}
    )
    assert cost.status_code == 415

    accepted = await client.post(f"/api/events/{slug}/orders", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert accepted.status_code == 201, accepted.text
    # A POST without a body still needs no Content-Type.
    created = accepted.json()
    resend = await client.post(f"/api/orders/{created['reference']}/resend", headers={"Authorization": f"Bearer {created['access_token']}"})
    assert resend.status_code != 415
    # The pages' forms are not the API: they still take form bodies.
    page = await client.get(f"/events/{slug}")
    form = await client.post(
        f"/events/{slug}/buy", data={f"quantity_{type_id}": "1", "name": "Layla", "email": "layla@example.org", "_csrf_token": csrf(page.text)}
    )
    assert form.status_code == 303
