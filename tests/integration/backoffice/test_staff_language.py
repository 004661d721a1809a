"""Staff pages are in English whatever the guest language: the back office, the platform and statements use UK legal
and finance terms whose translations nobody has reviewed, and one language on a page reads better than a mix. Guest
pages keep the guest's language, and the door team's own pages keep theirs."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
from litestar import Litestar

from events import i18n
from events.accounts import service as accounts
from events.organisations import service as organisations
from events.series import service as series_service
from events.series.schemas import SeriesIn
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.support.orders import pay_with_test_page, place_order

# Arabic and Farsi letters: none may show on an English page.
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


async def test_the_back_office_is_all_english_with_the_arabic_cookie(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, booking_fee_pence=100)
    await series_service.create_series(
        SeriesIn(title="Supper series", slug="suppers"), organisation_id=(await organisations.resolve(None)).id, now=now
    )
    created = (await place_order(client, slug, quantity=1)).json()
    await pay_with_test_page(client, created)
    default = await organisations.resolve(None)
    await accounts.create_user("admin@test.example", role="owner", password="a long password", organisation_id=default.id, is_platform_admin=True)
    await sign_in(client, "admin@test.example", "a long password")
    client.cookies.set(i18n.LOCALE_COOKIE, "ar")
    partner = "welcome-kitchen"

    for path in (
        "/manage",
        f"/manage/events/{slug}",
        f"/manage/events/{slug}/edit",
        f"/manage/events/{slug}/tickets",
        f"/manage/events/{slug}/partners",
        f"/manage/events/{slug}/claims",
        f"/manage/events/{slug}/door-staff",
        f"/manage/events/{slug}/orders",
        f"/manage/orders/{created['reference']}",
        f"/manage/events/{slug}/statement",
        f"/manage/partners/{partner}/statement",
        f"/manage/events/{slug}/audit",
        f"/manage/events/{slug}/copy",
        "/manage/series",
        "/manage/series/suppers",
        "/manage/series/suppers/statement",
        "/manage/audit",
        "/manage/gift-aid",
        "/manage/guests",
        "/manage/people",
        "/manage/organisation",
        "/manage/organisation/stripe",
        "/platform",
        "/manage/events/no-such-event",  # an error page under the back office, too
    ):
        page = await client.get(path)
        assert page.status_code in (200, 404), (path, page.status_code)
        assert '<html lang="en" dir="ltr">' in page.text, path
        arabic = ARABIC_SCRIPT.findall(page.text)
        assert not arabic, f"{path} shows Arabic: {''.join(arabic)[:40]}"
        assert 'class="languages"' not in page.text, f"{path} offers a language menu that would change nothing"

    # The guest's pages, in the same browser, keep the guest's language.
    assert '<html lang="ar" dir="rtl">' in (await client.get(f"/events/{slug}")).text
    assert '<html lang="ar" dir="rtl">' in (await client.get(f"/orders/{created['reference']}?token={created['access_token']}")).text


async def test_the_door_page_keeps_the_door_teams_language(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await accounts.create_user("boss@test.example", role="organiser", password="a long password")
    await sign_in(client, "boss@test.example", "a long password")
    client.cookies.set(i18n.LOCALE_COOKIE, "ar")
    door = await client.get(f"/door/{slug}")
    assert door.status_code == 200 and '<html lang="ar" dir="rtl">' in door.text


def test_every_back_office_and_platform_page_is_a_staff_page(app: Litestar) -> None:
    """A new page under /manage or /platform is English like the rest without anyone remembering to say so."""
    for route in app.routes:
        if route.path.startswith(("/manage", "/platform")):
            for handler in route.route_handlers:
                assert handler.opt.get(i18n.STAFF_PAGE), f"{route.path} is not marked as a staff page"
