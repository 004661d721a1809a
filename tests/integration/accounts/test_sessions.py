"""Sessions are written only when something is kept in them: browsing, buying and claiming anonymously write
no session row and set no session cookie; signing in does, and signing out removes it."""

import re
from datetime import datetime

import httpx

from events.accounts import service
from events.accounts.tables import SessionRecord
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.orders.test_pay_it_forward import claim_link
from tests.support.orders import ticket_type_id


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sets_a_session_cookie(response: httpx.Response) -> bool:
    return any(header.lower().startswith("session=") for header in response.headers.get_list("set-cookie"))


async def test_browsing_buying_and_claiming_anonymously_write_no_session(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    responses = [
        await client.get(path)
        for path in ("/", f"/events/{slug}", "/login", f"/claim/{link['code']}", f"/claim/{link['code']}/places", "/language/fr?next=/")
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 302]

    # The buy form works with Litestar's own CSRF cookie and no session.
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    bought = await client.post(
        f"/events/{slug}/buy",
        data={
            f"quantity_{type_id}": "1",
            "name": "Amal Haddad",
            "email": "amal@example.org",
            "_csrf_token": csrf(page.text),
        },
    )
    assert bought.status_code == 303
    checkout = await client.get(bought.headers["location"])
    reference = re.search(r"/orders/([A-Z0-9-]+)/test-payment", checkout.text).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="token" value="([^"]+)"', checkout.text).group(1)  # type: ignore[union-attr]
    paid = await client.post(f"/orders/{reference}/test-payment", data={"token": token, "_csrf_token": csrf(checkout.text)})
    assert paid.status_code == 303
    order_page = await client.get(paid.headers["location"])
    assert order_page.status_code == 200 and 'class="ticket-card' in order_page.text
    ticket_page = await client.get(re.search(r'href="(/tickets/[a-z0-9]+)"', order_page.text).group(1))  # type: ignore[union-attr]
    assert ticket_page.status_code == 200

    # So does the claim form.
    claim_page = await client.get(f"/claim/{link['code']}")
    claimed = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "_csrf_token": csrf(claim_page.text)}, follow_redirects=True)
    assert claimed.status_code == 200 and "<svg" in claimed.text

    responses += [page, bought, checkout, paid, order_page, ticket_page, claim_page, claimed]
    assert not [r.url for r in responses if sets_a_session_cookie(r)]
    assert await SessionRecord.count() == 0


async def test_signing_in_writes_a_session_and_signing_out_removes_it(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password", display_name="Sam")
    await client.get("/")
    assert await SessionRecord.count() == 0
    signed_in = await sign_in(client, "sam@test.example", "a long password")
    assert signed_in.status_code == 303 and sets_a_session_cookie(signed_in)
    assert await SessionRecord.count() == 1
    home = await client.get("/")
    assert "Sign out" in home.text
    out = await client.post("/logout", data={"_csrf_token": csrf(home.text)})
    assert out.status_code == 303
    assert await SessionRecord.count() == 0
    assert "Sign out" not in (await client.get("/")).text
    assert await SessionRecord.count() == 0


async def test_a_session_that_has_gone_is_cleared_from_the_browser(client: httpx.AsyncClient) -> None:
    await service.create_user("sam@test.example", role="organiser", password="a long password")
    await sign_in(client, "sam@test.example", "a long password")
    await SessionRecord.delete(force=True)  # expired and purged, say
    page = await client.get("/")
    assert page.status_code == 200 and "Sign out" not in page.text
    assert any(h.startswith("session=null") for h in page.headers.get_list("set-cookie"))
    assert await SessionRecord.count() == 0
