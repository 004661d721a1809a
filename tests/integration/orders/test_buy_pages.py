"""Buying through the pages, without JavaScript: the form, inline errors, the total, the test payment."""

import html
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


async def test_a_donation_typed_in_arabic_or_persian_digits_is_the_amount_the_page_showed(client: httpx.AsyncClient, now: datetime) -> None:
    """The live total (static/js/money.js) reads 12.50 in Eastern Arabic or Persian digits, with the Arabic decimal
    separator, as £12.50; the server charges the same (it refused them before). Any other digit Python's \\d takes (a
    fullwidth or a Devanagari one) is refused with the donation's message rather than read as a number."""
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    buyer = {"name": "Amal Haddad", "email": "amal@example.org"}
    for typed in ("١٢٫٥٠", "۱۲٫۵۰", "12,50"):
        page = await client.get(f"/events/{slug}")
        form = {f"quantity_{type_id}": "1", **buyer, "donation": typed, "_csrf_token": csrf(page.text)}
        to_checkout = await client.post(f"/events/{slug}/buy", data=form)
        assert to_checkout.status_code == 303, (typed, to_checkout.text[:300])
        checkout = re.sub(r"\s+", " ", (await client.get(to_checkout.headers["location"])).text)
        assert "£12.50" in checkout, typed
    assert [order.donation_pence for order in await Order.objects()] == [1250, 1250, 1250]
    for typed in ("５", "²", "१२"):
        page = await client.get(f"/events/{slug}")
        form = {f"quantity_{type_id}": "1", **buyer, "donation": typed, "_csrf_token": csrf(page.text)}
        refused = await client.post(f"/events/{slug}/buy", data=form)
        assert refused.status_code == 422 and "Enter an amount like 5 or 12.50." in refused.text, typed
    assert await Order.count() == 3


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


def field_value(page: str, field_id: str) -> str | None:
    found = re.search(rf'<input[^>]*id="{field_id}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def selected(page: str, field_id: str) -> str | None:
    select = re.search(rf'<select id="{field_id}".*?</select>', page, re.DOTALL)
    if select is None:
        return None
    option = re.search(r'<option value="([^"]*)"[^>]*selected>', select.group(0))
    return option.group(1) if option else None


def words(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def test_places_sold_out_while_the_form_was_filled_in_keep_what_the_guest_typed(
    client: httpx.AsyncClient, app: Litestar, now: datetime
) -> None:
    """Another buyer took the last place meanwhile: the refusal takes the focus (forms.js, as the error summary does),
    the waiting list's form is filled in with the guest's name, email and places, and their contribution (which an
    order may have without a ticket) is kept in the form, to give without a ticket."""
    slug = await make_event(now, capacity=2, reserved_free_places=0, pay_it_forward_place_pence=3000)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")  # the guest starts filling the form in
    async with another_browser(app) as other:
        taken = await other.get(f"/events/{slug}")
        data = {f"quantity_{type_id}": "2", "name": "Layla Ahmed", "email": "layla@example.org", "_csrf_token": csrf(taken.text)}
        assert (await other.post(f"/events/{slug}/buy", data=data)).status_code == 303

    typed = {
        f"quantity_{type_id}": "2",
        "pay_it_forward_places": "1",
        "donation": "5.50",
        "donation_partner": "welcome-kitchen",
        "name": "Amal Haddad",
        "email": "amal@example.org",
    }
    refused = await client.post(f"/events/{slug}/buy", data={**typed, "_csrf_token": csrf(page.text)})
    assert refused.status_code == 409
    alert = re.search(r'<div class="buy-error" role="alert" id="buy-error" tabindex="-1">(.*?)</div>', refused.text, re.DOTALL)
    assert alert is not None, "the refusal is an alert that can take the focus"
    assert (
        words(alert.group(1)).split()
        == words(
            "Sorry, there are not enough places left for this order. You can still give your contribution without a ticket: it is kept in "
            "the form below. Your details are filled in on the waiting list's form below. Join the waiting list"
        ).split()
    )
    # The waiting list's form, filled in from what this guest sent.
    assert field_value(refused.text, "wl-name") == "Amal Haddad" and field_value(refused.text, "wl-email") == "amal@example.org"
    assert selected(refused.text, "wl-quantity") == "2"
    # The contribution, in a form without tickets (none are left), with their details.
    assert f'name="quantity_{type_id}"' not in refused.text and 'id="guest-names"' not in refused.text
    assert selected(refused.text, "pay_it_forward_places") == "1" and field_value(refused.text, "donation") == "5.50"
    assert selected(refused.text, "donation_partner") == "welcome-kitchen"
    assert field_value(refused.text, "name") == "Amal Haddad" and field_value(refused.text, "email") == "amal@example.org"

    # Sent as it is, it is an order of the contribution alone.
    given = {name: value for name, value in typed.items() if not name.startswith("quantity_")}
    assert (await client.post(f"/events/{slug}/buy", data={**given, "_csrf_token": csrf(refused.text)})).status_code == 303
    order = await Order.select(Order.places, Order.total_pence).where(Order.buyer_email == "amal@example.org").first()
    assert order == {"places": 0, "total_pence": 3000 + 550}

    # Nothing of hers is on the page another guest sees, or gets when the places are refused to them too.
    async with another_browser(app, client_address="127.0.0.2") as third:
        shown = await third.get(f"/events/{slug}")
        assert "Amal" not in shown.text and "amal@" not in shown.text
        data = {f"quantity_{type_id}": "1", "name": "Sami Nasser", "email": "sami@example.org", "_csrf_token": csrf(shown.text)}
        theirs = await third.post(f"/events/{slug}/buy", data=data)
    assert theirs.status_code == 409 and "Amal" not in theirs.text and "amal@" not in theirs.text
    assert field_value(theirs.text, "wl-name") == "Sami Nasser" and selected(theirs.text, "wl-quantity") == "1"
    # Without a contribution there is no form to send: the waiting list is the way in.
    assert 'class="buy-form"' in theirs.text and 'id="email"' not in theirs.text
    assert "You can still give your contribution" not in theirs.text


async def test_a_sold_out_type_among_others_keeps_the_form_and_fills_in_its_waiting_list(
    client: httpx.AsyncClient, app: Litestar, now: datetime
) -> None:
    """One type sold out meanwhile, another still on sale: the buy form stays, with everything the guest typed, and the
    waiting list's form names the type they wanted."""
    types = [
        {"name": "Supper", "price_pence": 3000, "max_per_order": 6, "quota": 1},
        {"name": "Lunch", "price_pence": 1500, "max_per_order": 6},
    ]
    slug = await make_event(now, capacity=10, reserved_free_places=0, ticket_types=types)
    supper, lunch = await ticket_type_id(client, slug, "Supper"), await ticket_type_id(client, slug, "Lunch")
    page = await client.get(f"/events/{slug}")
    async with another_browser(app) as other:
        taken = await other.get(f"/events/{slug}")
        data = {f"quantity_{supper}": "1", "name": "Layla Ahmed", "email": "layla@example.org", "_csrf_token": csrf(taken.text)}
        assert (await other.post(f"/events/{slug}/buy", data=data)).status_code == 303
    typed = {f"quantity_{supper}": "1", f"quantity_{lunch}": "2", "donation": "4", "name": "Amal Haddad", "email": "amal@example.org"}
    refused = await client.post(f"/events/{slug}/buy", data={**typed, "_csrf_token": csrf(page.text)})
    assert refused.status_code == 409 and 'id="buy-error" tabindex="-1"' in refused.text
    assert selected(refused.text, f"quantity_{lunch}") == "2" and field_value(refused.text, "donation") == "4"
    assert field_value(refused.text, "name") == "Amal Haddad" and field_value(refused.text, "email") == "amal@example.org"
    assert "You can still give your contribution" not in refused.text  # the form is there as it was
    # The waiting list is for the sold-out type only, and filled in for it.
    assert field_value(refused.text, "wl-name") == "Amal Haddad" and selected(refused.text, "wl-quantity") == "1"
    assert re.search(rf'<input type="hidden" name="ticket_type" value="{supper}">', refused.text)
