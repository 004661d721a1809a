"""Offboarding a volunteer: an owner takes a person off the team, whose old session and API token are refused on the
very next request and who can no longer sign in; reactivating lets them sign in again. Both are in the audit log.
The back office (and the API) list a person's tokens, never the secret, and revoke them."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from litestar import Litestar

from events.accounts import service
from events.accounts.tables import ApiToken, SignIn
from events.audit.tables import AuditEntry
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.accounts.test_sign_ins import FIREFOX_ANDROID, another_browser, csrf, signed_in_as

PASSWORD = "a long password"


async def organiser_signed_in(client: httpx.AsyncClient, role: str = "owner") -> int:
    """The team's lead signed in: an owner (who may take people off the team), unless ``role`` says otherwise."""
    organiser = await service.create_user("lead@test.example", role=role, password=PASSWORD, display_name="Lead")
    await sign_in(client, "lead@test.example", PASSWORD)
    return organiser.id


async def test_deactivating_a_volunteer_ends_their_session_and_token_at_once(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    await organiser_signed_in(client)
    volunteer = await service.create_user("vol@test.example", role="organiser", password=PASSWORD, display_name="Vol")
    token = await service.create_api_token("vol@test.example", label="Vol's laptop", now=now)
    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        await sign_in(theirs, "vol@test.example", PASSWORD)
        assert (await theirs.get("/manage")).status_code == 200
        assert (await client.get("/api/users", headers={"Authorization": f"Bearer {token}"})).status_code == 200

        people = await client.get("/manage/people")
        assert people.status_code == 200 and f'href="/manage/people/{volunteer.id}"' in people.text
        page = await client.get(f"/manage/people/{volunteer.id}")
        assert "Deactivate Vol" in page.text
        done = await client.post(f"/manage/people/{volunteer.id}/deactivate", data={"_csrf_token": csrf(page.text)})
        assert done.status_code == 303
        after = await client.get(done.headers["location"])
        assert "Deactivated: they are signed out everywhere" in after.text and "Reactivate Vol" in after.text

        # Their old session cookie now gets the sign-in page, and their old token a 401, on the very next request.
        refused = await theirs.get("/manage")
        assert refused.status_code == 302 and refused.headers["location"] == "/login?next=/manage"
        assert (await client.get("/api/users", headers={"Authorization": f"Bearer {token}"})).status_code == 401
        assert (await sign_in(theirs, "vol@test.example", PASSWORD)).status_code == 401
        assert await SignIn.count().where(SignIn.user == volunteer.id) == 0

    [entry] = await AuditEntry.select().where(AuditEntry.action == "user.deactivated")
    assert entry["actor"] == "Lead" and entry["subject_id"] == str(volunteer.id)
    assert '"tokens_revoked": 1' in str(entry["after"]) and '"sign_ins_ended": 1' in str(entry["after"])

    # Reactivated, they sign in again with their password; the revoked token stays revoked.
    page = await client.get(f"/manage/people/{volunteer.id}")
    back = await client.post(f"/manage/people/{volunteer.id}/reactivate", data={"_csrf_token": csrf(page.text)})
    assert back.headers["location"] == f"/manage/people/{volunteer.id}?notice=reactivated"
    async with another_browser(app, FIREFOX_ANDROID) as theirs:
        assert (await sign_in(theirs, "vol@test.example", PASSWORD)).status_code == 303
        assert await signed_in_as(theirs)
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert await AuditEntry.count().where(AuditEntry.action == "user.reactivated") == 1


async def test_nobody_deactivates_themselves_and_only_owners_deactivate_anyone(client: httpx.AsyncClient, app: Litestar) -> None:
    me = await organiser_signed_in(client)
    other_owner = await service.create_user("admin@test.example", role="owner", password=PASSWORD)
    page = await client.get(f"/manage/people/{me}")
    assert "This is you." in page.text and "/deactivate" not in page.text
    mine = await client.post(f"/manage/people/{me}/deactivate", data={"_csrf_token": csrf(page.text)})
    assert mine.status_code == 403 and "You cannot deactivate your own account" in mine.text
    assert await signed_in_as(client)
    # An organiser sees the team but takes nobody off it, an owner least of all.
    await service.create_user("organiser@test.example", role="organiser", password=PASSWORD)
    async with another_browser(app, FIREFOX_ANDROID) as organiser:
        await sign_in(organiser, "organiser@test.example", PASSWORD)
        page = await organiser.get(f"/manage/people/{other_owner.id}")
        assert page.status_code == 200 and "/deactivate" not in page.text
        refused = await organiser.post(f"/manage/people/{other_owner.id}/deactivate", data={"_csrf_token": csrf(page.text)})
        assert refused.status_code == 403
    assert await AuditEntry.count() == 0


async def test_door_staff_cannot_open_the_people_pages(client: httpx.AsyncClient) -> None:
    await service.create_user("door@test.example", role="door", password=PASSWORD)
    await sign_in(client, "door@test.example", PASSWORD)
    assert (await client.get("/manage/people")).status_code == 403


async def test_a_persons_tokens_are_listed_without_their_secret_and_revoked(client: httpx.AsyncClient, now: datetime) -> None:
    await organiser_signed_in(client)
    volunteer = await service.create_user("vol@test.example", role="organiser", password=PASSWORD)
    laptop = await service.create_api_token("vol@test.example", label="Vol's laptop", now=now)
    script = await service.create_api_token("vol@test.example", label="Sync script", now=now, expires_at=now + timedelta(days=30))
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {laptop}"})).status_code == 200  # used once

    page = await client.get(f"/manage/people/{volunteer.id}")
    assert "Vol&#39;s laptop" in page.text and "Sync script" in page.text
    assert laptop not in page.text and script not in page.text
    assert "on the command line" in page.text  # neither was made by someone signed in
    [laptop_id] = [row["id"] for row in await ApiToken.select(ApiToken.id).where(ApiToken.label == "Vol's laptop")]
    revoked = await client.post(f"/manage/people/{volunteer.id}/tokens/{laptop_id}/revoke", data={"_csrf_token": csrf(page.text)})
    assert revoked.headers["location"] == f"/manage/people/{volunteer.id}?notice=token_revoked"
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {laptop}"})).status_code == 401
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {script}"})).status_code == 200
    assert await AuditEntry.count().where(AuditEntry.action == "api_token.revoked") == 1

    # Another person's token id under this person's page is not theirs to revoke.
    other = await service.create_user("other@test.example", role="organiser", password=PASSWORD)
    [script_id] = [row["id"] for row in await ApiToken.select(ApiToken.id).where(ApiToken.label == "Sync script")]
    wrong = await client.post(f"/manage/people/{other.id}/tokens/{script_id}/revoke", data={"_csrf_token": csrf(page.text)})
    assert wrong.status_code == 404
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {script}"})).status_code == 200


async def test_last_used_is_recorded_without_a_write_on_every_request(client: httpx.AsyncClient, now: datetime) -> None:
    await service.create_user("vol@test.example", role="organiser", password=PASSWORD)
    token = await service.create_api_token("vol@test.example", now=now)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/users", headers=headers)).status_code == 200
    [first] = await ApiToken.select(ApiToken.last_used_at)
    assert first["last_used_at"] is not None

    await client.get("/api/users", headers=headers)
    [second] = await ApiToken.select(ApiToken.last_used_at)
    assert second["last_used_at"] == first["last_used_at"]  # used again within the minute: no write

    await ApiToken.update({ApiToken.last_used_at: now - timedelta(minutes=2)}, force=True)
    await client.get("/api/users", headers=headers)
    [third] = await ApiToken.select(ApiToken.last_used_at)
    assert third["last_used_at"] > now - timedelta(minutes=1)


async def test_the_api_offboards_too(client: httpx.AsyncClient, now: datetime) -> None:
    await service.create_user("organiser@test.example", role="owner", password=None)
    organiser = {"Authorization": f"Bearer {await service.create_api_token('organiser@test.example', now=now)}"}
    volunteer = await service.create_user("vol@test.example", role="door", password=PASSWORD, display_name="Vol")
    token = await service.create_api_token("vol@test.example", label="Door 1 phone", now=now)
    listed = (await client.get("/api/users", headers=organiser)).json()
    assert {person["email"] for person in listed} == {"organiser@test.example", "vol@test.example"}
    tokens = (await client.get(f"/api/users/{volunteer.id}/tokens", headers=organiser)).json()
    assert [(t["label"], t["state"]) for t in tokens] == [("Door 1 phone", "active")] and token not in str(tokens)

    off = await client.post(f"/api/users/{volunteer.id}/deactivate", headers=organiser)
    assert off.status_code == 200 and off.json() == {"active": False, "sign_ins_ended": 0, "tokens_revoked": 1}
    assert (await client.get("/api/users", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert [t["state"] for t in (await client.get(f"/api/users/{volunteer.id}/tokens", headers=organiser)).json()] == ["revoked"]
    on = await client.post(f"/api/users/{volunteer.id}/reactivate", headers=organiser)
    assert on.status_code == 200 and on.json()["active"] is True

    me = next(person["id"] for person in listed if person["email"] == "organiser@test.example")
    refused = await client.post(f"/api/users/{me}/deactivate", headers=organiser)
    assert refused.status_code == 403 and refused.json()["error"] == "cannot_deactivate"
    assert (await client.post("/api/users/999999/deactivate", headers=organiser)).status_code == 404


async def test_a_token_made_by_someone_signed_in_names_them(client: httpx.AsyncClient, now: datetime) -> None:
    me = await organiser_signed_in(client)
    slug = await make_event(now)
    door = await client.get(f"/door/{slug}")
    made = await client.post(f"/door/{slug}/device", data={"device": "Front door laptop", "_csrf_token": csrf(door.text)})
    assert made.status_code == 200
    page = await client.get(f"/manage/people/{me}")
    assert "Front door laptop" in page.text and "by Lead" in page.text and "one event&#39;s door" in page.text
