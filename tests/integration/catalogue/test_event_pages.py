"""The public pages a guest sees: the list of events and an event page, in their language."""

import re
from datetime import datetime, timedelta

import httpx

from tests.factories import make_event


async def test_the_event_list_shows_upcoming_public_events_only(client: httpx.AsyncClient, now: datetime) -> None:
    await make_event(now, slug="supper-club", title="Supper Club")
    await make_event(now, slug="secret-draft", title="Secret Draft", status="draft")
    page = await client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "Supper Club" in page.text and "From £30" in page.text
    assert "Secret Draft" not in page.text


async def test_an_event_page_shows_prices_windows_availability_and_partners(client: httpx.AsyncClient, now: datetime) -> None:
    starts = now + timedelta(days=30)
    await make_event(
        now,
        slug="club-night",
        title="Club Night",
        capacity=100,
        reserved_free_places=0,
        booking_fee_pence=50,
        ticket_types=[
            {"name": "Advance", "price_pence": 600, "channel": "online", "sales_end": starts.isoformat(), "quota": 12},
            {"name": "Door", "price_pence": 900, "channel": "door"},
        ],
        beneficiaries=[{"partner": "help-refugees", "share_bp": 10000}],
    )
    page = (await client.get("/events/club-night")).text
    assert "£6" in page and "£9" in page
    assert "Online until" in page and "On the door" in page
    assert "12 left" in page
    assert "Help Refugees" in page
    assert "£0.50 per ticket" in page


async def test_a_sold_out_event_says_so(client: httpx.AsyncClient, now: datetime) -> None:
    from events.catalogue.tables import Event

    slug = await make_event(now, capacity=40, reserved_free_places=20)
    await Event.update({Event.places_taken: 20}).where(Event.slug == slug)
    assert "Sold out" in (await client.get(f"/events/{slug}")).text
    assert (await client.get(f"/api/events/{slug}")).json()["ticket_types"][0]["available"] == 0


async def test_unknown_pages_get_a_friendly_page_not_a_traceback(client: httpx.AsyncClient) -> None:
    page = await client.get("/events/no-such-event", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "We could not find that event." in page.text
    assert "Traceback" not in page.text
    api = await client.get("/api/events/no-such-event")
    assert api.status_code == 404 and api.json() == {"error": "event_not_found", "detail": "We could not find that event."}


async def test_guests_pick_their_language_and_it_is_remembered(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    chosen = await client.get(f"/language/ar?next=/events/{slug}")
    assert chosen.status_code in (302, 303) and chosen.headers["location"] == f"/events/{slug}"
    page = (await client.get(f"/events/{slug}")).text
    assert re.search(r'<html lang="ar" dir="rtl">', page)
    assert "التذاكر" in page  # "Tickets"
    french = (await client.get(f"/events/{slug}", params={"lang": "fr"})).text
    assert 'lang="fr" dir="ltr"' in french and "Billets" in french
    bounced = await client.get("/language/ar?next=https://evil.example/")
    assert bounced.headers["location"] == "/"


async def test_the_health_check_reaches_the_database(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "database": "ok"}
