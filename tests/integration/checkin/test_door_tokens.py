"""A door device's token lasts only as long as it must: until a while after its event ends, and not after its
holder leaves that event's door team (a paired phone's account is switched off with it)."""

import re
from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.accounts.tables import ApiToken, User
from events.catalogue.tables import Event
from events.checkin.devices import DOOR_TOKEN_GRACE
from events.checkin.door_team import assign_door_staff, remove_door_staff
from tests.factories import make_event
from tests.integration.checkin.test_devices import PASSWORD, csrf_token, door_person, new_token, pairing_code, sign_in


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


async def test_door_tokens_end_a_while_after_their_event(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
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
    accounts._token_users.clear()  # another process, or five seconds later
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
