"""The event form's guest messages: a reminder some hours before (or none) and the thank-you after (or none), shown
as stored, kept when the form comes back with a problem, and checked."""

from __future__ import annotations

import re

import httpx

from events.catalogue.tables import Event
from tests.support.audit import list_entries
from tests.support.backoffice import event_form, post_form, sign_in_organiser

SLUG = "august-supper-club"


async def stored() -> tuple[int | None, bool]:
    event = await Event.select(Event.reminder_hours_before, Event.thank_you_enabled).where(Event.slug == SLUG).first()
    return event["reminder_hours_before"], event["thank_you_enabled"]


async def test_a_new_event_offers_a_reminder_two_days_before_and_the_thank_you(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    page = (await client.get("/manage/events/new")).text
    assert re.search(r'id="reminder_on" name="reminder" value="on"[^>]*checked', page)
    assert re.search(r'id="reminder_hours_before" name="reminder_hours_before" type="number" value="48"', page)
    assert re.search(r'id="thank_you_on" name="thank_you" value="on"[^>]*checked', page)
    created = await post_form(client, "/manage/events/new", event_form(reminder="on", reminder_hours_before="24", thank_you="off"))
    assert created.status_code == 303, created.text
    assert await stored() == (24, False)


async def test_the_organiser_changes_the_hours_turns_them_off_and_sees_what_is_stored(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    await post_form(client, "/manage/events/new", event_form())
    assert await stored() == (48, True)

    saved = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(reminder="on", reminder_hours_before="6", thank_you="on"))
    assert saved.status_code == 303 and await stored() == (6, True)
    [entry] = await list_entries(action="event.updated")
    assert (entry.before, entry.after) == ({"reminder_hours_before": 48}, {"reminder_hours_before": 6})

    off = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(reminder="off", reminder_hours_before="6", thank_you="off"))
    assert off.status_code == 303 and await stored() == (None, False)
    page = (await client.get(f"/manage/events/{SLUG}/edit")).text
    assert re.search(r'id="reminder_off" name="reminder" value="off"[^>]*checked', page)
    assert re.search(r'id="thank_you_off" name="thank_you" value="off"[^>]*checked', page)
    assert not re.search(r'id="reminder_on"[^>]*checked', page)


async def test_hours_outside_one_to_two_weeks_are_marked_and_nothing_changes(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    await post_form(client, "/manage/events/new", event_form())
    for hours in ("0", "337", "soon"):
        refused = await post_form(client, f"/manage/events/{SLUG}/edit", event_form(reminder="on", reminder_hours_before=hours))
        assert refused.status_code == 422
        assert "Enter a whole number of hours from 1 to 336 (two weeks), or choose no reminder." in refused.text
        assert 'href="#reminder_hours_before"' in refused.text  # the summary links to the field
        assert re.search(r'id="reminder_hours_before"[^>]*aria-invalid="true"', refused.text)
        assert f'value="{hours}"' in refused.text  # what the organiser typed is kept
    assert await stored() == (48, True)
