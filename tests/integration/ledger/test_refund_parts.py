"""A refund gives back what it is for, and the ledger and the Gift Aid claim follow exactly that: a supper club guest
who paid for two seats, a pay-it-forward place and a donation (with Gift Aid) and then refunds one seat has their
gifts still given; an amount refunded in Stripe's dashboard comes off the ticket money before anyone's gift."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from events.ledger.tables import LedgerEntry
from events.orders.tables import Order
from events.organisations import service as organisations
from events.payments import service as payments
from events.payments.gateway import ProviderRefund
from events.payments.tables import Refund
from tests.factories import make_event
from tests.support.backoffice import sign_in_organiser
from tests.support.orders import get_order, pay_with_test_page, place_order
from tests.support.stripe_account import AccountSays, succeeded

AMAL = {"title": "Ms", "first_name": "Amal", "last_name": "Haddad", "house": "12", "postcode": "e8 1dy", "confirmed": True}
# Two £30 seats with £1 booking fees, a £30 pay-it-forward place and a £10 donation: £102.
ORDER = {"quantity": 2, "pay_it_forward_places": 1, "donation_pence": 1000, "gift_aid": AMAL}


async def supper_club(now: datetime) -> str:
    return await make_event(
        now, booking_fee_pence=100, pay_it_forward_place_pence=3000, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}]
    )


async def booked_parts(reference: str) -> dict[int, dict[str, int]]:
    """Each refund of the order, as the ledger booked it: pence by component."""
    refunds = await Refund.select(Refund.id).where(Refund.order_id.reference == reference).order_by(Refund.id)
    parts: dict[int, dict[str, int]] = defaultdict(dict)
    for number, refund in enumerate(refunds):
        for entry in await LedgerEntry.select(LedgerEntry.component, LedgerEntry.amount_pence).where(
            LedgerEntry.source.like(f"refund:{refund['id']}:%")
        ):
            parts[number][entry["component"]] = entry["amount_pence"]
    return dict(parts)


async def gift_aid_claimed(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> list[str]:
    today = now.astimezone(ZoneInfo("Europe/London")).date()
    response = await client.get(
        "/api/gift-aid/schedule.csv",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()},
        headers=organiser,
    )
    assert response.status_code == 200, response.text
    return [row[-1] for row in list(csv.reader(io.StringIO(response.text)))[1:]]


async def test_a_refunded_seat_gives_back_its_price_and_fee_and_the_guests_gifts_stay_given(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    created = (await place_order(client, slug, **ORDER)).json()
    assert created["total_pence"] == 10_200
    await pay_with_test_page(client, created)
    assert await gift_aid_claimed(client, organiser, now) == ["40.00"]  # the pay-it-forward place and the donation

    seat = (await get_order(client, created))["tickets"][0]["id"]
    one = await client.post(f"/api/orders/{created['reference']}/refunds", json={"tickets": [seat], "reason": "Ill"}, headers=organiser)
    assert one.status_code == 201 and one.json()["amount_pence"] == 3100
    assert await booked_parts(created["reference"]) == {0: {"tickets": -3000, "booking_fees": -100}}
    assert await gift_aid_claimed(client, organiser, now) == ["40.00"]
    # The treasurer sees what the refund gave back on the order's page.
    await sign_in_organiser(client)
    page = await client.get(f"/manage/orders/{created['reference']}")
    assert re.findall(r'<span class="refund-parts">([^<]*)</span>', page.text) == ["Tickets: £30 · Booking fees: £1"]

    rest = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "Cannot come after all"}, headers=organiser)
    assert rest.status_code == 201 and rest.json()["amount_pence"] == 7100
    assert (await booked_parts(created["reference"]))[1] == {"tickets": -3000, "booking_fees": -100, "contributions": -3000, "donations": -1000}
    assert await gift_aid_claimed(client, organiser, now) == []  # refunded: nothing to claim
    # Every part of the order is back to nothing in the ledger: not a penny lost or invented.
    totals: dict[str, int] = defaultdict(int)
    for entry in await LedgerEntry.select().where(LedgerEntry.source.like("payment:%") | LedgerEntry.source.like("refund:%")):
        totals[entry["component"]] += entry["amount_pence"]
    assert dict(totals) == {"tickets": 0, "booking_fees": 0, "contributions": 0, "donations": 0}


async def test_an_amount_refunded_in_stripes_dashboard_comes_off_the_ticket_before_the_gifts(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    created = (await place_order(client, slug, **ORDER)).json()
    await Order.update({Order.payment_intent_id: "pi_supper"}).where(Order.reference == created["reference"])
    paid = succeeded("pi_supper", created["total_pence"], created["reference"])
    await payments.refresh_order(created["reference"], gateway=AccountSays(paid), now=now)
    organisation = (await organisations.find("main")).id

    # £65 refunded in the dashboard: the £62 of seats and fees, and £3 of the gifts (£30 : £10).
    refunded = AccountSays(paid, [ProviderRefund("re_dashboard", 6500, "succeeded")])
    await payments.sync_intent("pi_supper", gateway=refunded, now=now, organisation=organisation)
    assert await booked_parts(created["reference"]) == {0: {"tickets": -6000, "booking_fees": -200, "contributions": -225, "donations": -75}}
    assert await gift_aid_claimed(client, organiser, now) == ["37.00"]
    # £2.25 of the £30 pay-it-forward place went back: it funds no whole place now.
    assert (await client.get(f"/api/events/{slug}")).json()["free_places"]["funded"] == 0


async def test_a_refunded_seat_leaves_the_place_its_buyer_paid_forward_funded(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await supper_club(now)
    created = (await place_order(client, slug, **ORDER)).json()
    await pay_with_test_page(client, created)
    assert (await client.get(f"/api/events/{slug}")).json()["free_places"]["funded"] == 1
    seat = (await get_order(client, created))["tickets"][0]["id"]
    assert (
        await client.post(f"/api/orders/{created['reference']}/refunds", json={"tickets": [seat], "reason": "Ill"}, headers=organiser)
    ).status_code == 201
    assert (await client.get(f"/api/events/{slug}")).json()["free_places"]["funded"] == 1
