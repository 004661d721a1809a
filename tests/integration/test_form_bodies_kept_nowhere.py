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
