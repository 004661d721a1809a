"""Ledger service: booking payments, Stripe fees, refunds, costs and payouts as entries (each once), and
reading them back as per-event and per-partner statements through SQL aggregation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import db
from events.catalogue.tables import BeneficiaryShare, Event, Partner
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_
from events.ledger.allocation import INCOME_KINDS, Allocation, EventMoney, KindTotals, allocate
from events.ledger.tables import EventCost, LedgerEntry, Payout
from events.money import split_pence
from events.orders.tables import Order, OrderLine, Ticket
from events.payments.tables import Payment, Refund

COMPONENTS = ("tickets", "booking_fees", "contributions", "donations")
_BOOK_SQL = """
INSERT INTO ledger_entry (event, kind, component, method, partner, amount_pence, currency, source, occurred_at, created_at, description)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
ON CONFLICT (source) DO NOTHING
"""
_TOTALS_SQL = """
SELECT kind, component, partner, SUM(amount_pence) AS pence
FROM ledger_entry
WHERE event = {} AND occurred_at >= {} AND occurred_at < {}
GROUP BY kind, component, partner
"""
_ATTENDEES_SQL = """
SELECT
  COUNT(*) AS attendees,
  COALESCE(SUM(CASE WHEN o.channel IN ('claim', 'gift') THEN 1 ELSE 0 END), 0) AS free_guests
FROM ticket t JOIN ticket_order o ON o.id = t.order_id
WHERE t.event = {} AND t.status = 'valid' AND o.status = 'paid'
"""
# Booking in the database. An order's components, in COMPONENTS order (the tie-break of split_pence):
_ORDER_PARTS = """
  o.event, o.currency, c.idx, c.component,
  CASE c.idx WHEN 1 THEN o.tickets_pence WHEN 2 THEN o.booking_fees_pence WHEN 3 THEN o.pay_it_forward_pence ELSE o.donation_pence END AS weight,
  o.tickets_pence + o.booking_fees_pence + o.pay_it_forward_pence + o.donation_pence AS weights,
  CASE WHEN c.idx = 4 THEN (SELECT MAX(l.partner) FROM order_line l WHERE l.order_id = o.id AND l.kind = 'donation') END AS partner
FROM ticket_order o
CROSS JOIN (SELECT 1 AS idx, 'tickets' AS component UNION ALL SELECT 2, 'booking_fees'
            UNION ALL SELECT 3, 'contributions' UNION ALL SELECT 4, 'donations') c
"""
# One row per (payment, component) and (succeeded refund, component) of the event's paid orders; `amount`
# is what gets split across the components (Stripe's fee, the refund).
_PAYMENT_PARTS = "SELECT p.id AS item, p.provider AS method, p.fee_pence AS amount, p.created_at AS occurred_at," + _ORDER_PARTS + """
JOIN payment p ON p.order_id = o.id
WHERE o.event = {} AND o.total_pence > 0"""
_REFUND_PARTS = "SELECT r.id AS item, r.method AS method, r.amount_pence AS amount, r.created_at AS occurred_at," + _ORDER_PARTS + """
JOIN refund r ON r.order_id = o.id
WHERE o.event = {} AND o.total_pence > 0 AND r.status = 'succeeded'"""
# split_pence(amount, weights) per item: floors, then the pennies left over one each to the largest
# remainders (ties to the earlier component); a negative amount is split as the mirror of its absolute value.
# Only items with a share not booked yet are split (`prefix`: the source's prefix).
_SPLIT = """
SELECT item, method, occurred_at, event, currency, component, partner,
  sign * (floor_share + CASE WHEN ROW_NUMBER() OVER (PARTITION BY item ORDER BY remainder DESC, idx)
                                  <= total - SUM(floor_share) OVER (PARTITION BY item) THEN 1 ELSE 0 END) AS share
FROM (
  SELECT x.*, CASE WHEN x.amount < 0 THEN -1 ELSE 1 END AS sign, ABS(x.amount) AS total,
    CAST(ABS(x.amount) AS BIGINT) * x.weight / x.weights AS floor_share,
    CAST(ABS(x.amount) AS BIGINT) * x.weight % x.weights AS remainder
  FROM ({parts}) x
  WHERE x.weights > 0 AND x.amount <> 0 AND x.item IN (
    SELECT t.item FROM ({parts}) t
    WHERE t.weight <> 0 AND t.amount <> 0
      AND NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE l.source = '{prefix}:' || t.item || ':' || t.component)
  )
) y
"""
_BOOK_EVENT_SQL = """
INSERT INTO ledger_entry (event, kind, component, method, partner, amount_pence, currency, source, occurred_at, created_at, description)
SELECT event, kind, component, method, partner, amount_pence, currency, source, occurred_at, {}, description
FROM (
  SELECT event, 'payment' AS kind, component, method, partner, weight AS amount_pence, currency,
         'payment:' || item || ':' || component AS source, occurred_at, '' AS description
  FROM (PAYMENT_PARTS) x
  WHERE weight <> 0 AND NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE l.source = 'payment:' || x.item || ':' || x.component)
  UNION ALL
  SELECT event, 'stripe_fee', component, method, partner, -share, currency, 'fee:' || item || ':' || component, occurred_at, ''
  FROM (FEE_SPLIT) f
  WHERE share <> 0 AND NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE l.source = 'fee:' || f.item || ':' || f.component)
  UNION ALL
  SELECT event, 'refund', component, method, partner, -share, currency, 'refund:' || item || ':' || component, occurred_at, ''
  FROM (REFUND_SPLIT) r
  WHERE share <> 0 AND NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE l.source = 'refund:' || r.item || ':' || r.component)
  UNION ALL
  SELECT c.event, 'event_cost', '', '', NULL, -c.amount_pence, e.currency, 'cost:' || c.id, c.created_at, c.description
  FROM event_cost c JOIN event e ON e.id = c.event
  WHERE c.event = {}
  UNION ALL
  SELECT y.event, 'payout', '', 'bank', y.partner, -y.amount_pence, y.currency, 'payout:' || y.id, y.paid_on, y.bank_reference
  FROM payout y
  WHERE y.event = {}
) entries
WHERE TRUE
ON CONFLICT (source) DO NOTHING
""".replace("PAYMENT_PARTS", _PAYMENT_PARTS).replace(
    "FEE_SPLIT", _SPLIT.replace("{parts}", _PAYMENT_PARTS).replace("{prefix}", "fee")
).replace("REFUND_SPLIT", _SPLIT.replace("{parts}", _REFUND_PARTS).replace("{prefix}", "refund"))
FAR_PAST = datetime(2000, 1, 1).astimezone()
FAR_FUTURE = datetime(2999, 1, 1).astimezone()


@dataclass(frozen=True, slots=True)
class Entry:
    event_id: int
    kind: str
    component: str
    method: str
    partner_id: int | None
    amount_pence: int
    currency: str
    source: str
    occurred_at: datetime
    description: str = ""


def payment_entries(payment: dict[str, Any], order: dict[str, Any], donation_partner: int | None) -> list[Entry]:
    """A payment as one entry per component, and Stripe's fee (once known) borne pro rata by them."""
    parts = _components(order)
    entries = [
        Entry(order["event"], "payment", component, payment["provider"], donation_partner if component == "donations" else None,
              amount, order["currency"], f"payment:{payment['id']}:{component}", payment["created_at"])
        for component, amount in parts.items() if amount
    ]
    if payment["fee_pence"]:
        shares = split_pence(payment["fee_pence"], [parts[c] for c in COMPONENTS]) if any(parts.values()) else []
        for component, fee in zip(COMPONENTS, shares):
            if fee:
                entries.append(Entry(order["event"], "stripe_fee", component, payment["provider"],
                                     donation_partner if component == "donations" else None, -fee, order["currency"],
                                     f"fee:{payment['id']}:{component}", payment["created_at"]))
    return entries


def refund_entries(refund: dict[str, Any], order: dict[str, Any], donation_partner: int | None) -> list[Entry]:
    """A refund reverses the order's components pro rata (Stripe keeps its fee, which stays a cost)."""
    parts = _components(order)
    if not any(parts.values()):
        return []
    shares = split_pence(refund["amount_pence"], [parts[c] for c in COMPONENTS])
    return [
        Entry(order["event"], "refund", component, refund["method"], donation_partner if component == "donations" else None,
              -amount, order["currency"], f"refund:{refund['id']}:{component}", refund["created_at"])
        for component, amount in zip(COMPONENTS, shares) if amount
    ]


def _components(order: dict[str, Any]) -> dict[str, int]:
    return {
        "tickets": order["tickets_pence"],
        "booking_fees": order["booking_fees_pence"],
        "contributions": order["pay_it_forward_pence"],
        "donations": order["donation_pence"],
    }


async def book_event(event_id: int, *, now: datetime) -> int:
    """Book whatever of this event's payments, fees, refunds, costs and payouts is not in the ledger yet;
    returns how many entries were booked now.

    One INSERT ... SELECT: the database computes the same entries as payment_entries() and refund_entries()
    (largest-remainder splits included) for every payment and succeeded refund of the event's paid orders,
    and only for what is not booked yet, so reading a statement again is cheap."""
    if db.is_sqlite():
        async with db.write_transaction():
            await LedgerEntry.raw(_BOOK_EVENT_SQL, *_book_event_args(event_id, now))
            return int((await LedgerEntry.raw("SELECT changes() AS n"))[0]["n"])
    rows = await LedgerEntry.raw(f"WITH booked AS ({_BOOK_EVENT_SQL} RETURNING 1) SELECT COUNT(*) AS n FROM booked",
                                 *_book_event_args(event_id, now))
    return int(rows[0]["n"])


def _book_event_args(event_id: int, now: datetime) -> list[Any]:
    return [now, *[event_id] * (_BOOK_EVENT_SQL.count("{}") - 1)]  # created_at, then the event in every branch


async def decide_unused_contributions(slug: str, *, decision: str, target_slug: str | None, now: datetime) -> dict[str, Any]:
    """When an event closes, pay-it-forward money not spent on free guests either goes to the event's
    beneficiaries or is carried to a named future event's fund. Recorded once, as ledger entries."""
    event = await _event(slug)
    if event["status"] not in ("sales_closed", "finished"):
        raise Conflict(N_("Close the event first: unused pay-it-forward money is decided when it closes."), code="event_open")
    if decision not in ("beneficiaries", "carry_over"):
        raise InvalidInput("Choose beneficiaries or carry_over.", fields={"decision": "beneficiaries or carry_over"})
    target = await _event(target_slug) if decision == "carry_over" and target_slug else None
    if decision == "carry_over" and (target is None or target["id"] == event["id"] or target["status"] in ("cancelled", "finished")):
        raise InvalidInput("Name a future event to carry the money to.", fields={"target_event": "A future event is needed."})
    if target is not None and target["currency"] != event["currency"]:
        raise InvalidInput("The other event uses another currency.", fields={"target_event": "Different currency."})
    await book_event(event["id"], now=now)
    allocation, _ = await event_allocation(event["id"])
    unused = allocation.unused_contributions_pence
    async with db.write_transaction():
        if await LedgerEntry.exists().where(LedgerEntry.source == f"pif-decision:{event['id']}"):
            raise Conflict(N_("The unused pay-it-forward money of this event has already been decided."), code="already_decided")
        entries = [Entry(event["id"], "pif_decision", "contributions", "", None, 0, event["currency"], f"pif-decision:{event['id']}",
                         now, f"{decision}: {unused} pence" + (f" to {target['slug']}" if target else ""))]
        if target is not None and unused:
            entries += [
                Entry(event["id"], "carry_over", "contributions", "", None, -unused, event["currency"],
                      f"carry-out:{event['id']}", now, f"Carried to {target['slug']}"),
                Entry(target["id"], "carry_over", "contributions", "", None, unused, event["currency"],
                      f"carry-in:{event['id']}", now, f"Carried from {event['slug']}"),
            ]
        for entry in entries:
            await LedgerEntry.raw(_BOOK_SQL, entry.event_id, entry.kind, entry.component, entry.method, entry.partner_id,
                                  entry.amount_pence, entry.currency, entry.source, entry.occurred_at, now, entry.description)
        await Event.update({Event.unused_contributions: "beneficiaries" if decision == "beneficiaries" else "carried_over"}).where(
            Event.id == event["id"]
        )
    return {"decision": decision, "unused_pence": unused, "target_event": target["slug"] if target else None}


async def add_event_cost(slug: str, *, description: str, amount_pence: int, now: datetime) -> None:
    event = await _event(slug)
    if amount_pence == 0 or not description.strip():
        raise InvalidInput(N_("Give the cost a description and an amount."), fields={"amount_pence": "Must not be zero."})
    async with db.write_transaction():
        await EventCost(event=event["id"], description=description.strip(), amount_pence=amount_pence, created_at=now).save()


async def event_allocation(event_id: int, *, start: datetime = FAR_PAST, end: datetime = FAR_FUTURE) -> tuple[Allocation, dict[str, Any]]:
    """The event's ledger totals (one GROUP BY) allocated to its partners."""
    event = await Event.select().where(Event.id == event_id).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    rows = await LedgerEntry.raw(_TOTALS_SQL, event_id, start, end)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    designated: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    payouts: dict[int, int] = defaultdict(int)
    costs = 0
    for row in rows:
        pence = int(row["pence"])
        if row["kind"] == "event_cost":
            costs -= pence
        elif row["kind"] == "payout":
            payouts[row["partner"]] -= pence
        elif row["component"] == "donations" and row["partner"] is not None:
            designated[row["partner"]][row["kind"]] += pence
        else:
            totals[(row["kind"], row["component"])] += pence
    counts = (await Ticket.raw(_ATTENDEES_SQL, event_id))[0]
    money = EventMoney(
        tickets=_kind(totals, "tickets"),
        booking_fees=_kind(totals, "booking_fees"),
        contributions=_kind(totals, "contributions"),
        general_donations=_kind(totals, "donations"),
        designated_donations={partner: _kind_of(values) for partner, values in designated.items()},
        fixed_costs_pence=costs,
        per_attendee_cost_pence=event["cost_per_attendee_pence"],
        attendees=int(counts["attendees"]),
        free_guests=int(counts["free_guests"]),
        booking_fees_to_cause=event["booking_fees_to_cause"],
        unused_contributions=event["unused_contributions"],
    )
    shares = await BeneficiaryShare.select(BeneficiaryShare.partner, BeneficiaryShare.share_bp).where(
        BeneficiaryShare.event == event_id
    ).order_by(BeneficiaryShare.id)
    allocation = allocate(money, [(s["partner"], s["share_bp"]) for s in shares])
    return allocation, {"event": event, "money": money, "payouts": dict(payouts)}


def _kind(totals: dict[tuple[str, str], int], component: str) -> KindTotals:
    # Money carried in from another event's pay-it-forward fund counts as contributions here (and
    # carried out, as less of them there).
    return KindTotals(
        gross_pence=totals.get(("payment", component), 0) + totals.get(("carry_over", component), 0),
        refunds_pence=-totals.get(("refund", component), 0),
        fees_pence=-totals.get(("stripe_fee", component), 0),
    )


def _kind_of(values: dict[str, int]) -> KindTotals:
    return KindTotals(gross_pence=values.get("payment", 0), refunds_pence=-values.get("refund", 0), fees_pence=-values.get("stripe_fee", 0))


async def _event(slug: str) -> dict[str, Any]:
    event = await Event.select().where(Event.slug == slug).first()
    if event is None:
        raise NotFound(N_("We could not find that event."), code="event_not_found")
    return event


async def partner_names(partner_ids: list[int]) -> dict[int, dict[str, str]]:
    rows = await Partner.select(Partner.id, Partner.slug, Partner.name).where(Partner.id.is_in(partner_ids or [0]))
    return {row["id"]: {"slug": row["slug"], "name": row["name"]} for row in rows}


__all__ = ["INCOME_KINDS", "book_event", "event_allocation", "add_event_cost", "payment_entries", "refund_entries"]
