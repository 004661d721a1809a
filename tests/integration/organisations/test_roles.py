"""What each role may reach within its organisation: door staff work their door team's events unless an owner lets
them scan every event; owners pass every role's routes; nobody outside the team reaches anything."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.accounts import service as accounts
from events.accounts.tables import Membership
from tests.factories import make_event


async def test_door_staff_scan_their_door_teams_events_unless_allowed_every_event(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    limited = await accounts.create_user("limited@test.example", role="door", password=None)
    everywhere = await accounts.create_user("everywhere@test.example", role="door", password=None, restricted=False)
    assert limited.restricted and not everywhere.restricted  # a door member's default is their door team
    tokens = {person.email: await accounts.create_api_token(person.email, now=now) for person in (limited, everywhere)}

    def counts(email: str) -> object:
        return client.get(f"/api/checkin/events/{slug}/counts", headers={"Authorization": f"Bearer {tokens[email]}"})

    assert (await counts("limited@test.example")).status_code == 403
    assert (await counts("everywhere@test.example")).status_code == 200
    # Limiting them again takes effect on their next request.
    await Membership.update({Membership.restricted: True}).where(Membership.user == everywhere.id)
    assert (await counts("everywhere@test.example")).status_code == 403


async def test_owners_pass_every_role_and_ended_members_reach_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await accounts.create_user("owner@test.example", role="owner", password=None)
    owner = {"Authorization": f"Bearer {await accounts.create_api_token('owner@test.example', now=now)}"}
    assert (await client.get(f"/api/checkin/events/{slug}/counts", headers=owner)).status_code == 200
    assert (await client.get(f"/api/events/{slug}/reconciliation", headers=owner)).status_code == 200
    await Membership.update({Membership.deactivated_at: now}).where(Membership.role == "owner")
    assert (await client.get(f"/api/events/{slug}/reconciliation", headers=owner)).status_code == 401
