"""The demo supper club has a hidden Volunteer ticket type and one access code that opens it."""

from __future__ import annotations

from datetime import datetime

import httpx

from events.codes import service as codes
from events.demo import VOLUNTEER_CODE, seed_demo


async def test_the_demo_supper_club_has_one_volunteer_access_code_once(client: httpx.AsyncClient, now: datetime) -> None:
    created = await seed_demo(now, with_demo_login=False)
    assert "volunteer code of august-supper-club" in created
    [code] = await codes.list_codes("august-supper-club")
    assert code.code == VOLUNTEER_CODE and code.uses == 0 and len(code.unlocks) == 1 and code.discount_percent is None

    public = (await client.get("/api/events/august-supper-club")).json()
    assert [t["name"] for t in public["ticket_types"]] == ["Supper"]
    assert "Volunteer" not in (await client.get("/events/august-supper-club")).text
    opened = await client.get("/events/august-supper-club", params={"code": VOLUNTEER_CODE})
    assert "Volunteer" in opened.text and f"Code {VOLUNTEER_CODE} applied" in opened.text

    assert await seed_demo(now, with_demo_login=False) == []
    assert len(await codes.list_codes("august-supper-club")) == 1
