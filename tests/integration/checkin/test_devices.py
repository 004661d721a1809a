"""The door page: signed-in door staff of the event only, device tokens made through a CSRF form and
named after the device, and one-time pairing codes that expire."""

import re
import uuid
from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import Event
from events.checkin.door_team import assign_door_staff
from events.checkin.tables import DevicePairing, Scan
from events.tickets.views import TicketView, tickets_of_order
from tests.factories import make_event
from tests.support.orders import pay_with_test_page, place_order

PASSWORD = "door staff password"


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"{path} carries a CSRF token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> None:
    token = await csrf_token(client, "/login")
    response = await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})
    assert response.status_code == 303, response.text


async def paid_ticket(client: httpx.AsyncClient, app, slug: str, now: datetime) -> TicketView:  # type: ignore[no-untyped-def]
    created = (await place_order(client, slug)).json()
    await pay_with_test_page(client, created)
    [ticket] = await tickets_of_order(created["reference"], secret_key=app.state.settings.secret_key, now=now)
    return ticket


async def door_person(email: str = "door1@test.example", *, name: str = "Sam", role: str = "door", slug: str | None = None) -> None:
    user = await accounts.create_user(email, role=role, password=PASSWORD, display_name=name)
    if slug:
        event = await Event.select(Event.id).where(Event.slug == slug).first()
        await assign_door_staff(event["id"], user.id)


def new_token(page: str) -> str:
    match = re.search(r'data-new-token="(evt_[^"]+)"', page)
    assert match, "the page hands the new device token to its script"
    return match.group(1)


def pairing_code(page: str) -> str:
    match = re.search(r'href="http://[^"]+/door/pair/([^"]+)" id="pairing-url"', page)
    assert match, "the pairing page links to the pairing address"
    return match.group(1)


async def test_the_door_page_needs_a_signed_in_door_person(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    anonymous = await client.get(f"/door/{slug}")
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"] == f"/login?next=/door/{slug}"
    await door_person()
    await sign_in(client, "door1@test.example", PASSWORD)
    unassigned = await client.get(f"/door/{slug}")
    assert unassigned.status_code == 403
    assert "not on the door team" in unassigned.text


async def test_assigned_door_staff_and_organisers_get_the_page(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await door_person(slug=slug)
    await sign_in(client, "door1@test.example", PASSWORD)
    page = await client.get(f"/door/{slug}")
    assert page.status_code == 200
    assert "Use this device for scanning" in page.text and 'id="door-code"' in page.text
    assert "Pair another phone" not in page.text  # pairing is for organisers
    assert page.headers["cache-control"] == "no-store"
    await client.post("/logout", data={"_csrf_token": await csrf_token(client, f"/door/{slug}")})
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    organiser_page = await client.get(f"/door/{slug}")
    assert organiser_page.status_code == 200 and "Pair another phone" in organiser_page.text
    assert (await client.get("/door/no-such-event")).status_code == 404


async def test_a_device_token_is_made_by_a_csrf_form_and_names_the_door(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    await door_person(slug=slug)
    await sign_in(client, "door1@test.example", PASSWORD)
    forged = await client.post(f"/door/{slug}/device", data={"device": "Door 1 phone"})
    assert forged.status_code == 403 and "data-new-token" not in forged.text
    csrf = await csrf_token(client, f"/door/{slug}")
    unnamed = await client.post(f"/door/{slug}/device", data={"device": "  ", "_csrf_token": csrf})
    assert unnamed.status_code == 422 and "data-new-token" not in unnamed.text
    made = await client.post(f"/door/{slug}/device", data={"device": " Door 1   phone ", "_csrf_token": csrf})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = new_token(made.text)
    ticket = await paid_ticket(client, app, slug, now)
    scanned = await client.post(
        "/api/checkin/redeem",
        json={"event": slug, "secret": ticket.code, "nonce": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert scanned.json()["ticket"]["checked_in_by"] == "Door 1 phone"
    assert [row["device"] for row in await Scan.select(Scan.device)] == ["Door 1 phone"]
    # The API is bearer-only: the session cookie alone does not scan.
    assert (await client.post("/api/checkin/redeem", json={"event": slug, "secret": ticket.code, "nonce": uuid.uuid4().hex})).status_code == 401


async def test_a_pairing_code_works_once_for_one_event(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    other = await make_event(now, slug="other-night")
    await door_person(slug=slug)
    await sign_in(client, "door1@test.example", PASSWORD)
    csrf = await csrf_token(client, f"/door/{slug}")
    assert (await client.post(f"/door/{slug}/pairings", data={"device": "Door 2 phone", "_csrf_token": csrf})).status_code == 403
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    csrf = await csrf_token(client, f"/door/{slug}")
    assert (await client.post(f"/door/{slug}/pairings", data={"device": "Door 2 phone"})).status_code == 403  # no CSRF token
    shown = await client.post(f"/door/{slug}/pairings", data={"device": "Door 2 phone", "_csrf_token": csrf})
    assert shown.status_code == 201 and "<svg" in shown.text
    code = pairing_code(shown.text)
    row = await DevicePairing.select().first()
    assert row["code_hash"] != code and len(row["code_hash"]) == 64  # only the hash is kept
    assert timedelta(minutes=14) < row["expires_at"] - now <= timedelta(minutes=16)

    phone = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")  # a second browser
    async with phone:
        offer = await phone.get(f"/door/pair/{code}")
        assert offer.status_code == 200 and "Door 2 phone" in offer.text
        assert await DevicePairing.count().where(DevicePairing.used_at.is_null()) == 1  # looking does not spend it
        accepted = await phone.post(f"/door/pair/{code}", data={"_csrf_token": await csrf_token(phone, f"/door/pair/{code}")})
        assert accepted.status_code == 200
        token = re.search(r'data-token="(evt_[^"]+)"', accepted.text).group(1)  # type: ignore[union-attr]
        assert f'data-next="/door/{slug}"' in accepted.text
        assert (await phone.get(f"/door/{slug}")).status_code == 200  # the phone is signed in as its door account
        assert (await phone.get(f"/door/{other}")).status_code == 403
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await client.get(f"/api/checkin/events/{slug}/offline", headers=bearer)).status_code == 200
        assert (await client.get(f"/api/checkin/events/{other}/offline", headers=bearer)).status_code == 403
        ticket = await paid_ticket(client, app, slug, now)
        scanned = await client.post("/api/checkin/redeem", json={"event": slug, "secret": ticket.secret, "nonce": uuid.uuid4().hex}, headers=bearer)
        assert scanned.json()["ticket"]["checked_in_by"] == "Door 2 phone"

        again = await phone.post(f"/door/pair/{code}", data={"_csrf_token": await csrf_token(phone, "/login")})
        assert again.status_code == 404 and "data-token" not in again.text
        assert (await phone.get(f"/door/pair/{code}")).status_code == 404


async def test_a_pairing_code_expires(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await door_person("organiser@test.example", role="organiser", name="Olu")
    await sign_in(client, "organiser@test.example", PASSWORD)
    csrf = await csrf_token(client, f"/door/{slug}")
    code = pairing_code((await client.post(f"/door/{slug}/pairings", data={"device": "Door 3 phone", "_csrf_token": csrf})).text)
    await DevicePairing.update({DevicePairing.expires_at: now - timedelta(seconds=1)}, force=True)
    assert (await client.get(f"/door/pair/{code}")).status_code == 404
    late = await client.post(f"/door/pair/{code}", data={"_csrf_token": csrf})
    assert late.status_code == 404 and "expired" in late.text
    assert (await client.post("/door/pair/made-up-code", data={"_csrf_token": csrf})).status_code == 404
