"""Pay it forward: buyers fund places, guests claim them with a first name, organisers see the counts."""

import html
import re
from datetime import datetime

import httpx
import pytest

from events import i18n
from events.catalogue.tables import Event
from events.orders.tables import Order
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order


async def claim_link(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, places: int = 5, name: str = "Drop-in Centre") -> dict:  # type: ignore[type-arg]
    response = await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": name, "places": places}, headers=organiser)
    assert response.status_code == 201, response.text
    return response.json()


async def claim(client: httpx.AsyncClient, code: str, name: str = "Leila", **extra: str) -> httpx.Response:
    return await client.post("/api/claims", json={"code": code, "name": name, **extra})


async def free_places(client: httpx.AsyncClient, slug: str) -> dict[str, int]:
    return (await client.get(f"/api/events/{slug}")).json()["free_places"]


async def test_a_guest_claims_a_free_place_with_a_first_name_only(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    assert len(link["code"]) >= 16 and link["url"].endswith(f"/claim/{link['code']}")
    response = await claim(client, link["code"])
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert set(ticket) == {"id", "holder", "type", "secret", "status", "url", "pdf_url"}
    assert ticket["holder"] == "Leila" and ticket["type"] == "Supper" and ticket["status"] == "valid"
    assert await free_places(client, slug) == {"reserved": 20, "funded": 0, "claimed": 1, "available": 19}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 20  # general places untouched
    [order] = await Order.select(Order.buyer_email, Order.buyer_phone, Order.total_pence).where(Order.channel == "claim")
    assert order == {"buyer_email": "", "buyer_phone": "", "total_pence": 0}  # nothing more than a first name
    codes = (await client.get(f"/api/events/{slug}/claim-codes", headers=organiser)).json()
    assert [(c["partner_name"], c["places"], c["claimed"]) for c in codes] == [("Drop-in Centre", 5, 1)]


async def test_a_link_gives_only_its_allocation_and_can_be_revoked(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug, places=2)
    assert (await claim(client, link["code"], "A")).status_code == 201
    assert (await claim(client, link["code"], "B", email="b@example.org")).status_code == 201
    full = await claim(client, link["code"], "C")
    assert full.status_code == 409 and full.json()["error"] == "no_places_left"
    other = await claim_link(client, organiser, slug, places=2, name="Women's Group")
    revoked = await client.delete(f"/api/events/{slug}/claim-codes/{other['code']}", headers=organiser)
    assert revoked.status_code == 204
    gone = await claim(client, other["code"])
    assert gone.status_code == 404 and gone.json()["error"] == "claim_code_not_found"


async def test_reserved_places_run_out_and_then_only_funded_places_can_be_claimed(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=2, pay_it_forward_place_pence=3000)
    await client.patch(f"/api/events/{slug}", json={"pay_it_forward_converts_general": True}, headers=organiser)
    link = await claim_link(client, organiser, slug, places=10)
    assert [(await claim(client, link["code"], f"G{i}")).status_code for i in range(3)] == [201, 201, 409]
    # Two diners each fund a place (plus their own seat): places beyond the reserved ones become claimable.
    for _ in range(2):
        created = (await place_order(client, slug, quantity=1, pay_it_forward_places=2)).json()
        await pay_with_test_page(client, created)
    assert await free_places(client, slug) == {"reserved": 2, "funded": 4, "claimed": 2, "available": 2}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 6
    assert [(await claim(client, link["code"], f"H{i}")).status_code for i in range(3)] == [201, 201, 409]
    assert await free_places(client, slug) == {"reserved": 2, "funded": 4, "claimed": 4, "available": 0}
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 4  # converted places came from general ones


async def test_funded_places_stay_unclaimable_unless_the_organiser_converts_general_places(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=0, pay_it_forward_place_pence=1200)
    created = (await place_order(client, slug, quantity=1, pay_it_forward_pence=3000)).json()  # any amount: £30 = 2 places of £12
    await pay_with_test_page(client, created)
    assert await free_places(client, slug) == {"reserved": 0, "funded": 2, "claimed": 0, "available": 0}
    page = (await client.get(f"/events/{slug}")).text
    assert "2 free places have been funded by guests. 0 are still available to claim." in page
    assert "To get a free place" not in page  # none to get: the page does not send guests asking


@pytest.mark.parametrize("locale", ["ar", "fa", "fr"])
async def test_the_free_places_sentence_is_punctuated_in_the_pages_language(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, locale: str
) -> None:
    """Each sentence about free places is one translated message with its own punctuation: no Latin comma joins two
    translated pieces inside an Arabic or a Farsi sentence."""
    slug = await make_event(now, capacity=10, reserved_free_places=2, pay_it_forward_place_pence=3000)
    created = (await place_order(client, slug, quantity=1, pay_it_forward_places=1)).json()
    await pay_with_test_page(client, created)
    places = (await client.get(f"/api/events/{slug}")).json()["free_places"]
    page = (await client.get(f"/events/{slug}?lang={locale}")).text
    found = re.search(r'<p class="free-places"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found, "the event page says how many free places guests funded"
    translations = i18n.translations(locale)
    funded = translations.ngettext(
        "%(num)d free place has been funded by guests.", "%(num)d free places have been funded by guests.", places["funded"]
    )
    available = translations.ngettext("%(num)d is still available to claim.", "%(num)d are still available to claim.", places["available"])
    assert html.unescape(found.group(1)) == f"{funded % {'num': places['funded']}} {available % {'num': places['available']}}"
    if locale != "fr":
        assert "," not in html.unescape(found.group(1))
    # Then how to get one: through the link of a group that works with the organisers, or by asking them.
    how = re.search(r'<p class="free-how">(.*?)</p>', page, re.DOTALL)
    assert how, "the event page says how to get a free place"
    organisers = '<a href="/organisations/main"><bdi>Our charity</bdi></a>'  # the test organisation's page
    asked = "To get a free place, ask the group or support worker who told you about this event for a link. You do not need to show any papers. You can also ask %(organisers)s."
    assert how.group(1) == str(html.escape(translations.gettext(asked), quote=True)).replace("%(organisers)s", organisers).replace("&#x27;", "&#39;")


async def test_organisers_give_free_places_to_named_guests(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, reserved_free_places=1)
    given = await client.post(f"/api/events/{slug}/free-tickets", json={"name": "Yusuf", "email": "yusuf@example.org"}, headers=organiser)
    assert given.status_code == 201 and given.json()["holder"] == "Yusuf"
    none_left = await client.post(f"/api/events/{slug}/free-tickets", json={"name": "Omar"}, headers=organiser)
    assert none_left.status_code == 409
    assert (await client.post(f"/api/events/{slug}/free-tickets", json={"name": "Omar"})).status_code == 401


async def test_bad_contact_details_are_refused_kindly(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    for extra, field in (({"email": "leila-at-home"}, "email"), ({"phone": "call me"}, "phone")):
        response = await claim(client, link["code"], **extra)
        assert response.status_code == 422 and field in response.json()["fields"]
    assert (await claim(client, link["code"], "  ")).status_code == 422
    assert (await free_places(client, slug))["claimed"] == 0


async def test_a_phone_number_typed_in_arabic_or_persian_digits_is_taken(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """Many Arabic and Farsi phone keyboards type their own digits: the number is the same number."""
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug, places=2)
    for typed in ("٠٧٩١١ ١٢٣٤٥٦", "۰۷۹۱۱ ۱۲۳۴۵۶"):
        response = await claim(client, link["code"], phone=typed)
        assert response.status_code == 201, response.text
    assert [row["buyer_phone"] for row in await Order.select(Order.buyer_phone).order_by(Order.id)] == ["+447911123456"] * 2


async def test_the_partner_sees_how_many_were_claimed_and_not_who(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug, places=4)
    await claim(client, link["code"], "Leila")
    page = await client.get(f"/claim/{link['code']}/places")
    assert page.status_code == 200 and "1 of 4 places claimed" in page.text
    assert "Leila" not in page.text


async def test_the_claim_page_works_without_javascript_in_the_guests_language(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    import re

    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    form = await client.get(f"/claim/{link['code']}?lang=fr")
    assert form.status_code == 200 and 'lang="fr"' in form.text
    assert client.cookies.get("lang") == "fr"  # remembered for the next page
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    done = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "_csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and "<svg" in done.text and 'lang="fr"' in done.text
    assert (await free_places(client, slug))["claimed"] == 1


async def test_a_claimed_ticket_stays_on_its_own_page_and_the_link_offers_it_again_rather_than_a_second_place(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """A guest who gives only a first name has no email to find the ticket again. A reload, the Back button or opening
    the link again on the same phone shows the ticket they have; none of them takes another of the partner's places."""
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug, places=3)
    form = await client.get(f"/claim/{link['code']}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    assert "Already claimed" not in form.text

    claimed = await client.post(f"/claim/{link['code']}", data={"name": "Samir", "_csrf_token": token})
    assert claimed.status_code == 303
    ticket_path = claimed.headers["location"]
    # Remembered on this phone until the day after the event, not for months: a shared phone forgets the name.
    remembered = next(cookie for cookie in claimed.headers.get_list("set-cookie") if cookie.startswith("claimed="))
    max_age = int(re.search(r"Max-Age=(\d+)", remembered, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    [ends] = await Event.select(Event.ends_at).where(Event.slug == slug).output(as_list=True)
    assert abs(max_age - ((ends - now).total_seconds() + 86_400)) < 60 and f"Path=/claim/{link['code']}" in remembered
    assert re.fullmatch(rf"/claim/{link['code']}/tickets/[a-z0-9]{{20}}", ticket_path)
    for _ in range(2):  # shown, then reloaded: the same ticket, no second place
        shown = await client.get(ticket_path)
        assert shown.status_code == 200 and "Here is your ticket" in shown.text and "<svg" in shown.text
        assert 'class="holder">Samir<' in shown.text and "Keep this page" in shown.text
        assert shown.headers["cache-control"] == "no-store"
    assert (await free_places(client, slug))["claimed"] == 1

    again = await client.get(f"/claim/{link['code']}")
    assert "Already claimed with this link on this phone" in again.text
    assert f'<a class="action-link" href="{ticket_path}"><span>Ticket for <bdi>Samir</bdi></span></a>' in again.text
    assert "To claim a place for someone else" in again.text
    # A support worker may still claim for the next person from the same phone: both are offered afterwards.
    second = await client.post(f"/claim/{link['code']}", data={"name": "Amal", "email": "amal@example.org", "_csrf_token": token})
    assert second.status_code == 303 and second.headers["location"] != ticket_path
    with_email = await client.get(second.headers["location"])
    assert "We have also sent it to your email." in with_email.text and "Keep this page" not in with_email.text
    both = await client.get(f"/claim/{link['code']}")
    assert "Ticket for <bdi>Samir</bdi>" in both.text and "Ticket for <bdi>Amal</bdi>" in both.text
    assert (await free_places(client, slug))["claimed"] == 2
    # Another phone sees none of them.
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other_phone:
        assert "Already claimed" not in (await other_phone.get(f"/claim/{link['code']}")).text


async def test_only_a_claimed_ticket_is_shown_at_a_claim_links_address(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    created = (await place_order(client, slug)).json()
    await pay_with_test_page(client, created)
    paid_ticket_key = (await get_order(client, created))["tickets"][0]["url"].rsplit("/", 1)[-1]
    assert (await client.get(f"/claim/{link['code']}/tickets/{paid_ticket_key}")).status_code == 404
    assert (await client.get(f"/claim/{link['code']}/tickets/{'a' * 20}")).status_code == 404


async def test_a_claim_link_typed_in_capitals_leads_to_the_links_own_address(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    shouted = link["code"].upper()
    form = await client.get(f"/claim/{shouted}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    claimed = await client.post(f"/claim/{shouted}", data={"name": "Samir", "_csrf_token": token})
    assert claimed.status_code == 303 and claimed.headers["location"].startswith(f"/claim/{link['code']}/tickets/")
    assert f"Path=/claim/{link['code']}" in next(c for c in claimed.headers.get_list("set-cookie") if c.startswith("claimed="))
    assert "Ticket for <bdi>Samir</bdi>" in (await client.get(f"/claim/{link['code']}")).text


async def test_a_link_closes_at_the_time_its_organiser_set(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """A link may stop taking claims at a time of the organiser's choosing (a wall-clock time at the venue without an
    offset): until then it works as any link; after it, a claim is refused with a clear 409 (not counted as a wrong
    guess), and its pages say it closed, offering neither the form nor the waiting list."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from events.orders.tables import ClaimCode

    slug = await make_event(now)
    event = await Event.select(Event.ends_at, Event.timezone).where(Event.slug == slug).first()
    closes = (now + timedelta(days=1)).astimezone(ZoneInfo(event["timezone"])).replace(tzinfo=None, microsecond=0)
    created = await client.post(
        f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 3, "closes_at": closes.isoformat()}, headers=organiser
    )
    assert created.status_code == 201, created.text
    link = created.json()
    assert datetime.fromisoformat(link["closes_at"]) == closes.replace(tzinfo=ZoneInfo(event["timezone"]))  # read at the venue
    page = await client.get(f"/claim/{link['code']}")
    assert 'id="link-closes"' in page.text and f'action="/claim/{link["code"]}"' in page.text
    assert (await claim(client, link["code"], "Leila")).status_code == 201

    for when, problem in (
        ((now - timedelta(minutes=1)).isoformat(), "still to come"),
        ((event["ends_at"] + timedelta(hours=1)).isoformat(), "before the event ends"),
        ("9999-12-31T23:59:59-23:59", "between the years 1 and 9999"),  # beyond what UTC can hold: a 422, not a crash
    ):
        refused = await client.post(
            f"/api/events/{slug}/claim-codes", json={"partner_name": "Late", "places": 1, "closes_at": when}, headers=organiser
        )
        assert refused.status_code == 422 and problem in refused.json()["fields"]["closes_at"], refused.text
    assert await ClaimCode.count() == 1

    await ClaimCode.update({ClaimCode.closes_at: now - timedelta(seconds=1)}, force=True)  # the time comes
    closed = await claim(client, link["code"], "Omar")
    assert closed.status_code == 409 and closed.json()["error"] == "claim_link_closed"
    page = await client.get(f"/claim/{link['code']}")
    assert page.status_code == 200 and "Sorry, this link has closed." in page.text
    assert f'action="/claim/{link["code"]}"' not in page.text and "waiting-list" not in page.text
    usage = await client.get(f"/claim/{link['code']}/places")
    assert 'id="link-closed"' in usage.text and "1 of 3 places claimed" in usage.text
    codes = (await client.get(f"/api/events/{slug}/claim-codes", headers=organiser)).json()
    assert [(c["claimed"], c["revoked"]) for c in codes] == [(1, False)]
    assert (await free_places(client, slug))["claimed"] == 1
