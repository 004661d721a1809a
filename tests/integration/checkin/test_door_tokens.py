"""A door device's token opens only its event's door (scanning and selling there, nothing an organiser could do
elsewhere, whoever made it) and lasts only as long as it must: until a while after its event ends, or two days
when it is set up long before; not after its holder leaves the door team, an organiser revokes it, or the event
is cancelled (a paired phone's account is switched off with it)."""

import re
import uuid
from datetime import datetime, timedelta, timezone

import httpx

from events.accounts import service as accounts
from events.accounts.tables import ApiToken, User
from events.catalogue.tables import Event
from events.checkin.door_team import assign_door_staff, remove_door_staff
from events.checkin.rules import DOOR_TOKEN_GRACE, DOOR_TOKEN_LEAD
from events.orders.tables import Order
from tests.factories import make_event
from tests.integration.checkin.test_devices import PASSWORD, csrf_token, door_person, new_token, paid_ticket, pairing_code, sign_in
from tests.support.orders import pay_with_test_page, place_order, ticket_type_id


async def registered_token(client: httpx.AsyncClient, slug: str, device: str = "Door 1 phone") -> str:
    csrf = await csrf_token(client, f"/door/{slug}")
    made = await client.post(f"/door/{slug}/device", data={"device": device, "_csrf_token": csrf})
    return new_token(made.text)


async def paired_token(client: httpx.AsyncClient, slug: str) -> str:
    csrf = await csrf_token(client, f"/door/{slug}")
    code = pairing_code((await client.post(f"/door/{slug}/pairings", data={"device": "Door 2 phone", "_csrf_token": csrf})).text)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as phone:
        accepted = await phone.post(f"/door/pair/{code}", data={"_csrf_token": await csrf_token(phone, f"/door/pair/{code}")})
        return re.search(r'data-token="(evt_[^"]+)"', accepted.text).group(1)  # type: ignore[union-attr]


async def counts(client: httpx.AsyncClient, slug: str, token: str) -> int:
    return (await client.get(f"/api/checkin/events/{slug}/counts", headers={"Authorization": f"Bearer {token}"})).status_code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tomorrow_night(now: datetime) -> dict[str, str]:
    starts = (now + timedelta(hours=20)).replace(microsecond=0)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=4)).isoformat()}


async def test_door_tokens_end_a_while_after_their_event(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, **tomorrow_night(now))
    event = await Event.select(Event.id, Event.ends_at).where(Event.slug == slug).first()
    await door_person(slug=slug)
    await sign_in(client, "door1@test.example", PASSWORD)
    token = await registered_token(client, slug)
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    paired = await paired_token(client, slug)
    rows = await ApiToken.select(ApiToken.expires_at, ApiToken.scope).where(ApiToken.label.is_in(["Door 1 phone", "Door 2 phone"]))
    assert len(rows) == 2
    assert all(r["expires_at"] == event["ends_at"] + DOOR_TOKEN_GRACE and r["scope"] == f"door:{event['id']}" for r in rows)
    assert await counts(client, slug, token) == 200 and await counts(client, slug, paired) == 200

    over = event["ends_at"] + DOOR_TOKEN_GRACE
    for each in (token, paired):
        assert await accounts.user_for_token(each, at=over - timedelta(minutes=1)) is not None
        assert await accounts.user_for_token(each, at=over) is None
    # Once the time has come, the API refuses the tokens (401: the door page forgets them and asks again).
    await ApiToken.update({ApiToken.expires_at: now - timedelta(seconds=1)}, force=True)

    assert await counts(client, slug, token) == 401 and await counts(client, slug, paired) == 401


async def test_leaving_the_door_team_revokes_that_events_device_tokens(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    other = await make_event(now, slug="other-night")
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    other_event = await Event.select(Event.id).where(Event.slug == other).first()
    await door_person(slug=slug)
    person = await User.select(User.id).where(User.email == "door1@test.example").first()
    await assign_door_staff(other_event["id"], person["id"])
    await sign_in(client, "door1@test.example", PASSWORD)
    here = await registered_token(client, slug)
    there = await registered_token(client, other, device="Door 1 phone at the other night")
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    paired = await paired_token(client, slug)
    device = await User.select(User.id).where(User.display_name == "Door 2 phone").first()

    await remove_door_staff(event["id"], person["id"], now=now)
    await remove_door_staff(event["id"], device["id"], now=now)
    assert await counts(client, slug, here) == 401
    assert await counts(client, other, there) == 200  # still on the other night's team, with that night's token
    assert await counts(client, slug, paired) == 401
    assert (await User.select(User.is_active).where(User.id == device["id"]).first())["is_active"] is False
    assert (await User.select(User.is_active).where(User.id == person["id"]).first())["is_active"] is True


async def test_a_door_device_set_up_long_before_the_night_lasts_two_days(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)  # a month away
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    token = await registered_token(client, slug)
    paired = await paired_token(client, slug)
    after = datetime.now(timezone.utc)
    rows = await ApiToken.select(ApiToken.expires_at).where(ApiToken.label.is_in(["Door 1 phone", "Door 2 phone"]))
    assert len(rows) == 2 and all(now + DOOR_TOKEN_LEAD <= r["expires_at"] <= after + DOOR_TOKEN_LEAD for r in rows)
    for each in (token, paired):
        assert await accounts.user_for_token(each, at=now + DOOR_TOKEN_LEAD - timedelta(minutes=1)) is not None
        assert await accounts.user_for_token(each, at=after + DOOR_TOKEN_LEAD) is None  # long before the doors open


async def a_door_night(now: datetime, slug: str) -> str:
    return await make_event(
        now,
        slug=slug,
        ticket_types=[{"name": "Advance", "price_pence": 600, "channel": "online"}, {"name": "Door", "price_pence": 900, "channel": "door"}],
        **tomorrow_night(now),
    )


async def test_an_organisers_door_device_opens_only_that_events_door(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await a_door_night(now, "supper-club")
    other = await a_door_night(now, "other-night")
    await door_person("organiser@test.example", role="organiser", name="Olu")
    full = bearer(await accounts.create_api_token("organiser@test.example", now=now))  # what the organiser has elsewhere
    order = (await place_order(client, slug, type_name="Advance")).json()
    await pay_with_test_page(client, order)
    await sign_in(client, "organiser@test.example", PASSWORD)
    door = bearer(await registered_token(client, slug))

    # Its own door: scan, sell, the offline bundle, counts, search.
    ticket = await paid_ticket(client, app, slug, now)
    scanned = await client.post("/api/checkin/redeem", json={"event": slug, "secret": ticket.code, "nonce": uuid.uuid4().hex}, headers=door)
    assert scanned.status_code == 200 and scanned.json()["status"] == "ok", scanned.text
    sync = {"event": slug, "scans": [{"secret": "NOPE", "nonce": uuid.uuid4().hex, "scanned_at": now.isoformat(), "result": "unknown"}]}
    assert (await client.post("/api/checkin/sync", json=sync, headers=door)).status_code == 200
    for path in ("offline", "counts", "search?q=Amal"):
        assert (await client.get(f"/api/checkin/events/{slug}/{path}", headers=door)).status_code == 200, path
    sale = {"items": [{"ticket_type": await ticket_type_id(client, slug, "Door"), "quantity": 1}], "payment_method": "cash"}
    assert (await client.post(f"/api/events/{slug}/door-sales", json=sale, headers=door)).status_code == 201

    # Another event's door, which the organiser's own token opens: refused.
    other_ticket = await paid_ticket(client, app, other, now)
    for path in ("offline", "counts", "search?q=Amal"):
        assert (await client.get(f"/api/checkin/events/{other}/{path}", headers=door)).status_code == 403, path
        assert (await client.get(f"/api/checkin/events/{other}/{path}", headers=full)).status_code == 200, path
    elsewhere = await client.post("/api/checkin/redeem", json={"event": other, "secret": other_ticket.code, "nonce": uuid.uuid4().hex}, headers=door)
    assert elsewhere.status_code == 403
    assert (await client.post("/api/checkin/sync", json={**sync, "event": other}, headers=door)).status_code == 403
    other_sale = {**sale, "items": [{"ticket_type": await ticket_type_id(client, other, "Door"), "quantity": 1}]}
    assert (await client.post(f"/api/events/{other}/door-sales", json=other_sale, headers=door)).status_code == 403
    # A ticket for another event scanned at this door: not admitted, and nothing said about the other event.
    wrong = await client.post("/api/checkin/redeem", json={"event": slug, "secret": other_ticket.code, "nonce": uuid.uuid4().hex}, headers=door)
    assert wrong.json()["reason"] == "wrong_event" and wrong.json()["ticket_event"] is None
    counted = (await client.get(f"/api/checkin/events/{other}/counts", headers=full)).json()
    assert counted["admitted"] == 0

    # Everything an organiser does elsewhere: refused, and nothing changes.
    refused = [
        await client.post(f"/api/orders/{order['reference']}/refunds", json={"reason": "stolen phone"}, headers=door),
        await client.post(f"/api/events/{slug}/cancel", json={"reason": "stolen phone"}, headers=door),
        await client.patch(f"/api/events/{slug}", json={"title": "Stolen"}, headers=door),
        await client.post(
            "/api/partners/welcome-kitchen/payouts",
            json={"event": slug, "amount_pence": 100, "paid_on": now.date().isoformat(), "bank_reference": "X"},
            headers=door,
        ),
        await client.get("/api/events", headers=door),
        await client.get(f"/door/{slug}", headers=door),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert refused[0].json()["error"] == "door_token_only" and "door" in refused[0].json()["detail"]
    assert (await Order.select(Order.status).where(Order.reference == order["reference"]).first())["status"] == "paid"
    assert (await Event.select(Event.title, Event.status).where(Event.slug == slug).first()) == {"title": "Supper Club", "status": "on_sale"}
    assert (await client.patch(f"/api/events/{slug}", json={"title": "Supper Club"}, headers=full)).status_code == 200  # the route works


async def test_organisers_see_and_revoke_door_devices_whoever_set_them_up(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, **tomorrow_night(now))
    await door_person(slug=slug)
    await sign_in(client, "door1@test.example", PASSWORD)
    staff = await registered_token(client, slug, device="Sam's phone")
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    own = await registered_token(client, slug, device="Olu's laptop")
    paired = await paired_token(client, slug)

    page = await client.get(f"/manage/events/{slug}/door-staff")
    devices = {
        name: token_id for token_id, name in re.findall(r'door-staff/devices/(\d+)/revoke".*?aria-label="Revoke ([^"]+)"', page.text, re.DOTALL)
    }
    assert set(devices) >= {"Sam&#39;s phone", "Olu&#39;s laptop", "Door 2 phone"}, page.text
    csrf = await csrf_token(client, f"/manage/events/{slug}/door-staff")
    for name in ("Olu&#39;s laptop", "Door 2 phone"):
        revoked = await client.post(f"/manage/events/{slug}/door-staff/devices/{devices[name]}/revoke", data={"_csrf_token": csrf})
        assert revoked.status_code == 303
    assert await counts(client, slug, own) == 401 and await counts(client, slug, paired) == 401
    assert await counts(client, slug, staff) == 200  # the others carry on
    page = await client.get(f"/manage/events/{slug}/door-staff")
    assert "Revoke Olu&#39;s laptop" not in page.text and "Revoke Sam&#39;s phone" in page.text
    # Once revoked, it stays revoked: revoking it again finds nothing.
    again = await client.post(f"/manage/events/{slug}/door-staff/devices/{devices['Door 2 phone']}/revoke", data={"_csrf_token": csrf})
    assert again.status_code == 404


async def test_cancelling_the_event_revokes_its_door_devices(client: httpx.AsyncClient, organiser_token: str, now: datetime) -> None:
    slug = await make_event(now, **tomorrow_night(now))
    other = await make_event(now, slug="other-night", **tomorrow_night(now))
    await door_person(slug=slug)
    person = await User.select(User.id).where(User.email == "door1@test.example").first()
    other_event = await Event.select(Event.id).where(Event.slug == other).first()
    await assign_door_staff(other_event["id"], person["id"])
    await sign_in(client, "door1@test.example", PASSWORD)
    here = await registered_token(client, slug)
    there = await registered_token(client, other, device="Door 1 phone at the other night")

    cancelled = await client.post(f"/api/events/{slug}/cancel", json={"reason": "Flooded hall"}, headers=bearer(organiser_token))
    assert cancelled.status_code in (200, 202), cancelled.text
    assert await counts(client, slug, here) == 401
    assert await counts(client, other, there) == 200
