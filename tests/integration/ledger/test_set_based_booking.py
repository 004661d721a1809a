"""book_event books in one INSERT ... SELECT; these tests hold it to the entries the per-row Python booking
made (payment_entries / refund_entries / donation_entries / the cost and payout entries), on awkward data: pennies
to split with ties and zero shares, negative and missing fees, several refunds, designated and general donations,
donated refunds, refunds of any parts, free orders, other events' money, amounts whose
products overflow 32 bits."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from events.catalogue.tables import Event
from events.ledger.service import FAR_FUTURE, FAR_PAST, Entry, book_event, donation_entries, ledger_totals, payment_entries, refund_entries
from events.ledger.tables import EventCost, LedgerEntry, LedgerTotal, Payout
from events.orders.tables import Order, OrderLine
from events.payments.tables import Payment, Refund, RefundDonation
from tests.factories import make_event, make_partner

FIELDS = ("event", "kind", "component", "method", "partner", "amount_pence", "currency", "source", "occurred_at", "created_at", "description")


async def reference_entries(event_id: int) -> list[Entry]:
    """The entries the per-row booking computed for an event (its code, kept here as the specification)."""
    entries: list[Entry] = []
    orders = {o["id"]: o for o in await Order.select().where(Order.event == event_id, Order.total_pence > 0)}
    if orders:
        partners = {
            line["order_id"]: line["partner"]
            for line in await OrderLine.select(OrderLine.order_id, OrderLine.partner).where(
                OrderLine.order_id.is_in(list(orders)), OrderLine.kind == "donation"
            )
        }
        for payment in await Payment.select().where(Payment.order_id.is_in(list(orders))):
            order = orders[payment["order_id"]]
            entries += payment_entries(payment, order, partners.get(order["id"]))
        for donation in await RefundDonation.select().where(RefundDonation.order_id.is_in(list(orders))):
            entries += donation_entries(donation, orders[donation["order_id"]])
        for refund in await Refund.select().where(Refund.order_id.is_in(list(orders)), Refund.status == "succeeded"):
            order = orders[refund["order_id"]]
            entries += refund_entries(refund, order, partners.get(order["id"]))
    event = await Event.select(Event.currency).where(Event.id == event_id).first()
    for cost in await EventCost.select().where(EventCost.event == event_id):
        entries.append(
            Entry(
                event_id,
                "event_cost",
                "",
                "",
                None,
                -cost["amount_pence"],
                event["currency"] if event else "GBP",
                f"cost:{cost['id']}",
                cost["created_at"],
                cost["description"],
            )
        )
    for payout in await Payout.select().where(Payout.event == event_id):
        entries.append(
            Entry(
                event_id,
                "payout",
                "",
                "bank",
                payout["partner"],
                -payout["amount_pence"],
                payout["currency"],
                f"payout:{payout['id']}",
                payout["paid_on"],
                payout["bank_reference"],
            )
        )
    return entries


def as_rows(entries: list[Entry], booked_at: dict[str, datetime]) -> dict[str, tuple[Any, ...]]:
    return {
        e.source: (
            e.event_id,
            e.kind,
            e.component,
            e.method,
            e.partner_id,
            e.amount_pence,
            e.currency,
            e.source,
            e.occurred_at,
            booked_at[e.source],
            e.description,
        )
        for e in entries
    }


async def ledger_rows() -> dict[str, tuple[Any, ...]]:
    rows = await LedgerEntry.select(*[getattr(LedgerEntry, name) for name in FIELDS])
    return {row["source"]: tuple(row[name] for name in FIELDS) for row in rows}


async def seed_orders(rng: random.Random, event_id: int, partner_ids: list[int], now: datetime, count: int, start: int) -> None:
    """Orders with payments (and some refunds) whose components make the splits awkward."""
    amounts = [0, 0, 1, 2, 3, 7, 50, 99, 333, 1000, 2500, 3001, 90_000_000]
    for n in range(start, start + count):
        parts = [rng.choice(amounts) for _ in range(4)]
        if n % 17 == 0:
            parts = [0, 0, 0, 0]  # a free order: never booked, even with a payment row
        total = sum(parts)
        order = Order(
            reference=f"T{event_id:02d}{n:07d}",
            event=event_id,
            status="paid",
            currency="GBP",
            tickets_pence=parts[0],
            booking_fees_pence=parts[1],
            pay_it_forward_pence=parts[2],
            donation_pence=parts[3],
            total_pence=total,
            places=1,
            payment_provider="stripe",
            created_at=now,
            paid_at=now,
        )
        await order.save()
        if parts[3]:
            partner = rng.choice([None, *partner_ids])
            await OrderLine(order_id=order.id, kind="donation", partner=partner, quantity=1, unit_price_pence=parts[3], total_pence=parts[3]).save()
        for k in range(1 + (n % 11 == 0)):  # now and then a second payment for the same order
            fee = rng.choice([None, 0, 1, 2, 3, 5, 20, 95, 101, 335, -7, 1_000_003])
            payment = Payment(
                order_id=order.id,
                provider=rng.choice(["stripe", "test", "cash"]),
                provider_reference=f"pi_{event_id}_{n}_{k}",
                charge_id=f"ch_{n}_{k}",
                amount_pence=total,
                fee_pence=fee,
                currency="GBP",
                created_at=now - timedelta(minutes=rng.randint(0, 10_000)),
            )
            await payment.save()
            for _ in range(rng.choice([0, 0, 0, 1, 2])):
                amount = rng.choice([1, 2, 3, 10, 999, total, -5])
                cuts = sorted(rng.choice([0, amount, rng.randint(min(0, amount), max(0, amount))]) for _ in range(3))
                refund_parts = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], amount - cuts[2]]
                await Refund(
                    order_id=order.id,
                    payment=payment.id,
                    amount_pence=amount,
                    tickets_pence=refund_parts[0],
                    booking_fees_pence=refund_parts[1],
                    contributions_pence=refund_parts[2],
                    donations_pence=refund_parts[3],
                    method=payment.provider,
                    status=rng.choice(["succeeded", "succeeded", "pending", "failed"]),
                    created_at=now - timedelta(minutes=rng.randint(0, 100)),
                ).save()


async def seed_donations(rng: random.Random, event_id: int, now: datetime) -> None:
    """Donated refunds on some of the event's paid orders: a part of their tickets and booking fees, now and then
    twice on one order, now and then only the one or the other, now and then the whole of both."""
    for order in await Order.select().where(Order.event == event_id, Order.total_pence > 0).order_by(Order.id):
        if order["id"] % 3:
            continue
        tickets_left, fees_left = order["tickets_pence"], order["booking_fees_pence"]
        for _ in range(rng.choice([1, 1, 2])):
            tickets = rng.choice([0, tickets_left, tickets_left // 2, min(1, tickets_left)])
            fees = rng.choice([0, fees_left, fees_left // 3])
            tickets_left, fees_left = tickets_left - tickets, fees_left - fees
            await RefundDonation(
                order_id=order["id"],
                cause=rng.choice(["released", "cancelled"]),
                tickets_pence=tickets,
                booking_fees_pence=fees,
                amount_pence=tickets + fees + rng.choice([0, order["donation_pence"]]),
                currency=order["currency"],
                created_at=now - timedelta(minutes=rng.randint(0, 100)),
            ).save()


async def test_set_based_booking_books_exactly_what_the_per_row_booking_did(clean_database: None, now: datetime) -> None:
    rng = random.Random(20261122)
    slug = await make_event(now)
    other = await make_event(now, slug="other-supper")
    await make_partner("welcome-garden")
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    other_id = (await Event.select(Event.id).where(Event.slug == other).first())["id"]
    await Event.update({Event.currency: "EUR"}).where(Event.id == event_id)
    partner_ids = [row["id"] for row in await Event.raw("SELECT id FROM partner ORDER BY id")]

    await seed_orders(rng, event_id, partner_ids, now, 150, 0)
    await seed_orders(rng, other_id, partner_ids, now, 20, 1000)
    await seed_donations(rng, event_id, now)
    await seed_donations(rng, other_id, now)
    for description, pence in [("Venue", 10_000), ("Refund of a deposit", -2_500), ("Odd", 0)]:
        await EventCost(event=event_id, description=description, amount_pence=pence, created_at=now).save()
    await Payout(partner=partner_ids[0], event=event_id, amount_pence=4_000, currency="EUR", paid_on=now, bank_reference="BACS 1").save()

    expected = await reference_entries(event_id)
    assert len({e.source for e in expected}) == len(expected) > 300
    assert {e.kind for e in expected} == {"payment", "stripe_fee", "refund", "donated_refund", "event_cost", "payout"}
    first = now + timedelta(seconds=1)
    assert await book_event(event_id, now=first) == len(expected)
    assert await ledger_rows() == as_rows(expected, {e.source: first for e in expected})

    # Booking again books nothing and changes nothing.
    before = await ledger_rows()
    assert await book_event(event_id, now=first + timedelta(seconds=1)) == 0
    assert await ledger_rows() == before

    # New money, a fee that became known, a refund that went through, a new cost and payout: only those are booked.
    await seed_orders(rng, event_id, partner_ids, now, 30, 500)
    order_ids = [row["id"] for row in await Order.select(Order.id).where(Order.event == event_id)]
    await Payment.update({Payment.fee_pence: 77}).where(Payment.fee_pence.is_null(), Payment.order_id.is_in(order_ids))
    await Refund.update({Refund.status: "succeeded"}).where(Refund.status == "pending", Refund.order_id.is_in(order_ids))
    await EventCost(event=event_id, description="Late invoice", amount_pence=1_234, created_at=now).save()
    await Payout(partner=partner_ids[1], event=event_id, amount_pence=500, currency="EUR", paid_on=now, bank_reference="BACS 2").save()
    second = first + timedelta(seconds=5)
    expected_now = await reference_entries(event_id)
    new_sources = {e.source for e in expected_now} - set(before)
    assert new_sources and set(before) <= {e.source for e in expected_now}
    assert await book_event(event_id, now=second) == len(new_sources)
    booked_at = {e.source: (second if e.source in new_sources else first) for e in expected_now}
    assert await ledger_rows() == as_rows(expected_now, booked_at)

    # The other event's money is its own, booked the same way.
    other_expected = await reference_entries(other_id)
    assert await book_event(other_id, now=second) == len(other_expected)
    rows = await ledger_rows()
    assert {source: row for source, row in rows.items() if row[0] == other_id} == as_rows(other_expected, {e.source: second for e in other_expected})


async def test_statement_totals_for_any_period_add_up_the_entries_in_it(clean_database: None, now: datetime) -> None:
    """Statements read whole days from the totals the database keeps and part-days from the entries: for any
    period, that is exactly the entries booked in it (and the totals agree with the entries)."""
    rng = random.Random(20261201)
    slug = await make_event(now)
    event_id = (await Event.select(Event.id).where(Event.slug == slug).first())["id"]
    partner_ids = [row["id"] for row in await Event.raw("SELECT id FROM partner ORDER BY id")]
    await seed_orders(rng, event_id, partner_ids, now, 60, 0)
    await book_event(event_id, now=now)
    await seed_orders(rng, event_id, partner_ids, now, 20, 100)  # booked by a second statement: totals add up
    await book_event(event_id, now=now)
    entries = await LedgerEntry.select(
        LedgerEntry.kind, LedgerEntry.component, LedgerEntry.partner, LedgerEntry.amount_pence, LedgerEntry.occurred_at
    ).where(LedgerEntry.event == event_id)
    assert len(entries) > 100

    def expected(start: datetime, end: datetime) -> dict[tuple[str, str, int | None], int]:
        sums: dict[tuple[str, str, int | None], int] = {}
        for e in entries:
            if start <= e["occurred_at"] < end:
                key = (e["kind"], e["component"], e["partner"])
                sums[key] = sums.get(key, 0) + e["amount_pence"]
        return sums

    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    periods = [
        (FAR_PAST, FAR_FUTURE),
        (midnight - timedelta(days=3), midnight),  # whole days only
        (now - timedelta(days=4, hours=5), now - timedelta(hours=30)),  # part-days at both ends
        (midnight - timedelta(days=2, hours=-3), midnight - timedelta(days=2, hours=-20)),  # within one day
        (now - timedelta(minutes=10_000), now + timedelta(minutes=1)),
        (midnight - timedelta(days=1), now),
    ]
    for start, end in periods:
        totals = await ledger_totals(event_id, start=start, end=end)
        assert {k: v for k, v in totals.items() if v} == {k: v for k, v in expected(start, end).items() if v}, (start, end)
    # Every entry is in the kept totals once.
    kept = await LedgerTotal.raw("SELECT SUM(pence) AS pence, SUM(entries) AS n FROM ledger_total WHERE event = {}", event_id)
    assert (int(kept[0]["pence"]), int(kept[0]["n"])) == (sum(e["amount_pence"] for e in entries), len(entries))
