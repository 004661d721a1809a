"""Checking the ledger against Stripe: importing Stripe's balance transactions into the database (the
paginated API, as a periodic job or on demand), matching each affected event's card payments and refunds
with them in SQL after every import, and reading what was found, so a statement never calls Stripe.

A statement's check is as of the last import, plus the card payments and refunds recorded since (which no
import has covered yet: `not_checked`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from events import db
from events.errors import Conflict, EventsError, InvalidInput
from events.i18n import N_
from events.ledger.tables import StripeBalanceTransaction, StripeDifference, StripeImport
from events.payments.gateway import Gateway, PaymentProviderError
from events.payments.tables import Payment

# Each periodic import reaches back this far past the previous one, so a transaction Stripe dates just
# before the previous import ran is never skipped; the first reaches back this far past the first payment.
IMPORT_OVERLAP = timedelta(days=1)
# A charge or refund at Stripe that matches nothing here is reported for an event when Stripe dates it from
# an hour before the event's first card payment to a week after its last (refunds come later).
UNMATCHED_BEFORE = timedelta(hours=1)
UNMATCHED_AFTER = timedelta(days=7)
MAX_DIFFERENCES = 1000
CHARGE_KINDS = ("charge", "payment")
REFUND_KINDS = ("refund", "payment_refund")


class StripeUnavailable(EventsError):
    status_code = 503
    code = "stripe_unavailable"


_INSERT_SQL = """
INSERT INTO stripe_balance_transaction (transaction_id, kind, source, amount_pence, fee_pence, net_pence, currency, created_at, imported_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})
ON CONFLICT (transaction_id) DO NOTHING
"""
# The event's card payments and Stripe refunds; `covered` when an import spans the moment we recorded them.
_OURS = """
WITH covered_payments AS (
  SELECT p.provider_reference AS reference, p.charge_id AS source, p.amount_pence, p.fee_pence,
         EXISTS (SELECT 1 FROM stripe_import i WHERE i.created_from <= p.created_at AND p.created_at < i.created_to) AS covered
  FROM payment p JOIN ticket_order o ON o.id = p.order_id
  WHERE o.event = {event} AND p.provider = 'stripe'
),
covered_refunds AS (
  SELECT r.provider_refund_id AS reference, r.amount_pence,
         EXISTS (SELECT 1 FROM stripe_import i WHERE i.created_from <= r.created_at AND r.created_at < i.created_to) AS covered
  FROM refund r JOIN ticket_order o ON o.id = r.order_id
  WHERE o.event = {event} AND r.method = 'stripe' AND r.status = 'succeeded' AND r.provider_refund_id IS NOT NULL
)
"""
_CHECK_SQL = (
    _OURS
    + """
INSERT INTO stripe_difference (event, kind, reference, ledger_pence, stripe_pence, checked_at)
SELECT {event}, kind, reference, ledger_pence, stripe_pence, {now} FROM (
  SELECT 'missing_from_stripe' AS kind, c.reference AS reference, c.amount_pence AS ledger_pence, CAST(NULL AS INTEGER) AS stripe_pence
  FROM covered_payments c
  WHERE c.covered AND NOT EXISTS (SELECT 1 FROM stripe_balance_transaction t WHERE t.source = c.source AND t.kind IN ('charge', 'payment'))
  UNION ALL
  SELECT 'amount_mismatch', c.reference, c.amount_pence, t.amount_pence
  FROM covered_payments c JOIN stripe_balance_transaction t ON t.source = c.source AND t.kind IN ('charge', 'payment')
  WHERE t.amount_pence <> c.amount_pence
  UNION ALL
  SELECT 'fee_mismatch', c.reference, c.fee_pence, t.fee_pence
  FROM covered_payments c JOIN stripe_balance_transaction t ON t.source = c.source AND t.kind IN ('charge', 'payment')
  WHERE c.fee_pence IS NOT NULL AND t.fee_pence <> c.fee_pence
  UNION ALL
  SELECT 'charge_without_order', t.source, CAST(NULL AS INTEGER), t.amount_pence
  FROM stripe_balance_transaction t
  WHERE t.kind IN ('charge', 'payment') AND t.created_at >= {start} AND t.created_at < {end}
    AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.charge_id = t.source AND p.provider = 'stripe')
  UNION ALL
  SELECT 'refund_missing_from_stripe', c.reference, c.amount_pence, CAST(NULL AS INTEGER)
  FROM covered_refunds c
  WHERE c.covered AND NOT EXISTS (SELECT 1 FROM stripe_balance_transaction t WHERE t.source = c.reference AND t.kind IN ('refund', 'payment_refund'))
  UNION ALL
  SELECT 'refund_amount_mismatch', c.reference, c.amount_pence, -t.amount_pence
  FROM covered_refunds c JOIN stripe_balance_transaction t ON t.source = c.reference AND t.kind IN ('refund', 'payment_refund')
  WHERE -t.amount_pence <> c.amount_pence
  UNION ALL
  SELECT 'refund_without_record', t.source, CAST(NULL AS INTEGER), -t.amount_pence
  FROM stripe_balance_transaction t
  WHERE t.kind IN ('refund', 'payment_refund') AND t.created_at >= {start} AND t.created_at < {end}
    AND NOT EXISTS (SELECT 1 FROM refund r WHERE r.provider_refund_id = t.source)
) found
WHERE TRUE
ORDER BY kind, reference
LIMIT {limit}
"""
)
_STORED_SQL = """
SELECT kind, reference, ledger_pence, stripe_pence FROM stripe_difference WHERE event = {} ORDER BY kind, reference, id LIMIT {}
"""
# Card payments and refunds of the event recorded since the period the imports cover ends.
_NOT_CHECKED_SQL = """
SELECT
  (SELECT COUNT(*) FROM payment p JOIN ticket_order o ON o.id = p.order_id
   WHERE o.event = {event} AND p.provider = 'stripe' AND p.created_at >= {covered_to})
  + (SELECT COUNT(*) FROM refund r JOIN ticket_order o ON o.id = r.order_id
     WHERE o.event = {event} AND r.method = 'stripe' AND r.status = 'succeeded' AND r.created_at >= {covered_to}) AS n
"""
# Events an import of [start, end) can change the check of: Stripe payments or refunds recorded in it, or
# payments that a charge or refund listed in it could belong to (see UNMATCHED_*).
_AFFECTED_SQL = """
SELECT DISTINCT o.event AS event FROM payment p JOIN ticket_order o ON o.id = p.order_id
WHERE p.provider = 'stripe' AND p.created_at >= {} AND p.created_at < {}
UNION
SELECT DISTINCT o.event FROM refund r JOIN ticket_order o ON o.id = r.order_id
WHERE r.method = 'stripe' AND r.created_at >= {} AND r.created_at < {}
"""
_WINDOW_SQL = """
SELECT MIN(p.created_at) AS first, MAX(p.created_at) AS last
FROM payment p JOIN ticket_order o ON o.id = p.order_id
WHERE o.event = {} AND p.provider = 'stripe'
"""


def _positional(template: str) -> tuple[str, list[str]]:
    return re.sub(r"\{(\w+)\}", "{}", template), re.findall(r"\{(\w+)\}", template)


_CHECK = _positional(_CHECK_SQL)
_NOT_CHECKED = _positional(_NOT_CHECKED_SQL)


async def differences(event_id: int) -> list[dict[str, Any]]:
    """What does not agree between the event's card payments and refunds and Stripe's balance transactions:
    first how many were recorded after the last import (``not_checked``), then what the check after that
    import found: payments or refunds Stripe does not have, amounts and fees that differ, Stripe charges
    and refunds that match nothing here. Two small reads, whatever the size of the event."""
    sql, names = _NOT_CHECKED
    covered_to = await imported_to() or datetime(1970, 1, 1, tzinfo=timezone.utc)
    unchecked = int((await Payment.raw(sql, *[{"event": event_id, "covered_to": covered_to}[name] for name in names]))[0]["n"])
    found = [_difference(row) for row in await StripeDifference.raw(_STORED_SQL, event_id, MAX_DIFFERENCES)]
    return ([{"kind": "not_checked", "payments": unchecked}] if unchecked else []) + found


async def imported_to() -> datetime | None:
    """Where the imported period ends: card payments and refunds recorded later are not checked yet."""
    last = await StripeImport.select(StripeImport.created_to).order_by(StripeImport.created_to, ascending=False).first()
    return _moment(last["created_to"]) if last else None


async def check_event(event_id: int, *, now: datetime) -> int:
    """Match the event's card payments and refunds with the imported balance transactions, replacing what
    the previous check found; returns how many differences there are now."""
    window = await Payment.raw(_WINDOW_SQL, event_id)
    first = _moment(window[0]["first"]) if window and window[0]["first"] is not None else None
    last = _moment(window[0]["last"]) if window and window[0]["last"] is not None else None
    async with db.write_transaction():
        await StripeDifference.delete().where(StripeDifference.event == event_id)
        if first is None or last is None:
            return 0
        values = {"event": event_id, "now": now, "start": first - UNMATCHED_BEFORE, "end": last + UNMATCHED_AFTER, "limit": MAX_DIFFERENCES}
        sql, names = _CHECK
        await StripeDifference.raw(sql, *[values[name] for name in names])
        return await StripeDifference.count().where(StripeDifference.event == event_id)


def _difference(row: dict[str, Any]) -> dict[str, Any]:
    kind, reference = row["kind"], row["reference"]
    ours = None if row["ledger_pence"] is None else int(row["ledger_pence"])
    theirs = None if row["stripe_pence"] is None else int(row["stripe_pence"])
    if kind == "not_checked":
        return {"kind": kind, "payments": ours}
    if kind == "missing_from_stripe":
        return {"kind": kind, "payment": reference, "amount_pence": ours}
    if kind in ("amount_mismatch", "fee_mismatch"):
        return {"kind": kind, "payment": reference, "ledger_pence": ours, "stripe_pence": theirs}
    if kind == "charge_without_order":
        return {"kind": kind, "charge": reference, "amount_pence": theirs}
    if kind == "refund_missing_from_stripe":
        return {"kind": kind, "refund": reference, "amount_pence": ours}
    if kind == "refund_amount_mismatch":
        return {"kind": kind, "refund": reference, "ledger_pence": ours, "stripe_pence": theirs}
    return {"kind": kind, "refund": reference, "amount_pence": theirs}  # refund_without_record


async def import_balance_transactions(
    *, gateway: Gateway, start: datetime | None, end: datetime | None, now: datetime, requested_by: str
) -> dict[str, Any]:
    """Fetch Stripe's balance transactions created in [start, end) (by default: since shortly before the last
    import, or before the first card payment, up to now) and keep them; importing a period twice keeps each
    transaction once. Returns the period and how many transactions Stripe listed and how many were new."""
    if gateway.provider != "stripe":
        raise Conflict(N_("Stripe is not set up here, so there is nothing to import."), code="stripe_not_configured")
    end = end or now
    start = start or await _default_start(now)
    if end <= start:
        raise InvalidInput("The period must end after it starts.", fields={"to": "Must be after from."})
    try:
        listed = await gateway.balance_transactions(created_from=int(start.timestamp()), created_to=int(end.timestamp()))
    except PaymentProviderError as exc:
        raise StripeUnavailable(str(exc)) from exc
    new = 0
    async with db.write_transaction():
        for transaction in listed:
            new += await _keep(transaction, now)
        await StripeImport(created_from=start, created_to=end, transactions=len(listed), imported_at=now, requested_by=requested_by).save()
    affected = await Payment.raw(_AFFECTED_SQL, start - UNMATCHED_AFTER, end + UNMATCHED_BEFORE, start, end)
    found = {row["event"]: await check_event(row["event"], now=now) for row in affected}
    return {
        "from": start,
        "to": end,
        "transactions": len(listed),
        "new_transactions": new,
        "events_checked": len(found),
        "differences": sum(found.values()),
    }


async def import_recent(now: datetime, *, gateway: Gateway) -> int:
    """The periodic job: import what Stripe has added since the last import (nothing to do without Stripe
    or before the first card payment)."""
    if gateway.provider != "stripe" or not await Payment.exists().where(Payment.provider == "stripe"):
        return 0
    return (await import_balance_transactions(gateway=gateway, start=None, end=None, now=now, requested_by="worker"))["new_transactions"]


async def _default_start(now: datetime) -> datetime:
    last = await StripeImport.select(StripeImport.created_to).order_by(StripeImport.created_to, ascending=False).first()
    if last is not None:
        return _moment(last["created_to"]) - IMPORT_OVERLAP
    first = await Payment.select(Payment.created_at).where(Payment.provider == "stripe").order_by(Payment.created_at).first()
    return (_moment(first["created_at"]) if first else now) - IMPORT_OVERLAP


async def _keep(transaction: dict[str, Any], now: datetime) -> int:
    source = transaction.get("source") or ""
    if isinstance(source, dict):  # expanded
        source = source.get("id", "")
    created = datetime.fromtimestamp(int(transaction["created"]), tz=timezone.utc)
    values = (
        transaction["id"],
        transaction.get("type") or "",
        source,
        int(transaction["amount"]),
        int(transaction.get("fee") or 0),
        int(transaction.get("net") or 0),
        (transaction.get("currency") or "").upper(),
        created,
        now,
    )
    if db.is_sqlite():
        await StripeBalanceTransaction.raw(_INSERT_SQL, *values)
        return int((await StripeBalanceTransaction.raw("SELECT changes() AS n"))[0]["n"])
    return len(await StripeBalanceTransaction.raw(_INSERT_SQL.strip() + " RETURNING id", *values))


def _moment(value: Any) -> datetime:
    # SQLite hands raw timestamps back as text.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
