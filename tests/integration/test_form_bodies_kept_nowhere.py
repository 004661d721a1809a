"""A posted form is kept nowhere once answered: Litestar's cache of parsed form bodies (an lru_cache of the last 1,024)
is not used (events.forms.keep_no_form_bodies), so a sign-in's password or a guest's name and email does not stay in a
worker's memory until a thousand other forms push it out."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import litestar._parsers
from litestar import Litestar

from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import another_browser, ticket_type_id

TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def test_a_sign_in_and_a_guests_order_leave_no_form_body_behind(client: httpx.AsyncClient, app: Litestar, now: datetime) -> None:
    cache = litestar._parsers.parse_url_encoded_form_data
    cache.cache_clear()
    slug = await make_event(now)
    async with another_browser(app, "127.0.0.9") as guest:
        page = await guest.get(f"/events/{slug}")
        type_id = await ticket_type_id(guest, slug)
        form = {f"quantity_{type_id}": "1", "name": "Yasmin Qasemi", "email": "yasmin.qasemi@example.org"}
        bought = await guest.post(f"/events/{slug}/buy", data={**form, "_csrf_token": TOKEN.search(page.text).group(1)})  # type: ignore[union-attr]
        assert bought.status_code == 303, bought.text[:500]
    await sign_in_organiser(client)  # the form's CSRF token and the password read, as every form's are
    assert cache.cache_info() == cache.cache_info()._replace(hits=0, misses=0, currsize=0)


async def test_a_form_posted_as_raw_utf8_is_read_as_utf8_and_other_bytes_are_refused(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Browsers percent-encode what they post; a script or curl --data may send UTF-8 as it is. Litestar's own parser
    read that as Latin-1 and the guest's name was stored as "JosÃ©"."""
    from events.orders.tables import Order

    slug = await make_event(now)
    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 3}, headers=organiser)).json()
    token = TOKEN.search((await client.get(f"/claim/{link['code']}")).text).group(1)  # type: ignore[union-attr]
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    refused = await client.post(f"/claim/{link['code']}", content=b"name=Jos\xe9&_csrf_token=" + token.encode(), headers=form)
    assert refused.status_code == 400 and "not valid UTF-8" in refused.text
    assert await Order.count().where(Order.channel == "claim") == 0
    claimed = await client.post(f"/claim/{link['code']}", content="name=José Café&_csrf_token=".encode() + token.encode(), headers=form)
    assert claimed.status_code == 303, claimed.text[:300]
    assert await Order.select(Order.buyer_name).where(Order.channel == "claim").output(as_list=True) == ["José Café"]
