"""Discounts in the books: ticket income is booked after the codes' discounts, a refunded discounted ticket gives back
what was paid for it, and the statement shows the discounts given beside ticket income, to the penny."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import get_order, pay_with_test_page, place_order


async def test_the_statement_counts_discounts_as_reduced_ticket_income(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(
        now,
        reserved_free_places=0,
        booking_fee_pence=100,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}],
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}],
    )
    for body in ({"code": "HALF", "discount_percent": 50, "max_uses": 5}, {"code": "TENNER", "discount_pence": 1000, "max_uses": 5}):
        assert (await client.post(f"/api/events/{slug}/codes", json=body, headers=organiser)).status_code == 201

    full = await place_order(client, slug, quantity=1, buyer={"name": "Full Price", "email": "full@example.org"})
    half = await place_order(client, slug, quantity=2, buyer={"name": "Half Price", "email": "half@example.org"}, code="HALF", donation_pence=500)
    tenner = await place_order(client, slug, quantity=3, buyer={"name": "Ten Off", "email": "ten@example.org"}, code="TENNER")
    for response in (full, half, tenner):
        assert response.status_code == 201, response.text
        await pay_with_test_page(client, response.json())
    assert [r.json()["total_pence"] for r in (full, half, tenner)] == [3100, 2 * 1500 + 200 + 500, 9000 - 1000 + 300]

    # One of the £10-off order's tickets is refunded: what was paid for it (£26.67 or £26.66, and its fee) comes back.
    order = await get_order(client, tenner.json())
    refund = await client.post(
        f"/api/orders/{tenner.json()['reference']}/refunds", json={"tickets": [order["tickets"][0]["id"]], "reason": "Ill"}, headers=organiser
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["amount_pence"] in (2666 + 100, 2667 + 100)

    statement = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    totals = statement["totals"]
    # Ticket income is after the discounts: £30 + £30 (half of £60) + £80 (£90 less £10). Booking fees are not discounted.
    assert totals["income_pence"] == {"tickets": 3000 + 3000 + 8000, "booking_fees": 600, "contributions": 0, "donations": 500}
    assert totals["refunds_pence"] == refund.json()["amount_pence"]
    taken = sum(r.json()["total_pence"] for r in (full, half, tenner))
    assert sum(totals["income_pence"].values()) == taken
    assert totals["net_pence"] == taken - totals["refunds_pence"] - totals["fees_pence"] - totals["costs_pence"]
    assert sum(line["net_pence"] for line in statement["partners"]) == totals["net_pence"]

    await sign_in_organiser(client)
    page = await client.get(f"/manage/events/{slug}/statement")
    assert page.status_code == 200
    # Discounts given: £30 off the half-price pair and £10 off the three suppers.
    assert re.search(r"Discounts given with codes \(already taken off ticket income\)</th><td>£40</td>", page.text)
