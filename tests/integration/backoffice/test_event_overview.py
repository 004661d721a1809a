"""The organiser's event page: sales, holds, free places, check-ins, and offline door conflicts flagged."""

from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.checkin.test_redeem import door_team, paid_tickets
from tests.support.orders import place_order


async def test_the_event_page_counts_and_flags_conflicts(client: httpx.AsyncClient, app, organiser: dict[str, str], now: datetime) -> None:  # type: ignore[no-untyped-def]
    slug = await make_event(now)
    door1 = await door_team(now, slug=slug)
    door2 = await door_team(now, name="Door 2", email="door2@test.example", slug=slug)
    [ticket, _] = await paid_tickets(client, app, slug, now=now)
    await place_order(client, slug, quantity=3)  # held, not paid
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 3}, headers=organiser)).json()
    await client.post("/api/claims", json={"code": link["code"], "name": "Leila"})
    for door, nonce, at in ((door1, "d1-conflict-01", now - timedelta(minutes=5)), (door2, "d2-conflict-01", now)):
        await client.post("/api/checkin/sync", headers=door, json={"event": slug, "scans": [
            {"secret": ticket.code, "nonce": nonce, "scanned_at": at.isoformat(), "result": "ok"}]})

    anonymous = await client.get(f"/manage/events/{slug}", headers={"accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]
    await accounts.create_user("boss@test.example", role="organiser", password="a long password")
    await sign_in(client, "boss@test.example", "a long password")
    page = await client.get(f"/manage/events/{slug}")
    assert page.status_code == 200
    text = page.text
    assert '<dd class="sold">2</dd>' in text and '<dd class="held">3</dd>' in text
    assert '<dd class="claimed">1</dd>' in text and '<dd class="checked-in">1 / 3</dd>' in text
    assert "1 ticket was let in at two doors while offline." in text
    assert "Door 2" in text and "Door 1" in text
