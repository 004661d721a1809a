"""A guest's language choice on their ticket or order page: it shows at once (the pages are not kept by caches in
the language left behind) and becomes the order's language, which its later emails, texts and PDFs follow."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from events.orders.tables import Order, OrderHistory
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order


def csrf(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the page carries a CSRF token"
    return match.group(1)


async def locale_of(reference: str) -> str:
    row = await Order.select(Order.locale).where(Order.reference == reference).first()
    assert row is not None
    return row["locale"]


async def paid(client: httpx.AsyncClient, now: datetime, quantity: int = 1) -> dict[str, object]:
    created = (await place_order(client, await make_event(now), quantity=quantity)).json()
    await pay_with_test_page(client, created)
    return created


async def test_choosing_arabic_on_a_ticket_page_shows_it_at_once_and_the_order_keeps_it(client: httpx.AsyncClient, now: datetime) -> None:
    created = await paid(client, now)
    assert await locale_of(str(created["reference"])) == "en"
    [ticket] = (await get_order(client, created))["tickets"]
    page = await client.get(ticket["url"])
    assert 'lang="en" dir="ltr"' in page.text
    # Never a shared or stale copy in the language the guest is leaving.
    assert page.headers["cache-control"] == "private, no-cache"
    assert {"cookie", "accept-language"} <= {part.strip().lower() for part in page.headers["vary"].split(",")}
    assert f'action="{ticket["url"]}/language"' in page.text and 'name="lang" value="ar"' in page.text

    chosen = await client.post(f"{ticket['url']}/language", data={"lang": "ar", "_csrf_token": csrf(page.text)})
    assert chosen.status_code == 303 and chosen.headers["location"] == ticket["url"]
    again = await client.get(chosen.headers["location"])
    assert again.status_code == 200 and 'lang="ar" dir="rtl"' in again.text
    assert await locale_of(str(created["reference"])) == "ar"
    history = await OrderHistory.select(OrderHistory.kind, OrderHistory.detail).where(OrderHistory.order_id.reference == created["reference"])
    assert {"kind": "language_chosen", "detail": "ar"} in history

    # Choosing it again changes nothing more.
    await client.post(f"{ticket['url']}/language", data={"lang": "ar", "_csrf_token": csrf(again.text)})
    assert await OrderHistory.count().where(OrderHistory.order_id.reference == created["reference"], OrderHistory.kind == "language_chosen") == 1


async def test_a_friend_choosing_a_language_on_their_ticket_of_a_group_order_leaves_the_buyers_language(
    client: httpx.AsyncClient, now: datetime
) -> None:
    created = await paid(client, now, quantity=2)
    friends = (await get_order(client, created))["tickets"][1]
    page = await client.get(friends["url"])
    chosen = await client.post(f"{friends['url']}/language", data={"lang": "fa", "_csrf_token": csrf(page.text)})
    assert chosen.status_code == 303
    assert 'lang="fa" dir="rtl"' in (await client.get(friends["url"])).text  # the friend reads their page in Farsi
    assert await locale_of(str(created["reference"])) == "en"  # the buyer's emails and PDFs stay in English


async def test_ticket_pdfs_and_calendar_files_are_asked_for_again_so_a_new_language_shows_at_once(client: httpx.AsyncClient, now: datetime) -> None:
    created = await paid(client, now)
    [ticket] = (await get_order(client, created))["tickets"]
    for path in (f"{ticket['url']}/ticket.pdf", f"{ticket['url']}/calendar.ics"):
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["cache-control"] == "private, no-cache", path


async def test_the_order_page_switch_keeps_the_order_link_working(client: httpx.AsyncClient, now: datetime) -> None:
    created = await paid(client, now)
    reference, token = str(created["reference"]), str(created["access_token"])
    page = await client.get(f"/orders/{reference}?token={token}")
    assert page.headers["cache-control"] == "private, no-cache"
    chosen = await client.post(f"/orders/{reference}/language", data={"lang": "fr", "token": token, "_csrf_token": csrf(page.text)})
    assert chosen.status_code == 303 and chosen.headers["location"] == f"/orders/{reference}?token={token}"
    assert 'lang="fr" dir="ltr"' in (await client.get(chosen.headers["location"])).text
    assert await locale_of(reference) == "fr"


async def test_a_language_change_needs_the_pages_own_form(client: httpx.AsyncClient, now: datetime) -> None:
    created = await paid(client, now)
    reference, token = str(created["reference"]), str(created["access_token"])
    [ticket] = (await get_order(client, created))["tickets"]
    page = await client.get(ticket["url"])
    # Without the CSRF token (another site's form), with a wrong order token, or for a language we lack: refused.
    assert (await client.post(f"{ticket['url']}/language", data={"lang": "ar"})).status_code == 403
    assert (
        await client.post(f"/orders/{reference}/language", data={"lang": "ar", "token": "ord_wrong", "_csrf_token": csrf(page.text)})
    ).status_code == 404
    assert (await client.post(f"{ticket['url']}/language", data={"lang": "de", "_csrf_token": csrf(page.text)})).status_code == 422
    assert (await client.post("/tickets/nosuchticket/language", data={"lang": "ar", "_csrf_token": csrf(page.text)})).status_code == 404
    # Reading a page in another language (?lang=) shows it and writes nothing.
    assert 'lang="fa"' in (await client.get(f"{ticket['url']}?lang=fa")).text
    assert 'lang="fa"' in (await client.get(f"/orders/{reference}?token={token}&lang=fa")).text
    assert await locale_of(reference) == "en"


async def test_a_label_and_its_value_are_punctuated_the_guests_way(client: httpx.AsyncClient, now: datetime) -> None:
    """The colon after a label is in the translated sentence, so that French writes it with a narrow no-break space
    before it ("Code du billet : ..."), and English without."""
    created = await paid(client, now)
    [ticket] = (await get_order(client, created))["tickets"]
    assert 'Ticket code: <span class="code">' in (await client.get(f"{ticket['url']}?lang=en")).text
    french = (await client.get(f"{ticket['url']}?lang=fr")).text
    assert 'Code du billet\u202f: <span class="code">' in french and "Code du billet:" not in french
    slug = (await Order.select(Order.event.slug).where(Order.reference == created["reference"]).first() or {})["event.slug"]
    assert 'Total\u202f: <strong id="live-total">' in (await client.get(f"/events/{slug}?lang=fr")).text
