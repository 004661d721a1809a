"""Who runs an event, everywhere its guests look: two organisations, each event showing its own organisation's
name, logo, colours and charity line on its pages, tickets (page and PDF) and emails; the public organisation
page and API; the home page naming each event's organisation; theme.css serving only a checked colour."""

from __future__ import annotations

import email
import re
import subprocess
from datetime import datetime, timedelta
from email import policy
from typing import Any

import httpx
import pytest

from events.config import Settings
from events.orders import claims
from events.organisations import service as organisations
from events.organisations.rules import OrganisationDetails
from events.organisations.tables import Organisation
from events.tickets.outbox import drain_outbox
from tests.factories import make_event
from tests.integration.organisations.test_settings_page import png
from tests.support.orders import get_order, pay_with_test_page, place_order
from tests.support.ticket_pdfs import tool

KITCHEN = OrganisationDetails(
    name="Refugee Kitchen",
    contact_email="hello@refugeekitchen.example",
    accent_colour="#8a2c0d",
    charity_name="Refugee Kitchen CIO",
    charity_number="1234567",
    gift_aid_reference="AB12345",
)
CINEMA = OrganisationDetails(name="Welcome Cinema", contact_email="", accent_colour="#1d3f8f", charity_number="SC012345")


@pytest.fixture
async def two_organisations(client: httpx.AsyncClient, now: datetime) -> dict[str, str]:
    """Refugee Kitchen (with a logo) runs the supper club; Welcome Cinema (no logo, no charity name) the film night."""
    kitchen = await organisations.create_organisation("refugee-kitchen", KITCHEN)
    await organisations.set_logo(kitchen.id, png())
    await organisations.create_organisation("welcome-cinema", CINEMA)
    supper = await make_event(
        now, organisation="refugee-kitchen", slug="supper-club", title="Supper Club", beneficiaries=[{"partner": "kitchen-garden", "share_bp": 10000}]
    )
    film = await make_event(
        now, organisation="welcome-cinema", slug="film-night", title="Film Night", beneficiaries=[{"partner": "cinema-club", "share_bp": 10000}]
    )
    return {"refugee-kitchen": supper, "welcome-cinema": film}


async def paid(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    created = (await place_order(client, slug, quantity=1)).json()
    await pay_with_test_page(client, created)
    return created


def shows(html: str, slug: str, name: str) -> bool:
    """The page names the organisation, links to its page and takes its colours."""
    return f'href="/organisations/{slug}/theme.css"' in html and f'href="/organisations/{slug}"' in html and f"Run by {name}" in html


async def test_each_event_page_shows_its_own_organisation(client: httpx.AsyncClient, two_organisations: dict[str, str]) -> None:
    supper = (await client.get("/events/supper-club")).text
    film = (await client.get("/events/film-night")).text
    assert shows(supper, "refugee-kitchen", "Refugee Kitchen") and 'src="/organisations/refugee-kitchen/logo"' in supper
    assert "Welcome Cinema" not in supper
    assert shows(film, "welcome-cinema", "Welcome Cinema") and "/logo" not in film  # no logo, no image
    assert "Refugee Kitchen" not in film

    # A refused buy form comes back with the organisation still shown.
    token = re.search(r'name="_csrf_token" value="([^"]+)"', film)
    assert token
    refused = await client.post("/events/film-night/buy", data={"name": "", "email": "x", "_csrf_token": token.group(1)})
    assert refused.status_code == 422 and shows(refused.text, "welcome-cinema", "Welcome Cinema")


async def test_the_home_page_lists_every_organisations_events_with_who_runs_them(
    client: httpx.AsyncClient, two_organisations: dict[str, str]
) -> None:
    home = (await client.get("/")).text
    assert "by Refugee Kitchen" in home and "by Welcome Cinema" in home
    assert 'href="/organisations/refugee-kitchen"' in home and 'href="/organisations/welcome-cinema"' in home
    assert "theme.css" not in home  # the home page is the site's, in its own colours


async def test_the_organisation_page_shows_its_details_and_only_its_events(client: httpx.AsyncClient, two_organisations: dict[str, str]) -> None:
    page = await client.get("/organisations/refugee-kitchen")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "Refugee Kitchen</h1>" in html
    assert 'src="/organisations/refugee-kitchen/logo"' in html and 'href="/organisations/refugee-kitchen/theme.css"' in html
    assert 'href="mailto:hello@refugeekitchen.example"' in html
    assert "<bdi>Refugee Kitchen CIO</bdi>, registered charity 1234567" in html
    assert 'href="/events/supper-club"' in html and "film-night" not in html
    cinema = (await client.get("/organisations/welcome-cinema")).text
    assert "<bdi>Welcome Cinema</bdi>, registered charity SC012345" in cinema and "mailto:" not in cinema and "/logo" not in cinema
    assert 'href="/events/film-night"' in cinema and "supper-club" not in cinema
    assert (await client.get("/organisations/nobody")).status_code == 404

    # In French and Arabic (right to left) too.
    client.cookies.set("lang", "ar")
    arabic = (await client.get("/organisations/refugee-kitchen")).text
    assert 'dir="rtl"' in arabic and "1234567" in arabic and "registered charity" not in arabic


async def test_a_suspended_organisation_has_no_public_page_theme_or_logo(
    client: httpx.AsyncClient, two_organisations: dict[str, str], now: datetime
) -> None:
    await organisations.set_suspended("refugee-kitchen", suspended=True, now=now)
    for path in ("/organisations/refugee-kitchen", "/organisations/refugee-kitchen/theme.css", "/organisations/refugee-kitchen/logo"):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.get("/api/organisations/refugee-kitchen")).status_code == 404


async def test_theme_css_serves_only_a_checked_colour(client: httpx.AsyncClient, two_organisations: dict[str, str]) -> None:
    theme = await client.get("/organisations/refugee-kitchen/theme.css")
    assert theme.status_code == 200 and theme.headers["content-type"].startswith("text/css")
    assert theme.text == ":root { --accent: #8a2c0d; }\n"
    # A row written around the service (an old import, a hand edit) cannot put CSS of its own in the stylesheet,
    # nor a colour white text cannot be read on.
    for stored in ("red; } body { display: none", "#ffffff", "#0b5c4a;}*{x:y"):
        await Organisation.update({Organisation.accent_colour: stored[:7]}).where(Organisation.slug == "welcome-cinema")
        served = (await client.get("/organisations/welcome-cinema/theme.css")).text
        assert served == ":root { --accent: #0b5c4a; }\n", stored


async def test_the_api_describes_an_organisation_and_names_each_events_organisation(
    client: httpx.AsyncClient, two_organisations: dict[str, str]
) -> None:
    kitchen = (await client.get("/api/organisations/refugee-kitchen")).json()
    assert {key: value for key, value in kitchen.items() if key != "events"} == {
        "slug": "refugee-kitchen",
        "name": "Refugee Kitchen",
        "url": "/organisations/refugee-kitchen",
        "contact_email": "hello@refugeekitchen.example",
        "accent_colour": "#8a2c0d",
        "logo_url": "/organisations/refugee-kitchen/logo",
        "charity_name": "Refugee Kitchen CIO",
        "charity_number": "1234567",
    }
    assert "gift_aid_reference" not in kitchen  # HMRC's reference is for the charity's claims, not the public
    assert [event["slug"] for event in kitchen["events"]] == ["supper-club"]
    cinema = (await client.get("/api/organisations/welcome-cinema")).json()
    assert cinema["logo_url"] is None and [event["slug"] for event in cinema["events"]] == ["film-night"]
    assert (await client.get("/api/organisations/nobody")).status_code == 404

    events = {event["slug"]: event["organisation"] for event in (await client.get("/api/events")).json()}
    assert events == {
        "supper-club": {
            "slug": "refugee-kitchen",
            "name": "Refugee Kitchen",
            "url": "/organisations/refugee-kitchen",
            "logo_url": "/organisations/refugee-kitchen/logo",
        },
        "film-night": {"slug": "welcome-cinema", "name": "Welcome Cinema", "url": "/organisations/welcome-cinema", "logo_url": None},
    }
    detail = (await client.get("/api/events/film-night")).json()
    assert detail["organisation"]["slug"] == "welcome-cinema"


async def test_checkout_order_and_ticket_pages_show_the_events_organisation(client: httpx.AsyncClient, two_organisations: dict[str, str]) -> None:
    created = (await place_order(client, "film-night", quantity=1)).json()
    checkout = (await client.get(created["payment"]["url"])).text
    assert shows(checkout, "welcome-cinema", "Welcome Cinema") and "Refugee Kitchen" not in checkout
    await pay_with_test_page(client, created)
    order = await get_order(client, created)
    assert order["organisation"]["slug"] == "welcome-cinema"
    page = (await client.get(f"/orders/{created['reference']}", params={"token": created["access_token"]})).text
    assert shows(page, "welcome-cinema", "Welcome Cinema") and "Refugee Kitchen" not in page
    ticket = (await client.get(order["tickets"][0]["url"])).text
    assert shows(ticket, "welcome-cinema", "Welcome Cinema") and "Refugee Kitchen" not in ticket

    supper = await paid(client, "supper-club")
    supper_order = await get_order(client, supper)
    ticket = (await client.get(supper_order["tickets"][0]["url"])).text
    assert shows(ticket, "refugee-kitchen", "Refugee Kitchen") and 'src="/organisations/refugee-kitchen/logo"' in ticket


async def test_claim_pages_show_the_events_organisation(client: httpx.AsyncClient, two_organisations: dict[str, str], now: datetime) -> None:
    link = await claims.create_claim_code("supper-club", partner_name="Drop-in centre", places=3, now=now)
    page = await client.get(f"/claim/{link.code}")
    assert page.status_code == 200 and shows(page.text, "refugee-kitchen", "Refugee Kitchen")
    usage = (await client.get(f"/claim/{link.code}/places")).text
    assert shows(usage, "refugee-kitchen", "Refugee Kitchen")
    csrf = client.cookies.get("csrftoken")
    claimed = await client.post(f"/claim/{link.code}", data={"name": "Amal", "_csrf_token": csrf}, follow_redirects=True)
    assert claimed.status_code == 200 and "Here is your ticket" in claimed.text
    assert shows(claimed.text, "refugee-kitchen", "Refugee Kitchen") and "Welcome Cinema" not in claimed.text


async def test_ticket_pdfs_name_the_organisation(client: httpx.AsyncClient, two_organisations: dict[str, str]) -> None:
    for slug, name, other in (("supper-club", "Refugee Kitchen", "Welcome Cinema"), ("film-night", "Welcome Cinema", "Refugee Kitchen")):
        created = await paid(client, slug)
        order = await get_order(client, created)
        for size in ("a4", "phone"):
            response = await client.get(order["tickets"][0]["pdf_url"], params={"size": size})
            assert response.status_code == 200
            text = subprocess.run([tool("pdftotext"), "-", "-"], input=response.content, capture_output=True, check=True).stdout.decode()
            assert name in text and other not in text, (slug, size)
    # The logo is drawn into the PDF as an image; the organisation without one has none.
    kitchen = await get_order(client, await paid(client, "supper-club"))
    images = subprocess.run(
        [
            tool("pdfimages"),
            "-list",
            "-",
        ],
        input=(await client.get(kitchen["tickets"][0]["pdf_url"])).content,
        capture_output=True,
        check=False,
    )
    if images.returncode == 0:
        assert images.stdout.decode().count("\n") >= 3  # header, rule, the logo


async def test_emails_carry_the_organisations_name_logo_colour_and_charity_line(
    client: httpx.AsyncClient, two_organisations: dict[str, str], settings: Settings, now: datetime, tmp_path: Any
) -> None:
    import dataclasses

    local = dataclasses.replace(settings, var_dir=tmp_path, base_url="https://tickets.example")
    await paid(client, "supper-club")
    await paid(client, "film-night")
    assert await drain_outbox(datetime.now(now.tzinfo), settings=local) == 2
    messages = [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted((tmp_path / "outbox").glob("*.eml"))]
    by_subject = {message["Subject"]: message for message in messages}
    kitchen, cinema = by_subject["Your tickets for Supper Club"], by_subject["Your tickets for Film Night"]

    html = kitchen.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = kitchen.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "background: #8a2c0d" in html and 'href="https://tickets.example/organisations/refugee-kitchen"' in html
    assert 'src="cid:organisation-logo"' in html
    # Only the charity's name is isolated (<bdi>): the sentence around it follows the email's direction.
    assert "<bdi>Refugee Kitchen CIO</bdi>, registered charity 1234567" in html and "hello@refugeekitchen.example" in html
    assert "Refugee Kitchen CIO, registered charity 1234567" in text and "hello@refugeekitchen.example" in text
    [logo] = [part for part in kitchen.walk() if part.get("Content-ID") == "<organisation-logo>"]
    assert logo.get_content_type() == "image/png" and logo.get_content() == png()
    assert [part.get_filename() for part in kitchen.iter_attachments() if part.get_content_type() == "application/pdf"]

    cinema_html = cinema.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "background: #1d3f8f" in cinema_html and "<bdi>Welcome Cinema</bdi>, registered charity SC012345" in cinema_html
    assert "cid:organisation-logo" not in cinema_html and "Refugee Kitchen" not in cinema_html
    assert not [part for part in cinema.walk() if part.get("Content-ID")]


AMAL = {"title": "Ms", "first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "e8 1dy", "confirmed": True}


async def owner_of(client: httpx.AsyncClient, organisation: str, email_address: str) -> None:
    """Sign ``client`` in as an owner of ``organisation``."""
    from events.accounts import service as accounts
    from tests.integration.accounts.test_login import sign_in

    row = await organisations.find(organisation)
    await accounts.create_user(email_address, role="owner", password="a long password", organisation_id=row.id)
    assert (await sign_in(client, email_address, "a long password")).status_code == 303


async def test_partner_statements_carry_the_charity_details(client: httpx.AsyncClient, two_organisations: dict[str, str], now: datetime) -> None:
    await paid(client, "supper-club")
    await owner_of(client, "refugee-kitchen", "owner@kitchen.example")
    page = (await client.get("/manage/partners/kitchen-garden/statement")).text
    assert "<bdi>Statement from Refugee Kitchen CIO</bdi>, registered charity 1234567" in page
    assert 'href="mailto:hello@refugeekitchen.example"' in page
    data = (await client.get("/manage/partners/kitchen-garden/statement.pdf")).content
    text = subprocess.run([tool("pdftotext"), "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "From Refugee Kitchen CIO, registered charity 1234567" in text and "Contact: hello@refugeekitchen.example" in text
    assert "statement prepared" in text and "by Refugee Kitchen CIO, registered charity 1234567" in text


async def test_the_gift_aid_schedule_is_the_organisations_own_and_named_with_its_hmrc_reference(
    client: httpx.AsyncClient, two_organisations: dict[str, str], now: datetime
) -> None:
    for slug, first_name in (("supper-club", "Amal"), ("film-night", "Sara")):
        created = (await place_order(client, slug, quantity=1, donation_pence=2000, gift_aid={**AMAL, "first_name": first_name})).json()
        await pay_with_test_page(client, created)
    await owner_of(client, "refugee-kitchen", "owner@kitchen.example")
    today = now.date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    page = await client.get("/manage/gift-aid", params=period)
    assert page.status_code == 200
    assert '<dd class="gift-aid-reference">AB12345</dd>' in page.text and "Refugee Kitchen CIO" in page.text and "1234567" in page.text
    filename = f"gift-aid-AB12345-{period['from']}-to-{period['to']}.csv"
    assert f'download="{filename}"' in page.text and "£20" in page.text and "£5" in page.text

    download = await client.get("/manage/gift-aid/schedule.csv", params=period)
    assert download.status_code == 200 and download.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert download.headers["x-gift-aid-reference"] == "AB12345"
    assert "Amal" in download.text and "Sara" not in download.text  # Welcome Cinema's donor is theirs to claim

    # Through the API, with a token of Welcome Cinema's (no HMRC reference yet: the slug names the file).
    from events.accounts import service as accounts

    cinema = await organisations.find("welcome-cinema")
    await accounts.create_user("owner@cinema.example", role="owner", password="a long password", organisation_id=cinema.id)
    token = await accounts.create_api_token("owner@cinema.example", now=now)
    api = await client.get("/api/gift-aid/schedule.csv", params=period, headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and "Sara" in api.text and "Amal" not in api.text
    assert api.headers["content-disposition"] == f'attachment; filename="gift-aid-welcome-cinema-{period["from"]}-to-{period["to"]}.csv"'
