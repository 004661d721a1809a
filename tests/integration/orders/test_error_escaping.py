"""What a guest typed comes back in error messages as text, never as markup the browser would run."""

import re
from datetime import datetime

import httpx

from tests.factories import make_event
from tests.support.orders import ticket_type_id

PAYLOAD = "<svg onload=alert(1)>"


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_a_script_in_the_address_is_shown_escaped_on_the_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/orders/{PAYLOAD}/pay", headers={"Accept": "text/html"})
    assert response.status_code == 422  # no token: the detail names the address
    assert "&lt;svg onload=alert(1)&gt;" in response.text
    assert "<svg onload" not in response.text


async def test_a_ticket_type_named_like_markup_is_escaped_in_the_most_per_order_message(client: httpx.AsyncClient, now: datetime) -> None:
    name = f"VIP{PAYLOAD}"
    slug = await make_event(now, ticket_types=[{"name": name, "price_pence": 3000, "max_per_order": 2}])
    type_id = await ticket_type_id(client, slug)
    page = await client.get(f"/events/{slug}")
    response = await client.post(
        f"/events/{slug}/buy",
        data={f"quantity_{type_id}": "3", "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)},
    )
    assert response.status_code == 422
    assert "You can buy at most 2 VIP&lt;svg onload=alert(1)&gt; tickets in one order." in response.text
    assert "<svg onload" not in response.text
