"""The paid-places waiting list through the API: joining, status and leaving; offers when places free up (a refund, a
hold running out, capacity raised), in join order, each sent once; offers running out and passing on; taking fewer
places; and bad input that changes nothing."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from events import db
from events.catalogue.tables import Event
from events.errors import Conflict, Gone
from events.orders.tables import Order
from events.payments.gateway import TestGateway
from events.tickets import outbox
from events.tickets.tables import OutboxMessage
from events.waitlist import service as waitlist
from events.waitlist.tables import WaitingEntry
from tests.integration.waitlist.helpers import entries, event_row, join, joined, offer_messages, sold_out_event, status, type_row
from tests.support.orders import get_order, pay_with_test_page, place_order


async def raise_capacity(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, by: int) -> None:
    capacity = (await event_row(slug))["capacity"]
    response = await client.patch(f"/api/events/{slug}", json={"capacity": capacity + by}, headers=organiser)
    assert response.status_code == 200, response.text


async def sweep(slug: str, now: datetime) -> int:
    return await waitlist.offer_freed_places((await event_row(slug))["id"], now)


async def test_guests_join_see_their_position_and_leave(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await sold_out_event(client, now)
    first = await join(client, slug, "Amira", quantity=2, locale="ar")
    assert first.status_code == 201, first.text
    assert first.json()["position"] == 1 and len(first.json()["access_token"]) >= 22
    second = await joined(client, slug, "Bashir", phone="07911 123456")
    assert (await status(client, second))["position"] == 2
    entry = await status(client, first.json()["access_token"])
    assert entry["status"] == "waiting" and entry["quantity"] == 2 and entry["event"] == slug and entry["offer"] is None
    [amira, bashir] = await entries()
    assert (amira["locale"], amira["email"], bashir["phone"], bashir["email"]) == ("ar", "amira@example.org", "+447911123456", "")

    assert (await client.delete(f"/api/waiting-list/{first.json()['access_token']}")).status_code == 204
    assert (await status(client, second))["position"] == 1
    assert (await status(client, first.json()["access_token"]))["status"] == "left"
    assert (await client.delete(f"/api/waiting-list/{first.json()['access_token']}")).status_code == 204  # leaving twice: no change
    assert [row["status"] for row in await entries()] == ["left", "waiting"]


async def test_the_list_opens_only_when_places_run_out_and_while_it_is_open(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await sold_out_event(client, now)
    await Event.update({Event.capacity: 3}).where(Event.slug == slug)
    available = await join(client, slug, "Amira")
    assert available.status_code == 409 and available.json()["error"] == "places_available"
    await Event.update({Event.capacity: 2, Event.waiting_list_open: False}).where(Event.slug == slug)
    closed = await join(client, slug, "Amira")
    assert closed.status_code == 409 and closed.json()["error"] == "waiting_list_closed"
    assert await entries() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Amira", "email": "amira@example.org", "quantity": 7}, "quantity"),  # above the type's per-order maximum
        ({"name": "Amira", "quantity": 1}, "email"),  # no way to tell them
        ({"name": "Amira", "phone": "020 7946 0000", "quantity": 1}, "phone"),  # a landline cannot take a text
        ({"name": "Amira", "email": "not-an-address", "quantity": 1}, "email"),
        ({"name": "Am\u0007ira", "email": "amira@example.org", "quantity": 1}, "name"),
        ({"name": "Amira", "email": "amira@example.org", "quantity": 1, "locale": "de"}, "locale"),
        ({"name": "Amira", "email": "amira@example.org", "quantity": 1, "ticket_type": 999999}, "ticket_type"),
    ],
)
async def test_bad_join_requests_are_refused_and_change_nothing(
    client: httpx.AsyncClient, now: datetime, body: dict[str, object], field: str
) -> None:
    slug = await sold_out_event(client, now)
    response = await client.post(f"/api/events/{slug}/waiting-list", json=body)
    assert response.status_code == 422, response.text
    assert any(field in key for key in response.json().get("fields", {})) or field in response.json()["detail"], response.json()
    assert await entries() == []


async def test_one_entry_per_email_and_unknown_tokens(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira")
    again = await join(client, slug, "Amira", email="AMIRA@example.org")
    assert again.status_code == 409 and again.json()["error"] == "already_waiting" and "access_token" not in again.text
    assert "The link to your place in it has been sent to you." in again.json()["detail"]  # never shown on screen
    assert len(await entries()) == 1

    async def told() -> int:
        return await OutboxMessage.count().where(OutboxMessage.kind == "waiting_list_joined")

    assert await told() == 1  # a second tap just after joining sends nothing more
    # Having lost the message with the link to their place, they get it again: to the entry's own address, at most
    # three times, never twice in ten minutes (someone typing another person's email cannot flood them).
    for sent in (2, 3, 4, 4):
        await OutboxMessage.update({OutboxMessage.created_at: OutboxMessage.created_at - timedelta(minutes=11)}, force=True)  # time passes
        for _ in range(2):
            assert (await join(client, slug, "Amira", email="amira@example.org")).status_code == 409
        assert await told() == sent
    recipients = {row["recipient"] for row in await OutboxMessage.select(OutboxMessage.recipient).where(OutboxMessage.kind == "waiting_list_joined")}
    assert recipients == {"amira@example.org"}
    for method in ("get", "delete"):
        unknown = await client.request(method, "/api/waiting-list/not-a-real-token-at-all")
        assert unknown.status_code == 404 and unknown.json()["error"] == "waiting_entry_not_found"
    unknown = await client.post("/api/waiting-list/not-a-real-token-at-all/accept", json={})
    assert unknown.status_code == 404
    assert [row["status"] for row in await entries()] == ["waiting"]


async def test_a_guest_offered_places_who_joins_again_is_sent_the_offer_again(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Places are held for Amira, who lost the message: joining again sends the offer's message again (its link and
    time), to the offer's own contact, within the same limits as the joined message; not once the offer has run out."""
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira")
    await raise_capacity(client, organiser, slug, by=1)
    assert await sweep(slug, now) == 1

    async def offers() -> list[dict[str, object]]:
        return await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.detail).where(OutboxMessage.kind == "waiting_list_offer")

    assert len(await offers()) == 1
    again = await join(client, slug, "Amira", email="Amira@Example.org")
    assert again.status_code == 409 and again.json()["error"] == "already_waiting"
    assert len(await offers()) == 1  # the offer went moments ago: nothing more yet
    for sent in (2, 3, 4, 4):
        await OutboxMessage.update({OutboxMessage.created_at: OutboxMessage.created_at - timedelta(minutes=11)}, force=True)
        assert (await join(client, slug, "Amira", email="amira@example.org")).status_code == 409
        assert len(await offers()) == sent
    sent_offers = await offers()
    assert {row["recipient"] for row in sent_offers} == {"amira@example.org"}
    assert len({row["detail"] for row in sent_offers}) == 1  # the same places, link and time each time
    assert await OutboxMessage.count().where(OutboxMessage.kind == "waiting_list_joined") == 1  # never "you are number 1"

    await WaitingEntry.update({WaitingEntry.offer_expires_at: now - timedelta(minutes=1)}, force=True)  # it ran out
    await OutboxMessage.delete(force=True)
    assert (await join(client, slug, "Amira", email="amira@example.org")).status_code == 409
    assert await offers() == []


async def test_capacity_raised_is_offered_in_join_order_and_not_sold_meanwhile(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira", quantity=2)
    bashir = await joined(client, slug, "Bashir")
    await raise_capacity(client, organiser, slug, by=1)
    # Until the list is offered it, the freed place is not on sale.
    public = (await client.get(f"/api/events/{slug}")).json()
    assert public["places_left"] == 0 and [t["available"] for t in public["ticket_types"]] == [0]
    rushed = await place_order(client, slug, quantity=1, buyer={"name": "Quick", "email": "quick@example.org"})
    assert rushed.status_code == 409 and rushed.json()["error"] == "sold_out"

    assert await sweep(slug, now) == 1
    offered = await status(client, amira)
    assert offered["status"] == "offered" and offered["offer"]["places"] == 1 and offered["offer"]["total_pence"] > 0
    assert datetime.fromisoformat(offered["offer"]["expires_at"]) == now + timedelta(hours=12)
    assert (await status(client, bashir))["position"] == 1
    [message] = await offer_messages()
    detail = json.loads(message["detail"])
    assert message["recipient"] == "amira@example.org" and message["dedupe_key"].startswith("offer:")
    assert detail["link"] == f"/waiting-list/{amira}" and detail["places"] == 1
    assert await sweep(slug, now) == 0  # nothing more is free: no second offer, no second message
    assert len(await offer_messages()) == 1
    order = await Order.select().where(Order.channel == "waitlist").first()
    assert order is not None and order["status"] == "pending" and order["places"] == 1 and order["buyer_email"] == "amira@example.org"
    assert (await event_row(slug))["places_taken"] == 3


async def test_the_events_lists_leave_out_the_places_held_for_the_list_as_the_event_page_does(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira", quantity=2)
    organisation = (await client.get(f"/api/events/{slug}")).json()["organisation"]["slug"]

    async def places_left() -> dict[str, int]:
        """What each list of events says is left, and the event's own page."""
        listed = {event["slug"]: event["places_left"] for event in (await client.get("/api/events")).json()}
        own = {event["slug"]: event["places_left"] for event in (await client.get(f"/api/organisations/{organisation}")).json()["events"]}
        return {"events": listed[slug], "organisation": own[slug], "event": (await client.get(f"/api/events/{slug}")).json()["places_left"]}

    await raise_capacity(client, organiser, slug, by=1)  # one place freed: Amira's list holds it
    assert await places_left() == {"events": 0, "organisation": 0, "event": 0}
    for page in ("/", f"/organisations/{organisation}"):
        assert 'class="sold-out"' in (await client.get(page)).text, page
    await raise_capacity(client, organiser, slug, by=2)  # three freed: two held for Amira, one on sale
    assert await places_left() == {"events": 1, "organisation": 1, "event": 1}
    for page in ("/", f"/organisations/{organisation}"):
        assert 'class="sold-out"' not in (await client.get(page)).text, page


async def test_a_refund_voiding_a_ticket_frees_a_place_for_the_list(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    [paid, *_] = await Order.select(Order.reference).where(Order.status == "paid").order_by(Order.id)
    refund = await client.post(f"/api/orders/{paid['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund.status_code == 201, refund.text
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 0  # held for the list
    assert await sweep(slug, now) == 1
    assert (await status(client, amira))["offer"]["places"] == 1


async def test_a_hold_that_runs_out_frees_a_place_for_the_list(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_sold_out_by_a_hold(client, organiser, now)
    amira = await joined(client, slug, "Amira")
    assert await sweep(slug, now) == 0  # the hold still holds
    later = now + timedelta(minutes=16)
    assert await sweep(slug, later) == 1
    assert (await status(client, amira))["status"] == "offered"
    assert await Order.count().where(Order.status == "expired") == 1


async def make_sold_out_by_a_hold(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> str:
    slug = await sold_out_event(client, now)
    await raise_capacity(client, organiser, slug, by=1)
    held = await place_order(client, slug, quantity=1, buyer={"name": "Slow", "email": "slow@example.org"})
    assert held.status_code == 201, held.text
    return slug


async def test_an_unanswered_offer_runs_out_and_passes_to_the_next_person(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    bashir = await joined(client, slug, "Bashir")
    await raise_capacity(client, organiser, slug, by=1)
    assert await sweep(slug, now) == 1
    expires = datetime.fromisoformat((await status(client, amira))["offer"]["expires_at"])

    assert await sweep(slug, expires - timedelta(seconds=1)) == 0  # still hers
    after = expires + timedelta(seconds=1)
    assert await sweep(slug, after) == 1
    lapsed, offered = await entries()
    assert (lapsed["status"], offered["status"]) == ("lapsed", "offered")
    assert offered["offered_places"] == 1 and offered["offer_expires_at"] == after + timedelta(hours=12)
    assert [json.loads(m["detail"])["link"] for m in await offer_messages()] == [f"/waiting-list/{amira}", f"/waiting-list/{bashir}"]
    assert (await event_row(slug))["places_taken"] == 3  # Amira's place went back and to Bashir: still one place held

    late = await client.post(f"/api/waiting-list/{amira}/accept", json={})
    assert late.status_code == 410 and late.json()["error"] == "offer_expired"
    with pytest.raises(Gone):
        await waitlist.accept(amira, None, after, gateway=TestGateway(), hold_minutes=15)
    assert (await status(client, amira))["status"] == "lapsed"


async def test_the_offer_near_the_event_is_shorter(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    await raise_capacity(client, organiser, slug, by=1)
    starts = (await event_row(slug))["starts_at"]
    day_before = starts - timedelta(days=1)
    assert await sweep(slug, day_before) == 1
    assert datetime.fromisoformat((await status(client, amira))["offer"]["expires_at"]) == day_before + timedelta(hours=6)


async def test_taking_fewer_places_passes_the_rest_on_and_pays_for_the_rest(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira", quantity=2)
    bashir = await joined(client, slug, "Bashir", quantity=1)
    await raise_capacity(client, organiser, slug, by=2)
    assert await sweep(slug, now) == 1
    assert (await status(client, amira))["offer"]["places"] == 2

    too_many = await client.post(f"/api/waiting-list/{amira}/accept", json={"quantity": 3})
    assert too_many.status_code == 422
    assert (await status(client, amira))["status"] == "offered"

    taken = await client.post(f"/api/waiting-list/{amira}/accept", json={"quantity": 1})
    assert taken.status_code == 201, taken.text
    created = taken.json()
    price = (await type_row(slug))["price_pence"]
    fee = (await event_row(slug))["booking_fee_pence"]
    assert created["status"] == "pending" and created["total_pence"] == price + fee and created["payment"]["url"].startswith("/orders/")
    assert (await status(client, amira))["status"] == "accepted"
    # The place she did not take went to Bashir at once.
    passed = await status(client, bashir)
    assert passed["status"] == "offered" and passed["offer"]["places"] == 1
    assert (await event_row(slug))["places_taken"] == 4

    twice = await client.post(f"/api/waiting-list/{amira}/accept", json={})
    assert twice.status_code == 409 and twice.json()["error"] == "offer_accepted"
    paid = await pay_with_test_page(client, created)
    assert paid.status_code == 303
    order = await get_order(client, created)
    assert order["status"] == "paid" and len(order["tickets"]) == 1 and order["total_pence"] == price + fee
    after = await status(client, amira)
    assert after["status"] == "accepted" and after["order"] == created["reference"]
    assert after["order_url"] == f"/orders/{created['reference']}?token={created['access_token']}"


async def test_leaving_with_an_offer_passes_it_on(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    bashir = await joined(client, slug, "Bashir")
    await raise_capacity(client, organiser, slug, by=1)
    assert await sweep(slug, now) == 1
    assert (await client.delete(f"/api/waiting-list/{amira}")).status_code == 204
    assert (await status(client, bashir))["status"] == "offered"
    assert await Order.count().where(Order.channel == "waitlist", Order.status == "expired") == 1
    assert (await event_row(slug))["places_taken"] == 3


async def test_organisers_offer_by_hand_out_of_turn(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira")
    bashir = await joined(client, slug, "Bashir")
    _, bashir_entry = await entries()
    with pytest.raises(Conflict) as nothing_free:
        await waitlist.offer_to_entry(slug, bashir_entry["id"], now)
    assert nothing_free.value.code == "no_places"
    await raise_capacity(client, organiser, slug, by=1)
    await waitlist.offer_to_entry(slug, bashir_entry["id"], now)
    assert (await status(client, bashir))["status"] == "offered"
    with pytest.raises(Conflict) as again:
        await waitlist.offer_to_entry(slug, bashir_entry["id"], now)
    assert again.value.code == "not_waiting"
    assert len(await offer_messages()) == 1


async def test_two_workers_sweeping_at_once_make_one_offer(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    for name in ("Amira", "Bashir", "Chen"):
        await joined(client, slug, name)
    await raise_capacity(client, organiser, slug, by=1)
    made = await asyncio.gather(*[sweep(slug, now) for _ in range(4)])
    assert sum(made) == 1
    assert [row["status"] for row in await entries()] == ["offered", "waiting", "waiting"]
    assert await Order.count().where(Order.channel == "waitlist") == 1
    assert await OutboxMessage.count().where(OutboxMessage.kind == "waiting_list_offer") == 1
    assert (await event_row(slug))["places_taken"] == 3


async def test_the_periodic_sweep_covers_every_event_with_guests_waiting(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await sold_out_event(client, now)
    await joined(client, slug, "Amira")
    await raise_capacity(client, organiser, slug, by=1)
    assert await waitlist.sweep(now) == 1
    assert await waitlist.sweep(now) == 0
    assert await WaitingEntry.count().where(WaitingEntry.status == "offered") == 1


async def test_guessing_tokens_is_limited_per_client_and_right_tokens_never_count(
    client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waitlist, "WRONG_TOKENS_PER_CLIENT", 3)
    # Windows start on the clock (every 15 minutes): one so long that no window starts while the test runs (one did,
    # on a busy machine, and let the fifth guess through as the first of a new window).
    monkeypatch.setattr(waitlist, "WRONG_TOKENS_WINDOW_SECONDS", 10**9)
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    for _ in range(5):
        assert (await client.get(f"/api/waiting-list/{amira}")).status_code == 200
    answers = [(await client.get(f"/api/waiting-list/guess-{n}")).status_code for n in range(5)]
    assert answers == [404, 404, 404, 429, 429]
    refused = await client.get(f"/api/waiting-list/{amira}")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_the_offer_goes_by_email_and_by_text_in_the_guests_language_once(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, app: Litestar, tmp_path: Path
) -> None:
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira", locale="fr")
    bashir = await joined(client, slug, "Bashir", email="", phone="07911 123456")
    await raise_capacity(client, organiser, slug, by=2)
    assert await sweep(slug, now) == 2
    settings = dataclasses.replace(app.state.settings, var_dir=tmp_path)
    await outbox.drain_outbox(now + timedelta(minutes=1), settings=settings)
    [eml] = sorted((tmp_path / "outbox").glob("*-waiting_list_offer.eml"))
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    plain = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert message["To"] == "amira@example.org" and f"/waiting-list/{amira}" in plain and 'lang="fr"' in html
    [txt] = sorted((tmp_path / "outbox").glob("*-waiting_list_offer.txt"))
    assert "+447911123456" in txt.read_text() and f"/waiting-list/{bashir}" in txt.read_text()
    assert await outbox.drain_outbox(now + timedelta(minutes=2), settings=settings) == 0  # sent once
    assert {row["status"] for row in await offer_messages()} == {"sent"}


async def test_leaving_while_an_offer_is_made_locks_its_order_first(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amira leaves as she is offered a place: her leave read her entry still waiting, then a sweep offered it. Her
    entry locked, another guest's request that holds the offer's order (taking it up) waits for it. Leaving must not
    then reach for the order (a lock cycle, PostgreSQL aborting one of them): it lets go, reads again, and locks the
    order first, in the order every writer takes its locks. Here the take-up wins; leaving finds an order (409)."""
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    await raise_capacity(client, organiser, slug, by=1)
    read_entry, lock_entry = waitlist._entry, waitlist._lock_entry
    taking_up: list[asyncio.Task[waitlist.Accepted]] = []

    async def read_then_offer(*args: object, **kwargs: object) -> dict[str, object]:
        row = await read_entry(*args, **kwargs)  # type: ignore[arg-type]
        if not taking_up and row["status"] == "waiting":
            assert await sweep(slug, now) == 1  # offered between leave's read and its locks
        return row

    async def lock_then_take_up(entry_id: int) -> dict[str, object]:
        current = await lock_entry(entry_id)
        if not taking_up:
            # Another request: its own context, so its own transaction and connection (not this one's, inherited).
            take_up = waitlist.accept(amira, None, now, gateway=TestGateway(), hold_minutes=15)
            taking_up.append(asyncio.create_task(take_up, context=contextvars.Context()))
            await asyncio.sleep(0.5)  # the take-up has locked the order and the counters and waits for the entry
        return current

    monkeypatch.setattr(waitlist, "_entry", read_then_offer)
    monkeypatch.setattr(waitlist, "_lock_entry", lock_then_take_up)
    left = await asyncio.gather(waitlist.leave(amira, now), return_exceptions=True)
    took = await asyncio.gather(*taking_up, return_exceptions=True)
    [entry] = await entries()
    if db.is_sqlite():
        # One writer at a time (no row locks, no cycle): whichever asks first after leave lets go wins; exactly one does.
        assert (left, entry["status"]) == ([None], "left") or entry["status"] == "accepted", (left, took)
    else:
        # Leave let go of the entry and queued behind the take-up's lock on the order: the take-up won.
        assert isinstance(left[0], Conflict) and left[0].code == "offer_accepted", (left, took)
        assert isinstance(took[0], waitlist.Accepted) and took[0].order.total_pence > 0, took
    if entry["status"] == "accepted":
        assert await Order.count().where(Order.channel == "waitlist", Order.status == "pending") == 1
        assert (event := await event_row(slug))["places_taken"] == 3, event  # held for her payment, counted once
    else:
        assert isinstance(took[0], (Conflict, Gone)), took
        assert await Order.count().where(Order.channel == "waitlist", Order.status == "expired") == 1
        assert (await event_row(slug))["places_taken"] == 2  # the place is free again
