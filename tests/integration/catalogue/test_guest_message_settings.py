"""An event's guest messages through the API: the reminder (hours before the start, 1 to 336, or none) and the
thank-you (on unless turned off), set when it is created, changed later, validated and in the audit log."""

from datetime import datetime

import httpx
import pytest

from events.catalogue.tables import Event
from tests.factories import event_payload, make_event, make_partner
from tests.support.audit import list_entries


async def test_an_event_reminds_two_days_before_and_thanks_givers_unless_told_otherwise(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    created = await client.post("/api/events", json=event_payload(now), headers=organiser)
    assert created.status_code == 201, created.text
    assert (created.json()["reminder_hours_before"], created.json()["thank_you_enabled"]) == (48, True)

    chosen = await client.post(
        "/api/events", json=event_payload(now, slug="quiz-night", reminder_hours_before=6, thank_you_enabled=False), headers=organiser
    )
    assert chosen.status_code == 201, chosen.text
    assert (chosen.json()["reminder_hours_before"], chosen.json()["thank_you_enabled"]) == (6, False)
    none = await client.post("/api/events", json=event_payload(now, slug="film-night", reminder_hours_before=None), headers=organiser)
    assert none.status_code == 201 and none.json()["reminder_hours_before"] is None
    stored = await Event.select(Event.slug, Event.reminder_hours_before, Event.thank_you_enabled).order_by(Event.id)
    assert [tuple(row.values()) for row in stored] == [("supper-club", 48, True), ("quiz-night", 6, False), ("film-night", None, True)]


async def test_an_organiser_changes_or_turns_off_the_messages_and_the_change_is_logged(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    changed = await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": 336, "thank_you_enabled": False}, headers=organiser)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["reminder_hours_before"], changed.json()["thank_you_enabled"]) == (336, False)
    [entry] = await list_entries(action="event.updated")
    assert entry.before == {"reminder_hours_before": 48, "thank_you_enabled": True}
    assert entry.after == {"reminder_hours_before": 336, "thank_you_enabled": False}
    off = await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": None}, headers=organiser)
    assert off.status_code == 200 and off.json()["reminder_hours_before"] is None
    untouched = await client.patch(f"/api/events/{slug}", json={"title": "Supper Club Two"}, headers=organiser)
    assert (untouched.json()["reminder_hours_before"], untouched.json()["thank_you_enabled"]) == (None, False)  # left as they were


@pytest.mark.parametrize("bad", [0, -1, 337, 1.5, "two days", True])
async def test_reminder_hours_outside_one_to_336_are_refused(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, bad: object
) -> None:
    slug = await make_event(now)
    response = await client.patch(f"/api/events/{slug}", json={"reminder_hours_before": bad}, headers=organiser)
    assert response.status_code == 422, response.text
    assert "reminder_hours_before" in response.json()["fields"]
    created = await client.post("/api/events", json=event_payload(now, slug="quiz-night", reminder_hours_before=bad), headers=organiser)
    assert created.status_code == 422 and "reminder_hours_before" in created.json()["fields"]
    assert (await Event.select(Event.reminder_hours_before).where(Event.slug == slug).first())["reminder_hours_before"] == 48
    thank_you = await client.patch(f"/api/events/{slug}", json={"thank_you_enabled": "no"}, headers=organiser)
    assert thank_you.status_code == 422 and "thank_you_enabled" in thank_you.json()["fields"]
