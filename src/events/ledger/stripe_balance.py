"""Checking the ledger against Stripe: importing Stripe's balance transactions into the database (the
paginated API, as a periodic job or on demand), matching each affected event's card payments and refunds
with them in SQL after every import, and reading what was found, so a statement never calls Stripe.

Each organisation has its own Stripe account: an import reads one organisation's account and keeps its
transactions as that organisation's, and an event is checked against its organisation's transactions only.

A statement's check is as of the last import, plus the card payments and refunds recorded since (which no
import has covered yet: `not_checked`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from piccolo.query.functions.aggregate import Max, Min

from events import db
from events.catalogue.tables import Event
from events.errors import Conflict, EventsError, InvalidInput
from events.i18n import N_
from events.ledger import queries
from events.ledger.schemas import (
    AmountMismatch,
    ChargeWithoutOrder,
    Difference,
    FeeMismatch,
    MissingFromStripe,
    NotChecked,
    RefundAmountMismatch,
    RefundMissingFromStripe,
    RefundWithoutRecord,
    StripeImported,
)
from events.ledger.tables import StripeBalanceTransaction, StripeDifference, StripeImport
from events.organisations.tables import Organisation
from events.payments.gateway import BalanceTransaction, Gateway, PaymentProviderError
from events.payments.gateways import Gateways
from events.payments.statuses import PaymentMethod, RefundStatus
from events.payments.tables import Payment, Refund

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

logger = logging.getLogger("events.ledger")


class StripeUnavailable(EventsError):
    status_code = 503
    code = "stripe_unavailable"


async def differences(event_id: int) -> list[Difference]:
    """What does not agree between the event's card payments and refunds and Stripe's balance transactions:
    first how many were recorded after the last import (``not_checked``), then what the check after that
    import found: payments or refunds Stripe does not have, amounts and fees that differ, Stripe charges
    and refunds that match nothing here. A few small reads, whatever the size of the event."""
    covered_to = await imported_to(await event_organisation(event_id)) or datetime(1970, 1, 1, tzinfo=timezone.utc)
    # Card payments and refunds of the event recorded since the period the imports cover ends.
    unchecked = await Payment.count().where(
        Payment.order_id.event == event_id, Payment.provider == PaymentMethod.stripe, Payment.created_at >= covered_to
    ) + await Refund.count().where(
        Refund.order_id.event == event_id,
        Refund.method == PaymentMethod.stripe,
        Refund.status == RefundStatus.succeeded,
        Refund.created_at >= covered_to,
    )
    stored = (
        await StripeDifference.select(StripeDifference.kind, StripeDifference.reference, StripeDifference.ledger_pence, StripeDifference.stripe_pence)
        .where(StripeDifference.event == event_id)
        .order_by(StripeDifference.kind, StripeDifference.reference, StripeDifference.id)
        .limit(MAX_DIFFERENCES)
    )
    found = [_difference(row) for row in stored]
    return ([NotChecked(payments=unchecked)] if unchecked else []) + found


async def card_payments(event_id: int) -> int:
    """How many of the event's payments were by card through Stripe: with none, there is nothing to reconcile with it
    (free places, test payments and cash at the door only), which a statement says rather than "reconciled: yes"."""
    return await Payment.count().where(Payment.order_id.event == event_id, Payment.provider == PaymentMethod.stripe)


async def imported_to(organisation_id: int | None) -> datetime | None:
    """Where the organisation's imported period ends: its card payments and refunds recorded later are not checked yet."""
    last = (
        await StripeImport.select(StripeImport.created_to)
        .where(StripeImport.organisation == organisation_id)
        .order_by(StripeImport.created_to, ascending=False)
        .first()
    )
    return _moment(last["created_to"]) if last else None


async def check_event(event_id: int, *, now: datetime) -> int:
    """Match the event's card payments and refunds with its organisation's imported balance transactions,
    replacing what the previous check found; returns how many differences there are now."""
    window = await Payment.select(Min(Payment.created_at, alias="first"), Max(Payment.created_at, alias="last")).where(
        Payment.order_id.event == event_id, Payment.provider == PaymentMethod.stripe
    )
    first = _moment(window[0]["first"]) if window and window[0]["first"] is not None else None
    last = _moment(window[0]["last"]) if window and window[0]["last"] is not None else None
    async with db.write_transaction():
        await StripeDifference.delete().where(StripeDifference.event == event_id)
        if first is None or last is None:
            return 0
        start, end = first - UNMATCHED_BEFORE, last + UNMATCHED_AFTER
        organisation_id = await event_organisation(event_id)
        await db.run(queries.CHECK_EVENT, organisation_id, event_id, event_id, event_id, now, start, end, start, end, MAX_DIFFERENCES)
        return await StripeDifference.count().where(StripeDifference.event == event_id)


def _difference(row: dict[str, Any]) -> Difference:
    kind, reference = row["kind"], row["reference"]
    ours = None if row["ledger_pence"] is None else int(row["ledger_pence"])
    theirs = None if row["stripe_pence"] is None else int(row["stripe_pence"])
    if kind == "not_checked":
        return NotChecked(payments=ours or 0)
    if kind == "missing_from_stripe":
        return MissingFromStripe(payment=reference, amount_pence=ours)
    if kind == "amount_mismatch":
        return AmountMismatch(payment=reference, ledger_pence=ours, stripe_pence=theirs)
    if kind == "fee_mismatch":
        return FeeMismatch(payment=reference, ledger_pence=ours, stripe_pence=theirs)
    if kind == "charge_without_order":
        return ChargeWithoutOrder(charge=reference, amount_pence=theirs)
    if kind == "refund_missing_from_stripe":
        return RefundMissingFromStripe(refund=reference, amount_pence=ours)
    if kind == "refund_amount_mismatch":
        return RefundAmountMismatch(refund=reference, ledger_pence=ours, stripe_pence=theirs)
    return RefundWithoutRecord(refund=reference, amount_pence=theirs)


async def import_balance_transactions(
    organisation_id: int, *, gateway: Gateway, start: datetime | None, end: datetime | None, now: datetime, requested_by: str
) -> StripeImported:
    """Fetch the organisation's balance transactions created in [start, end) from its Stripe account
    (``gateway``: payments.gateways' answer for it; by default: since shortly before its last import, or before
    its first card payment, up to now) and keep them as its own; importing a period twice keeps each transaction
    once. Returns the period and how many transactions Stripe listed and how many were new."""
    if gateway.provider != PaymentMethod.stripe or not gateway.takes_cards:
        raise Conflict(N_("Stripe is not set up here, so there is nothing to import."), code="stripe_not_configured")
    end = end or now
    start = start or await _default_start(organisation_id, now)
    if end <= start:
        raise InvalidInput("The period must end after it starts.", fields={"to": "Must be after from."})
    try:
        listed = await gateway.balance_transactions(created_from=int(start.timestamp()), created_to=int(end.timestamp()))
    except PaymentProviderError as exc:
        raise StripeUnavailable(str(exc)) from exc
    new = 0
    async with db.write_transaction():
        for transaction in listed:
            new += await _keep(transaction, organisation_id, now)
        await StripeImport(
            organisation=organisation_id, created_from=start, created_to=end, transactions=len(listed), imported_at=now, requested_by=requested_by
        ).save()
    found = {event_id: await check_event(event_id, now=now) for event_id in await _affected_events(organisation_id, start, end)}
    return StripeImported(
        from_=start,
        to=end,
        transactions=len(listed),
        new_transactions=new,
        events_checked=len(found),
        differences=sum(found.values()),
    )


async def import_for_organisation(
    organisation_id: int, *, gateways: Gateways, start: datetime | None, end: datetime | None, now: datetime, requested_by: str
) -> StripeImported:
    """An import on demand (the API, the statement page's button) from the organisation's own Stripe account."""
    gateway = await gateways.for_organisation(organisation_id)
    return await import_balance_transactions(organisation_id, gateway=gateway, start=start, end=end, now=now, requested_by=requested_by)


async def checks_against_stripe(slug: str, *, gateways: Gateways) -> bool:
    """Whether the event's organisation takes card payments through Stripe (so its statement can be checked)."""
    gateway = await gateways.for_event(slug)
    return gateway.provider == PaymentMethod.stripe and gateway.takes_cards


async def import_recent(now: datetime, *, gateways: Gateways) -> int:
    """The periodic job: for each organisation whose payments go through Stripe, import what its account has
    added since its last import (nothing to do before its first card payment). One organisation's Stripe
    being out of reach does not hold up the others; it is tried again next time."""
    new = 0
    for row in await Organisation.select(Organisation.id).order_by(Organisation.id):
        organisation_id = row["id"]
        gateway = await gateways.for_organisation(organisation_id)
        if gateway.provider != PaymentMethod.stripe or not gateway.takes_cards:
            continue
        if not await Payment.exists().where(Payment.provider == PaymentMethod.stripe, Payment.order_id._.event._.organisation == organisation_id):
            continue
        try:
            imported = await import_balance_transactions(organisation_id, gateway=gateway, start=None, end=None, now=now, requested_by="worker")
        except StripeUnavailable:
            logger.warning("Could not import organisation %s's Stripe balance transactions; will try again", organisation_id)
            continue
        new += imported.new_transactions
    return new


async def event_organisation(event_id: int) -> int | None:
    row = await Event.select(Event.organisation).where(Event.id == event_id).first()
    return row["organisation"] if row else None


async def _affected_events(organisation_id: int, start: datetime, end: datetime) -> list[int]:
    """The organisation's events an import of [start, end) can change the check of: Stripe payments or refunds
    recorded in it, or payments that a charge or refund listed in it could belong to (see UNMATCHED_*)."""
    payments = (
        await Payment.select(Payment.order_id.event.as_alias("event"))
        .where(
            Payment.provider == PaymentMethod.stripe,
            Payment.order_id._.event._.organisation == organisation_id,
            Payment.created_at >= start - UNMATCHED_AFTER,
            Payment.created_at < end + UNMATCHED_BEFORE,
        )
        .distinct()
    )
    refunds = (
        await Refund.select(Refund.order_id.event.as_alias("event"))
        .where(
            Refund.method == PaymentMethod.stripe,
            Refund.order_id._.event._.organisation == organisation_id,
            Refund.created_at >= start,
            Refund.created_at < end,
        )
        .distinct()
    )
    return sorted({row["event"] for row in [*payments, *refunds]})


async def _default_start(organisation_id: int, now: datetime) -> datetime:
    last = await imported_to(organisation_id)
    if last is not None:
        return last - IMPORT_OVERLAP
    first = (
        await Payment.select(Payment.created_at)
        .where(Payment.provider == PaymentMethod.stripe, Payment.order_id._.event._.organisation == organisation_id)
        .order_by(Payment.created_at)
        .first()
    )
    return (_moment(first["created_at"]) if first else now) - IMPORT_OVERLAP


async def _keep(transaction: BalanceTransaction, organisation_id: int, now: datetime) -> int:
    kept = StripeBalanceTransaction(
        organisation=organisation_id,
        transaction_id=transaction.id,
        kind=transaction.type,
        source=transaction.source,
        amount_pence=transaction.amount,
        fee_pence=transaction.fee,
        net_pence=transaction.net,
        currency=transaction.currency,
        created_at=datetime.fromtimestamp(transaction.created, tz=timezone.utc),
        imported_at=now,
    )
    inserted = (
        await StripeBalanceTransaction.insert(kept)
        .on_conflict(target=StripeBalanceTransaction.transaction_id, action="DO NOTHING")
        .returning(StripeBalanceTransaction.id)
    )
    return len(inserted)


def _moment(value: Any) -> datetime:
    # SQLite hands a timestamp back as text where it cannot know the column's type (MIN, MAX).
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
