"""Money a guest could have had back and donated instead, worked by hand to the penny: a donated ticket, a donated
cancellation refund, a refund, and a donated ticket followed by a refund of the rest, in one event; the ledger,
the event's reconciliation, the partners' statements and the Gift Aid schedule all agree, and a donated refund is on
the schedule only with a declaration and only where the refund was offered."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from events import db
from events.errors import Conflict, InvalidInput
from events.ledger.tables import LedgerEntry
from events.orders import service as orders
from events.orders.gift_aid import CONFIRMATION_STATEMENT, Declaration
from events.payments import donations
from events.payments.tables import RefundDonation
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order

UK = ZoneInfo("Europe/London")
MARIA = Declaration(title="", first_name="Maria", last_name="Lopez-Garcia", house="12", postcode="sw1a 1aa", confirmed=True)


async def paid(client: httpx.AsyncClient, slug: str, name: str, quantity: int, **extra: Any) -> dict[str, Any]:
    created = (await place_order(client, slug, quantity=quantity, buyer={"name": name, "email": f"{name.lower()}@example.org"}, **extra)).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    return created


async def ticket_ids(client: httpx.AsyncClient, created: dict[str, Any]) -> list[int]:
    return [ticket["id"] for ticket in (await get_order(client, created))["tickets"]]


async def donate_ticket(reference: str, ticket_id: int, now: datetime, **options: Any) -> int:
    """What "Can't come? Donate the ticket" does (events.releases): the donation, and the ticket released."""
    async with db.write_transaction():
        order = await orders.lock_order(reference)
        donation = await donations.donate_tickets(order, [ticket_id], now=now, **options)
        await Ticket.update({Ticket.status: "released"}).where(Ticket.id == ticket_id)
    return donation


async def ledger(slug: str) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = {}
    for row in await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.component, LedgerEntry.amount_pence).where(LedgerEntry.event.slug == slug):
        key = (row["kind"], row["component"])
        totals[key] = totals.get(key, 0) + row["amount_pence"]
    return totals


async def schedule_rows(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> list[list[str]]:
    today = now.astimezone(UK).date()
    response = await client.get(
        "/api/gift-aid/schedule.csv",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()},
        headers=organiser,
    )
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))[1:]


async def test_donated_tickets_refunds_and_a_donated_cancellation_refund_add_up_to_the_penny(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    # Tickets £30 with a 50p booking fee; the partners share 70/30; the test provider charges no fee.
    slug = await make_event(now, booking_fee_pence=50)
    a = await paid(client, slug, "Maria", 2, donation_pence=500)  # 6000 + 100 + 500 shared
    b = await paid(client, slug, "Omar", 1)  # 3050
    c = await paid(client, slug, "Leila", 2)  # 6100
    d = await paid(client, slug, "Sami", 1, donation_pence=1000, donation_partner="welcome-cinema")  # 3050 + 1000 to the cinema

    # A gives one ticket back within the refund window and donates it, with Gift Aid.
    first = await donate_ticket(a["reference"], (await ticket_ids(client, a))[0], now, declaration=MARIA, refund_offered=True, request_key="a-1")
    assert first > 0
    # The same request again is the same donation (one row, booked once).
    assert (
        await donate_ticket(a["reference"], (await ticket_ids(client, a))[0], now, declaration=MARIA, refund_offered=True, request_key="a-1") == first
    )
    # B is refunded by the organiser.
    refund_b = await client.post(f"/api/orders/{b['reference']}/refunds", json={"reason": "Ill"}, headers=organiser)
    assert refund_b.status_code == 201 and refund_b.json()["amount_pence"] == 3050
    # C donates one ticket after the refund window (no refund offered, so no Gift Aid) and is then refunded the rest:
    # the donated ticket's money is never given back.
    await donate_ticket(c["reference"], (await ticket_ids(client, c))[0], now, declaration=None, refund_offered=False)
    refund_c = await client.post(f"/api/orders/{c['reference']}/refunds", json={"reason": "Cannot come"}, headers=organiser)
    assert refund_c.status_code == 201 and refund_c.json()["amount_pence"] == 3050
    again = await client.post(f"/api/orders/{c['reference']}/refunds", json={"reason": "Again"}, headers=organiser)
    assert again.status_code == 409  # nothing left: refunded, and the rest donated
    # D donates everything a cancellation would have refunded (no declaration): its own donation stays the cinema's.
    async with db.write_transaction():
        await donations.donate_refund(await orders.lock_order(d["reference"]), declaration=None, now=now)

    assert await ledger(slug) == {
        ("payment", "tickets"): 18_000,
        ("payment", "booking_fees"): 300,
        ("payment", "donations"): 1_500,
        # Three donated refunds of one ticket each (£30 + 50p): ticket income and booking fees to donations.
        ("donated_refund", "tickets"): -9_000,
        ("donated_refund", "booking_fees"): -150,
        ("donated_refund", "donations"): 9_150,
        # B's ticket, and what C had left (its donated ticket split out): each exactly a ticket and its fee.
        ("refund", "tickets"): -6_000,
        ("refund", "booking_fees"): -100,
    }
    kept = 6600 + 3050 + 6100 + 4050 - 3050 - 3050
    assert sum((await ledger(slug)).values()) == kept == 13_700

    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    partners = {p["partner"]: p for p in reconciliation["partners"]}
    # Pooled: 9000 − 6000 tickets, 150 − 100 fees, 500 + 9150 shared donations = 12 700, 70/30; the cinema adds Sami's 1000.
    assert partners["welcome-kitchen"]["income_pence"] == {"tickets": 6_300, "booking_fees": 105, "contributions": 0, "donations": 6_755}
    assert partners["welcome-cinema"]["income_pence"] == {"tickets": 2_700, "booking_fees": 45, "contributions": 0, "donations": 3_895}
    assert (partners["welcome-kitchen"]["refunds_pence"], partners["welcome-cinema"]["refunds_pence"]) == (4_270, 1_830)
    assert (partners["welcome-kitchen"]["net_pence"], partners["welcome-cinema"]["net_pence"]) == (8_890, 4_810)
    assert reconciliation["totals"]["net_pence"] == kept
    # Gift Aid: 25% of Maria's donated ticket (3050 → 762), shared as pooled money is: 2135 and 915 of it → 533 and 229.
    assert (partners["welcome-kitchen"]["gift_aid_claimable_pence"], partners["welcome-cinema"]["gift_aid_claimable_pence"]) == (533, 229)

    # Each partner's statement for the period says the same.
    period = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    for partner, net in (("welcome-kitchen", 8_890), ("welcome-cinema", 4_810)):
        statement = await client.get(f"/api/partners/{partner}/statement", params=period, headers=organiser)
        assert statement.status_code == 200, statement.text
        assert statement.json()["totals"]["net_pence"] == net

    # The schedule: Maria's donated ticket only (D declared nothing; C was not offered its refund).
    rows = await schedule_rows(client, organiser, now)
    assert [row[1:5] + row[8:] for row in rows] == [["Maria", "Lopez Garcia", "12", "SW1A 1AA", "30.50"]]
    assert rows[0][7] == now.astimezone(UK).strftime("%d/%m/%y")


async def test_gift_aid_goes_only_with_a_refund_that_was_offered(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    created = await paid(client, slug, "Maria", 2)
    first, second = await ticket_ids(client, created)
    with pytest.raises(InvalidInput) as refused:
        await donate_ticket(created["reference"], first, now, declaration=MARIA, refund_offered=False)
    assert "gift_aid" in refused.value.fields
    with pytest.raises(InvalidInput) as bad:
        await donate_ticket(created["reference"], first, now, declaration=Declaration("", "Maria", "", "12", "nowhere", True), refund_offered=True)
    assert {"gift_aid.last_name", "gift_aid.postcode"} <= set(bad.value.fields)
    assert await RefundDonation.count() == 0 and await LedgerEntry.count().where(LedgerEntry.kind == "donated_refund") == 0
    assert (await Ticket.select(Ticket.status).where(Ticket.id == first).first())["status"] == "valid"  # the transaction was undone

    # A declaration stored with a refund that was not offered (e.g. written by an earlier version, or by hand) is
    # never claimed, nor is a donated refund without a declaration.
    await donate_ticket(created["reference"], first, now, declaration=None, refund_offered=True)
    await donate_ticket(created["reference"], second, now, declaration=None, refund_offered=False)
    await RefundDonation.update(
        {
            RefundDonation.gift_aid_first_name: "Maria",
            RefundDonation.gift_aid_last_name: "Lopez",
            RefundDonation.gift_aid_statement: CONFIRMATION_STATEMENT,
        }
    ).where(RefundDonation.refund_offered.eq(False))
    assert await schedule_rows(client, organiser, now) == []
    partners = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["partners"]
    assert [p["gift_aid_claimable_pence"] for p in partners] == [0, 0]
    # Once the offered one carries a declaration, it is claimed.
    await RefundDonation.update(
        {
            RefundDonation.gift_aid_first_name: "Maria",
            RefundDonation.gift_aid_last_name: "Lopez",
            RefundDonation.gift_aid_statement: CONFIRMATION_STATEMENT,
        }
    ).where(RefundDonation.refund_offered.eq(True))
    assert [row[8] for row in await schedule_rows(client, organiser, now)] == ["30.00"]


async def test_a_ticket_is_donated_once_and_only_while_it_can_be(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    created = await paid(client, slug, "Maria", 2)
    other = await paid(client, slug, "Omar", 1)
    first, second = await ticket_ids(client, created)
    await donate_ticket(created["reference"], first, now, declaration=None)
    with pytest.raises(Conflict):
        await donate_ticket(created["reference"], first, now, declaration=None)  # already donated
    with pytest.raises(InvalidInput):
        await donate_ticket(created["reference"], (await ticket_ids(client, other))[0], now, declaration=None)  # not this order's
    refunded = await client.post(f"/api/orders/{created['reference']}/refunds", json={"reason": "Ill", "tickets": [second]}, headers=organiser)
    assert refunded.status_code == 201
    with pytest.raises(Conflict):
        await donate_ticket(created["reference"], second, now, declaration=None)  # refunded
    assert [r["amount_pence"] for r in await RefundDonation.select(RefundDonation.amount_pence)] == [3000]
    assert sum((await ledger(slug)).values()) == 3000 + 3000 + 3000 - 3000
