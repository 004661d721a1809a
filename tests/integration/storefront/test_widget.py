"""The embeddable ticket form through HTTP: framing only by the organisation's websites, a whole purchase with no
cookie at all, the language from the URL, and the organiser's settings and snippet."""

import html
import re
from datetime import datetime

import httpx
import pytest

from events.organisations import service as organisations
from events.organisations.tables import Organisation
from tests.factories import make_event
from tests.integration.organisations.test_settings_page import entries, signed_in
from tests.integration.test_security_headers import directives
from tests.support.backoffice import post_form
from tests.support.orders import ticket_type_id

SITES = "https://charity.example.org\nhttp://localhost:8123"


async def allow_sites(origins: str = SITES) -> None:
    row = await Organisation.select(Organisation.id).first()
    await organisations.set_widget_origins(row["id"], origins)


async def without_cookies(client: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> httpx.Response:
    """A request from a frame on another site: the browser sends none of our cookies, and any it is given are lost."""
    client.cookies.clear()
    response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert "set-cookie" not in response.headers, f"{url} sets a cookie"
    client.cookies.clear()
    return response


def link(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match.group(1).replace("&amp;", "&")


async def test_the_widget_may_be_framed_only_by_the_organisations_websites(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    closed = await client.get(f"/embed/events/{slug}")
    assert closed.status_code == 200  # it works in a tab of its own, but nobody may frame it yet
    assert directives(closed)["frame-ancestors"] == "'none'" and closed.headers["x-frame-options"] == "DENY"

    await allow_sites()
    framed = await client.get(f"/embed/events/{slug}")
    assert directives(framed)["frame-ancestors"] == "https://charity.example.org http://localhost:8123"
    assert "x-frame-options" not in framed.headers
    assert 'data-parent-origins="https://charity.example.org http://localhost:8123"' in framed.text
    # The bare layout: the buy form without the site's header and footer.
    assert 'class="buy-form"' in framed.text and "site-header" not in framed.text and "site-footer" not in framed.text
    # Every other page still refuses framing, the event's own page too.
    for path in (f"/events/{slug}", "/", "/embed/events/no-such-event", "/static/js/embed.js"):
        response = await client.get(path)
        assert directives(response)["frame-ancestors"] == "'none'", path
        assert response.headers["x-frame-options"] == "DENY", path


async def test_a_purchase_through_the_widget_needs_no_cookie(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await allow_sites()
    type_id = await ticket_type_id(client, slug)
    form_page = await without_cookies(client, "GET", f"/embed/events/{slug}?lang=fr")
    assert '<html lang="fr"' in form_page.text
    action = link(form_page.text, r'<form method="post" action="([^"]+)" class="buy-form"')
    assert action == f"/embed/events/{slug}/buy?lang=fr"
    # No CSRF token: a frame on another site cannot have our CSRF cookie.
    to_pay = await without_cookies(client, "POST", action, data={f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal@example.org"})
    assert to_pay.status_code == 303
    pay_url = to_pay.headers["location"]
    assert pay_url.startswith("/embed/orders/") and "lang=fr" in pay_url

    checkout = await without_cookies(client, "GET", pay_url)
    assert checkout.status_code == 200 and '<html lang="fr"' in checkout.text
    assert "x-frame-options" not in checkout.headers and "charity.example.org" in directives(checkout)["frame-ancestors"]
    test_payment = link(checkout.text, r'<form method="post" action="([^"]+/test-payment[^"]*)"')
    assert test_payment.startswith("/embed/orders/") and test_payment.endswith("?lang=fr")
    token = link(checkout.text, r'name="token" value="([^"]+)"')
    to_done = await without_cookies(client, "POST", test_payment, data={"token": token})
    assert to_done.status_code == 303

    done = await without_cookies(client, "GET", to_done.headers["location"])
    assert done.status_code == 200 and '<html lang="fr"' in done.text
    order_url = link(done.text, r'<a class="button" href="(/orders/[^"]+)" target="_blank" rel="noopener">')
    order_page = await client.get(order_url)
    assert order_page.text.count('class="ticket-card') == 2


async def test_the_widgets_order_pages_need_the_orders_token(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    to_pay = await client.post(f"/embed/events/{slug}/buy", data={f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org"})
    reference = to_pay.headers["location"].split("/")[3]
    for method, path, data in (
        ("GET", f"/embed/orders/{reference}/pay?token=wrong", None),
        ("GET", f"/embed/orders/{reference}/done?token=wrong", None),
        ("POST", f"/embed/orders/{reference}/test-payment", {"token": "wrong"}),
    ):
        response = await client.request(method, path, data=data)
        assert response.status_code == 404, path
    assert (await client.get(to_pay.headers["location"])).status_code == 200


async def test_mistakes_come_back_in_the_frame_with_the_choices_kept(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    type_id = await ticket_type_id(client, slug)
    response = await client.post(f"/embed/events/{slug}/buy?lang=en", data={f"quantity_{type_id}": "2", "name": "", "email": "nope"})
    assert response.status_code == 422
    assert "Please give your name." in response.text and "site-header" not in response.text
    assert f'action="/embed/events/{slug}/buy?lang=en"' in response.text
    assert '<option value="2" selected>' in response.text


async def test_the_language_comes_from_the_url_never_the_cookie(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    client.cookies.set("lang", "ar")
    assert '<html lang="en"' in (await client.get(f"/embed/events/{slug}")).text
    assert '<html lang="ar"' in (await client.get(f"/events/{slug}")).text  # the site's own pages keep the guest's choice
    assert '<html lang="fa" dir="rtl"' in (await client.get(f"/embed/events/{slug}?lang=fa")).text


@pytest.mark.parametrize(
    "typed",
    [
        "http://charity.example.org",  # plain http, not on this computer
        "https://charity.example.org/tickets",  # a path
        "https://*.example.org",  # a wildcard
        "charity.example.org",  # no scheme
        "https://charity.example.org; script-src *",  # another directive
        "\n".join(f"https://site{n}.example.org" for n in range(21)),
    ],
)
async def test_the_organisation_lists_only_real_origins(client: httpx.AsyncClient, typed: str) -> None:
    await signed_in(client, "owner")
    await allow_sites("https://before.example.org")
    response = await post_form(client, "/manage/organisation/widget", {"widget_origins": typed}, page="/manage/organisation")
    assert response.status_code == 422
    assert 'id="widget_origins-error"' in response.text
    row = await Organisation.select(Organisation.widget_origins).first()
    assert row["widget_origins"] == "https://before.example.org"


async def test_the_organiser_lists_websites_and_copies_an_events_snippet(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, title='Supper <script>alert("x")</script>')
    await signed_in(client, "owner")
    typed = "https://Charity.example.org/\r\n\r\nhttp://127.0.0.1:8123\r\nhttps://charity.example.org"
    saved = await post_form(client, "/manage/organisation/widget", {"widget_origins": typed}, page="/manage/organisation")
    assert saved.status_code == 303
    row = await Organisation.select(Organisation.widget_origins).first()
    assert row["widget_origins"] == "https://charity.example.org\nhttp://127.0.0.1:8123"
    [logged] = await entries()  # who may frame the payment form is a security setting: its changes are logged
    assert logged["after"] == {"widget_origins": "https://charity.example.org\nhttp://127.0.0.1:8123"}
    settings_page = await client.get("/manage/organisation")
    assert "https://charity.example.org\nhttp://127.0.0.1:8123</textarea>" in settings_page.text

    overview = await client.get(f"/manage/events/{slug}")
    shown = re.search(r'<textarea id="widget-snippet"[^>]*>([^<]+)</textarea>', overview.text)
    assert shown
    snippet = html.unescape(shown.group(1))
    assert snippet.startswith(f'<iframe src="http://127.0.0.1:8000/embed/events/{slug}" title="Tickets: Supper &lt;script&gt;')
    assert 'allow="payment"' in snippet and snippet.endswith('<script src="http://127.0.0.1:8000/static/js/embed.js" async></script>')
    assert "<script>alert" not in overview.text
    assert "https://charity.example.org, http://127.0.0.1:8123" in overview.text


async def test_an_organiser_sees_the_websites_but_cannot_change_them(client: httpx.AsyncClient) -> None:
    await allow_sites()
    await signed_in(client, "organiser")
    page = await client.get("/manage/organisation")
    assert "https://charity.example.org" in page.text and 'action="/manage/organisation/widget"' not in page.text
    refused = await post_form(client, "/manage/organisation/widget", {"widget_origins": ""}, page="/manage/organisation")
    assert refused.status_code == 403
    assert (await Organisation.select(Organisation.widget_origins).first())["widget_origins"] == SITES


async def test_the_questions_step_stays_in_the_frame(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    from tests.integration.questions.test_buy_form_questions import hidden_fields
    from tests.support.questions import add_course

    slug = await make_event(now)
    await allow_sites()
    type_id = await ticket_type_id(client, slug)
    course = await add_course(client, slug, organiser)
    form = {f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org"}
    step = await without_cookies(client, "POST", f"/embed/events/{slug}/buy?lang=fr", data=form)
    assert step.status_code == 200 and '<html lang="fr"' in step.text and "site-header" not in step.text
    assert "charity.example.org" in directives(step)["frame-ancestors"]
    action = link(step.text, r'<form method="post" action="([^"]+)" class="form answers-form"')
    assert action == f"/embed/events/{slug}/buy?lang=fr"
    assert f'href="/embed/events/{slug}?lang=fr"' in step.text  # "Change your tickets", in the frame
    placed = await without_cookies(client, "POST", action, data={**hidden_fields(step.text), f"answer_{course['id']}_0": "lamb"})
    assert placed.status_code == 303 and placed.headers["location"].startswith("/embed/orders/")


async def test_a_free_ticket_goes_straight_to_the_done_page(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "RSVP", "price_pence": 0, "max_per_order": 4}])
    type_id = await ticket_type_id(client, slug)
    placed = await without_cookies(
        client, "POST", f"/embed/events/{slug}/buy", data={f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org"}
    )
    assert placed.status_code == 303 and "/embed/orders/" in placed.headers["location"] and "/done?token=" in placed.headers["location"]
    done = await without_cookies(client, "GET", placed.headers["location"])
    assert done.status_code == 200 and "Your order is complete." in done.text


async def test_change_order_in_the_frame_fills_the_form_in_again_and_the_changed_order_replaces_it(client: httpx.AsyncClient, now: datetime) -> None:
    """The frame's way back from the payment step, with no cookie: the order's token in the form authorises it, and the
    form it shows names the order, which keeps its places until the changed one replaces it."""
    from tests.integration.orders.test_change_order import field_value, held, selected

    slug = await make_event(now)
    await allow_sites()
    type_id = await ticket_type_id(client, slug)
    to_pay = await without_cookies(
        client, "POST", f"/embed/events/{slug}/buy?lang=fr", data={f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal@example.org"}
    )
    checkout = await without_cookies(client, "GET", to_pay.headers["location"])
    assert await held(slug) == 2
    change = link(checkout.text, r'<form method="post" action="([^"]+/change[^"]*)" class="change-order">')
    assert change.startswith("/embed/orders/") and change.endswith("?lang=fr")
    token = link(checkout.text, r'name="token" value="([^"]+)"')

    assert (await without_cookies(client, "POST", change, data={"token": "wrong"})).status_code == 404
    assert await held(slug) == 2
    changed = await without_cookies(client, "POST", change, data={"token": token})
    assert changed.status_code == 200 and '<html lang="fr"' in changed.text
    assert "x-frame-options" not in changed.headers and "charity.example.org" in directives(changed)["frame-ancestors"]
    assert await held(slug) == 2  # nothing changed until the form is sent
    assert selected(changed.text, f"quantity_{type_id}") == "2"
    assert (field_value(changed.text, "name"), field_value(changed.text, "email")) == ("Amal Haddad", "amal@example.org")
    action = link(changed.text, r'<form method="post" action="([^"]+)" class="buy-form"')
    changes = field_value(changed.text, "changes")
    assert changes is not None
    form = {f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org", "changes": changes}
    again = await without_cookies(client, "POST", action, data=form)
    assert again.status_code == 303
    assert await held(slug) == 1  # the order replaced by the changed one


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
    ],
)
async def test_another_website_cannot_post_the_frames_forms_for_its_visitors(
    client: httpx.AsyncClient, now: datetime, headers: dict[str, str]
) -> None:
    """No CSRF cookie in a frame; instead the browser's word on where a post comes from. A hostile page's hidden form
    would otherwise place holds (or try codes) from each of its visitors' addresses, around the per-address limits."""
    from tests.integration.orders.test_change_order import held

    slug = await make_event(now)
    await allow_sites()
    type_id = await ticket_type_id(client, slug)
    form = {f"quantity_{type_id}": "1", "name": "Amal Haddad", "email": "amal@example.org"}
    refused = await without_cookies(client, "POST", f"/embed/events/{slug}/buy", data=form, headers=headers)
    assert refused.status_code == 403
    assert await held(slug) == 0
    ours = {"Sec-Fetch-Site": "same-origin", "Origin": str(client.base_url).rstrip("/")}
    placed = await without_cookies(client, "POST", f"/embed/events/{slug}/buy", data=form, headers=ours)
    assert placed.status_code == 303
    assert await held(slug) == 1
