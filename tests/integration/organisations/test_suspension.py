"""A suspended organisation disappears from the service: its pages and events are not found, nobody can buy or
claim a place, and its people and tokens can no longer act for it. Lifting the suspension brings it all back."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.accounts import service as accounts
from events.orders import claims
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.support.orders import place_order, ticket_type_id

PASSWORD = "a long enough password"


async def test_a_suspended_organisation_is_hidden_and_its_people_cannot_act(client: httpx.AsyncClient, now: datetime) -> None:
    kitchen = await organisations.create_organisation("kitchen", OrganisationDetails(name="Open Kitchen"))
    slug = await make_event(
        now, organisation="kitchen", slug="sunday-lunch", title="Sunday Lunch", beneficiaries=[{"partner": "hardship-fund", "share_bp": 10_000}]
    )
    other = await make_event(now, organisation="main", slug="supper-club")  # the default organisation's, unaffected
    link = await claims.create_claim_code(slug, partner_name="Drop-in", places=2, now=now)
    await accounts.create_user("cook@kitchen.example", role="owner", password=PASSWORD, organisation_id=kitchen.id)
    token = await accounts.create_api_token("cook@kitchen.example", now=now, organisation_id=kitchen.id)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get(f"/events/{slug}")).status_code == 200
    assert (await client.get(f"/api/events/{slug}", headers=bearer)).status_code == 200
    lunch = await ticket_type_id(client, slug)

    await organisations.set_suspended("kitchen", suspended=True, now=now)

    assert (await client.get(f"/events/{slug}")).status_code == 404
    assert (await client.get("/organisations/kitchen")).status_code == 404
    assert (await client.get("/api/organisations/kitchen")).status_code == 404
    assert [event["slug"] for event in (await client.get("/api/events")).json()] == [other]
    body = {"buyer": {"name": "Amal Haddad", "email": "amal@example.org"}, "items": [{"ticket_type": lunch, "quantity": 1}]}
    bought = await client.post(f"/api/events/{slug}/orders", json=body)
    assert bought.status_code == 404 and bought.json()["error"] == "event_not_found"
    assert (await client.get(f"/claim/{link.code}")).status_code == 404
    # Their token no longer works, and signed in they act for no organisation.
    assert (await client.get(f"/api/events/{slug}/claim-codes", headers=bearer)).status_code == 401
    assert (await sign_in(client, "cook@kitchen.example", PASSWORD)).status_code == 401
    # The other organisation's guests notice nothing.
    assert (await place_order(client, other)).status_code == 201

    await organisations.set_suspended("kitchen", suspended=False, now=now)
    assert (await client.get(f"/events/{slug}")).status_code == 200
    assert (await client.get(f"/api/events/{slug}/claim-codes", headers=bearer)).status_code == 200
    assert (await place_order(client, slug)).status_code == 201
