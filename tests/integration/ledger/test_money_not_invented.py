"""Money that can't be invented: corrections bring an event's costs to zero at most, a partner is paid more
than it is owed only with a reason, whatever the costs, and a door sale is written whole or not at all."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest

from events.audit.tables import AuditEntry
from events.catalogue.tables import Event, TicketType
from events.ledger import service as ledger
from events.ledger.tables import EventCost, LedgerEntry, Payout
from events.orders.tables import Order, OrderLine
from events.payments.tables import Payment
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.support.orders import pay_with_test_page, place_order, ticket_type_id


async def add_cost(client: httpx.AsyncClient, organiser: dict[str, str], slug: str, amount_pence: int) -> httpx.Response:
    return await client.post(f"/api/events/{slug}/costs", json={"description": "Hall hire", "amount_pence": amount_pence}, headers=organiser)


async def recorded_costs(slug: str) -> int:
    rows = await EventCost.select(EventCost.amount_pence).where(EventCost.event.slug == slug)
    return sum(row["amount_pence"] for row in rows)


async def booked_costs(slug: str) -> int:
    rows = await LedgerEntry.select(LedgerEntry.amount_pence).where(LedgerEntry.event.slug == slug, LedgerEntry.kind == "event_cost")
    return -sum(row["amount_pence"] for row in rows)


async def test_a_correction_brings_the_costs_to_zero_and_never_below(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    assert (await add_cost(client, organiser, slug, 10_000)).status_code == 201
    assert (await add_cost(client, organiser, slug, -4_000)).status_code == 201
    below = await add_cost(client, organiser, slug, -6_001)
    assert below.status_code == 422, below.text
    assert below.json()["error"] == "costs_below_zero"
    assert "At most £60 can be taken off" in below.json()["fields"]["amount_pence"]  # what may still be taken off
    assert await recorded_costs(slug) == await booked_costs(slug) == 6_000  # nothing of it was written

    assert (await add_cost(client, organiser, slug, -6_000)).status_code == 201
    assert (await add_cost(client, organiser, slug, -1)).status_code == 422
    assert await recorded_costs(slug) == await booked_costs(slug) == 0
    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert reconciliation["costs_pence"] == 0


async def test_two_corrections_at_once_cannot_both_take_the_costs_below_zero(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    assert (await add_cost(client, organiser, slug, 10_000)).status_code == 201
    both = await asyncio.gather(*[add_cost(client, organiser, slug, -6_000) for _ in range(2)])
    assert sorted(response.status_code for response in both) == [201, 422]
    assert await recorded_costs(slug) == await booked_costs(slug) == 4_000


async def sold_event(client: httpx.AsyncClient, now: datetime) -> str:
    """An event with £60 of tickets paid (no fees with the test provider), shared 70/30."""
    slug = await make_event(now, reserved_free_places=0)
    created = (await place_order(client, slug, quantity=2)).json()
    assert (await pay_with_test_page(client, created)).status_code == 303
    return slug


async def payout(
    client: httpx.AsyncClient, organiser: dict[str, str], slug: str, amount_pence: int, now: datetime, reason: str = ""
) -> httpx.Response:
    body = {"event": slug, "amount_pence": amount_pence, "paid_on": now.isoformat(), "bank_reference": "BACS 0001"}
    if reason:
        body["override_reason"] = reason
    return await client.post("/api/partners/welcome-kitchen/payouts", json=body, headers=organiser)


async def test_costs_recorded_below_zero_before_the_rule_do_not_make_a_partner_owed_more(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_event(client, now)
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    # Written as an older version allowed: a correction larger than the cost it corrects (£20 below zero).
    for amount in (1_000, -3_000):
        cost = EventCost(event=event["id"], description="Hall hire", amount_pence=amount, created_at=now)
        await cost.save()
        await ledger.book_cost(cost.id, now=now)

    reconciliation = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert reconciliation["costs_pence"] == 0
    kitchen = reconciliation["partners"][0]
    assert kitchen["partner"] == "welcome-kitchen" and kitchen["net_pence"] == kitchen["balance_pence"] == 4_200  # 70% of £60, no more
    assert reconciliation["totals"]["net_pence"] == 6_000  # every penny taken, none invented

    # 70% of £80 is what the negative costs would have made it look like: more than is owed, so it needs the reason.
    refused = await payout(client, organiser, slug, 5_600, now)
    assert refused.status_code == 409 and refused.json()["error"] == "payout_exceeds_balance"
    assert await Payout.count() == 0
    assert (await payout(client, organiser, slug, 4_200, now)).status_code == 201
    assert (await payout(client, organiser, slug, 1, now)).status_code == 409
    paid = await payout(client, organiser, slug, 1_400, now, reason="Advance agreed by the trustees")
    assert paid.status_code == 201, paid.text
    after = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["partners"][0]
    assert after["paid_out_pence"] == 5_600 and after["balance_pence"] == -1_400


async def test_a_payout_beyond_what_is_owed_needs_a_reason_when_costs_exceed_the_income(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await sold_event(client, now)
    assert (await add_cost(client, organiser, slug, 9_000)).status_code == 201  # more than the £60 taken
    kitchen = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["partners"][0]
    assert kitchen["balance_pence"] == 0
    refused = await payout(client, organiser, slug, 1, now)
    assert refused.status_code == 409 and refused.json()["error"] == "payout_exceeds_balance"
    assert (await payout(client, organiser, slug, 1, now, reason="Grant from reserves")).status_code == 201


# --- a door sale is one transaction --------------------------------------------------------------------


@pytest.fixture
async def door(now: datetime) -> dict[str, str]:
    from events.accounts import service as accounts

    await accounts.create_user("door@test.example", role="organiser", password=None, display_name="Door 1")
    return {"Authorization": f"Bearer {await accounts.create_api_token('door@test.example', now=now)}"}


async def test_a_door_sale_that_fails_before_its_ledger_entries_leaves_nothing_behind(
    client: httpx.AsyncClient, door: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = await make_event(now, capacity=10, reserved_free_places=0, ticket_types=[{"name": "Door", "price_pence": 900, "channel": "door"}])
    door_type = await ticket_type_id(client, slug)
    sale = {"items": [{"ticket_type": door_type, "quantity": 2}], "payment_method": "cash"}

    async def fails(order_id: int, *, now: datetime) -> int:
        raise RuntimeError("the ledger could not be written")

    monkeypatch.setattr(ledger, "book_order", fails)
    failed = await client.post(f"/api/events/{slug}/door-sales", json=sale, headers=door)
    assert failed.status_code == 500
    # Nothing of the sale was written: no order, lines, tickets, payment, audit entry; the places are still free.
    assert await Order.count() == await OrderLine.count() == await Ticket.count() == await Payment.count() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "door.sale") == 0
    event = await Event.select(Event.places_taken).where(Event.slug == slug).first()
    [door_row] = await TicketType.select(TicketType.places_taken).where(TicketType.event.slug == slug)
    assert event["places_taken"] == door_row["places_taken"] == 0
    assert (await client.get(f"/api/events/{slug}")).json()["places_left"] == 10

    monkeypatch.undo()
    sold = await client.post(f"/api/events/{slug}/door-sales", json=sale, headers=door)
    assert sold.status_code == 201, sold.text
    reference = sold.json()["reference"]
    [payment] = await Payment.select().where(Payment.order_id.reference == reference)
    assert payment["amount_pence"] == 1_800
    entries = await LedgerEntry.select(LedgerEntry.amount_pence).where(LedgerEntry.event.slug == slug, LedgerEntry.kind == "payment")
    assert sum(entry["amount_pence"] for entry in entries) == 1_800
