"""Access codes: a hidden ticket type is sold only with a code that unlocks it, on the API and on the event page."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import httpx

from tests.factories import make_event
from tests.support.orders import get_order

VOLUNTEERS = [
    {"name": "Supper", "price_pence": 3000, "max_per_order": 6},
    {"name": "Volunteer", "price_pence": 0, "max_per_order": 1, "hidden": True},
]


async def _types(client: httpx.AsyncClient, organiser: dict[str, str], slug: str) -> dict[str, int]:
    """Every ticket type of the event, as its organiser sees them (hidden ones too)."""
    listed = await client.patch(f"/api/events/{slug}", json={}, headers=organiser)
    assert listed.status_code == 200, listed.text
    return {t["name"]: t["id"] for t in listed.json()["ticket_types"]}


def _order(type_id: int, **extra: Any) -> dict[str, Any]:
    return {"buyer": {"name": "Sam Okafor", "email": "sam@example.org"}, "items": [{"ticket_type": type_id, "quantity": 1}], **extra}


async def test_a_hidden_type_is_sold_only_with_a_code_that_unlocks_it(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, ticket_types=VOLUNTEERS)
    types = await _types(client, organiser, slug)
    public = (await client.get(f"/api/events/{slug}")).json()
    assert [t["name"] for t in public["ticket_types"]] == ["Supper"]

    made = await client.post(
        f"/api/events/{slug}/codes", json={"code": "volunteers-26", "unlocks": [types["Volunteer"]], "max_uses": 5}, headers=organiser
    )
    assert made.status_code == 201, made.text
    assert made.json()["code"] == "VOLUNTEERS-26" and made.json()["uses"] == 0

    # Without its code, the hidden type is exactly as unknown as a type the event does not have.
    hidden = await client.post(f"/api/events/{slug}/orders", json=_order(types["Volunteer"]))
    unknown = await client.post(f"/api/events/{slug}/orders", json=_order(999_999))
    assert hidden.status_code == unknown.status_code == 422
    assert hidden.json() == unknown.json()
    # A code that unlocks nothing of it (a discount code) does not open it either.
    discount = await client.post(f"/api/events/{slug}/codes", json={"code": "HALF-PRICE", "discount_percent": 50, "max_uses": 5}, headers=organiser)
    assert discount.status_code == 201, discount.text
    with_other = await client.post(f"/api/events/{slug}/orders", json=_order(types["Volunteer"], code="HALF-PRICE"))
    assert with_other.status_code == 422 and with_other.json()["fields"] == hidden.json()["fields"]

    bought = await client.post(f"/api/events/{slug}/orders", json=_order(types["Volunteer"], code=" volunteers-26 "))
    assert bought.status_code == 201, bought.text
    order = await get_order(client, bought.json())
    assert order["status"] == "paid" and [ticket["type"] for ticket in order["tickets"]] == ["Volunteer"]
    [listed] = [code for code in (await client.get(f"/api/events/{slug}/codes", headers=organiser)).json() if code["code"] == "VOLUNTEERS-26"]
    assert listed["uses"] == 1 and listed["unlocks"] == [types["Volunteer"]]


async def test_the_event_page_shows_a_hidden_type_only_to_its_code(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, ticket_types=VOLUNTEERS)
    types = await _types(client, organiser, slug)
    await client.post(f"/api/events/{slug}/codes", json={"code": "KITCHEN-CREW", "unlocks": [types["Volunteer"]], "max_uses": 2}, headers=organiser)

    page = await client.get(f"/events/{slug}")
    assert page.status_code == 200 and "Supper" in page.text and "Volunteer" not in page.text
    assert 'id="code"' in page.text and "Have a code?" in page.text

    opened = await client.get(f"/events/{slug}", params={"code": "kitchen-crew"})
    assert opened.status_code == 200 and "Volunteer" in opened.text
    assert f'name="quantity_{types["Volunteer"]}"' in opened.text
    assert 'name="code" value="KITCHEN-CREW"' in opened.text  # the buy form carries the code it was opened with
    assert opened.headers["cache-control"] == "private, no-store"

    wrong = await client.get(f"/events/{slug}", params={"code": "KITCHEN-CROW"})
    assert wrong.status_code == 200 and "Volunteer" not in wrong.text
    assert re.search(r'<p class="field-error" id="code-error">[^<]*does not work', wrong.text)
    assert 'aria-invalid="true" autofocus' in wrong.text

    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', opened.text)
    assert csrf
    form = {
        "_csrf_token": csrf.group(1),
        "code": "KITCHEN-CREW",
        f"quantity_{types['Volunteer']}": "1",
        "name": "Sam Okafor",
        "email": "sam@example.org",
    }
    bought = await client.post(f"/events/{slug}/buy", data=form)
    assert bought.status_code == 303, bought.text[:2000]
    # Without the code the same form finds no such type to buy.
    refused = await client.post(f"/events/{slug}/buy", data={**form, "code": ""})
    assert refused.status_code == 422 and "Volunteer" not in refused.text
    # With a wrong code, the message is beside the code's field and nothing is placed.
    wrong_buy = await client.post(f"/events/{slug}/buy", data={**form, "code": "NOPE-NOPE"})
    assert wrong_buy.status_code == 422
    assert re.search(r'<p class="field-error" id="code-error">[^<]*does not work', wrong_buy.text)
    assert 'value="Sam Okafor"' in wrong_buy.text


async def test_the_same_code_sent_twice_at_once_makes_one(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    """A double click on "Make the code" with a chosen code: one code, and the other requests are told the event has it
    (409), never a server error (PostgreSQL's unique index decides between transactions that both found it free)."""
    slug = await make_event(now, ticket_types=VOLUNTEERS)
    body = {"code": "DOUBLE-CLICK", "discount_percent": 10, "max_uses": 5}
    answers = await asyncio.gather(*(client.post(f"/api/events/{slug}/codes", json=body, headers=organiser) for _ in range(12)))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 11, [answer.text[:200] for answer in answers]
    assert all(answer.json()["error"] == "code_taken" for answer in answers if answer.status_code == 409)
    listed = (await client.get(f"/api/events/{slug}/codes", headers=organiser)).json()
    assert [code["code"] for code in listed] == ["DOUBLE-CLICK"]
