"""The event form's cut-off for changing the names on tickets: 24 hours before the start for a new event, shown as
stored, changed, and checked."""

from __future__ import annotations

import re

import httpx

from events.catalogue.tables import Event
from tests.support.backoffice import event_form, post_form, sign_in_organiser

SLUG = "august-supper-club"


async def stored() -> int:
    event = await Event.select(Event.name_changes_close_hours_before).where(Event.slug == SLUG).first()
    return event["name_changes_close_hours_before"]


async def test_the_organiser_sets_until_when_buyers_can_change_the_names(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    page = (await client.get("/manage/events/new")).text
    assert re.search(r'id="name_changes_close_hours_before" name="name_changes_close_hours_before" type="number" value="24"', page)
    created = await post_form(client, "/manage/events/new", event_form())
    assert created.status_code == 303, created.text
    assert await stored() == 24

    saved = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(name_changes_close_hours_before="72"))
    assert saved.status_code == 303 and await stored() == 72
    assert 'value="72"' in (await client.get(f"/manage/events/{SLUG}/edit")).text
    for hours in ("-1", "337", "soon"):
        refused = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(name_changes_close_hours_before=hours))
        assert refused.status_code == 422, hours
        assert 'href="#name_changes_close_hours_before"' in refused.text  # the summary links to the field
        assert re.search(r'id="name_changes_close_hours_before"[^>]*aria-invalid="true"', refused.text)
    assert await stored() == 72
