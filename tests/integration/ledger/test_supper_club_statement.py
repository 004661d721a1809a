"""The worked supper club: every penny from tickets, pay-it-forward money, donations, Stripe fees, a
refund and the costs, down to each partner's share, computed by hand below."""

from datetime import datetime

import httpx

from events.catalogue.tables import Event
from events.payments.tables import Payment
from tests.factories import make_event
from tests.support.orders import get_order, pay_with_test_page, place_order

# Recorded shape of Stripe balance transactions for UK cards (1.5% + 20p); only `fee` is read.
BALANCE_TRANSACTIONS = {
    "A": {"object": "balance_transaction", "type": "charge", "amount": 21_000, "fee": 335, "net": 20_665, "currency": "gbp"},
    "B": {"object": "balance_transaction", "type": "charge", "amount": 20_000, "fee": 320, "net": 19_680, "currency": "gbp"},
    "C": {"object": "balance_transaction", "type": "charge", "amount": 17_000, "fee": 275, "net": 16_725, "currency": "gbp"},
    "D": {"object": "balance_transaction", "type": "charge", "amount": 15_000, "fee": 245, "net": 14_755, "currency": "gbp"},
}


def guest(name: str) -> dict[str, str]:
    """Each order of the worked example is a different guest's (one email address holds at most ten places unpaid)."""
    return {"name": f"Guest {name}", "email": f"guest-{name.lower()}@example.org"}


async def test_the_supper_club_statement_adds_up_by_hand(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(
        now,
        capacity=40,
        reserved_free_places=20,
        pay_it_forward_place_pence=3000,
        ticket_types=[{"name": "Supper", "price_pence": 3000, "max_per_order": 6}],
        beneficiaries=[{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}],
    )
    await Event.update({Event.cost_per_attendee_pence: 1200}).where(Event.slug == slug)  # £12 a cover, free guests too
    assert (
        await client.post(f"/api/events/{slug}/costs", json={"description": "Venue", "amount_pence": 10_000}, headers=organiser)
    ).status_code == 201

    orders = {
        "A": await place_order(client, slug, quantity=5, buyer=guest("A"), pay_it_forward_places=2),
        "B": await place_order(client, slug, quantity=5, buyer=guest("B"), donation_pence=5000, donation_partner="welcome-cinema"),
        "C": await place_order(client, slug, quantity=5, buyer=guest("C"), donation_pence=2000),
        "D": await place_order(client, slug, quantity=5, buyer=guest("D")),
    }
    for name, response in orders.items():
        created = response.json()
        assert created["total_pence"] == BALANCE_TRANSACTIONS[name]["amount"]
        await pay_with_test_page(client, created)
        await Payment.update({Payment.fee_pence: BALANCE_TRANSACTIONS[name]["fee"]}).where(Payment.order_id.reference == created["reference"])
    # Paying booked each payment to the ledger at once; the test provider knows no fees, so Stripe's were
    # written in above, and the organiser's repair books exactly their pro rata shares (A: tickets and
    # pay-it-forward, B: tickets and the designated donation, C: tickets and the donation, D: tickets).
    rebook = await client.post(f"/api/events/{slug}/ledger/rebook", headers=organiser)
    assert rebook.status_code == 201 and rebook.json() == {"event": slug, "entries_booked": 7}
    d = orders["D"].json()
    refunded_ticket = (await get_order(client, d))["tickets"][0]["id"]
    refund = await client.post(f"/api/orders/{d['reference']}/refunds", json={"tickets": [refunded_ticket], "reason": "Ill"}, headers=organiser)
    assert refund.json()["amount_pence"] == 3000

    link = (await client.post(f"/api/events/{slug}/claim-codes", json={"partner_name": "Drop-in", "places": 20}, headers=organiser)).json()
    for n in range(20):
        assert (await client.post("/api/claims", json={"code": link["code"], "name": f"Guest {n}"})).status_code == 201

    response = await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)
    assert response.status_code == 200, response.text
    statement = response.json()
    # Costs: £100 venue + 39 covers (19 paying guests left after the refund, 20 free) × £12 = £568.
    assert statement["costs_pence"] == 10_000 + 39 * 1200
    # Pay-it-forward: £60 less its share of A's fee (96p of 335p, pro rata) covers free guests' meals first.
    assert statement["costs_covered_by_contributions_pence"] == 6000 - 96
    assert statement["unused_contributions_pence"] == 0 and statement["deficit_pence"] == 0
    kitchen, cinema = statement["partners"]
    assert kitchen["partner"] == "welcome-kitchen" and cinema["partner"] == "welcome-cinema"
    # Pooled lines split 70/30, each by largest remainder (ties to the first partner):
    assert kitchen["income_pence"] == {"tickets": 42_000, "booking_fees": 0, "contributions": 4_200, "donations": 1_400}
    assert cinema["income_pence"] == {"tickets": 18_000, "booking_fees": 0, "contributions": 1_800, "donations": 600 + 5_000}
    assert (kitchen["refunds_pence"], cinema["refunds_pence"]) == (2_100, 900)
    # Fees: tickets 239+240+243+245 = 967, general donation 32, pay-it-forward 96 -> 1,095 split 767/328;
    # the cinema also bears the 80p fee on its designated £50.
    assert (kitchen["fees_pence"], cinema["fees_pence"]) == (767, 328 + 80)
    assert (kitchen["costs_pence"], cinema["costs_pence"]) == (39_760, 17_040)
    assert kitchen["net_pence"] == 4_973
    assert cinema["net_pence"] == 2_132 + 4_920
    totals = statement["totals"]
    assert totals["net_pence"] == 4_973 + 7_052
    # Every penny taken, less refunds, Stripe's fees and the costs, is with a partner.
    taken = sum(t["amount"] for t in BALANCE_TRANSACTIONS.values())
    assert taken - 3000 - sum(t["fee"] for t in BALANCE_TRANSACTIONS.values()) - statement["costs_pence"] == totals["net_pence"]

    csv_text = (await client.get(f"/api/events/{slug}/reconciliation.csv", headers=organiser)).text
    assert csv_text.splitlines()[1].startswith("welcome-kitchen,42000,0,4200,1400,2100,767,39760,4973")

    too_much = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        headers=organiser,
        json={"event": slug, "amount_pence": 5_000, "paid_on": now.isoformat(), "bank_reference": "BACS 0001"},
    )
    assert too_much.status_code == 409 and too_much.json()["error"] == "payout_exceeds_balance"
    paid = await client.post(
        "/api/partners/welcome-kitchen/payouts",
        headers=organiser,
        json={"event": slug, "amount_pence": 4_000, "paid_on": now.isoformat(), "bank_reference": "BACS 0001"},
    )
    assert paid.status_code == 201, paid.text
    after = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert after["partners"][0]["paid_out_pence"] == 4_000 and after["partners"][0]["balance_pence"] == 973
    again = (await client.get(f"/api/events/{slug}/reconciliation", headers=organiser)).json()
    assert again == after  # reading books nothing
    assert (await client.post(f"/api/events/{slug}/ledger/rebook", headers=organiser)).json()["entries_booked"] == 0

    statement = await client.get("/api/partners/welcome-cinema/statement", headers=organiser)
    assert statement.status_code == 200 and statement.json()["totals"]["net_pence"] == 7_052


async def test_unused_pay_it_forward_money_is_carried_to_the_next_supper(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    august = await make_event(now, slug="august", capacity=10, reserved_free_places=0, pay_it_forward_place_pence=3000)
    september = await make_event(now, slug="september", capacity=10, reserved_free_places=0, pay_it_forward_place_pence=3000)
    created = (await place_order(client, august, quantity=1, pay_it_forward_places=3)).json()
    await pay_with_test_page(client, created)
    early = await client.post(
        f"/api/events/{august}/pay-it-forward/unused", json={"decision": "carry_over", "target_event": september}, headers=organiser
    )
    assert early.status_code == 409 and early.json()["error"] == "event_open"
    await client.patch(f"/api/events/{august}", json={"status": "sales_closed"}, headers=organiser)
    decided = await client.post(
        f"/api/events/{august}/pay-it-forward/unused", json={"decision": "carry_over", "target_event": september}, headers=organiser
    )
    assert decided.status_code == 201, decided.text
    assert decided.json() == {"decision": "carry_over", "unused_pence": 9000, "target_event": "september"}
    twice = await client.post(f"/api/events/{august}/pay-it-forward/unused", json={"decision": "beneficiaries"}, headers=organiser)
    assert twice.status_code == 409
    assert (await client.get(f"/api/events/{september}")).json()["free_places"]["funded"] == 3  # the fund moved on
    assert (await client.get(f"/api/events/{august}")).json()["free_places"]["funded"] == 0
    source = (await client.get(f"/api/events/{august}/reconciliation", headers=organiser)).json()
    assert source["unused_contributions_pence"] == 0 and source["totals"]["income_pence"]["contributions"] == 0
