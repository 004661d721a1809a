"""Reconciliation at scale: booking 100,000 paid orders to the ledger, then every partner's statement.

    .venv/bin/python bench/reconcile.py [--orders 100000] [--events 1] [--repeats 5] [--seed 7]

Prints one JSON object on stdout and nothing else (progress and errors go to stderr). Exit status 1 if the
ledger or the statements do not add up; missing the speed target alone does not fail the run.

What it does, all in this process, on 127.0.0.1:

1. Creates its own PostgreSQL database (admin URL: --admin-url, else BENCH_DATABASE_URL, else
   TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/postgres) and drops it at the end, also
   when anything fails or the run is interrupted (Ctrl-C, SIGTERM).
2. Migrates it in-process (events.db.bound + events.db.migrate), then creates three partners and
   --events events (catalogue.create_partner / create_event) whose beneficiaries share 50/30/20.
3. Inserts --orders synthetic PAID orders straight into the tables with asyncpg COPY (seeded RNG, so
   every run has the same data): ticket_order, payment, refund, order_line (tickets, pay-it-forward
   places, donations, with the partner on designated ones), ticket (one per place), event_cost, payout,
   gift_aid_declaration (on 40% of the orders with pay-it-forward money or a donation),
   plus --free-guests free claim orders (tickets, no payment). The mix: 80% online card orders through
   Stripe with a booking fee per ticket, 12% card terminal and 8% cash at the door; 12% add
   pay-it-forward places or an amount, 15% a donation (40% of them designated to one partner); Stripe's
   fee (1.5% + 20p) is known on 97% of the Stripe payments and not yet on the rest; 2% of the orders
   have a refund (60% one ticket, 40% the whole order; 97% succeeded, the rest pending or failed); six
   costs and one payout per partner per event. Stripe's side: a balance transaction per Stripe payment and
   succeeded Stripe refund, and one import covering the period, with known differences planted (payments
   and a refund Stripe lacks, fee and amount mismatches, charges with no order).
4. Books the ledger with the safety net, events.ledger.service.book_event(event_id, now) per event, once
   with everything to book (`booking.first_seconds`: what the worker's job does for data written around the
   app) and again with nothing new (`booking.again_seconds`: the job's usual run). In the app money is booked
   as it moves: `booking.book_order_ms` is book_order for one order (what a payment, fee or refund adds to
   its transaction), here with nothing new. Then the Stripe check an import runs (`stripe_check`).
5. Times "statements for all partners", --repeats times: event_reconciliation(slug) for every event, then
   partner_statement(slug) for every partner as an organiser (whole period). Reports min / median / max
   of each run and of each call, CPU seconds, and the queries and rows the app fetched per run (counted at
   the Piccolo engine), which shows the statements aggregate in SQL instead of loading rows.
6. Checks: the ledger against the source tables (payments, Stripe fees, succeeded refunds, costs,
   payouts, in pence, by SQL), each partner's statement against its line of the reconciliation, the
   reconciliation's lines against its totals, and that exactly the planted differences with Stripe are
   reported.

Also reported: ledger rows, database and table sizes, and memory: the peak resident memory of this process
(`peak_rss_mb`, ru_maxrss, so each figure is the peak so far; the seeding builds every row in Python first, so
it sets the peak), the resident memory after each phase (`rss_mb`), and the peak of Python allocations during
the booking and during the statements (`python_heap_peak_mb`, tracemalloc), which shows neither loads rows.

Target on a 2-core machine: all partners' statements (one run of step 5) in under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import resource
import secrets
import signal
import statistics
import sys
import time
import traceback
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from common import admin_url, cpu_seconds, create_database, drop_database, with_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_STATEMENTS_SECONDS = 1.0
PARTNERS = [("bench-kitchen", "Bench Kitchen", 5000), ("bench-cinema", "Bench Cinema", 3000), ("bench-garden", "Bench Garden", 2000)]
TICKET_TYPES = [("Standard", 2500), ("Concession", 1200), ("Supporter", 4000)]
BOOKING_FEE_PENCE = 75
PIF_PLACE_PENCE = 1500
COST_PER_ATTENDEE_PENCE = 600
COSTS = [
    ("Venue hire", 1_500_000),
    ("Catering", 2_400_000),
    ("Sound and light", 350_000),
    ("Printing", 45_000),
    ("Insurance", 80_000),
    ("Security", 220_000),
]


def log(message: str) -> None:
    print(f"[bench/reconcile] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def rss_mb() -> float:
    try:
        return round(int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except OSError:
        return float("nan")


def heap_peak_mb() -> float:
    """Peak of Python allocations since the last call (tracemalloc), then reset."""
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    return round(peak / 2**20, 2)


class CpuMeter:
    """CPU seconds of this process and of the PostgreSQL backends serving the bench database (from /proc, so
    only when PostgreSQL runs on this host; otherwise the PostgreSQL figure stays 0)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def snapshot(self) -> tuple[float, dict[int, float]]:
        connection = await asyncpg.connect(self.database_url)
        try:
            pids = [
                row["pid"]
                for row in await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ]
        finally:
            await connection.close()
        return sum(os.times()[:2]), {pid: cpu_seconds(pid) for pid in pids}

    @staticmethod
    def used(before: tuple[float, dict[int, float]], after: tuple[float, dict[int, float]]) -> dict[str, float]:
        return {
            "python": after[0] - before[0],
            "postgres": sum(value - before[1].get(pid, 0.0) for pid, value in after[1].items()),
        }


# --- the database --------------------------------------------------------------------------------------


# --- seeding -------------------------------------------------------------------------------------------


def pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _ in weighted], weights=[weight for _, weight in weighted])[0]


def stripe_fee(amount_pence: int) -> int:
    return (amount_pence * 15 + 500) // 1000 + 20  # 1.5% + 20p, UK cards


async def create_catalogue(events: int, now: datetime) -> list[dict[str, Any]]:
    """Partners and events through the app's own catalogue service; returns the events' id, slug and ticket types."""
    from events.catalogue import service as catalogue
    from events.catalogue.schemas import EventCreate, PartnerIn, ShareIn, TicketTypeIn
    from events.catalogue.tables import Event, TicketType
    from events.orders import service as _orders  # noqa: F401 - registers what the catalogue shows of sales (catalogue.sales)
    from events.organisations import service as organisations

    # The organisation a new database starts with (a single-organisation installation).
    organisation_id = (await organisations.resolve(None)).id
    for slug, name, _ in PARTNERS:
        await catalogue.create_partner(PartnerIn(slug=slug, name=name), organisation_id=organisation_id)
    created = []
    for index in range(events):
        slug = f"bench-gala-{index + 1}"
        starts = (now - timedelta(days=1)).replace(microsecond=0)
        await catalogue.create_event(
            EventCreate(
                slug=slug,
                title=f"Bench Gala {index + 1}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=6),
                capacity=100_000,
                status="on_sale",
                booking_fee_pence=BOOKING_FEE_PENCE,
                pay_it_forward_place_pence=PIF_PLACE_PENCE,
                ticket_types=[TicketTypeIn(name=name, price_pence=price, max_per_order=10) for name, price in TICKET_TYPES],
                beneficiaries=[ShareIn(partner=slug_, share_bp=share) for slug_, _, share in PARTNERS],
            ),
            now,
            organisation_id=organisation_id,
        )
        event = await Event.select(Event.id).where(Event.slug == slug).first()
        await Event.update({Event.cost_per_attendee_pence: COST_PER_ATTENDEE_PENCE}).where(Event.id == event["id"])
        types = (
            await TicketType.select(TicketType.id, TicketType.name, TicketType.price_pence)
            .where(TicketType.event == event["id"])
            .order_by(TicketType.id)
        )
        created.append({"id": event["id"], "slug": slug, "ticket_types": [(t["id"], t["name"], t["price_pence"]) for t in types]})
    return created


ORDER_COLUMNS = [
    "id",
    "reference",
    "event",
    "status",
    "channel",
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "locale",
    "currency",
    "tickets_pence",
    "booking_fees_pence",
    "pay_it_forward_pence",
    "donation_pence",
    "total_pence",
    "refunded_pence",
    "places",
    "payment_provider",
    "payment_intent_id",
    "client_secret",
    "intent_closed_at",
    "hold_expires_at",
    "created_at",
    "paid_at",
]
LINE_COLUMNS = ["order_id", "kind", "ticket_type", "partner", "description", "quantity", "unit_price_pence", "booking_fee_pence", "total_pence"]
TICKET_COLUMNS = [
    "order_id",
    "event",
    "ticket_type",
    "secret",
    "page_secret",
    "version",
    "holder_name",
    "status",
    "price_pence",
    "booking_fee_pence",
    "created_at",
    "checked_in_at",
    "checked_in_by",
    "inside",
]
PAYMENT_COLUMNS = ["id", "order_id", "provider", "provider_reference", "charge_id", "amount_pence", "fee_pence", "currency", "created_at"]
STRIPE_COLUMNS = ["transaction_id", "kind", "source", "amount_pence", "fee_pence", "net_pence", "currency", "created_at", "imported_at"]
REFUND_COLUMNS = [
    "order_id",
    "payment",
    "amount_pence",
    "tickets_pence",
    "booking_fees_pence",
    "contributions_pence",
    "donations_pence",
    "method",
    "provider_refund_id",
    "status",
    "reason",
    "requested_by",
    "created_at",
]


def synthesise(
    orders: int, free_guests: int, events: list[dict[str, Any]], partner_ids: list[int], now: datetime, seed: int
) -> dict[str, list[tuple]]:
    """Every row to COPY, from a seeded RNG. Order and payment ids are given here (the database is new)."""
    rng = random.Random(seed)
    gift_aid_rng = random.Random(seed + 1)  # its own stream, so the orders are those of runs without it
    rows: dict[str, list[tuple]] = {"ticket_order": [], "order_line": [], "ticket": [], "payment": [], "refund": [], "gift_aid_declaration": []}
    references: set[str] = set()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    start = now - timedelta(days=60)

    def reference() -> str:
        while True:
            value = "".join(rng.choices(alphabet, k=10))
            if value not in references:
                references.add(value)
                return value

    for index in range(orders + free_guests):
        order_id = index + 1
        event = events[index % len(events)]
        created = start + timedelta(seconds=rng.uniform(0, 59 * 86400))
        if index >= orders:  # a free guest through a referral partner's claim link
            type_id, name, _ = event["ticket_types"][0]
            rows["ticket_order"].append(
                (
                    order_id,
                    reference(),
                    event["id"],
                    "paid",
                    "claim",
                    f"Guest {order_id}",
                    "",
                    "",
                    "en",
                    "GBP",
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    1,
                    "none",
                    None,
                    "",
                    None,
                    None,
                    created,
                    created,
                )
            )
            rows["order_line"].append((order_id, "ticket", type_id, None, name, 1, 0, 0, 0))
            rows["ticket"].append(
                (
                    order_id,
                    event["id"],
                    type_id,
                    secrets.token_hex(16),
                    secrets.token_hex(16),
                    1,
                    f"Guest {order_id}",
                    "valid",
                    0,
                    0,
                    created,
                    None,
                    "",
                    False,
                )
            )
            continue
        provider = pick(rng, [("stripe", 0.80), ("card_terminal", 0.12), ("cash", 0.08)])
        channel = "online" if provider == "stripe" else "door"
        type_id, type_name, price = pick(rng, [(event["ticket_types"][0], 0.62), (event["ticket_types"][1], 0.23), (event["ticket_types"][2], 0.15)])
        quantity = pick(rng, [(1, 0.28), (2, 0.42), (3, 0.12), (4, 0.12), (5, 0.04), (6, 0.02)])
        fee_each = BOOKING_FEE_PENCE if channel == "online" else 0
        tickets_pence, booking_fees = price * quantity, fee_each * quantity
        lines = [(order_id, "ticket", type_id, None, type_name, quantity, price, fee_each, tickets_pence + booking_fees)]
        pif = 0
        if rng.random() < 0.12:
            if rng.random() < 0.7:
                places = pick(rng, [(1, 0.7), (2, 0.25), (4, 0.05)])
                pif = places * PIF_PLACE_PENCE
                lines.append((order_id, "pay_it_forward", None, None, "Pay it forward", places, PIF_PLACE_PENCE, 0, pif))
            else:
                pif = rng.choice([500, 700, 1000, 2000])
                lines.append((order_id, "pay_it_forward", None, None, "Pay it forward", 1, pif, 0, pif))
        donation = 0
        if rng.random() < 0.15:
            donation = rng.choice([300, 500, 1000, 1000, 2000, 2500, 5000, 10_000]) + rng.choice([0, 0, 0, 50, 99])
            partner = rng.choice(partner_ids) if rng.random() < 0.4 else None
            lines.append((order_id, "donation", None, partner, "Donation", 1, donation, 0, donation))
        total = tickets_pence + booking_fees + pif + donation
        if (pif or donation) and gift_aid_rng.random() < 0.4:  # a UK taxpayer's Gift Aid declaration on the donation parts
            rows["gift_aid_declaration"].append(
                (
                    order_id,
                    "",
                    f"Donor{order_id}",
                    "Bench",
                    str(order_id % 200 + 1),
                    "AB1 2CD",
                    pif + donation,
                    "GBP",
                    "I am a UK taxpayer...",
                    created,
                )
            )
        payment_id = order_id
        intent = f"pi_bench_{order_id:07d}" if provider == "stripe" else None
        fee = (stripe_fee(total) if rng.random() < 0.97 else None) if provider == "stripe" else None
        paid_at = created + timedelta(seconds=rng.uniform(5, 300))
        refunded, status = 0, "paid"
        ticket_status = ["valid"] * quantity
        if rng.random() < 0.02:
            whole = rng.random() < 0.4
            # A whole refund gives back every part; one ticket's, its price and booking fee (payments.refunds).
            parts = (tickets_pence, booking_fees, pif, donation) if whole else (price, fee_each, 0, 0)
            amount = sum(parts)
            refund_status = pick(rng, [("succeeded", 0.97), ("pending", 0.02), ("failed", 0.01)])
            rows["refund"].append(
                (
                    order_id,
                    payment_id,
                    amount,
                    *parts,
                    provider,
                    f"re_bench_{order_id:07d}" if provider == "stripe" and refund_status != "pending" else None,
                    refund_status,
                    "Cannot come",
                    "organiser@bench.example",
                    min(paid_at + timedelta(days=rng.uniform(1, 20)), now - timedelta(hours=1)),
                )
            )
            if refund_status == "succeeded":
                refunded = amount
                status = "refunded" if whole else "paid"
                ticket_status = ["refunded"] * quantity if whole else ["refunded"] + ["valid"] * (quantity - 1)
        rows["ticket_order"].append(
            (
                order_id,
                reference(),
                event["id"],
                status,
                channel,
                f"Buyer {order_id}",
                f"buyer{order_id}@bench.example",
                "",
                "en",
                "GBP",
                tickets_pence,
                booking_fees,
                pif,
                donation,
                total,
                refunded,
                quantity,
                provider,
                intent,
                "",
                None,
                None,
                created,
                paid_at,
            )
        )
        rows["order_line"].extend(lines)
        for ticket_status_ in ticket_status:
            rows["ticket"].append(
                (
                    order_id,
                    event["id"],
                    type_id,
                    secrets.token_hex(16),
                    secrets.token_hex(16),
                    1,
                    f"Buyer {order_id}",
                    ticket_status_,
                    price,
                    fee_each,
                    paid_at,
                    None,
                    "",
                    False,
                )
            )
        rows["payment"].append(
            (
                payment_id,
                order_id,
                provider,
                intent or f"{provider}_bench_{order_id:07d}",
                f"ch_bench_{order_id:07d}" if provider == "stripe" else "",
                total,
                fee,
                "GBP",
                paid_at,
            )
        )
    rows["stripe_balance_transaction"], rows["expected_differences"] = stripe_side(rng, rows, now)
    return rows


def stripe_side(rng: random.Random, rows: dict[str, list[tuple]], now: datetime) -> tuple[list[tuple], dict[str, int]]:
    """Stripe's balance transactions for the Stripe payments and succeeded refunds, as an import would store
    them, with a few known differences planted: payments Stripe lacks, fee and amount mismatches, charges
    with no order, a refund Stripe lacks."""
    planted = {"missing_from_stripe": 2, "fee_mismatch": 3, "amount_mismatch": 1, "charge_without_order": 2, "refund_missing_from_stripe": 1}
    stripe_payments = [row for row in rows["payment"] if row[2] == "stripe"]
    known_fee = [row for row in stripe_payments if row[6] is not None]
    missing = {row[0] for row in rng.sample(stripe_payments, planted["missing_from_stripe"])}
    wrong_fee = {row[0] for row in rng.sample([r for r in known_fee if r[0] not in missing], planted["fee_mismatch"])}
    wrong_amount = {row[0] for row in rng.sample([r for r in stripe_payments if r[0] not in missing | wrong_fee], planted["amount_mismatch"])}
    transactions = []
    for payment_id, _order, _provider, _reference, charge, amount, fee, currency, created in stripe_payments:
        if payment_id in missing:
            continue
        stripe_fee_ = (fee if fee is not None else stripe_fee(amount)) + (1 if payment_id in wrong_fee else 0)
        stripe_amount = amount + (100 if payment_id in wrong_amount else 0)
        transactions.append((f"txn_{charge}", "charge", charge, stripe_amount, stripe_fee_, stripe_amount - stripe_fee_, currency, created, now))
    for n in range(planted["charge_without_order"]):
        transactions.append((f"txn_orphan_{n}", "charge", f"ch_bench_orphan_{n}", 2500, 58, 2442, "GBP", now - timedelta(days=1), now))
    column = {name: index for index, name in enumerate(REFUND_COLUMNS)}
    refunds = [
        (row[column["amount_pence"]], row[column["provider_refund_id"]], row[column["created_at"]])
        for row in rows["refund"]
        if row[column["method"]] == "stripe" and row[column["status"]] == "succeeded" and row[column["provider_refund_id"]]
    ]
    lacking = set(rng.sample(range(len(refunds)), planted["refund_missing_from_stripe"]))
    for index, (amount, refund_id, created) in enumerate(refunds):
        if index not in lacking:
            transactions.append((f"txn_{refund_id}", "refund", refund_id, -amount, 0, -amount, "GBP", created, now))
    return transactions, planted


async def seed(database_url: str, args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    from events.catalogue.tables import Event, Partner
    from events.organisations import service as organisations

    started = time.perf_counter()
    events = await create_catalogue(args.events, now)
    organisation_id = (await organisations.resolve(None)).id
    partner_ids = [row["id"] for row in await Partner.select(Partner.id).order_by(Partner.id)]
    rows = synthesise(args.orders, args.free_guests, events, partner_ids, now, args.seed)
    synthesised = time.perf_counter()
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            for table, columns in [
                ("ticket_order", ORDER_COLUMNS),
                ("order_line", LINE_COLUMNS),
                ("ticket", TICKET_COLUMNS),
                ("payment", PAYMENT_COLUMNS),
                ("refund", REFUND_COLUMNS),
            ]:
                await connection.copy_records_to_table(table, records=rows[table], columns=columns)
            for table in ("ticket_order", "payment"):
                await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            await connection.copy_records_to_table(
                "gift_aid_declaration",
                records=rows["gift_aid_declaration"],
                columns=[
                    "order_id",
                    "title",
                    "first_name",
                    "last_name",
                    "house",
                    "postcode",
                    "eligible_pence",
                    "currency",
                    "statement",
                    "created_at",
                ],
            )
            # The installation's organisation's Stripe account (each organisation imports its own).
            await connection.copy_records_to_table(
                "stripe_balance_transaction",
                records=[(*row, organisation_id) for row in rows["stripe_balance_transaction"]],
                columns=[*STRIPE_COLUMNS, "organisation"],
            )
            # One import covering the whole period, as the periodic job leaves it.
            await connection.copy_records_to_table(
                "stripe_import",
                columns=["created_from", "created_to", "transactions", "imported_at", "requested_by", "organisation"],
                records=[(now - timedelta(days=62), now, len(rows["stripe_balance_transaction"]), now, "worker", organisation_id)],
            )
            await connection.copy_records_to_table(
                "event_cost",
                columns=["event", "description", "amount_pence", "created_at"],
                records=[(event["id"], description, pence, now - timedelta(days=3)) for event in events for description, pence in COSTS],
            )
            await connection.copy_records_to_table(
                "payout",
                columns=["partner", "event", "amount_pence", "currency", "paid_on", "bank_reference", "override_reason", "recorded_by", "created_at"],
                records=[
                    (
                        partner,
                        event["id"],
                        1_000_000,
                        "GBP",
                        now - timedelta(days=2),
                        f"BACS {event['id']}-{partner}",
                        "",
                        "organiser@bench.example",
                        now - timedelta(days=2),
                    )
                    for event in events
                    for partner in partner_ids
                ],
            )
        for event in events:
            places = await connection.fetchval("SELECT COALESCE(SUM(places), 0) FROM ticket_order WHERE event = $1", event["id"])
            await Event.update({Event.capacity: max(int(places), 1), Event.places_taken: int(places)}).where(Event.id == event["id"])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {
        "events": events,
        "counts": {table: len(values) for table, values in rows.items() if table != "expected_differences"},
        "expected_differences": rows["expected_differences"],
        "synthesise_seconds": round(synthesised - started, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- counting what the app asks of the database --------------------------------------------------------


class QueryCounter:
    """Wraps the engine class's run_querystring (every query of Piccolo's query builder) and events.db.run (every
    hand-written statement, which goes straight to asyncpg on PostgreSQL once the pool is open) to count queries
    and rows returned to Python (the engine instance has slots, so the class is patched, in this process only)."""

    def __init__(self, engine: Any) -> None:
        from events import db

        self.queries = 0
        self.rows = 0
        cls = type(engine)
        original = cls.run_querystring
        original_run = db.run

        async def counted(engine_: Any, querystring: Any, in_pool: bool = True) -> Any:
            result = await original(engine_, querystring, in_pool=in_pool)
            self.queries += 1
            self.rows += len(result) if isinstance(result, list) else 0
            return result

        async def counted_run(sql: str, *args: Any) -> Any:
            result = await original_run(sql, *args)
            if getattr(db.engine(), "pool", None) is not None:  # else it went through run_querystring, counted there
                self.queries += 1
                self.rows += len(result)
            return result

        cls.run_querystring = counted
        db.run = counted_run

    def take(self) -> tuple[int, int]:
        taken = (self.queries, self.rows)
        self.queries = self.rows = 0
        return taken


# --- checks --------------------------------------------------------------------------------------------


async def ledger_checks(database_url: str, event_ids: list[int]) -> dict[str, Any]:
    """The ledger against the source tables, in pence, per kind (all computed by PostgreSQL)."""
    connection = await asyncpg.connect(database_url)
    try:
        expected = await connection.fetchrow(
            """
            SELECT
              (SELECT COALESCE(SUM(p.amount_pence), 0) FROM payment p JOIN ticket_order o ON o.id = p.order_id
                 WHERE o.event = ANY($1) AND o.total_pence > 0) AS payment,
              (SELECT -COALESCE(SUM(p.fee_pence), 0) FROM payment p JOIN ticket_order o ON o.id = p.order_id
                 WHERE o.event = ANY($1) AND o.total_pence > 0) AS stripe_fee,
              (SELECT -COALESCE(SUM(r.amount_pence), 0) FROM refund r JOIN ticket_order o ON o.id = r.order_id
                 WHERE o.event = ANY($1) AND o.total_pence > 0 AND r.status = 'succeeded') AS refund,
              (SELECT -COALESCE(SUM(amount_pence), 0) FROM event_cost WHERE event = ANY($1)) AS event_cost,
              (SELECT -COALESCE(SUM(amount_pence), 0) FROM payout WHERE event = ANY($1)) AS payout
            """,
            event_ids,
        )
        booked = {
            row["kind"]: int(row["pence"])
            for row in await connection.fetch(
                "SELECT kind, SUM(amount_pence) AS pence FROM ledger_entry WHERE event = ANY($1) GROUP BY kind", event_ids
            )
        }
        by_kind = {
            row["kind"]: int(row["n"]) for row in await connection.fetch("SELECT kind, count(*) AS n FROM ledger_entry GROUP BY kind ORDER BY kind")
        }
        designated = await connection.fetchval(
            """SELECT count(*) FROM order_line l JOIN ticket_order o ON o.id = l.order_id
               WHERE l.kind = 'donation' AND l.partner IS NOT NULL AND o.event = ANY($1)""",
            event_ids,
        )
        designated_entries = await connection.fetchval(
            "SELECT count(*) FROM ledger_entry WHERE kind = 'payment' AND component = 'donations' AND partner IS NOT NULL"
        )
    finally:
        await connection.close()
    mismatches = {
        kind: {"expected": int(expected[kind]), "ledger": booked.get(kind, 0)}
        for kind in ("payment", "stripe_fee", "refund", "event_cost", "payout")
        if int(expected[kind]) != booked.get(kind, 0)
    }
    if designated != designated_entries:
        mismatches["designated_donations"] = {"expected": int(designated), "ledger": int(designated_entries)}
    return {"pence_by_kind": booked, "rows_by_kind": by_kind, "mismatches": mismatches}


def statement_checks(reconciliations: list[dict[str, Any]], statements: list[dict[str, Any]]) -> list[str]:
    problems = []
    keys = ("income_pence", "refunds_pence", "fees_pence", "costs_pence", "net_pence", "paid_out_pence", "balance_pence")
    lines = {(r["event"], p["partner"]): p for r in reconciliations for p in r["partners"]}
    for reconciliation in reconciliations:
        for key in ("refunds_pence", "fees_pence", "costs_pence", "net_pence", "paid_out_pence", "balance_pence"):
            if sum(p[key] for p in reconciliation["partners"]) != reconciliation["totals"][key]:
                problems.append(f"{reconciliation['event']}: partners' {key} do not add up to the total")
        for partner in reconciliation["partners"]:
            if (
                sum(partner["income_pence"].values()) - partner["refunds_pence"] - partner["fees_pence"] - partner["costs_pence"]
                != partner["net_pence"]
            ):
                problems.append(f"{reconciliation['event']}/{partner['partner']}: lines do not add up to net")
    for statement in statements:
        for line in statement["events"]:
            mine = lines.get((line["event"], statement["partner"]))
            differing = [key for key in keys if mine is None or line[key] != mine[key]]
            if differing:
                problems.append(f"{statement['partner']}/{line['event']}: statement differs from the reconciliation in {differing}")
    return problems


def differences_by_kind(reconciliations: list[dict[str, Any]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for reconciliation in reconciliations:
        for difference in reconciliation["differences"]:
            found[difference["kind"]] = found.get(difference["kind"], 0) + 1
    return found


def stripe_checks(reconciliations: list[dict[str, Any]], statements: list[dict[str, Any]], planted: dict[str, int]) -> list[str]:
    """Every planted difference with Stripe is reported, nothing else; the charges with no order show on each event."""
    problems = []
    found = differences_by_kind(reconciliations)
    expected = {**planted, "charge_without_order": planted["charge_without_order"] * len(reconciliations)}
    if found != expected:
        problems.append(f"differences with Stripe: reported {found}, planted {expected}")
    if any(r["reconciled"] for r in reconciliations) or any(s["reconciled"] for s in statements):
        problems.append("a statement with differences says it reconciles")
    return problems


# --- the run -------------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 4), "median": round(statistics.median(values), 4), "max": round(max(values), 4)}


async def run(database_url: str, args: argparse.Namespace, result: dict[str, Any]) -> bool:
    from events import db
    from events.accounts.roles import ORGANISER, CurrentUser
    from events.ledger import service, statements, stripe_balance

    now = datetime.now(timezone.utc)
    async with db.bound(database_url) as engine:
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # Piccolo's runner prints its progress
            await db.migrate()
        result["migrate_seconds"] = round(time.perf_counter() - started, 2)
        log(f"seeding {args.orders} paid orders on {args.events} event(s)")
        seeded = await seed(database_url, args, now)
        events = seeded.pop("events")
        expected_differences = seeded["expected_differences"]
        result["seed"] = seeded
        result["peak_rss_mb"] = {"after_seed": peak_rss_mb()}
        result["rss_mb"] = {"after_seed": rss_mb()}
        counter = QueryCounter(engine)
        tracemalloc.start()  # from here on: what booking and statements allocate in Python

        log("booking the ledger")
        meter = CpuMeter(database_url)
        first, again, booked, booked_again = [], [], 0, 0
        cpu_before = await meter.snapshot()
        for event in events:
            started = time.perf_counter()
            booked += await service.book_event(event["id"], now=now)
            first.append(time.perf_counter() - started)
        first_cpu = CpuMeter.used(cpu_before, await meter.snapshot())
        queries, rows = counter.take()
        cpu_before = await meter.snapshot()
        for event in events:
            started = time.perf_counter()
            booked_again += await service.book_event(event["id"], now=now)
            again.append(time.perf_counter() - started)
        again_cpu = CpuMeter.used(cpu_before, await meter.snapshot())
        again_queries, again_rows = counter.take()
        result["booking"] = {
            "first_seconds": round(sum(first), 3),
            "first_cpu_seconds": {side: round(value, 2) for side, value in first_cpu.items()},
            "entries_booked": booked,
            "entries_per_second": round(booked / max(sum(first), 1e-9)),
            "queries": queries,
            "rows_fetched": rows,
            "again_seconds": round(sum(again), 3),
            "again_cpu_seconds": {side: round(value, 2) for side, value in again_cpu.items()},
            "again_entries_booked": booked_again,
            "again_queries": again_queries,
            "again_rows_fetched": again_rows,
        }
        result["peak_rss_mb"]["after_booking"] = peak_rss_mb()
        result["rss_mb"]["after_booking"] = rss_mb()
        result["python_heap_peak_mb"] = {"booking": heap_peak_mb()}
        log(f"booked {booked} entries in {sum(first):.2f}s (again: {sum(again):.3f}s)")
        # The statistics autovacuum would gather after so many new rows (the seeding's ANALYZE saw an empty ledger).
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

        # What a money movement pays: book_order for one order, inside the payment's transaction (here with
        # nothing new to book, the common case of a re-check; the ledger's unique sources make it a no-op).
        sample = random.Random(args.seed).sample(range(1, args.orders + 1), min(200, args.orders))
        per_order = []
        for order_id in sample:
            started = time.perf_counter()
            await service.book_order(order_id, now=now)
            per_order.append(time.perf_counter() - started)
        counter.take()
        result["booking"]["book_order_ms"] = {key: round(value * 1000, 2) for key, value in summary(per_order).items()}

        # What an import of Stripe's balance transactions does after storing them: check each event's card
        # payments and refunds against them and keep the differences (statements read those).
        cpu_before = await meter.snapshot()
        started = time.perf_counter()
        for event in events:
            await stripe_balance.check_event(event["id"], now=now)
        result["stripe_check"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": {side: round(v, 2) for side, v in CpuMeter.used(cpu_before, await meter.snapshot()).items()},
        }
        counter.take()

        from events.organisations import service as organisations

        organisation_id = (await organisations.resolve(None)).id
        organiser = CurrentUser(id=1, email="organiser@bench.example", display_name="Organiser", role=ORGANISER, organisation_id=organisation_id)
        period = (now - timedelta(days=400), now + timedelta(days=1))
        runs, per_call, fetched, cpu_runs = [], {}, [], []
        reconciliations, partner_statements = [], []
        meter = CpuMeter(database_url)
        for repeat in range(args.repeats):
            reconciliations, partner_statements = [], []
            cpu_before = await meter.snapshot()
            run_started = time.perf_counter()
            for event in events:
                started = time.perf_counter()
                reconciliations.append(await statements.event_reconciliation(event["slug"]))
                per_call.setdefault(f"event_reconciliation:{event['slug']}", []).append(time.perf_counter() - started)
            for slug, _, _ in PARTNERS:
                started = time.perf_counter()
                partner_statements.append(await statements.partner_statement(slug, start=period[0], end=period[1], user=organiser))
                per_call.setdefault(f"partner_statement:{slug}", []).append(time.perf_counter() - started)
            runs.append(time.perf_counter() - run_started)
            cpu_runs.append(CpuMeter.used(cpu_before, await meter.snapshot()))
            fetched.append(counter.take())
            log(f"statements run {repeat + 1}/{args.repeats}: {runs[-1]:.3f}s")
        result["peak_rss_mb"]["at_end"] = peak_rss_mb()
        result["rss_mb"]["at_end"] = rss_mb()
        result["python_heap_peak_mb"]["statements"] = heap_peak_mb()
        tracemalloc.stop()

        result["statements"] = {
            "calls_per_run": len(events) + len(PARTNERS),
            "run_seconds": summary(runs),
            "runs_seconds": [round(value, 4) for value in runs],
            "per_call_seconds": {name: summary(values) for name, values in per_call.items()},
            # PostgreSQL: the bench database's backends at the start and end of a run; the parallel workers a
            # query may start come and go in between and are not counted, so this is a lower bound.
            "cpu_seconds": {side: summary([cpu[side] for cpu in cpu_runs]) for side in ("python", "postgres")},
            "queries_per_run": fetched[-1][0],
            "rows_fetched_per_run": fetched[-1][1],
        }
        checks = await ledger_checks(database_url, [event["id"] for event in events])
        # The checks read the statements as their JSON (same keys as the API), not as the ledger's typed objects.
        reconciliations = msgspec.to_builtins(reconciliations)
        partner_statements = msgspec.to_builtins(partner_statements)
        problems = statement_checks(reconciliations, partner_statements) + stripe_checks(reconciliations, partner_statements, expected_differences)
        result["ledger"] = {
            "rows": sum(checks["rows_by_kind"].values()),
            "rows_by_kind": checks["rows_by_kind"],
            "pence_by_kind": checks["pence_by_kind"],
            "mismatches": checks["mismatches"],
        }
        result["reconciliation"] = [
            {
                key: r[key]
                for key in (
                    "event",
                    "totals",
                    "costs_pence",
                    "costs_covered_by_contributions_pence",
                    "unused_contributions_pence",
                    "retained_booking_fees_pence",
                    "deficit_pence",
                )
            }
            | {"net_by_partner": {p["partner"]: p["net_pence"] for p in r["partners"]}}
            for r in reconciliations
        ]
        result["statement_problems"] = problems
        result["stripe_differences"] = {"planted": expected_differences, "reported": differences_by_kind(reconciliations)}

        connection = await asyncpg.connect(database_url)
        try:
            result["database"] = {
                "size_mb": round(await connection.fetchval("SELECT pg_database_size(current_database())") / 2**20, 1),
                "table_size_mb": {
                    table: round(await connection.fetchval("SELECT pg_total_relation_size($1::regclass)", table) / 2**20, 1)
                    for table in (
                        "ledger_entry",
                        "ticket_order",
                        "payment",
                        "refund",
                        "order_line",
                        "ticket",
                        "gift_aid_declaration",
                        "stripe_balance_transaction",
                        "ledger_total",
                        "event_attendance",
                        "stripe_difference",
                    )
                },
                "postgres": str(await connection.fetchval("SHOW server_version")),
            }
        finally:
            await connection.close()
    result["target"] = {
        "statements_seconds": TARGET_STATEMENTS_SECONDS,
        "met": result["statements"]["run_seconds"]["median"] < TARGET_STATEMENTS_SECONDS,
    }
    return not checks["mismatches"] and not problems and result["booking"]["again_entries_booked"] == 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="paid orders (each with a payment)")
    parser.add_argument("--free-guests", type=int, default=1_000, help="free claim orders (a ticket, no payment)")
    parser.add_argument("--events", type=int, default=1, help="events the orders are spread over")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the statements for all partners")
    parser.add_argument("--seed", type=int, default=7, help="RNG seed for the synthetic data")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL URL to create and drop the bench database through")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end (to EXPLAIN the queries on it)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def interrupted(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)

    admin = admin_url(args.admin_url)
    name = f"events_bench_reconcile_{secrets.token_hex(4)}"
    database_url = with_database(admin, name)
    result: dict[str, Any] = {
        "benchmark": "reconcile",
        "orders": args.orders,
        "free_guests": args.free_guests,
        "events": args.events,
        "partners": len(PARTNERS),
        "repeats": args.repeats,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
        "note": "statements.cpu_seconds.postgres counts the bench database's backends, not the parallel workers "
        "a query may start, so it is a lower bound; on a busy machine compare CPU seconds, not wall time",
    }
    created = False
    status = 1
    try:
        asyncio.run(create_database(admin, name))
        created = True
        log(f"database {name}")
        correct = asyncio.run(run(database_url, args, result))
        result["correct"] = correct
        status = 0 if correct else 1
    except BaseException as exc:  # noqa: BLE001 - report, then clean up; Ctrl-C and SIGTERM included
        traceback.print_exc(file=sys.stderr)
        result["error"] = f"{type(exc).__name__}: {exc}"
        status = 1
    finally:
        if created and args.keep_database:
            log(f"kept {database_url}")
            result["kept_database"] = name
        elif created:
            try:
                asyncio.run(drop_database(admin, name))
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop {name}: {exc}")
                result["drop_error"] = str(exc)
    print(json.dumps(result, indent=2, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
