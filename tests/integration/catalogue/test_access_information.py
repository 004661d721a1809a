"""An event's access and arrival information (step-free access, the nearest stop, what happens at the door): set by
API or in the back office, checked like every text field, and shown to guests on the event page and, before they
claim, on a free place's claim page, with the date, time, venue and a map."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from events.catalogue.tables import Event
from tests.factories import event_payload, make_event, make_partner
from tests.support.backoffice import event_form, post_form, sign_in_organiser
from tests.support.orders import get_order, pay_with_test_page, place_order

ACCESS = "Step-free entrance on Mare Street.\nNearest station: Hackney Central. Ring the bell at the side door."


async def test_the_api_sets_changes_shows_and_checks_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await make_partner("welcome-kitchen")
    await make_partner("welcome-cinema")
    created = await client.post("/api/events", json=event_payload(now, access_information=ACCESS), headers=organiser)
    assert created.status_code == 201, created.text
    assert created.json()["access_information"] == ACCESS
    assert (await client.get("/api/events/supper-club")).json()["access_information"] == ACCESS

    changed = await client.patch("/api/events/supper-club", json={"access_information": "Lift to the first floor."}, headers=organiser)
    assert changed.status_code == 200 and changed.json()["access_information"] == "Lift to the first floor."
    cleared = await client.patch("/api/events/supper-club", json={"access_information": ""}, headers=organiser)
    assert cleared.status_code == 200 and cleared.json()["access_information"] == ""

    for bad in ("Ring\x00the bell", "\u200b\u200b", "x" * 2001):
        refused = await client.patch("/api/events/supper-club", json={"access_information": bad}, headers=organiser)
        assert refused.status_code == 422 and "access_information" in str(refused.json().get("fields")), (bad, refused.text)
    assert await Event.select(Event.access_information).where(Event.slug == "supper-club").first() == {"access_information": ""}


async def test_the_set_up_form_keeps_it_and_the_event_page_shows_it(client: httpx.AsyncClient) -> None:
    await sign_in_organiser(client)
    created = await post_form(client, "/manage/events/new", event_form(access_information=ACCESS.replace("\n", "\r\n")))
    assert created.status_code == 303, created.text
    slug = "august-supper-club"
    stored = await Event.select(Event.access_information).where(Event.slug == slug).first()
    assert stored is not None and "Step-free entrance on Mare Street." in stored["access_information"]
    edit = await client.get(f"/manage/events/{slug}/edit")
    assert re.search(r'<textarea id="access_information" name="access_information"[^>]*>Step-free entrance on Mare Street.', edit.text)

    bad = await post_form(
        client, f"/manage/events/{slug}/edit", event_form(slug=slug, access_information="\u200b\u200b"), page=f"/manage/events/{slug}/edit"
    )
    assert bad.status_code == 422 and 'href="#access_information"' in bad.text

    await Event.update({Event.status: "on_sale"}).where(Event.slug == slug)
    page = await client.get(f"/events/{slug}")
    assert "Access and arrival" in page.text and "Ring the bell at the side door." in page.text.replace("\r\n", "\n").replace("\n", " ")


async def test_the_claim_page_says_when_where_and_how_to_get_in_before_the_guest_claims(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, access_information=ACCESS)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 2}, headers=organiser)).json()

    page = (await client.get(f"/claim/{link['code']}")).text
    event = (await client.get(f"/api/events/{slug}")).json()
    starts = datetime.fromisoformat(event["starts_at"])
    assert f'<time datetime="{starts.isoformat()}">' in page
    # The day and time, in full, the day kept with its month and year on a narrow screen (no-break spaces).
    assert f"{starts.day}\u00a0{starts:%B}\u00a0{starts.year}, {starts:%H:%M}" in page
    # The venue and its address on lines of their own, as a ticket shows them.
    assert (
        '<span class="place-line"><bdi>Community Hall</bdi></span> <span class="place-line place-address"><bdi>1 High Street, London</bdi></span>'
        in page
    )
    assert 'href="https://www.openstreetmap.org/search?query=Community%20Hall%201%20High%20Street%2C%20London"' in page
    assert "Step-free entrance on Mare Street." in page and "Hackney Central" in page
    words = re.sub(r"<[^>]+>", " ", page).lower()
    for unwanted in ("£", "pay", "paid", "on sale", "status", "sold"):
        assert unwanted not in words, unwanted

    # In Arabic, the date's punctuation is Arabic's; the organiser's own text is shown as they wrote it.
    arabic = (await client.get(f"/claim/{link['code']}?lang=ar")).text
    assert '<html lang="ar" dir="rtl">' in arabic and "، " in arabic and "Hackney Central" in arabic
    # ... and no Arabic comma between an English venue and its English address ("Community Hall، 1 High Street, London").
    assert 'Community Hall</bdi></span> <span class="place-line place-address"><bdi>1 High Street, London</bdi>' in arabic
    assert "Community Hall،" not in arabic


async def test_the_ticket_and_event_pages_put_the_venue_and_its_address_on_lines_of_their_own(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Whatever the page's language, no comma of it joins the organiser's venue to their address: two kinds of comma
    never appear in one address."""
    slug = await make_event(now)
    created = (await place_order(client, slug)).json()
    await pay_with_test_page(client, created)
    ticket_url = (await get_order(client, created))["tickets"][0]["url"]
    for path in (f"/events/{slug}", ticket_url, f"/orders/{created['reference']}?token={created['access_token']}"):
        for locale in ("ar", "fa", "en"):
            page = (await client.get(f"{path}{'&' if '?' in path else '?'}lang={locale}")).text
            assert (
                '<span class="place-line"><bdi>Community Hall</bdi></span> <span class="place-line place-address"><bdi>1 High Street, London</bdi></span>'
                in page
            ), (path, locale)
            assert "Community Hall،" not in page and "Community Hall," not in page, (path, locale)


async def test_the_ticket_page_says_how_to_get_there_and_in(client: httpx.AsyncClient, now: datetime) -> None:
    """The ticket is what a guest opens on the way: the step-free entrance is on it, not only on the order page."""
    slug = await make_event(now, access_information="Step-free entrance on Mill Lane.\nNearest station: Hackney Central.")
    created = (await place_order(client, slug)).json()
    await pay_with_test_page(client, created)
    ticket_url = (await get_order(client, created))["tickets"][0]["url"]
    page = (await client.get(ticket_url)).text
    assert '<dd class="access-information" dir="auto">Step-free entrance on Mill Lane.\nNearest station: Hackney Central.</dd>' in page
    plain = await make_event(now, slug="no-access-notes")
    created = (await place_order(client, plain)).json()
    await pay_with_test_page(client, created)
    assert "Access and arrival" not in (await client.get((await get_order(client, created))["tickets"][0]["url"])).text
