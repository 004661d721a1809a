"""Running the service: a platform admin lists organisations with their counts, creates one (inviting its first
owner) and suspends one, whose public pages and events then 404 and whose people can no longer act for it, by
session or token, until it is unsuspended. Nobody else reaches /platform."""

from __future__ import annotations

from datetime import datetime

import httpx
from litestar import Litestar

from events.accounts import service
from events.accounts.tables import AccountMessage, Invitation
from events.audit.tables import AuditEntry
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.accounts.test_sign_ins import FIREFOX_ANDROID, another_browser, csrf

PASSWORD = "a long password"


async def test_a_platform_admin_creates_and_suspends_organisations(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    kitchen = await organisations.create_organisation("kitchen", OrganisationDetails(name="Kitchen Collective"))
    await service.create_user("cook@test.example", role="owner", password=PASSWORD, organisation_id=kitchen.id)
    cook_token = await service.create_api_token("cook@test.example", now=now)
    slug = await make_event(now, organisation="kitchen", slug="kitchen-supper", beneficiaries=[{"partner": "kitchen-fund", "share_bp": 10000}])
    default = await organisations.find(organisations.DEFAULT_SLUG)
    await service.create_user("admin@test.example", role="owner", password=PASSWORD, organisation_id=default.id, is_platform_admin=True)
    await sign_in(client, "admin@test.example", PASSWORD)

    page = await client.get("/platform")
    assert page.status_code == 200 and "Kitchen Collective" in page.text and "Create an organisation" in page.text
    bad = await client.post("/platform/organisations", data={"_csrf_token": csrf(page.text), "slug": "Not A Slug", "name": "X"})
    assert bad.status_code == 422 and "Use lower-case letters" in bad.text
    made = await client.post(
        "/platform/organisations",
        data={"_csrf_token": csrf(page.text), "slug": "choir", "name": "Refugee Choir", "owner_email": "lead@test.example"},
    )
    assert made.status_code == 303 and made.headers["location"] == "/platform?notice=created"
    choir = await organisations.find("choir")
    invitation = await Invitation.select(Invitation.organisation, Invitation.role, Invitation.email).first()
    assert invitation == {"organisation": choir.id, "role": "owner", "email": "lead@test.example"}
    assert await AccountMessage.count().where(AccountMessage.kind == "invitation") == 1
    assert await AuditEntry.count().where(AuditEntry.action == "organisation.created", AuditEntry.organisation == choir.id) == 1

    async with another_browser(app, FIREFOX_ANDROID) as cook:
        await sign_in(cook, "cook@test.example", PASSWORD)
        assert (await cook.get("/manage")).status_code == 200
        # Nobody but a platform admin reaches /platform.
        assert (await cook.get("/platform")).status_code == 403

        page = await client.get("/platform")
        suspended = await client.post("/platform/organisations/kitchen/suspend", data={"_csrf_token": csrf(page.text)})
        assert suspended.status_code == 303
        listed = await client.get(suspended.headers["location"])
        assert "Suspended: its pages and events are hidden" in listed.text and "Unsuspend Kitchen Collective" in listed.text

        assert (await client.get(f"/events/{slug}")).status_code == 404
        assert (await client.get("/organisations/kitchen")).status_code == 404
        assert slug not in {event["slug"] for event in (await client.get("/api/events")).json()}
        assert (await cook.get("/manage")).status_code == 403  # signed in, but acting for no organisation
        assert (await client.get("/api/users", headers={"Authorization": f"Bearer {cook_token}"})).status_code == 401

        page = await client.get("/platform")
        assert (await client.post("/platform/organisations/kitchen/unsuspend", data={"_csrf_token": csrf(page.text)})).status_code == 303
        assert (await client.get(f"/events/{slug}")).status_code == 200
        assert (await client.get("/api/users", headers={"Authorization": f"Bearer {cook_token}"})).status_code == 200
    actions = [
        row["action"] for row in await AuditEntry.select(AuditEntry.action).where(AuditEntry.organisation == kitchen.id).order_by(AuditEntry.id)
    ]
    assert actions[-2:] == ["organisation.suspended", "organisation.unsuspended"]
