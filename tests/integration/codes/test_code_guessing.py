"""Wrong access and discount codes are limited as wrong claim codes are: per browser and per address, counting only
wrong ones; a buy request with a wrong code spends the buyer's budget like the event page's "Have a code?" form."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from litestar import Litestar

from events.codes import service as codes
from events.orders.tables import Order
from tests.factories import make_event
from tests.support.orders import another_browser, ticket_type_id


async def _make_code(client: httpx.AsyncClient, organiser: dict[str, str], slug: str) -> None:
    made = await client.post(f"/api/events/{slug}/codes", json={"code": "RIGHT-CODE", "discount_percent": 10, "max_uses": 100}, headers=organiser)
    assert made.status_code == 201, made.text


async def test_a_browser_that_guesses_codes_on_the_event_page_is_stopped(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    await _make_code(client, organiser, slug)
    assert (await client.get(f"/events/{slug}", params={"code": "RIGHT-CODE"})).status_code == 200  # a right code costs nothing
    for attempt in range(codes.WRONG_CODES_PER_BROWSER):
        wrong = await client.get(f"/events/{slug}", params={"code": f"GUESS-{attempt:04d}"})
        assert wrong.status_code == 200 and "does not work" in wrong.text
    stopped = await client.get(f"/events/{slug}", params={"code": "RIGHT-CODE"})
    assert stopped.status_code == 429 and int(stopped.headers["retry-after"]) > 0
    assert re.search(r'id="code-error">Too many tries', stopped.text)
    assert "Code RIGHT-CODE applied" not in stopped.text

    # The form's wrong codes come out of the same budget: nothing is placed.
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', stopped.text)
    assert csrf
    supper = await ticket_type_id(client, slug)
    form = {"_csrf_token": csrf.group(1), "code": "RIGHT-CODE", f"quantity_{supper}": "1", "name": "Sam Okafor", "email": "sam@example.org"}
    assert (await client.post(f"/events/{slug}/buy", data=form)).status_code == 429
    assert not await Order.exists()

    # Someone else on the same connection (another browser) is not stopped by this one's guesses.
    async with another_browser(app) as neighbour:
        opened = await neighbour.get(f"/events/{slug}", params={"code": "RIGHT-CODE"})
        assert opened.status_code == 200 and "Code RIGHT-CODE applied" in opened.text


async def test_wrong_codes_in_orders_count_against_the_address(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codes, "WRONG_CODES_PER_ADDRESS", 3)
    slug = await make_event(now)
    await _make_code(client, organiser, slug)
    supper = await ticket_type_id(client, slug)

    def order(code: str, index: int) -> dict[str, object]:
        return {"buyer": {"name": "Sam", "email": f"sam{index}@example.org"}, "items": [{"ticket_type": supper, "quantity": 1}], "code": code}

    async with another_browser(app, "10.0.0.7") as guesser:
        assert (await guesser.post(f"/api/events/{slug}/orders", json=order("RIGHT-CODE", 0))).status_code == 201
        for attempt in range(3):
            wrong = await guesser.post(f"/api/events/{slug}/orders", json=order(f"WRONG-{attempt}", attempt + 1))
            assert wrong.status_code == 422 and wrong.json()["error"] == "code_not_found"
            assert wrong.json()["fields"] == {"code": wrong.json()["detail"]}
        stopped = await guesser.post(f"/api/events/{slug}/orders", json=order("RIGHT-CODE", 9))
        assert stopped.status_code == 429 and stopped.json()["error"] == "rate_limited" and int(stopped.headers["retry-after"]) > 0
        # An order without a code is no guess: the buyer can still buy at the full price.
        plain = order("", 10)
        del plain["code"]
        assert (await guesser.post(f"/api/events/{slug}/orders", json=plain)).status_code == 201
    async with another_browser(app, "10.0.0.8") as other:
        assert (await other.post(f"/api/events/{slug}/orders", json=order("RIGHT-CODE", 11))).status_code == 201
