"""Series: organisers create and change them (API and back office) and put events in them (the event's PATCH and its
Set up form); guests find a series' upcoming events on its page, on the organisation's page (grouped, with the next
dates) and marked on the home page and each event's page."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import Event, Series
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.backoffice import event_form, post_form, sign_in_organiser

TITLE = "First Thursday supper club"


def _dated(now: datetime, days: int) -> dict[str, str]:
    starts = (now + timedelta(days=days)).replace(microsecond=0)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat()}


async def test_organisers_create_change_and_list_series_through_the_api(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    created = await client.post("/api/series", json={"title": TITLE, "description": "Supper on the first Thursday."}, headers=organiser)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "slug": "first-thursday-supper-club",
        "title": TITLE,
        "description": "Supper on the first Thursday.",
        "url": "/series/first-thursday-supper-club",
        "events": [],
    }
    again = await client.post("/api/series", json={"title": TITLE}, headers=organiser)
    assert again.status_code == 409 and again.json()["error"] == "slug_taken"
    assert (await client.post("/api/series", json={"title": "Bad", "slug": "Not a slug"}, headers=organiser)).status_code == 422
    other = await client.post("/api/series", json={"title": "Sunday lunch", "slug": "sunday-lunch"}, headers=organiser)
    assert other.status_code == 201

    changed = await client.patch(
        "/api/series/first-thursday-supper-club", json={"title": "First Thursday suppers", "slug": "first-thursdays"}, headers=organiser
    )
    assert changed.status_code == 200 and (changed.json()["slug"], changed.json()["title"]) == ("first-thursdays", "First Thursday suppers")
    clash = await client.patch("/api/series/first-thursdays", json={"slug": "sunday-lunch"}, headers=organiser)
    assert clash.status_code == 409
    [logged] = await list_entries(action="series.updated")
    assert logged.before == {"slug": "first-thursday-supper-club", "title": TITLE} and logged.after["slug"] == "first-thursdays"
    assert len(await list_entries(action="series.created")) == 2

    # An event goes in a series with its PATCH (and comes out with null); the series lists it, drafts too.
    slug = await make_event(now, status="draft")
    put = await client.patch(f"/api/events/{slug}", json={"series": "first-thursdays"}, headers=organiser)
    assert put.status_code == 200 and put.json()["series"]["slug"] == "first-thursdays"
    listed = (await client.get("/api/series", headers=organiser)).json()
    assert [(s["slug"], [e["slug"] for e in s["events"]]) for s in listed] == [("first-thursdays", [slug]), ("sunday-lunch", [])]
    [updated] = [entry for entry in await list_entries(action="event.updated") if entry.subject_id == slug]
    assert "series" in updated.after

    # Another organisation's series is not one to put an event in, and its series are not reachable.
    beta = await organisations.create_organisation("beta", OrganisationDetails(name="Beta"))
    await accounts.create_user("organiser@beta.example", role="organiser", password=None, organisation_id=beta.id)
    theirs = {"Authorization": f"Bearer {await accounts.create_api_token('organiser@beta.example', now=now, organisation_id=beta.id)}"}
    assert (await client.post("/api/series", json={"title": "Beta nights"}, headers=theirs)).status_code == 201
    wrong = await client.patch(f"/api/events/{slug}", json={"series": "beta-nights"}, headers=organiser)
    assert wrong.status_code == 422 and "series" in wrong.json()["fields"]
    assert (await client.patch("/api/series/first-thursdays", json={"title": "Mine"}, headers=theirs)).status_code == 404
    assert [s["slug"] for s in (await client.get("/api/series", headers=theirs)).json()] == ["beta-nights"]

    out = await client.patch(f"/api/events/{slug}", json={"series": None}, headers=organiser)
    assert out.status_code == 200 and out.json()["series"] is None
    assert (await client.get("/api/series", headers=organiser)).json()[0]["events"] == []


async def test_only_organisers_of_the_whole_organisation_create_series(client: httpx.AsyncClient, now: datetime) -> None:
    for email, role, restricted in (("door@test.example", "door", None), ("limited@test.example", "organiser", True)):
        await accounts.create_user(email, role=role, password=None, restricted=restricted)
        headers = {"Authorization": f"Bearer {await accounts.create_api_token(email, now=now)}"}
        assert (await client.post("/api/series", json={"title": TITLE}, headers=headers)).status_code == 403
    assert (await client.post("/api/series", json={"title": TITLE})).status_code == 401
    assert await Series.count() == 0


async def test_guests_find_a_series_upcoming_events(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    await client.post(
        "/api/series", json={"title": TITLE, "slug": "first-thursdays", "description": "Three courses, once a month."}, headers=organiser
    )
    march = await make_event(now, slug="march-supper", title="March Supper", series="first-thursdays", **_dated(now, 10))
    april = await make_event(now, slug="april-supper", title="April Supper", series="first-thursdays", **_dated(now, 40))
    await make_event(now, slug="may-supper", title="May Supper", series="first-thursdays", status="draft", **_dated(now, 70))
    await make_event(now, slug="past-supper", title="Past Supper", series="first-thursdays", **_dated(now, -20))
    await make_event(now, slug="quiz-night", title="Quiz Night", **_dated(now, 20))

    page = await client.get("/series/first-thursdays")
    assert page.status_code == 200
    assert TITLE in page.text and "Three courses, once a month." in page.text
    assert "March Supper" in page.text and "April Supper" in page.text
    assert page.text.index("March Supper") < page.text.index("April Supper")
    for hidden in ("May Supper", "Past Supper", "Quiz Night"):
        assert hidden not in page.text
    arabic = await client.get("/series/first-thursdays?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic.text and "<bdi>First Thursday supper club</bdi>" in arabic.text
    api = await client.get("/api/series/first-thursdays")
    assert [event["slug"] for event in api.json()["events"]] == [march, april]
    assert api.json()["organisation"]["slug"] == (await organisations.resolve(None)).slug

    organisation = await organisations.resolve(None)
    home = await client.get(f"/organisations/{organisation.slug}")
    assert home.status_code == 200
    regular = home.text[home.text.index("Regular events") : home.text.index('id="events-heading"')]
    assert 'href="/series/first-thursdays"' in regular and "Next dates:" in regular
    assert 'href="/events/march-supper"' in regular and 'href="/events/april-supper"' in regular and "quiz-night" not in regular
    assert home.text.count(f"Part of {TITLE}") == 2  # each card of the series is marked; the quiz is not

    listed = await client.get("/")
    assert listed.text.count(f"Part of {TITLE}") == 2 and "Quiz Night" in listed.text
    event_page = await client.get("/events/march-supper")
    assert 'href="/series/first-thursdays"' in event_page.text
    assert (await client.get(f"/api/organisations/{organisation.slug}")).json()["events"][0]["series"]["slug"] == "first-thursdays"

    assert (await client.get("/series/no-such-series")).status_code == 404
    # A suspended organisation's series is not found, as its events are not.
    await organisations.set_suspended(organisation.slug, suspended=True, now=now)
    assert (await client.get("/series/first-thursdays")).status_code == 404
    assert (await client.get("/api/series/first-thursdays")).status_code == 404


async def test_series_in_the_back_office(client: httpx.AsyncClient, now: datetime) -> None:
    await sign_in_organiser(client)
    listing = await client.get("/manage/series")
    assert listing.status_code == 200 and "No series yet." in listing.text
    bad = await post_form(client, "/manage/series", {"title": "", "slug": "", "description": ""}, page="/manage/series")
    assert bad.status_code == 422 and 'id="error-summary"' in bad.text
    created = await post_form(client, "/manage/series", {"title": TITLE, "slug": "", "description": "Once a month."}, page="/manage/series")
    assert created.status_code == 303 and created.headers["location"] == "/manage/series/first-thursday-supper-club?notice=created"
    taken = await post_form(client, "/manage/series", {"title": TITLE, "slug": "", "description": ""}, page="/manage/series")
    assert taken.status_code == 422 and "Already in use." in taken.text

    edit = "/manage/series/first-thursday-supper-club"
    saved = await post_form(client, edit, {"title": "First Thursdays", "slug": "first-thursdays", "description": "Monthly."}, page=edit)
    assert saved.status_code == 303 and saved.headers["location"] == "/manage/series/first-thursdays?notice=saved"
    assert (await client.get("/manage/series/first-thursday-supper-club")).status_code == 404

    # The event form offers the organisation's series.
    new = await client.get("/manage/events/new")
    assert '<option value="first-thursdays" >First Thursdays</option>' in new.text
    made = await post_form(client, "/manage/events/new", event_form(series="first-thursdays"), page="/manage/events/new")
    assert made.status_code == 303, made.text
    event = await Event.select(Event.slug, Event.series.slug).where(Event.title == "August Supper Club").first()
    assert event["series.slug"] == "first-thursdays"
    page = await client.get("/manage/series/first-thursdays")
    assert "August Supper Club" in page.text and f'href="/manage/events/{event["slug"]}/copy"' in page.text
    # Taken out of the series on its Set up form.
    edited = await post_form(client, f"/manage/events/{event['slug']}/edit", event_form(series=""), page=f"/manage/events/{event['slug']}/edit")
    assert edited.status_code == 303
    assert (await Event.select(Event.series).where(Event.slug == event["slug"]).first())["series"] is None
