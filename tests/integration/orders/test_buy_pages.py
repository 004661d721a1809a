"""Buying through the pages, without JavaScript: the form, inline errors, the total, the test payment."""

import re
from datetime import datetime

import httpx
from litestar import Litestar

from events.orders.tables import Order
from tests.factories import make_event
from tests.support.orders import another_browser, ticket_type_id


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_a_guest_buys_with_the_form_sees_the_total_and_gets_tickets(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    assert f'name="quantity_{type_id}"' in page.text and "Pay it forward" in page.text
    form = {
        f"quantity_{type_id}": "2",
        "pay_it_forward_places": "1",
        "donation": "5.50",
        "donation_partner": "welcome-kitchen",
        "name": "Amal Haddad",
        "email": "amal@example.org",
        "_csrf_token": csrf(page.text),
    }
    to_checkout = await client.post(f"/events/{slug}/buy", data=form)
    assert to_checkout.status_code == 303
    checkout = await client.get(to_checkout.headers["location"])
    assert checkout.status_code == 200
    text = re.sub(r"\s+", " ", checkout.text)
    assert "2 × Supper" in text and "£60" in text and "£30" in text and "£5.50" in text
    assert "£95.50" in text  # the full total before paying
    assert "Test payment" in text and "no card is charged" in text
    reference = re.search(r"/orders/([A-Z0-9-]+)/test-payment", checkout.text).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="token" value="([^"]+)"', checkout.text).group(1)  # type: ignore[union-attr]
    done = await client.post(f"/orders/{reference}/test-payment", data={"token": token, "_csrf_token": csrf(checkout.text)})
    assert done.status_code == 303
    confirmation = await client.get(done.headers["location"])
    assert "You&#39;re going!" in confirmation.text or "You're going!" in confirmation.text
    assert confirmation.text.count('class="ticket-card') == 2


async def test_mistakes_are_shown_beside_the_fields_and_choices_are_kept(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    response = await client.post(
        f"/events/{slug}/buy",
        data={f"quantity_{type_id}": "2", "donation": "lots", "name": "", "email": "nope", "_csrf_token": csrf(page.text)},
    )
    assert response.status_code == 422
    assert "Enter an amount like 5 or 12.50." in response.text
    response = await client.post(
        f"/events/{slug}/buy", data={f"quantity_{type_id}": "2", "name": "", "email": "nope", "_csrf_token": csrf(page.text)}
    )
    assert response.status_code == 422
    assert "Please give your name." in response.text and "That email address does not look right." in response.text
    assert 'aria-invalid="true"' in response.text
    assert '<option value="2" selected>' in response.text  # the buyer's choice is kept


async def test_a_sold_out_form_says_so(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=21, reserved_free_places=20)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    data = {f"quantity_{type_id}": "1", "name": "A", "email": "a@example.org", "_csrf_token": csrf(page.text)}
    assert (await client.post(f"/events/{slug}/buy", data=data)).status_code == 303
    async with another_browser(app) as other:  # the same browser would replace its own hold
        page = await other.get(f"/events/{slug}")
        second = await other.post(f"/events/{slug}/buy", data={**data, "email": "b@example.org", "_csrf_token": csrf(page.text)})
    assert second.status_code == 409 and "not enough places left" in second.text


async def test_the_buy_form_needs_its_csrf_token(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    response = await client.post(f"/events/{slug}/buy", data={f"quantity_{type_id}": "1", "name": "A", "email": "a@example.org"})
    assert response.status_code == 403


async def test_digits_python_reads_as_digits_but_are_not_a_count_are_refused_not_a_crash(client: httpx.AsyncClient, now: datetime) -> None:
    """'²' passes str.isdigit() but not int(); U+0661 (Arabic-Indic one) is not what a number field sends; a
    5,000-digit number is past int()'s limit. Each is a 422 naming the field, on the form and the API, and no order."""
    slug = await make_event(now, pay_it_forward_place_pence=3000)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    buyer = {"name": "Amal Haddad", "email": "amal@example.org"}
    messages = {f"quantity_{type_id}": "Choose a number of tickets.", "pay_it_forward_places": "Choose a number of places."}
    for typed in ("²", "\u0661", "9" * 5000, "1234567"):
        for field in (f"quantity_{type_id}", "pay_it_forward_places"):
            form = {f"quantity_{type_id}": "1", **buyer, "_csrf_token": csrf(page.text), field: typed}
            response = await client.post(f"/events/{slug}/buy", data=form)
            assert response.status_code == 422, (field, typed[:10], response.status_code)
            assert messages[field] in response.text, field
        for body in (
            {"buyer": buyer, "items": [{"ticket_type": type_id, "quantity": typed}]},
            {"buyer": buyer, "items": [{"ticket_type": type_id, "quantity": 1}], "pay_it_forward_places": typed},
        ):
            api = await client.post(f"/api/events/{slug}/orders", json=body)
            assert api.status_code == 422, (body, api.text[:200])
    big = await client.post(
        f"/api/events/{slug}/orders",
        content=b'{"buyer": {"name": "Amal", "email": "amal@example.org"}, "items": [{"ticket_type": %d, "quantity": %s}]}' % (type_id, b"9" * 5000),
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code in (400, 422), big.text[:200]
    assert await Order.count() == 0


async def test_a_ticket_type_id_no_row_can_have_is_refused_not_a_crash(client: httpx.AsyncClient, now: datetime) -> None:
    """Ids are PostgreSQL integers: a ticket type id past 2**31 - 1 (or a 20-digit one, past SQLite's) names no ticket
    type, so it is a 422 naming the field, as on the waiting list, and no order; it never reaches the database, whose
    statement would fail on it."""
    slug = await make_event(now)
    buyer = {"name": "Amal Haddad", "email": "amal@example.org"}
    for ticket_type in (2**31, 10**20):
        order = await client.post(f"/api/events/{slug}/orders", json={"buyer": buyer, "items": [{"ticket_type": ticket_type, "quantity": 1}]})
        assert order.status_code == 422, order.text[:300]
        assert "ticket_type" in order.text
        waiting = await client.post(f"/api/events/{slug}/waiting-list", json={**buyer, "ticket_type": ticket_type})
        assert waiting.status_code == 422, waiting.text[:300]
    assert await Order.count() == 0
