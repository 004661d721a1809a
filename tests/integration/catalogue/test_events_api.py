"""The events API: public reads, and the organiser's create and update, checked by role."""

from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from tests.factories import event_payload, make_event, make_partner
from tests.support.audit import list_entries
from tests.support.orders import place_order


async def test_an_organiser_creates_an_event_with_types_capacity_free_places_and_shares(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    response = await client.post("/api/events", json=event_payload(now), headers=organiser)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "supper-club"
    assert body["capacity"] == 40 and body["reserved_free_places"] == 20
    assert body["places_left"] == 20
    [supper] = body["ticket_types"]
    assert supper["price_pence"] == 3000 and supper["available"] == 20 and supper["on_sale"] is True
    assert {b["partner"]: b["share_bp"] for b in body["beneficiaries"]} == {"welcome-kitchen": 7000, "welcome-cinema": 3000}

    public = (await client.get("/api/events/supper-club")).json()
    assert public == body
    listed = (await client.get("/api/events")).json()
    assert [e["slug"] for e in listed] == ["supper-club"]
    assert listed[0]["from_price_pence"] == 3000


async def test_local_times_are_read_in_the_event_time_zone(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    year = now.year + 1
    payload = event_payload(now, starts_at=f"{year}-08-19T19:00:00", ends_at=f"{year}-08-19T22:30:00")
    body = (await client.post("/api/events", json=payload, headers=organiser)).json()
    assert body["starts_at"] == f"{year}-08-19T19:00:00+01:00"  # British Summer Time
    assert body["timezone"] == "Europe/London"


async def test_a_date_at_the_edge_of_the_calendar_is_a_422_naming_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """The last hour of year 9999 behind UTC cannot be stored in UTC: refused as bad input, not a server error."""
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    payload = event_payload(now, starts_at="9999-12-31T23:00:00-23:00", ends_at="9999-12-31T23:30:00-23:00")
    response = await client.post("/api/events", json=payload, headers=organiser)
    assert response.status_code == 422, response.text
    assert "starts_at" in response.json()["fields"]
    assert (await client.get("/api/events/supper-club")).status_code == 404
    await make_event(now)
    patched = await client.patch("/api/events/supper-club", json={"ends_at": "9999-12-31T23:30:00-23:00"}, headers=organiser)
    assert patched.status_code == 422 and "ends_at" in patched.json()["fields"]


async def test_shares_that_do_not_sum_to_100_percent_are_refused_with_a_field_message(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    payload = event_payload(now, beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 2000}])
    response = await client.post("/api/events", json=payload, headers=organiser)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert "9000" in body["fields"]["beneficiaries"]
    assert (await client.get("/api/events/supper-club")).status_code == 404  # nothing half-written


async def test_malformed_input_gets_a_422_naming_the_field(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    for bad in (
        {"capacity": 0},
        {"capacity": "lots"},
        {"ticket_types": [{"name": "Supper", "price_pence": -5}]},
        {"slug": "Not A Slug"},
        {"surprise": True},
    ):
        response = await client.post("/api/events", json=event_payload(now, **bad), headers=organiser)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"] == "invalid"
        assert response.json()["fields"], bad
    response = await client.post("/api/events", content=b"{not json", headers={**organiser, "content-type": "application/json"})
    assert 400 <= response.status_code < 500


async def test_unknown_partners_and_taken_slugs_are_clear_errors(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    response = await client.post("/api/events", json=event_payload(now), headers=organiser)
    assert response.status_code == 422
    assert "welcome-kitchen" in response.json()["detail"]
    await make_event(now)
    response = await client.post("/api/events", json=event_payload(now), headers=organiser)
    assert response.status_code == 409
    assert response.json()["error"] == "slug_taken"


async def test_roles_are_checked_on_every_organiser_route(client: httpx.AsyncClient, now: datetime) -> None:
    await make_partner("welcome-kitchen")
    anonymous = await client.post("/api/events", json=event_payload(now))
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "not_signed_in"
    bad_token = await client.post("/api/events", json=event_payload(now), headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401
    await accounts.create_user("door@test.example", role="door", password=None)
    door = {"Authorization": f"Bearer {await accounts.create_api_token('door@test.example', now=now)}"}
    for method, path, body in (
        ("POST", "/api/events", event_payload(now)),
        ("PATCH", "/api/events/whatever", {"title": "x"}),
        ("POST", "/api/partners", {"name": "X"}),
    ):
        response = await client.request(method, path, json=body, headers=door)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "forbidden"


async def test_a_revoked_token_stops_working(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    assert (await client.post("/api/partners", json={"name": "Drop In"}, headers=organiser)).status_code == 201
    await accounts.revoke_api_tokens("organiser@test.example", now=now)
    assert (await client.post("/api/partners", json={"name": "Drop In 2"}, headers=organiser)).status_code == 401


async def test_an_organiser_updates_an_event_and_its_ticket_types(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    event = (await client.get(f"/api/events/{slug}")).json()
    supper_id = event["ticket_types"][0]["id"]
    await make_partner("help-refugees")
    response = await client.patch(
        f"/api/events/{slug}",
        json={
            "title": "Late Summer Supper Club",
            "capacity": 50,
            "ticket_types": [
                {"id": supper_id, "price_pence": 3200},
                {"name": "Door supper", "price_pence": 3500, "channel": "door"},
            ],
            "beneficiaries": [{"partner": "help-refugees", "share_bp": 10000}],
        },
        headers=organiser,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Late Summer Supper Club"
    assert body["places_left"] == 30
    assert [(t["name"], t["price_pence"], t["on_sale"]) for t in body["ticket_types"]] == [
        ("Supper", 3200, True),
        ("Door supper", 3500, False),
    ]
    assert [b["partner"] for b in body["beneficiaries"]] == ["help-refugees"]


async def test_updates_that_break_a_rule_change_nothing(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    before = (await client.get(f"/api/events/{slug}")).json()
    for patch, field in (
        ({"title": "New", "reserved_free_places": 41}, "reserved_free_places"),
        ({"title": "New", "ends_at": (now - timedelta(days=1)).isoformat()}, "ends_at"),
        ({"title": "New", "status": "draft"}, "status"),
        ({"title": "New", "ticket_types": [{"id": 999999, "price_pence": 1}]}, "ticket_types[0].id"),
    ):
        response = await client.patch(f"/api/events/{slug}", json=patch, headers=organiser)
        assert response.status_code == 422, patch
        assert field in response.json()["fields"], response.json()
    assert (await client.get(f"/api/events/{slug}")).json() == before
    missing = await client.patch("/api/events/no-such-event", json={"title": "x"}, headers=organiser)
    assert missing.status_code == 404 and missing.json()["error"] == "event_not_found"


async def test_drafts_are_hidden_until_published(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, status="draft")
    assert (await client.get(f"/api/events/{slug}")).status_code == 404
    assert (await client.get("/api/events")).json() == []
    published = await client.patch(f"/api/events/{slug}", json={"status": "on_sale"}, headers=organiser)
    assert published.status_code == 200
    assert [e["slug"] for e in (await client.get("/api/events")).json()] == [slug]


async def test_sales_windows_decide_what_is_on_sale_online(client: httpx.AsyncClient, now: datetime) -> None:
    starts = now + timedelta(days=30)
    slug = await make_event(
        now,
        slug="club-night",
        reserved_free_places=0,
        ticket_types=[
            {"name": "Advance", "price_pence": 600, "channel": "online", "sales_end": starts.isoformat()},
            {"name": "Door", "price_pence": 900, "channel": "door"},
            {"name": "Early bird", "price_pence": 400, "channel": "online", "sales_end": (now - timedelta(days=1)).isoformat()},
        ],
    )
    types = {t["name"]: t for t in (await client.get(f"/api/events/{slug}")).json()["ticket_types"]}
    assert types["Advance"]["on_sale"] is True
    assert types["Door"]["on_sale"] is False and types["Door"]["channel"] == "door"
    assert types["Early bird"]["on_sale"] is False


async def test_partners_are_created_and_listed(client: httpx.AsyncClient, organiser: dict[str, str]) -> None:
    response = await client.post("/api/partners", json={"name": "Refugee Women's Group", "website": "https://example.org/rwg"}, headers=organiser)
    assert response.status_code == 201
    assert response.json()["slug"] == "refugee-women-s-group"
    again = await client.post("/api/partners", json={"name": "Refugee Women's Group"}, headers=organiser)
    assert again.status_code == 409
    bad = await client.post("/api/partners", json={"name": "X", "website": "javascript:alert(1)"}, headers=organiser)
    assert bad.status_code == 422
    assert [p["slug"] for p in (await client.get("/api/partners")).json()] == ["refugee-women-s-group"]


async def test_ticket_types_are_removed_only_while_unordered_and_otherwise_stop_selling(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000}, {"name": "Late", "price_pence": 1000}])
    [supper, late] = (await client.get(f"/api/events/{slug}")).json()["ticket_types"]
    await place_order(client, slug, type_name="Supper")  # held: the type has been ordered
    refused = await client.delete(f"/api/events/{slug}/ticket-types/{supper['id']}", headers=organiser)
    assert refused.status_code == 409 and refused.json()["error"] == "ticket_type_in_use"
    stopped = await client.post(f"/api/events/{slug}/ticket-types/{supper['id']}/stop-sales", headers=organiser)
    assert stopped.status_code == 200 and [t["on_sale"] for t in stopped.json()["ticket_types"]] == [False, True]
    assert (await client.delete(f"/api/events/{slug}/ticket-types/{late['id']}", headers=organiser)).status_code == 204
    assert [t["name"] for t in (await client.get(f"/api/events/{slug}")).json()["ticket_types"]] == ["Supper"]
    assert (await client.delete(f"/api/events/{slug}/ticket-types/{late['id']}", headers=organiser)).status_code == 404
    assert {"ticket_type.removed", "ticket_type.sales_stopped"} <= {e.action for e in await list_entries()}
