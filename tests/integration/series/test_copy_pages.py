"""Copying an event in the back office: "Copy this event" on the event's pages opens a form offering next month's
date (the same weekday), title and web address; sending it lands on the new draft with every part of the set-up and
no guest data. Problems are shown next to their fields and change nothing."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from events.catalogue.tables import Event
from tests.integration.accounts.test_login import sign_in
from tests.integration.series.test_copy import assert_copied_set_up, assert_no_guest_data
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.series import supper_club_with_guests


async def test_copy_this_event_lands_on_the_new_draft_with_its_set_up(client: httpx.AsyncClient, now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    await sign_in_organiser(client)
    dashboard = await client.get(f"/manage/events/{club.slug}")
    assert f'href="/manage/events/{club.slug}/copy"' in dashboard.text
    assert f'href="/manage/events/{club.slug}/copy"' in (await client.get(f"/manage/events/{club.slug}/edit")).text

    form = await client.get(f"/manage/events/{club.slug}/copy")
    assert form.status_code == 200
    # August's third Thursday offers September's, at the same time: the title and address follow the month.
    for name, value in {
        "title": "September Supper Club",
        "slug": "september-supper-club",
        "starts_at": "2031-09-18T19:00",
        "ends_at": "2031-09-18T22:30",
    }.items():
        assert re.search(rf'id="{name}" name="{name}" [^>]*value="{value}"', form.text), name
    assert "Access and discount codes, and free-place claim links" in form.text  # says what is not copied

    copied = await post_form(
        client,
        f"/manage/events/{club.slug}/copy",
        {"title": "September Supper Club", "slug": "september-supper-club", "starts_at": "2031-09-18T19:00", "ends_at": "2031-09-18T22:30"},
        page=f"/manage/events/{club.slug}/copy",
    )
    assert copied.status_code == 303 and copied.headers["location"] == "/manage/events/september-supper-club/edit?notice=copied"
    landed = await client.get(copied.headers["location"])
    assert landed.status_code == 200 and "This is the copy, a draft." in landed.text
    assert re.search(r'<option value="third-thursday" selected>Third Thursday supper club</option>', landed.text)

    copy = await assert_copied_set_up(club, "september-supper-club")
    await assert_no_guest_data(copy["id"])
    assert copy["title"] == "September Supper Club" and copy["status"] == "draft"

    # The form offers the next free address once September's is taken.
    again = await client.get(f"/manage/events/{club.slug}/copy")
    assert re.search(r'id="slug" name="slug" [^>]*value="september-supper-club-2"', again.text)


async def test_problems_are_shown_next_to_their_fields_and_copy_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    await sign_in_organiser(client)
    events = await Event.count()
    page = f"/manage/events/{club.slug}/copy"
    taken = await post_form(
        client, page, {"title": "Again", "slug": club.slug, "starts_at": "2031-09-18T19:00", "ends_at": "2031-09-18T22:30"}, page=page
    )
    assert taken.status_code == 422 and "Already in use." in taken.text
    assert re.search(r'id="slug"[^>]*aria-invalid="true"', taken.text) and 'id="error-summary"' in taken.text
    backwards = await post_form(
        client, page, {"title": "Again", "slug": "again", "starts_at": "2031-09-18T19:00", "ends_at": "2031-09-18T18:00"}, page=page
    )
    assert backwards.status_code == 422 and "The event must end after it starts." in backwards.text
    assert re.search(r'id="ends_at"[^>]*aria-invalid="true"', backwards.text)
    assert 'value="again"' in backwards.text  # what the person typed is kept
    empty = await post_form(client, page, {"title": "", "slug": "Bad Slug", "starts_at": "soon", "ends_at": ""}, page=page)
    assert empty.status_code == 422
    for name in ("title", "slug", "starts_at", "ends_at"):
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', empty.text), name
    assert await Event.count() == events


async def test_an_organiser_limited_to_chosen_events_cannot_copy(client: httpx.AsyncClient, now: datetime) -> None:
    """A copy is a new event of the organisation, which such an organiser cannot create."""
    club = await supper_club_with_guests(client, now)
    await sign_in(client, "limited@test.example", "a long password")
    dashboard = await client.get(f"/manage/events/{club.slug}")
    assert dashboard.status_code == 200 and "/copy" not in dashboard.text
    assert (await client.get(f"/manage/events/{club.slug}/copy")).status_code == 403
