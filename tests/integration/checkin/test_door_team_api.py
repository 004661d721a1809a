"""An event's door team by API: an organiser adds a door member of the event's organisation by email and takes them
off again (their door-device tokens for the event stop working); anyone else, or another organisation's event, is
refused."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.accounts import service
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event


async def test_an_organiser_adds_and_removes_door_members_by_email(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    await service.create_user("amal@test.example", role="door", password=None, display_name="Amal")
    await service.create_user("sam@test.example", role="organiser", password=None)

    added = await client.post(f"/api/events/{slug}/door-team", json={"email": "Amal@Test.Example"}, headers=organiser)
    assert added.status_code == 200, added.text
    assert [(member["email"], member["name"], member["device"]) for member in added.json()] == [("amal@test.example", "Amal", False)]
    again = await client.post(f"/api/events/{slug}/door-team", json={"email": "amal@test.example"}, headers=organiser)
    assert len(again.json()) == 1  # adding twice changes nothing
    assert len((await client.get(f"/api/events/{slug}/door-team", headers=organiser)).json()) == 1

    # Not a door member of this organisation (or no account at all): a clear error, nothing changed.
    for email in ("sam@test.example", "nobody@test.example"):
        refused = await client.post(f"/api/events/{slug}/door-team", json={"email": email}, headers=organiser)
        assert refused.status_code == 422 and "is not a door member" in refused.json()["detail"]

    removed = await client.request("DELETE", f"/api/events/{slug}/door-team", json={"email": "amal@test.example"}, headers=organiser)
    assert removed.status_code == 200 and removed.json() == []
    gone = await client.request("DELETE", f"/api/events/{slug}/door-team", json={"email": "amal@test.example"}, headers=organiser)
    assert gone.status_code == 404


async def test_door_members_and_other_organisations_cannot_change_a_door_team(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    await service.create_user("door@test.example", role="door", password=None)
    door = {"Authorization": f"Bearer {await service.create_api_token('door@test.example', now=now)}"}
    assert (await client.post(f"/api/events/{slug}/door-team", json={"email": "door@test.example"}, headers=door)).status_code == 403
    other = await organisations.create_organisation("kitchen", OrganisationDetails(name="Kitchen Collective"))
    await service.create_user("rival@test.example", role="owner", password=None, organisation_id=other.id)
    rival = {"Authorization": f"Bearer {await service.create_api_token('rival@test.example', now=now)}"}
    theirs = await client.post(f"/api/events/{slug}/door-team", json={"email": "door@test.example"}, headers=rival)
    assert theirs.status_code == 404 and theirs.json()["error"] == "event_not_found"
    assert (await client.post(f"/api/events/{slug}/door-team", json={"email": "door@test.example"})).status_code == 401
