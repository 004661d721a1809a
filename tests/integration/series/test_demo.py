"""The demo's supper club is one of a series, so the series' page and the organisation's "Regular events" show it."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.catalogue.tables import Series
from events.demo import NETWORK_SLUG, seed_demo


async def test_the_demo_supper_club_is_in_a_series_once(client: httpx.AsyncClient, now: datetime) -> None:
    created = await seed_demo(now, with_demo_login=False)
    assert "series supper-club" in created
    series = (await client.get("/api/series/supper-club")).json()
    assert series["title"] == "Supper club" and [event["slug"] for event in series["events"]] == ["august-supper-club"]
    assert 'href="/series/supper-club"' in (await client.get(f"/organisations/{NETWORK_SLUG}")).text
    assert await seed_demo(now, with_demo_login=False) == [] and await Series.count() == 1
