"""A scan's nonce belongs to the device and the event that sent it, and a ticket for another event tells a door
whose it is and where it belongs only when that door may scan that event."""

from datetime import datetime

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import Event
from events.checkin.door_team import assign_door_staff
from events.checkin.tables import Scan
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.checkin.test_redeem import door_team, paid_tickets, scan


async def named(ticket, holder: str):  # type: ignore[no-untyped-def]
    await Ticket.update({Ticket.holder_name: holder}).where(Ticket.id == ticket.id)
    return ticket


async def test_a_nonce_used_for_one_event_is_a_fresh_scan_for_another(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    first_slug = await make_event(now)
    second_slug = await make_event(now, slug="second-night")
    door = await door_team(now, slug=first_slug)
    event = await Event.select(Event.id).where(Event.slug == second_slug).first()
    user = await accounts.user_for_token(door["Authorization"].removeprefix("Bearer "))
    await assign_door_staff(event["id"], user.id)
    [first, _] = await paid_tickets(client, app, first_slug, now=now)
    [second, _] = await paid_tickets(client, app, second_slug, now=now)
    await named(first, "Nadia First")
    await named(second, "Omar Second")

    admitted = (await client.post("/api/checkin/redeem", json=scan(first_slug, first.code, nonce="shared-nonce-1"), headers=door)).json()
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Nadia First"
    # The same nonce for the second event is that event's own scan: its ticket is admitted, and nothing of
    # the first event's stored answer comes back.
    elsewhere = (await client.post("/api/checkin/redeem", json=scan(second_slug, second.code, nonce="shared-nonce-1"), headers=door)).json()
    assert elsewhere["status"] == "ok" and elsewhere["ticket"]["holder"] == "Omar Second"
    probe = (await client.post("/api/checkin/redeem", json=scan(second_slug, "not-a-ticket", nonce="shared-nonce-1"), headers=door)).json()
    assert probe["ticket"] == elsewhere["ticket"]  # a retry at the second event gets the second event's answer
    # A retry at the first event still gets the first answer.
    retried = (await client.post("/api/checkin/redeem", json=scan(first_slug, first.code, nonce="shared-nonce-1"), headers=door)).json()
    assert retried == admitted
    assert await Scan.count().where(Scan.nonce == "shared-nonce-1") == 2
    assert await Ticket.count().where(Ticket.id.is_in([first.id, second.id]), Ticket.checked_in_at.is_not_null()) == 2


async def test_a_nonce_from_another_device_is_a_fresh_scan(client: httpx.AsyncClient, app, now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door1 = await door_team(now, name="Door 1", email="door1@test.example", slug=slug)
    door2 = await door_team(now, name="Door 2", email="door2@test.example", slug=slug)
    [ticket, other] = await paid_tickets(client, app, slug, now=now)
    await named(ticket, "Nadia First")
    admitted = (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code, nonce="seen-at-door-1"), headers=door1)).json()
    assert admitted["status"] == "ok" and admitted["ticket"]["holder"] == "Nadia First"

    # Another door replaying that nonce with junk gets its own answer, not door 1's stored one (and its name).
    replay = (await client.post("/api/checkin/redeem", json=scan(slug, "not-a-ticket", nonce="seen-at-door-1"), headers=door2)).json()
    assert (replay["status"], replay["reason"], replay["ticket"]) == ("error", "unknown", None)
    # With a real ticket, the same nonce at the other door is decided like any scan.
    fresh = (await client.post("/api/checkin/redeem", json=scan(slug, other.code, nonce="seen-at-door-1"), headers=door2)).json()
    assert fresh == replay  # door 2's first answer for this nonce stands
    fresh = (await client.post("/api/checkin/redeem", json=scan(slug, other.code, nonce="door-2-own"), headers=door2)).json()
    assert fresh["status"] == "ok" and fresh["ticket"]["checked_in_by"] == "Door 2"

    # One person's second device (another token label) is another device too.
    phone = {"Authorization": f"Bearer {await accounts.create_api_token('door1@test.example', label='Spare phone', now=now)}"}
    spare = (await client.post("/api/checkin/redeem", json=scan(slug, "still-not-a-ticket", nonce="seen-at-door-1"), headers=phone)).json()
    assert (spare["reason"], spare["ticket"]) == ("unknown", None)
    assert await Scan.count().where(Scan.nonce == "seen-at-door-1") == 3


async def test_a_ticket_for_another_event_is_named_only_to_that_events_staff(
    client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime
) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    other_slug = await make_event(now, slug="other-night", title="Other Night")
    only_here = await door_team(now, name="Door here", email="here@test.example", slug=slug)
    both = await door_team(now, name="Door both", email="both@test.example", slug=slug)
    other_event = await Event.select(Event.id).where(Event.slug == other_slug).first()
    both_user = await accounts.user_for_token(both["Authorization"].removeprefix("Bearer "))
    await assign_door_staff(other_event["id"], both_user.id)
    [for_other, _] = await paid_tickets(client, app, other_slug, now=now)
    await named(for_other, "Salma Elsewhere")

    stranger = (await client.post("/api/checkin/redeem", json=scan(slug, for_other.code, nonce="wrong-door-1"), headers=only_here)).json()
    assert (stranger["status"], stranger["reason"]) == ("error", "wrong_event")
    assert stranger["ticket"] is None and stranger["ticket_event"] is None
    assert "Salma" not in str(stranger) and "Other Night" not in str(stranger)
    retried = (await client.post("/api/checkin/redeem", json=scan(slug, for_other.code, nonce="wrong-door-1"), headers=only_here)).json()
    assert retried == stranger  # the stored answer is told the same way

    for headers in (both, organiser):
        staff = (await client.post("/api/checkin/redeem", json=scan(slug, for_other.code), headers=headers)).json()
        assert (staff["status"], staff["reason"]) == ("error", "wrong_event")
        assert staff["ticket_event"] == {"slug": other_slug, "title": "Other Night"}
        assert staff["ticket"]["holder"] == "Salma Elsewhere"

    # The offline sync answers the same way.
    synced = (
        await client.post(
            "/api/checkin/sync",
            json={
                "event": slug,
                "scans": [
                    {"secret": for_other.code, "nonce": "wrong-door-offline", "scanned_at": now.isoformat(), "result": "wrong_event"},
                ],
            },
            headers=only_here,
        )
    ).json()
    [entry] = synced["scans"]
    assert entry["reason"] == "wrong_event" and entry["ticket"] is None and entry["ticket_event"] is None
    assert await Ticket.count().where(Ticket.id == for_other.id, Ticket.checked_in_at.is_not_null()) == 0
