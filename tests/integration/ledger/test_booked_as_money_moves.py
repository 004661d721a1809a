"""The ledger moves with the money: a payment, Stripe's fee, a refund, a cost and a payout are each booked in
the transaction that records them, so reading a statement only aggregates; and statements check card
payments against Stripe's balance transactions imported into the database, never by calling Stripe."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from events.ledger import stripe_balance
from events.ledger.tables import LedgerEntry
from events.orders.tables import Order
from events.organisations.tables import Organisation
from events.payments import service as payments
from events.payments.gateway import BalanceTransaction, IntentState, TestGateway, balance_transaction
from events.payments.gateways import Gateways
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order


async def booked(source_prefix: str) -> dict[str, int]:
    rows = await LedgerEntry.select(LedgerEntry.source, LedgerEntry.amount_pence).where(LedgerEntry.source.like(f"{source_prefix}%"))
    return {row["source"]: row["amount_pence"] for row in rows}


class StripeLike(TestGateway):
    """Stripe as the ledger sees it: charges with fees, and a balance-transaction listing (the real gateway
    pages through Stripe's list; that path is the same for both)."""

    provider = "stripe"

    def __init__(self, fees: dict[str, int], transactions: list[dict[str, Any]]) -> None:
        self.fees = fees
        self.transactions = transactions
        self.listed: list[tuple[int, int]] = []

    async def fee_for_charge(self, charge_id: str) -> int | None:
        return self.fees.get(charge_id)

    async def balance_transactions(self, *, created_from: int, created_to: int) -> list[BalanceTransaction]:
        self.listed.append((created_from, created_to))
        return [balance_transaction(t) for t in self.transactions if created_from <= t["created"] < created_to]


async def test_money_is_booked_as_it_moves_and_reading_books_nothing(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}])
    created = (await place_order(client, slug, quantity=2, donation_pence=500)).json()
    assert await booked("payment:") == {}
    await pay_with_test_page(client, created)
    payment = await booked("payment:")
    assert sum(payment.values()) == created["total_pence"] == 6500 and len(payment) == 2  # tickets and the donation

    assert (
        await client.post(f"/api/events/{slug}/costs", json={"description": "Venue", "amount_pence": 1_000}, headers=organiser)
    ).status_code == 201
    assert list((await booked("cost:")).values()) == [-1_000]

    ticket = (await get_order(client, created))["tickets"][0]["id"]
    refund = await client.post(f"/api/orders/{created['reference']}/refunds", json={"tickets": [ticket], "reason": "Ill"}, headers=organiser)
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded"
    # The test provider confirms at once; the refunded ticket gives back its price, and none of the guest's donation.
    assert {source.rsplit(":", 1)[1]: pence for source, pence in (await booked("refund:")).items()} == {"tickets": -3000}

    paid = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        headers=organiser,
        json={"event": slug, "amount_pence": 1_000, "paid_on": now.isoformat(), "bank_reference": "BACS 7"},
    )
    assert paid.status_code == 201, paid.text
    assert list((await booked("payout:")).values()) == [-1_000]

    entries = await LedgerEntry.count()
    for url in (f"/api/events/{slug}/reconciliation", "/api/partners/welcome-kitchen/statement", f"/api/events/{slug}/reconciliation.csv"):
        assert (await client.get(url, headers=organiser)).status_code == 200
    assert await LedgerEntry.count() == entries
    statement = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert statement["totals"]["net_pence"] == 6500 - 3000 - 1_000 and statement["reconciled"] is True
    # Nothing slipped past, so the repair books nothing.
    assert (await client.post(f"/api/events/{slug}/ledger/rebook", headers=organiser)).json()["entries_booked"] == 0


async def test_statements_check_card_payments_against_imported_balance_transactions(
    app: Litestar, client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}])
    paid_at = now - timedelta(hours=2)
    stamp = int(paid_at.timestamp())
    fees = {"ch_a": 110, "ch_b": 155, "ch_c": 65}
    transactions = [
        {"id": "txn_a", "type": "charge", "source": "ch_a", "amount": 6000, "fee": 110, "net": 5890, "currency": "gbp", "created": stamp},
        {"id": "txn_b", "type": "charge", "source": "ch_b", "amount": 9000, "fee": 156, "net": 8844, "currency": "gbp", "created": stamp},
        # ch_c (3000) is not in Stripe's balance; ch_x is a charge here for no order.
        {"id": "txn_x", "type": "charge", "source": "ch_x", "amount": 1200, "fee": 38, "net": 1162, "currency": "gbp", "created": stamp},
        {"id": "txn_p", "type": "payout", "source": "po_1", "amount": -10_000, "fee": 0, "net": -10_000, "currency": "gbp", "created": stamp},
    ]
    stripe = StripeLike(fees, transactions)
    for name, quantity in (("a", 2), ("b", 3), ("c", 1)):
        order = (await place_order(client, slug, quantity=quantity)).json()
        state = IntentState(f"pi_{name}", "succeeded", order["total_pence"], "GBP", f"ch_{name}", order["reference"], "")
        # As checkout does: the order notes the PaymentIntent started for it, which is how a payment finds it.
        await Order.update({Order.payment_intent_id: state.intent_id}).where(Order.reference == order["reference"])
        await payments.record_intent_payment(state, provider="stripe", gateway=stripe, now=paid_at)
    # Stripe's fees were stored and booked with the payments.
    assert -sum((await booked("fee:")).values()) == 110 + 155 + 65

    before = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert before["reconciled"] is False and before["differences"] == [{"kind": "not_checked", "payments": 3}]

    organisation = (await Organisation.select(Organisation.id).first())["id"]
    imported = await stripe_balance.import_balance_transactions(
        organisation, gateway=stripe, start=None, end=None, now=now, requested_by="sam@test.example"
    )
    assert imported.transactions == imported.new_transactions == 4
    assert stripe.listed == [(int((paid_at - stripe_balance.IMPORT_OVERLAP).timestamp()), int(now.timestamp()))]
    statement = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert statement["reconciled"] is False
    assert statement["differences"] == [
        {"kind": "charge_without_order", "charge": "ch_x", "amount_pence": 1200},
        {"kind": "fee_mismatch", "payment": "pi_b", "ledger_pence": 155, "stripe_pence": 156},
        {"kind": "missing_from_stripe", "payment": "pi_c", "amount_pence": 3000},
    ]
    partner = (await client.get("/api/partners/welcome-kitchen/statement", headers=organiser)).json()
    assert partner["reconciled"] is False and partner["events"][0]["differences"] == statement["differences"]

    # Importing again keeps each transaction once; Stripe's late balance transaction for ch_c clears that difference.
    transactions.append(
        {"id": "txn_c", "type": "charge", "source": "ch_c", "amount": 3000, "fee": 65, "net": 2935, "currency": "gbp", "created": stamp}
    )
    again = await stripe_balance.import_balance_transactions(
        organisation, gateway=stripe, start=paid_at - timedelta(hours=1), end=now, now=now, requested_by="sam@test.example"
    )
    assert again.transactions == 5 and again.new_transactions == 1
    assert [d["kind"] for d in (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["differences"]] == [
        "charge_without_order",
        "fee_mismatch",
    ]

    # The worker's hourly import carries on from just before the last one; nothing new, nothing changes.
    later = now + timedelta(hours=1)
    assert await stripe_balance.import_recent(later, gateways=Gateways(stripe, app.state.settings)) == 0
    assert stripe.listed[-1] == (int((now - stripe_balance.IMPORT_OVERLAP).timestamp()), int(later.timestamp()))
    assert await stripe_balance.import_recent(later, gateways=Gateways(TestGateway(), app.state.settings)) == 0

    # Without Stripe set up there is nothing to import.
    refused = await client.post("/api/stripe/balance-transactions/import", json={}, headers=organiser)
    assert refused.status_code == 409 and refused.json()["error"] == "stripe_not_configured"


async def test_two_payouts_at_once_cannot_both_pay_out_the_balance(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}])
    await pay_with_test_page(client, (await place_order(client, slug, quantity=4)).json())
    owed = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["partners"][0]["balance_pence"]
    assert owed == 8_400  # 70% of £120

    async def pay(reference: str) -> httpx.Response:
        return await client.post(
            "/api/partners/welcome-kitchen/payouts",
            headers=organiser,
            json={"event": slug, "amount_pence": owed * 6 // 10, "paid_on": now.isoformat(), "bank_reference": reference},
        )

    answers = await asyncio.gather(pay("BACS 1"), pay("BACS 2"))
    assert sorted(a.status_code for a in answers) == [201, 409]
    after = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()["partners"][0]
    assert (after["paid_out_pence"], after["balance_pence"]) == (owed * 6 // 10, owed - owed * 6 // 10)
