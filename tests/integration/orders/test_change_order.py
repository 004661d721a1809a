"""Going back from the payment page: "Change order" shows the event page with the buyer's choices filled in, the
order keeping its hold until the changed one is sent, which replaces it (or, refused, leaves it as it was); sending
the form again (after it, or after going back with the browser) holds exactly the buyer's places, never the old ones
as well. The payment page says how long the hold has left, and an order with no
tickets never speaks of held places. The buy form shows all its problems at once, in one error summary."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import httpx
from litestar import Litestar

from events import db
from events.codes.tables import Code
from events.orders import service as orders_service
from events.orders.tables import Order
from events.tickets import issuing
from tests.factories import make_event
from tests.integration.orders.test_hold_limits import csrf, places_taken
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import another_browser, ticket_type_id

BUYER = {"name": "Amal Haddad", "email": "amal@example.org"}


async def buy(browser: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    page = await browser.get(f"/events/{slug}")
    return await browser.post(f"/events/{slug}/buy", data={**BUYER, **fields, "_csrf_token": csrf(page.text)})


async def held(slug: str) -> int:
    """The event's places held in checkouts (as its dashboard counts them), which its counters must agree with."""
    rows = await Order.select(Order.places).where(Order.event.slug == slug, Order.status == "pending")
    count = sum(row["places"] for row in rows)
    assert await places_taken(slug) == (count, count)
    return count


async def payment_page(browser: httpx.AsyncClient, bought: httpx.Response) -> tuple[str, str, str]:
    """The payment page's text, and the reference and access token its "Change order" form sends."""
    assert bought.status_code == 303, bought.text
    page = await browser.get(bought.headers["location"])
    assert page.status_code == 200
    form = re.search(r'<form method="post" action="/orders/([A-Z0-9-]+)/change" class="change-order">(.*?)</form>', page.text, re.DOTALL)
    assert form is not None, "the payment page has a Change order form"
    token = re.search(r'name="token" value="([^"]+)"', form.group(2))
    assert token is not None
    return page.text, form.group(1), token.group(1)


async def change(browser: httpx.AsyncClient, page: str, reference: str, token: str) -> httpx.Response:
    return await browser.post(f"/orders/{reference}/change", data={"token": token, "_csrf_token": csrf(page)})


async def send_changed(browser: httpx.AsyncClient, slug: str, changed: str, **fields: str) -> httpx.Response:
    """The form "Change order" showed, sent with ``fields`` (the buyer's changes) and its hidden fields as it has them."""
    hidden = {name: field_value(changed, name) or "" for name in ("changes", "code") if field_value(changed, name) is not None}
    return await browser.post(f"/events/{slug}/buy", data={**BUYER, **hidden, **fields, "_csrf_token": csrf(changed)})


async def status_of(reference: str) -> str:
    row = await Order.select(Order.status).where(Order.reference == reference).first()
    assert row is not None
    return row["status"]


def field_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return html.unescape(found.group(1)) if found else None


def selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.DOTALL)
    assert select is not None, name
    option = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return option.group(1) if option else None


def words(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def test_change_order_fills_the_form_in_again_and_the_order_is_replaced_once_it_is_sent(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0, pay_it_forward_place_pence=3000)
    type_id = await ticket_type_id(client, slug)
    bought = await buy(
        client, slug, **{f"quantity_{type_id}": "2", "pay_it_forward_places": "1", "donation": "5.50", "donation_partner": "welcome-kitchen"}
    )
    page, reference, token = await payment_page(client, bought)
    assert await held(slug) == 2
    text = words(page)
    assert "Your places are held for 15 more minutes, until" in text
    assert "If you have not paid by then, your places are released for other guests and you are not charged." in text

    changed = await change(client, page, reference, token)
    assert changed.status_code == 200
    # The event page, with every choice as it was: no personal data went into an address on the way.
    form = changed.text
    assert 'action="/events/' + slug + '/buy"' in form and "Your order is open to change" in form
    assert selected(form, f"quantity_{type_id}") == "2" and selected(form, "pay_it_forward_places") == "1"
    assert selected(form, "donation_partner") == "welcome-kitchen" and field_value(form, "donation") == "5.50"
    assert field_value(form, "name") == "Amal Haddad" and field_value(form, "email") == "amal@example.org"
    assert changed.headers["cache-control"] == "no-store" and "noindex" in changed.headers["x-robots-tag"]
    assert not any("amal" in response.url.query.decode().lower() for response in [changed, *changed.history])
    # Nothing has changed yet: the order keeps its places and its payment page until the changed one is sent.
    assert await held(slug) == 2 and await status_of(reference) == "pending"
    assert (await client.get(bought.headers["location"], follow_redirects=False)).status_code == 200

    # Sent as changed: the order is replaced by one of exactly the buyer's new places, in one go.
    again = await send_changed(client, slug, form, **{f"quantity_{type_id}": "3", "pay_it_forward_places": "1", "donation": "5.50"})
    assert again.status_code == 303
    assert await held(slug) == 3 and await status_of(reference) == "expired"
    # The old payment page no longer takes a payment: it goes to the order, which says it was not completed.
    assert (await client.get(bought.headers["location"], follow_redirects=False)).status_code in (302, 303)
    # Then back with the browser from that payment page, and sent once more: the hold is replaced, not added to.
    assert (await buy(client, slug, **{f"quantity_{type_id}": "1"})).status_code == 303
    assert await held(slug) == 1
    assert await Order.count().where(Order.event.slug == slug, Order.status == "pending") == 1


async def organiser_status(client: httpx.AsyncClient, slug: str, reference: str) -> tuple[str, str]:
    """An order's status as the organiser sees it: in the event's order list, and on the order's own page."""
    listing = await client.get(f"/manage/events/{slug}/orders")
    row = re.search(
        rf'<tr>\s*<th scope="row"><a href="/manage/orders/{reference}"[^>]*>{reference}</a></th>\s*<td>.*?</td>\s*<td>([^<]*)</td>',
        listing.text,
        re.DOTALL,
    )
    page = await client.get(f"/manage/orders/{reference}")
    status = re.search(r'<dd class="order-status">([^<]*)</dd>', page.text)
    assert row is not None and status is not None, reference
    return row.group(1).strip(), status.group(1)


async def listed_as(client: httpx.AsyncClient, slug: str, status: str) -> set[str]:
    """The references the event's order list shows when filtered by ``status``."""
    listing = await client.get(f"/manage/events/{slug}/orders", params={"status": status})
    assert listing.status_code == 200
    return set(re.findall(r'<th scope="row"><a href="/manage/orders/([A-Z0-9-]+)"', listing.text))


async def test_a_changed_order_says_it_was_replaced_not_that_its_time_ran_out(client: httpx.AsyncClient, now: datetime) -> None:
    """The order "Change order" replaced is not one whose time to pay ran out: its page (reopened from the history, a
    minute later) and the organiser's pages say it was replaced, and name nothing of the new order."""
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    changed = await change(client, page, reference, token)
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "3"})).status_code == 303
    assert await status_of(reference) == "expired"
    new = await Order.select(Order.reference).where(Order.event.slug == slug, Order.status == "pending").first()
    assert new is not None

    old = await client.get(f"/orders/{reference}?token={token}")
    shown = words(old.text)
    assert "<h1>This order was replaced</h1>" in old.text
    assert (
        "You changed this order, so a new order replaced it. You have not been charged for this one: your tickets come with the new "
        "order's confirmation." in shown
    )
    assert "ran out" not in shown and "not completed" not in shown and new["reference"] not in old.text

    await sign_in_organiser(client)
    assert await organiser_status(client, slug, reference) == ("replaced", "replaced")
    # An order whose time to pay did run out is still "expired"; the replaced one stays replaced.
    assert await orders_service.expire_holds(now + timedelta(days=1)) == 1
    assert await organiser_status(client, slug, new["reference"]) == ("expired", "expired")
    assert await organiser_status(client, slug, reference) == ("replaced", "replaced")
    # The list's filter agrees: each under its own status.
    assert await listed_as(client, slug, "replaced") == {reference}
    assert await listed_as(client, slug, "expired") == {new["reference"]}


async def test_a_replaced_order_put_back_and_then_run_out_says_its_time_ran_out(client: httpx.AsyncClient, now: datetime) -> None:
    """A changed order whose payment could not start puts the order it replaced back (release_hold's restore): what
    happened to that order last is what its pages say."""
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    changed = await change(client, page, reference, token)
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "3"})).status_code == 303
    first = await Order.select(Order.id).where(Order.reference == reference).first()
    new = await Order.select(Order.id).where(Order.event.slug == slug, Order.status == "pending").first()
    assert first is not None and new is not None
    # As when the new order's payment cannot start (payments.checkout): before the replaced one's payment is closed.
    await Order.update({Order.intent_closed_at: None}).where(Order.id == first["id"])
    assert await orders_service.release_hold(new["id"], now, reason="payment provider unavailable", restore=first["id"]) is True
    assert await status_of(reference) == "pending"
    assert await orders_service.expire_holds(now + timedelta(days=1)) == 1

    shown = words((await client.get(f"/orders/{reference}?token={token}")).text)
    assert "The time to pay ran out and your places were released. You have not been charged." in shown and "replaced" not in shown
    await sign_in_organiser(client)
    assert await organiser_status(client, slug, reference) == ("expired", "expired")
    assert reference in await listed_as(client, slug, "expired") and not await listed_as(client, slug, "replaced")


async def test_a_changed_order_refused_leaves_the_order_as_it_was(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    """The change and the new order happen together or not at all: asking for more places than are left is refused,
    and the buyer still holds the places they had, their payment page working."""
    slug = await make_event(now, capacity=5, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    bought = await buy(client, slug, **{f"quantity_{type_id}": "2"})
    page, reference, token = await payment_page(client, bought)
    async with another_browser(app) as other:
        assert (await buy(other, slug, **{f"quantity_{type_id}": "2", "name": "Layla Ahmed", "email": "layla@example.org"})).status_code == 303
    changed = await change(client, page, reference, token)
    before = await Order.select(Order.status, Order.places, Order.hold_expires_at).where(Order.reference == reference).first()

    refused = await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "4"})  # 2 of their own and the 1 left: not 4
    assert refused.status_code == 409
    assert field_value(refused.text, "changes") == field_value(changed.text, "changes")  # the form still changes the order
    assert await Order.select(Order.status, Order.places, Order.hold_expires_at).where(Order.reference == reference).first() == before
    assert await held(slug) == 4
    assert (await client.get(bought.headers["location"], follow_redirects=False)).status_code == 200

    # Changed to what fits, it replaces the order.
    assert (await send_changed(client, slug, refused.text, **{f"quantity_{type_id}": "3"})).status_code == 303
    assert await status_of(reference) == "expired" and await held(slug) == 5


async def test_a_changed_order_replaces_the_order_whatever_name_and_email_it_now_gives(client: httpx.AsyncClient, now: datetime) -> None:
    """Going back with the browser replaces a hold only for the same buyer (another person on a shared computer keeps
    theirs); "Change order" was asked of that very order, so the changed one replaces it whoever it now names."""
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    changed = await change(client, page, reference, token)
    other_buyer = {"name": "Layla Ahmed", "email": "layla@example.org"}
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "1"}, **other_buyer)).status_code == 303
    assert await status_of(reference) == "expired" and await held(slug) == 1
    [row] = await Order.select(Order.buyer_email).where(Order.event.slug == slug, Order.status == "pending")
    assert row["buyer_email"] == "layla@example.org"


async def test_a_forged_change_replaces_nothing(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    """The form names the order it changes with a token only "Change order" gives: another buyer cannot end someone
    else's hold by naming its reference."""
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    _, reference, _ = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    async with another_browser(app) as other:
        page = await other.get(f"/events/{slug}")
        for forged in (reference, f"{reference}.", f"{reference}.ord_wrong", f"{reference}.{'A' * 43}"):
            data = {f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org", "changes": forged, "_csrf_token": csrf(page.text)}
            assert (await other.post(f"/events/{slug}/buy", data=data)).status_code == 303
    # The first guest's order as it was; the other browser's forms replaced its own hold each time, as usual.
    assert await status_of(reference) == "pending" and await held(slug) == 3


async def test_change_order_twice_or_after_paying_does_no_harm(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    # Another guest's hold stays as it is.
    async with another_browser(app) as other:
        assert (await buy(other, slug, **{f"quantity_{type_id}": "4", "name": "Layla Ahmed", "email": "layla@example.org"})).status_code == 303
    assert await held(slug) == 6
    first, second = await change(client, page, reference, token), await change(client, page, reference, token)
    assert first.status_code == second.status_code == 200  # a reload shows the same form again
    assert selected(second.text, f"quantity_{type_id}") == "2"
    assert await held(slug) == 6  # nothing given back until the changed order is sent
    assert (await send_changed(client, slug, second.text, **{f"quantity_{type_id}": "2"})).status_code == 303
    assert await held(slug) == 6  # the two places replaced once, by two
    # The first form, sent late (back in the browser's history): its order is replaced already, so it replaces the hold
    # the browser has now, not adding to it.
    assert (await send_changed(client, slug, first.text, **{f"quantity_{type_id}": "2"})).status_code == 303
    assert await held(slug) == 6

    # A paid order has nothing to change: the buyer goes to their order.
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    paid = await client.post(f"/orders/{reference}/test-payment", data={"token": token, "_csrf_token": csrf(page)})
    assert paid.status_code == 303
    after = await change(client, page, reference, token)
    assert after.status_code == 303 and after.headers["location"] == paid.headers["location"]
    assert (await Order.select(Order.status).where(Order.reference == reference).first())["status"] == "paid"
    assert await places_taken(slug) == (6, 6)  # 4 held by the other guest, 2 paid


async def test_change_order_needs_the_orders_token(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    page, reference, _ = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    refused = await change(client, page, reference, "ord_wrong")
    assert refused.status_code == 404 and "Amal" not in refused.text
    assert await held(slug) == 2


async def test_change_order_keeps_the_code_the_order_was_placed_with(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    made = await client.post(f"/api/events/{slug}/codes", json={"code": "FRIENDS", "discount_percent": 10, "max_uses": 1}, headers=organiser)
    assert made.status_code == 201, made.text
    type_id = await ticket_type_id(client, slug)
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2", "code": "FRIENDS"}))
    assert (await Code.select(Code.uses).where(Code.code == "FRIENDS").first())["uses"] == 1
    changed = await change(client, page, reference, token)
    assert (await Code.select(Code.uses).where(Code.code == "FRIENDS").first())["uses"] == 1  # still the order's
    assert "Code FRIENDS applied." in words(changed.text) and field_value(changed.text, "code") == "FRIENDS"
    # Its one use goes from the order to the changed one, in the same transaction.
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "1"})).status_code == 303
    assert await held(slug) == 1 and await status_of(reference) == "expired"
    assert (await Code.select(Code.uses).where(Code.code == "FRIENDS").first())["uses"] == 1


async def test_an_order_without_tickets_never_speaks_of_held_places(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0, pay_it_forward_place_pence=3000)
    for choice in ({"donation": "10"}, {"pay_it_forward_places": "2"}):
        page, reference, token = await payment_page(client, await buy(client, slug, **choice))
        text = words(page)
        assert "Please pay within 15 minutes, by" in text and "you are not charged" in text
        assert not re.search(r"\bplaces? (are|is|have been) (held|released)|\bheld\b", text), text
        changed = await change(client, page, reference, token)
        assert changed.status_code == 200 and "held" not in words(changed.text).lower()
        # Its order page, once the time to pay is over, does not speak of places either.
        order = await Order.select(Order.id).where(Order.reference == reference).first()
        assert order is not None and await orders_service.release_hold(order["id"], now, reason="the time to pay ran out") is False
        ended = words((await client.get(f"/orders/{reference}?token={token}")).text)
        assert "The time to pay ran out. You have not been charged." in ended and "places were released" not in ended
    assert await held(slug) == 0


async def test_an_empty_form_shows_every_problem_at_once_in_one_summary(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    sent = await client.post(f"/events/{slug}/buy", data={f"quantity_{type_id}": "0", "name": "", "email": "", "_csrf_token": csrf(page.text)})
    assert sent.status_code == 422
    summary = re.search(r'<div class="error-summary" id="buy-error" role="alert"[^>]*tabindex="-1">(.*?)</div>', sent.text, re.DOTALL)
    assert summary is not None and "There is a problem" in summary.group(1)
    links = [(target, words(message).strip()) for target, message in re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary.group(1))]
    assert links == [
        (f"quantity_{type_id}", "Choose at least one ticket, or add a contribution."),
        ("name", "Please give your name."),
        ("email", "Please give your email address so we can send your tickets."),
    ]
    # Each message is beside its field too, and each linked field is on the page.
    for target, message in links:
        assert f'id="{target}"' in sent.text
        assert sent.text.count(message) == 2
    assert await held(slug) == 0


async def test_a_late_payment_of_a_donation_is_accepted_without_speaking_of_places(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, capacity=30, reserved_free_places=0)
    _, reference, token = await payment_page(client, await buy(client, slug, donation="10"))
    order = await Order.select(Order.id).where(Order.reference == reference).first()
    await orders_service.release_hold(order["id"], now, reason="the time to pay ran out")
    async with db.write_transaction():
        assert (await issuing.settle_paid_order(order["id"], now)).outcome == "late_issued"
    shown = words((await client.get(f"/orders/{reference}?token={token}")).text)
    assert "Your payment arrived after the time to pay ran out. It has been accepted: thank you." in shown
    assert "places" not in shown.lower()


def options(page: str, name: str) -> list[str]:
    """The choices a select offers (none when the page has no such select)."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.DOTALL)
    return re.findall(r'<option value="([^"]*)"', select.group(0)) if select else []


def availability(page: str, type_name: str) -> str:
    """What a ticket type's line on the buy form says of its places."""
    item = re.search(rf'<span class="type-name"[^>]*>{type_name}</span>.*?<div class="availability">(.*?)</div>', page, re.DOTALL)
    assert item is not None, type_name
    return words(item.group(1)).strip()


async def test_a_guest_holding_the_last_places_can_change_their_order(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    """The places the order holds are the guest's until the changed order replaces them: the form shows them as theirs
    to choose again (not "Sold out", with no form, as it is to everyone else), and the changed order of as many or
    fewer places is held in their place."""
    slug = await make_event(now, capacity=3, reserved_free_places=0, pay_it_forward_place_pence=3000)
    type_id = await ticket_type_id(client, slug)
    async with another_browser(app) as other:
        assert (await buy(other, slug, **{f"quantity_{type_id}": "1", "name": "Layla Ahmed", "email": "layla@example.org"})).status_code == 303
    bought = await buy(client, slug, **{f"quantity_{type_id}": "2", "pay_it_forward_places": "1", "donation": "5"})
    page, reference, token = await payment_page(client, bought)
    assert await held(slug) == 3
    assert availability((await another_browser_page(app, slug)), "Supper") == "Sold out"  # to everyone else

    changed = await change(client, page, reference, token)
    assert changed.status_code == 200
    assert availability(changed.text, "Supper") == "2 left Your order holds 2 places for you."
    assert options(changed.text, f"quantity_{type_id}") == ["0", "1", "2"] and selected(changed.text, f"quantity_{type_id}") == "2"
    assert selected(changed.text, "pay_it_forward_places") == "1" and field_value(changed.text, "donation") == "5"
    assert field_value(changed.text, "name") == "Amal Haddad" and "Continue to payment" in changed.text
    assert 'id="waiting-list"' not in changed.text  # nothing to wait for: the places are theirs

    # A mistake on the changed form shows it again, the places still theirs.
    mistaken = await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "2", "email": ""})
    assert mistaken.status_code == 422 and await status_of(reference) == "pending"
    assert options(mistaken.text, f"quantity_{type_id}") == ["0", "1", "2"] and selected(mistaken.text, f"quantity_{type_id}") == "2"
    assert "Your order holds 2 places for you." in words(mistaken.text)

    # The same places again: held in place of the order's, never refused for them.
    same = await send_changed(client, slug, mistaken.text, **{f"quantity_{type_id}": "2", "pay_it_forward_places": "1", "donation": "5"})
    assert same.status_code == 303, words(same.text)[:500]
    assert await status_of(reference) == "expired" and await held(slug) == 3
    # And changed again, to fewer: one place goes back on sale.
    page, reference, token = await payment_page(client, same)
    changed = await change(client, page, reference, token)
    assert options(changed.text, f"quantity_{type_id}") == ["0", "1", "2"]
    fewer = await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "1"})
    assert fewer.status_code == 303 and await status_of(reference) == "expired" and await held(slug) == 2
    assert availability((await another_browser_page(app, slug)), "Supper") == "1 left"


async def test_the_places_a_changed_order_holds_are_added_to_those_left(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    """With a few places left, the guest may choose those and their own: the choices are not capped below what they hold."""
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    type_id = await ticket_type_id(client, slug)
    async with another_browser(app) as other:
        assert (await buy(other, slug, **{f"quantity_{type_id}": "1", "name": "Layla Ahmed", "email": "layla@example.org"})).status_code == 303
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{type_id}": "2"}))
    changed = await change(client, page, reference, token)
    assert options(changed.text, f"quantity_{type_id}") == ["0", "1", "2", "3"]
    assert availability(changed.text, "Supper") == "3 left Your order holds 2 places for you."
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{type_id}": "3"})).status_code == 303
    assert await status_of(reference) == "expired" and await held(slug) == 4


async def test_a_type_sold_out_by_its_quota_is_the_guests_for_the_places_they_hold(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    """A ticket type whose own quota is used up: the guest holding its last places may keep them, or swap them for
    another type's places (the event's places their order gives back count for every type); a type sold out to them
    too stays sold out, with no choice."""
    types = [
        {"name": "Supper", "price_pence": 3000, "max_per_order": 6, "quota": 2},
        {"name": "Chef's table", "price_pence": 5000, "max_per_order": 6, "quota": 1},
        {"name": "Lunch", "price_pence": 1500, "max_per_order": 6},
    ]
    slug = await make_event(now, capacity=4, reserved_free_places=0, ticket_types=types)
    supper, table, lunch = [await ticket_type_id(client, slug, name) for name in ("Supper", "Chef's table", "Lunch")]
    async with another_browser(app) as other:
        bought = await buy(other, slug, **{f"quantity_{table}": "1", "name": "Layla Ahmed", "email": "layla@example.org"})
        assert bought.status_code == 303
    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{supper}": "2"}))
    assert options(await another_browser_page(app, slug), f"quantity_{lunch}") == ["0", "1"]  # the event's last place

    changed = await change(client, page, reference, token)
    assert options(changed.text, f"quantity_{supper}") == ["0", "1", "2"] and selected(changed.text, f"quantity_{supper}") == "2"
    assert options(changed.text, f"quantity_{lunch}") == ["0", "1", "2", "3"]
    assert availability(changed.text, "Chef&#39;s table") == "Sold out" and options(changed.text, f"quantity_{table}") == []
    assert (await send_changed(client, slug, changed.text, **{f"quantity_{supper}": "2"})).status_code == 303
    assert await status_of(reference) == "expired" and await held(slug) == 3

    page, reference, token = await payment_page(client, await buy(client, slug, **{f"quantity_{supper}": "2"}))
    changed = await change(client, page, reference, token)
    swapped = await send_changed(client, slug, changed.text, **{f"quantity_{supper}": "0", f"quantity_{lunch}": "3"})
    assert swapped.status_code == 303 and await status_of(reference) == "expired" and await held(slug) == 4


async def another_browser_page(app: Litestar, slug: str) -> str:
    """The event page as another guest sees it."""
    async with another_browser(app, client_address="127.0.0.2") as other:
        return (await other.get(f"/events/{slug}")).text
