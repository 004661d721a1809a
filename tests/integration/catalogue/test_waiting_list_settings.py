"""An event's waiting-list and release-policy settings: set through the API and the set-up form, checked at the
boundary (a bad value changes nothing), shown in the event's detail, and written to the audit log."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from events.catalogue.tables import Event, TicketType
from tests.factories import event_payload, make_event, make_partner
from tests.support.audit import list_entries
from tests.support.backoffice import event_form, post_form, sign_in_organiser

SETTINGS = ("waiting_list_open", "waiting_list_first", "offer_hours", "refund_days_before")


async def _settings(slug: str) -> dict[str, object]:
    row = await Event.select(*(getattr(Event, name) for name in SETTINGS)).where(Event.slug == slug).first()
    return dict(row)


async def test_a_new_event_has_the_default_settings_and_can_choose_its_own(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    created = await client.post("/api/events", json=event_payload(now), headers=organiser)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {name: body[name] for name in SETTINGS} == {
        "waiting_list_open": True,
        "waiting_list_first": True,
        "offer_hours": 12,
        "refund_days_before": 7,
    }
    assert [t["waiting_list"] for t in body["ticket_types"]] == [True]

    own = event_payload(
        now,
        slug="no-refunds-night",
        waiting_list_open=False,
        waiting_list_first=False,
        offer_hours=3,
        refund_days_before=None,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "waiting_list": False}],
    )
    chosen = await client.post("/api/events", json=own, headers=organiser)
    assert chosen.status_code == 201, chosen.text
    assert await _settings("no-refunds-night") == {
        "waiting_list_open": False,
        "waiting_list_first": False,
        "offer_hours": 3,
        "refund_days_before": None,
    }
    assert chosen.json()["ticket_types"][0]["waiting_list"] is False
    [logged] = [entry for entry in await list_entries(action="event.created") if entry.subject_id == "no-refunds-night"]
    assert logged.after["offer_hours"] == 3 and logged.after["refund_days_before"] is None and logged.after["waiting_list_first"] is False


@pytest.mark.parametrize(
    "change",
    [
        {"offer_hours": 0},
        {"offer_hours": 169},
        {"offer_hours": "twelve"},
        {"refund_days_before": -1},
        {"refund_days_before": 366},
        {"waiting_list_open": "maybe"},
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, change: dict[str, object]
) -> None:
    slug = await make_event(now)
    before = await _settings(slug)
    refused = await client.patch(f"/api/events/{slug}", json=change, headers=organiser)
    assert refused.status_code in (400, 422), refused.text
    assert await _settings(slug) == before
    assert await list_entries(action="event.updated") == []


async def test_changing_the_settings_is_logged_with_before_and_after(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    [type_id] = [row["id"] for row in await TicketType.select(TicketType.id).where(TicketType.event.slug == slug)]
    changed = await client.patch(
        f"/api/events/{slug}",
        json={"offer_hours": 24, "refund_days_before": None, "waiting_list_first": False, "ticket_types": [{"id": type_id, "waiting_list": False}]},
        headers=organiser,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["offer_hours"], body["refund_days_before"], body["waiting_list_first"], body["waiting_list_open"]) == (24, None, False, True)
    assert body["ticket_types"][0]["waiting_list"] is False
    [entry] = await list_entries(action="event.updated")
    assert entry.before == {"waiting_list_first": True, "offer_hours": 12, "refund_days_before": 7}
    assert entry.after == {"waiting_list_first": False, "offer_hours": 24, "refund_days_before": None}
    [type_entry] = await list_entries(action="ticket_type.updated")
    assert type_entry.before == {"waiting_list": True} and type_entry.after == {"waiting_list": False}
    # The guests' event page reads the same detail: the refund policy is public.
    assert (await client.get(f"/api/events/{slug}")).json()["refund_days_before"] is None


async def test_the_set_up_form_shows_and_saves_the_settings_with_a_message_beside_a_bad_one(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    created = await post_form(client, "/manage/events/new", event_form())
    assert created.status_code == 303
    slug = "august-supper-club"
    assert await _settings(slug) == {"waiting_list_open": True, "waiting_list_first": True, "offer_hours": 12, "refund_days_before": 7}
    page = await client.get(f"/manage/events/{slug}/edit")
    assert re.search(r'id="waiting_list_on"[^>]*checked', page.text) and re.search(r'id="refunds_on"[^>]*checked', page.text)
    assert re.search(r'id="offer_hours"[^>]*value="12"', page.text)

    bad = await post_form(client, f"/manage/events/{slug}/edit", event_form(offer_hours="200", refund_days_before="lots"))
    assert bad.status_code == 422
    assert re.search(r'id="offer_hours"[^>]*aria-invalid="true"', bad.text) and 'href="#offer_hours"' in bad.text
    assert await _settings(slug) == {"waiting_list_open": True, "waiting_list_first": True, "offer_hours": 12, "refund_days_before": 7}

    saved = await post_form(
        client,
        f"/manage/events/{slug}/edit",
        event_form(waiting_list="off", freed_places_to="sale", offer_hours="6", refunds="off", refund_days_before="7"),
    )
    assert saved.status_code == 303
    assert await _settings(slug) == {"waiting_list_open": False, "waiting_list_first": False, "offer_hours": 6, "refund_days_before": None}
    again = await client.get(f"/manage/events/{slug}/edit")
    assert re.search(r'id="waiting_list_off"[^>]*checked', again.text) and re.search(r'id="refunds_off"[^>]*checked', again.text)
    assert re.search(r'id="freed_places_to_sale"[^>]*checked', again.text)
    [entry] = await list_entries(action="event.updated")
    assert entry.actor == "Sam Organiser" and entry.after == {
        "waiting_list_open": False,
        "waiting_list_first": False,
        "offer_hours": 6,
        "refund_days_before": None,
    }

    await post_form(client, f"/manage/events/{slug}/tickets", {"name": "Supper", "price": "30", "waiting_list": "off"})
    assert (await TicketType.select(TicketType.waiting_list).first())["waiting_list"] is False
