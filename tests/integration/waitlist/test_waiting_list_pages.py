"""The guest's waiting-list pages, without JavaScript: joining from a sold-out event page and from a used-up claim
link, the guest's own page (place in the queue, an offer to take, leaving), and mistakes shown beside their fields
while nothing changes."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from gettext import NullTranslations
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar

from events import i18n
from events.catalogue.tables import Event
from events.waitlist.statuses import WaitingKind, WaitingStatus
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.support.orders import another_browser, pay_with_test_page, place_order, ticket_type_id


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def squeezed(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def entry_path(response: httpx.Response) -> str:
    """The guest's private page a join redirects to."""
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert re.fullmatch(r"/waiting-list/[A-Za-z0-9_-]{16,32}\?joined=1", location), location
    return location.split("?")[0]


async def sold_out_event(client: httpx.AsyncClient, now: datetime, *, places: int = 2, **changes: Any) -> tuple[str, dict[str, Any]]:
    """An event whose ``places`` general places are bought and paid for: sold out online. Returns its slug and the
    paid order (as POST /api/events/{slug}/orders answered)."""
    slug = await make_event(now, capacity=20 + places, reserved_free_places=20, **changes)
    created = await place_order(client, slug, quantity=places)
    assert created.status_code == 201, created.text
    paid = await pay_with_test_page(client, created.json())
    assert paid.status_code == 303
    return slug, created.json()


async def join_form(client: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/events/{slug}")
    assert page.status_code == 200
    form = {"name": "Amal", "email": "amal@example.org", "quantity": "1", **fields, "_csrf_token": csrf(page.text)}
    return await client.post(f"/events/{slug}/waiting-list", data=form)


async def add_entry(slug: str, now: datetime, **values: Any) -> WaitingEntry:
    """An entry as the waiting list keeps it, for the states a guest's page shows."""
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    assert event is not None
    entry = WaitingEntry(
        event=event["id"],
        kind=values.pop("kind", WaitingKind.paid),
        name=values.pop("name", "Amal"),
        email=values.pop("email", "amal@example.org"),
        locale=values.pop("locale", "en"),
        quantity=values.pop("quantity", 2),
        token=secrets.token_urlsafe(16),
        created_at=now,
        updated_at=now,
        **values,
    )
    await entry.save()
    return entry


async def test_a_sold_out_event_page_offers_its_waiting_list_and_shows_the_guest_their_place(
    client: httpx.AsyncClient, app: Litestar, now: datetime
) -> None:
    slug, _ = await sold_out_event(client, now)
    page = await client.get(f"/events/{slug}")
    assert "Sold out" in page.text
    assert f'action="/events/{slug}/waiting-list"' in page.text and "Join the waiting list" in page.text
    assert 'for="wl-name"' in page.text and 'for="wl-email"' in page.text and 'for="wl-quantity"' in page.text
    assert '<option value="6"' in page.text and '<option value="7"' not in page.text  # up to the type's max_per_order

    first = entry_path(await join_form(client, slug, name="Amal", quantity="2"))
    async with another_browser(app) as other:
        second = entry_path(await join_form(other, slug, name="Samir", email="samir@example.org", locale="fr"))
    mine = squeezed((await client.get(first + "?joined=1")).text)
    assert "You are on the waiting list" in mine and "You are number 1 in the queue." in mine
    assert "You asked for 2 places." in mine
    assert "we will email you" in mine and "up to 12 hours" in mine
    assert f"http://testserver{first}" in mine or first in mine  # the private link, to keep
    assert "We have also emailed it to you." in mine  # and it is on its way (waiting_list_joined)
    assert "We have also emailed it to you." not in squeezed((await client.get(first)).text)  # said when joining only
    theirs = await client.get(second, headers={"Accept-Language": "en"})
    assert 'lang="fr"' in theirs.text  # in the language they chose for the list
    rows = await WaitingEntry.select().order_by(WaitingEntry.id)
    assert [(r["name"], r["quantity"], r["locale"], r["status"]) for r in rows] == [
        ("Amal", 2, "en", WaitingStatus.waiting),
        ("Samir", 1, "fr", WaitingStatus.waiting),
    ]
    assert (await client.get(second, headers={"Cookie": "lang=en"})).text.count("You are number 2 in the queue.") == 1


async def test_sold_out_online_the_event_page_shows_the_waiting_list_instead_of_the_buy_form(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    def buy_form(html: str) -> bool:
        """Whether the page asks for a buyer's details and payment."""
        return "Continue to payment" in html and 'id="email"' in html

    slug, paid = await sold_out_event(client, now, booking_fee_pence=50, pay_it_forward_place_pence=3000)
    page = squeezed((await client.get(f"/events/{slug}")).text)
    assert not buy_form(page) and "Give a little more" not in page and "Gift Aid" not in page
    assert f'action="/events/{slug}/waiting-list"' in page and "Join the waiting list" in page
    # The rest of the page is as it was: the tickets with their price, sold out, the fee and the free places.
    assert "Tickets" in page and "Sold out" in page and "£30" in page and "booking fee of £0.50" in page and "Who benefits" in page

    # Places back on sale (nobody waiting): the buy form, and no waiting list.
    refund = await client.post(f"/api/orders/{paid['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund.status_code == 201, refund.text
    page = squeezed((await client.get(f"/events/{slug}")).text)
    assert buy_form(page) and "Give a little more" in page and f'action="/events/{slug}/waiting-list"' not in page

    # Sold out with the waiting list closed: neither form, the tickets still shown as sold out.
    created = await place_order(client, slug, quantity=2)
    assert (await pay_with_test_page(client, created.json())).status_code == 303
    await Event.update({Event.waiting_list_open: False}).where(Event.slug == slug)
    page = squeezed((await client.get(f"/events/{slug}")).text)
    assert not buy_form(page) and "/waiting-list" not in page and "Sold out" in page and "£30" in page


async def test_the_join_form_is_not_offered_while_places_are_on_sale(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    page = await client.get(f"/events/{slug}")
    assert "/waiting-list" not in page.text
    response = await client.post(
        f"/events/{slug}/waiting-list", data={"name": "Amal", "email": "amal@example.org", "quantity": "1", "_csrf_token": csrf(page.text)}
    )
    assert response.status_code == 409 and "This waiting list is not open." in response.text
    assert await WaitingEntry.count() == 0


async def test_mistakes_on_the_join_form_are_shown_beside_their_fields_and_change_nothing(client: httpx.AsyncClient, now: datetime) -> None:
    slug, _ = await sold_out_event(client, now)
    type_id = await ticket_type_id(client, slug)
    for fields, field, message in [
        ({"quantity": "7"}, "quantity", "Choose how many places."),  # above the type's max_per_order (6)
        ({"quantity": "0"}, "quantity", "Choose how many places."),
        ({"quantity": "²"}, "quantity", "Choose how many places."),
        ({"locale": "xx"}, "locale", "Choose a language."),
        ({"name": ""}, "name", ""),
        ({"email": "", "phone": ""}, "", ""),
        ({"email": "not an email"}, "email", ""),
    ]:
        response = await join_form(client, slug, ticket_type=str(type_id), **fields)
        assert response.status_code == 422, (fields, response.status_code)
        text = squeezed(response.text)
        assert "There is a problem" in text, fields  # as the buy form above it on the same page says
        if message:
            assert message in text, fields
        if field:
            assert f'id="wl-{field}"' in text and f'id="wl-{field}-error"' in text, fields
            assert re.search(rf'id="wl-{field}"[^>]*aria-invalid="true"', text), fields
        assert 'id="waiting-list"' in text  # the form again, on the event page
    assert await WaitingEntry.count() == 0
    # What the guest typed comes back as text, never as markup.
    response = await join_form(client, slug, name="<b>Amal</b>", email="nope")
    assert "&lt;b&gt;Amal&lt;/b&gt;" in response.text and "<b>Amal</b>" not in response.text
    # Without its CSRF token the form is refused.
    refused = await client.post(f"/events/{slug}/waiting-list", data={"name": "Amal", "email": "amal@example.org", "quantity": "1"})
    assert refused.status_code == 403
    assert await WaitingEntry.count() == 0


async def test_a_mistake_in_the_summary_is_punctuated_the_guests_way(client: httpx.AsyncClient, now: datetime) -> None:
    """The summary's "field: problem" is one translated message: French puts a narrow no-break space before the colon
    ("E-mail : ..."), which a colon written into the template after the translated label left out."""
    slug, _ = await sold_out_event(client, now)
    client.cookies.set("lang", "fr")
    response = await join_form(client, slug, email="not an email")
    assert response.status_code == 422 and 'lang="fr"' in response.text
    french = i18n.translations("fr")
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.DOTALL)
    assert summary, "the summary of mistakes"
    link = re.search(r'<a href="#wl-email">(.*?)</a>', summary.group(0), re.DOTALL)
    assert link, "a link to the email field"
    label = french.gettext("Email")
    assert label in link.group(1) and f"{label}\u202f: " in link.group(1), link.group(1)


async def test_a_used_up_claim_link_lets_a_guest_ask_to_be_told_when_a_free_place_frees_up(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Women's Group", "places": 1}, headers=organiser)
    code = link.json()["code"]
    page = await client.get(f"/claim/{code}")
    assert "Tell me when a free place comes up" not in page.text  # a place is still there to claim
    claimed = await client.post(f"/claim/{code}", data={"name": "Leila", "_csrf_token": csrf(page.text)}, follow_redirects=True)
    assert claimed.status_code == 200
    page = await client.get(f"/claim/{code}")
    text = squeezed(page.text)
    assert "all the places for this link have been taken" in text
    assert "Tell me when a free place comes up" in text and f'action="/claim/{code}/waiting-list"' in text
    assert "You do not need to show any papers." in text
    assert 'name="quantity"' not in text  # a free place is one place
    assert "proof" not in text.lower()  # no proof of status is ever asked

    nothing = await client.post(f"/claim/{code}/waiting-list", data={"name": "Nour", "_csrf_token": csrf(page.text)})
    assert nothing.status_code == 422 and 'aria-invalid="true"' in nothing.text
    assert await WaitingEntry.count() == 0
    joined = await client.post(f"/claim/{code}/waiting-list", data={"name": "Nour", "email": "nour@example.org", "_csrf_token": csrf(page.text)})
    mine = squeezed((await client.get(entry_path(joined))).text)
    assert "You are number 1 in the queue." in mine and "You asked us to tell you when a free place comes up." in mine
    [entry] = await WaitingEntry.select()
    assert entry["kind"] == WaitingKind.free and entry["name"] == "Nour" and entry["quantity"] == 1
    assert (
        await client.post("/claim/not-a-real-code/waiting-list", data={"name": "N", "email": "n@example.org", "_csrf_token": csrf(page.text)})
    ).status_code == 404


async def test_a_guests_page_shows_an_offer_until_when_in_the_events_time_and_language(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug, paid = await sold_out_event(client, now)
    async with another_browser(app) as guest:
        mine = entry_path(await join_form(guest, slug, name="Amal", quantity="2", locale="ar"))
    await refund_and_offer(client, organiser, slug, paid, now)
    [entry] = await WaitingEntry.select(WaitingEntry.offer_expires_at, WaitingEntry.offered_places)
    assert entry["offered_places"] == 2
    zone = (await Event.select(Event.timezone).where(Event.slug == slug).first() or {})["timezone"]
    async with another_browser(app) as elsewhere:  # the offer's link, opened on another device
        page = await elsewhere.get(mine)
    assert page.status_code == 200
    assert 'lang="ar"' in page.text and 'dir="rtl"' in page.text  # the language they joined in, right to left
    assert page.headers["cache-control"].startswith("private") and "noindex" in page.headers["x-robots-tag"]
    text = squeezed(page.text)
    assert f'action="{mine}/accept"' in text
    assert '<option value="2" selected>' in text and '<option value="3"' not in text  # up to the places offered
    assert i18n.date_and_time(entry["offer_expires_at"].astimezone(ZoneInfo(zone)), "ar") in text
    english = squeezed((await client.get(f"{mine}?lang=en")).text)
    assert "We are holding 2 places for you." in english and "Continue to payment" in english
    words = re.sub(r"<[^>]+>", "", english)
    assert "Price per place: £30" in words and "Total: £60" in words  # one place, and taking them all
    assert re.search(r'src="/static/js/offer\.js\?v=[0-9a-f]+"', english)  # the total follows the number chosen
    # Back with a problem, the page keeps the number the guest chose and shows its total.
    fewer = squeezed((await client.post(f"{mine}/accept?lang=en", data={"quantity": "9", "_csrf_token": csrf(english)})).text)
    assert "Total: £60" in re.sub(r"<[^>]+>", "", fewer)
    assert f"{mine}/leave" in english


async def test_lapsed_left_and_removed_places_say_what_became_of_them(client: httpx.AsyncClient, now: datetime) -> None:
    slug, _ = await sold_out_event(client, now)
    lapsed = await add_entry(slug, now, status=WaitingStatus.lapsed, offer_expires_at=now - timedelta(hours=1))
    left = await add_entry(slug, now, status=WaitingStatus.left)
    removed = await add_entry(slug, now, status=WaitingStatus.removed)
    ran_out = squeezed((await client.get(f"/waiting-list/{lapsed.token}")).text)
    assert "<h1>The offer has ended</h1>" in ran_out and "The offer ran out on " in ran_out
    # Nobody is told their places "went to the next person": they may have gone back on sale.
    assert ". The places were offered to others or put back on sale." in ran_out and "next person" not in ran_out
    gone = squeezed((await client.get(f"/waiting-list/{left.token}")).text)
    assert "<h1>You left the waiting list</h1>" in gone and "You have left the waiting list." in gone
    assert f'href="/events/{slug}"' in gone  # somewhere to go on to
    taken_off = squeezed((await client.get(f"/waiting-list/{removed.token}")).text)
    assert "<h1>You are no longer on the waiting list</h1>" in taken_off and "You are no longer on this waiting list" in taken_off
    for page in [await client.get(f"/waiting-list/{t.token}") for t in (lapsed, left, removed)]:
        assert "/accept" not in page.text and "/leave" not in page.text


async def test_an_unknown_or_malformed_token_is_the_not_found_page(client: httpx.AsyncClient, now: datetime) -> None:
    for token in (secrets.token_urlsafe(16), "short", "x" * 40, "tok.en" * 4):
        page = await client.get(f"/waiting-list/{token}")
        assert page.status_code == 404, token
        assert "We could not find that place on the waiting list." in page.text
    assert (await client.get(f"/waiting-list/{secrets.token_urlsafe(16)}/leave")).status_code == 404


async def test_a_guest_leaves_the_waiting_list_after_confirming(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug, _ = await sold_out_event(client, now)
    mine = entry_path(await join_form(client, slug, name="Amal"))
    async with another_browser(app) as other:
        theirs = entry_path(await join_form(other, slug, name="Samir", email="samir@example.org"))
    assert "You are number 2 in the queue." in squeezed((await client.get(theirs)).text)
    confirm = await client.get(mine + "/leave")
    assert confirm.status_code == 200 and "You will lose your place in the queue." in confirm.text
    assert f'action="{mine}/leave"' in confirm.text
    assert (await client.post(mine + "/leave", data={})).status_code == 403  # CSRF
    assert await WaitingEntry.count().where(WaitingEntry.status == WaitingStatus.left) == 0
    gone = await client.post(mine + "/leave", data={"_csrf_token": csrf(confirm.text)})
    assert gone.status_code == 303 and gone.headers["location"] == mine
    assert "You have left the waiting list." in (await client.get(mine)).text
    assert "You are number 1 in the queue." in squeezed((await client.get(theirs)).text)


# --- offers: these go through the waiting list's own offers (waitlist.service.offer_freed_places) ---------------------


async def refund_and_offer(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, paid: dict[str, Any], now: datetime) -> None:
    """The organiser refunds the paid order (its places free up), and the waiting list offers them, as its periodic
    job does."""
    from events.waitlist.service import offer_freed_places

    refund = await client.post(f"/api/orders/{paid['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund.status_code == 201, refund.text
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    assert event is not None
    assert await offer_freed_places(event["id"], now) >= 1


async def test_a_guest_takes_offered_paid_places_and_goes_on_to_pay(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug, paid = await sold_out_event(client, now)
    async with another_browser(app) as guest:
        mine = entry_path(await join_form(guest, slug, name="Amal", quantity="2"))
        await refund_and_offer(client, organiser, slug, paid, now)
        offer = await guest.get(mine)
        text = squeezed(offer.text)
        assert "Places are ready for you" in text and "We are holding 2 places for you." in text
        assert "Take them before" in text and '<option value="2" selected>' in text
        # More places than offered: the offer again, with the message beside the field; nothing changes.
        too_many = await guest.post(mine + "/accept", data={"quantity": "3", "_csrf_token": csrf(offer.text)})
        assert too_many.status_code == 422 and re.search(r'id="wl-quantity"[^>]*aria-invalid="true"', squeezed(too_many.text))
        assert (await WaitingEntry.select(WaitingEntry.status).first() or {})["status"] == WaitingStatus.offered
        assert (await guest.post(mine + "/accept", data={"quantity": "1"})).status_code == 403  # CSRF
        taken = await guest.post(mine + "/accept", data={"quantity": "1", "_csrf_token": csrf(offer.text)})
        assert taken.status_code == 303, taken.text[:300]
        assert re.fullmatch(r"/orders/[A-Z0-9-]+/pay\?token=\S+", taken.headers["location"]), taken.headers["location"]
        pay = await guest.get(taken.headers["location"])
        assert pay.status_code == 200 and "1 × Supper" in squeezed(pay.text)
        # The time left to pay, but no "Change order": the offer's places did not come from the event page's form.
        assert "Your places are held for" in squeezed(pay.text) and "/change" not in pay.text
        after = squeezed((await guest.get(mine)).text)
        assert "<h1>You took the places</h1>" in after and "/pay?token=" in after
        again = await guest.post(mine + "/accept", data={"quantity": "1", "_csrf_token": csrf(offer.text)})
        assert again.status_code == 409 and "<h1>You took the places</h1>" in squeezed(again.text)


async def test_a_mistake_with_a_number_in_it_is_shown_in_the_guests_language(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sentence is translated first and the number put in after (i18n.Sentence): formatted first, no catalogue
    would know "You can take between 1 and 2 places."."""
    real = i18n.translations

    class French(NullTranslations):
        def gettext(self, message: str) -> str:
            known = {"You can take between 1 and %(max)d places.": "Vous pouvez prendre entre 1 et %(max)d places."}
            return known.get(message) or real("fr").gettext(message)

    slug, paid = await sold_out_event(client, now)
    async with another_browser(app) as guest:
        mine = entry_path(await join_form(guest, slug, name="Amal", quantity="2", locale="fr"))
        await refund_and_offer(client, organiser, slug, paid, now)
        offer = await guest.get(mine)
        monkeypatch.setattr(i18n, "translations", lambda locale, *rest: French() if locale == "fr" else real(locale, *rest))
        too_many = await guest.post(mine + "/accept", data={"quantity": "3", "_csrf_token": csrf(offer.text)})
    assert too_many.status_code == 422 and 'lang="fr"' in too_many.text
    assert "Vous pouvez prendre entre 1 et 2 places." in too_many.text and "You can take between" not in too_many.text
    [token] = [row["token"] for row in await WaitingEntry.select(WaitingEntry.token)]
    # The API's detail stays the English sentence with its number.
    api = await client.post(f"/api/waiting-list/{token}/accept", json={"quantity": 3})
    assert api.status_code == 422 and api.json()["fields"]["quantity"] == "You can take between 1 and 2 places."


async def test_an_offer_that_ran_out_cannot_be_taken(client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime) -> None:
    from events.orders.tables import Order

    slug, paid = await sold_out_event(client, now)
    async with another_browser(app) as guest:
        mine = entry_path(await join_form(guest, slug, name="Amal", quantity="2"))
        await refund_and_offer(client, organiser, slug, paid, now)
        offer = await guest.get(mine)
        # The offer's time runs out (as if the hours had passed).
        past = now - timedelta(minutes=1)
        [entry] = await WaitingEntry.select(WaitingEntry.offer_order)
        await WaitingEntry.update({WaitingEntry.offer_expires_at: past}, force=True)
        await Order.update({Order.hold_expires_at: past}).where(Order.id == entry["offer_order"])
        late = await guest.post(mine + "/accept", data={"quantity": "2", "_csrf_token": csrf(offer.text)})
        assert late.status_code == 410
        assert "The offer ran out" in squeezed(late.text) and 'action="/waiting-list/' not in late.text
        assert f"next={mine}" in late.text.replace("%2F", "/")  # the language menu comes back to the page, not the form
    assert await Order.count().where(Order.channel == "waitlist", Order.status == "paid") == 0


async def test_a_guest_takes_an_offered_free_place_and_gets_the_ticket(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    from events.waitlist.service import offer_to_entry

    slug = await make_event(now)
    code = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Women's Group", "places": 1}, headers=organiser)).json()[
        "code"
    ]
    page = await client.get(f"/claim/{code}")
    assert (await client.post(f"/claim/{code}", data={"name": "Leila", "_csrf_token": csrf(page.text)}, follow_redirects=True)).status_code == 200
    page = await client.get(f"/claim/{code}")
    mine = entry_path(
        await client.post(f"/claim/{code}/waiting-list", data={"name": "Nour", "email": "nour@example.org", "_csrf_token": csrf(page.text)})
    )
    [entry] = await WaitingEntry.select(WaitingEntry.id)
    await offer_to_entry(slug, entry["id"], now)
    offer = await client.get(mine)
    text = squeezed(offer.text)
    assert "A free place is ready for you" in text and "We are holding a free place for you." in text
    assert 'name="quantity"' in text and "£" not in text.split("<main")[1]  # nothing about paying
    ticket = await client.post(mine + "/accept", data={"quantity": "1", "_csrf_token": csrf(offer.text)})
    assert ticket.status_code == 200
    assert "Here is your ticket" in ticket.text and 'class="holder">Nour<' in ticket.text and "<svg" in ticket.text
    assert "We have also sent it to your email." in ticket.text
    assert "<h1>You took your free place</h1>" in squeezed((await client.get(mine)).text)


async def test_a_cancelled_events_page_and_claim_link_offer_nothing_to_buy_claim_or_wait_for(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    link = await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Women's Group", "places": 2}, headers=organiser)
    code = link.json()["code"]
    before = await client.get(f"/events/{slug}")
    assert "Have a code?" in before.text and 'class="buy-form"' in before.text
    claim_page = await client.get(f"/claim/{code}")
    assert "Get my ticket" in claim_page.text
    assert (await client.post(f"/api/events/{slug}/cancel", json={"reason": "The venue flooded"}, headers=organiser)).status_code == 200

    page = squeezed((await client.get(f"/events/{slug}")).text)
    assert "This event has been cancelled." in page
    for gone in ("Have a code?", 'class="buy-form"', "Available", "available to claim", "To get a free place", "waiting list"):
        assert gone not in page, gone

    claim = squeezed((await client.get(f"/claim/{code}")).text)
    assert "this event has been cancelled and will not take place" in claim
    for gone in ("Get my ticket", "You are welcome. This place is free.", "Wait for a free place", f'action="/claim/{code}/waiting-list"'):
        assert gone not in claim, gone
    refused = await client.post(f"/claim/{code}", data={"name": "Leila", "_csrf_token": csrf(claim_page.text)})
    assert refused.status_code in (409, 422) and "Get my ticket" not in refused.text
    waited = await client.post(
        f"/claim/{code}/waiting-list", data={"name": "Nour", "email": "nour@example.org", "_csrf_token": csrf(claim_page.text)}
    )
    assert 400 <= waited.status_code < 500 and 'role="alert"' in waited.text  # said, never a page that silently did nothing
    assert await WaitingEntry.count() == 0


async def test_a_claim_that_finds_no_place_left_keeps_the_guests_details_for_the_waiting_list(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, capacity=21, reserved_free_places=1)
    link = await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Women's Group", "places": 3}, headers=organiser)
    code = link.json()["code"]
    page = await client.get(f"/claim/{code}")
    first = await client.post(f"/claim/{code}", data={"name": "Leila", "_csrf_token": csrf(page.text)})
    assert first.status_code == 303
    full = await client.post(f"/claim/{code}", data={"name": "Nour", "email": "nour@example.org", "_csrf_token": csrf(page.text)})
    assert full.status_code == 409, full.text[:300]
    waiting = re.search(r'<section class="waiting-list".*?</section>', full.text, re.DOTALL)
    assert waiting, "the waiting list is offered"
    assert 'value="Nour"' in waiting.group(0) and 'value="nour@example.org"' in waiting.group(0)
