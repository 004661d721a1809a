"""The door's own record: one event's scans, accepted or refused, with device, time and result, on the organiser's
scans page."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from litestar import Litestar

from tests.factories import make_event
from tests.integration.backoffice.test_orders import bought
from tests.integration.checkin.test_redeem import door_team, scan
from tests.support.backoffice import sign_in_organiser


async def test_an_events_door_scans_show_device_time_and_result(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    from events.tickets.views import tickets_of_order

    slug = await make_event(now)
    amal = await bought(client, slug, name="Amal Haddad", email="amal@example.org")
    door = await door_team(now, name="Front door", slug=slug)
    [ticket] = await tickets_of_order(amal["reference"], secret_key=app.state.settings.secret_key, now=now)
    assert (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door)).json()["status"] == "ok"
    assert (await client.post("/api/checkin/redeem", json=scan(slug, ticket.code), headers=door)).json()["status"] == "error"
    offline = {"secret": ticket.code, "nonce": "offline-1", "scanned_at": (now - timedelta(minutes=1)).isoformat(), "result": "ok"}
    await client.post("/api/checkin/sync", headers=door, json={"event": slug, "scans": [offline]})
    await sign_in_organiser(client)
    page = await client.get(f"/manage/events/{slug}/scans")
    assert page.status_code == 200
    assert "3 scans." in page.text
    assert page.text.count('class="scan scan-ok"') == 1 and page.text.count('class="scan scan-error"') >= 1
    assert "already redeemed" in page.text and "Front door" in page.text and amal["reference"] in page.text
    assert (await client.get(f"/manage/events/{slug}/audit")).text.count(f"/manage/events/{slug}/scans") >= 1


async def test_a_batch_of_offline_scans_beyond_the_limit_is_refused_whole(client: httpx.AsyncClient, now: datetime) -> None:
    """A phone that was offline for a whole night sends at most 5,000 scans at once: one more is a clear 422, and
    none of the batch is recorded (the phone sends them again in smaller batches)."""
    from events.checkin.tables import Scan

    slug = await make_event(now)
    door = await door_team(now, name="Front door", slug=slug)
    when = (now - timedelta(minutes=1)).isoformat()
    scans = [{"secret": f"NOT-A-CODE-{n}", "nonce": f"offline-{n:05d}", "scanned_at": when, "result": "ok"} for n in range(5001)]
    refused = await client.post("/api/checkin/sync", headers=door, json={"event": slug, "scans": scans})
    assert refused.status_code == 422, refused.text
    assert await Scan.count() == 0
    accepted = await client.post("/api/checkin/sync", headers=door, json={"event": slug, "scans": scans[:2]})
    assert accepted.status_code == 200 and len(accepted.json()["scans"]) == 2
