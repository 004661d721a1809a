"""A card payment that lands while its hold is being ended (by the sweeper, or by the buyer replacing it from the
same browser) ends in tickets or a full refund, never in an expired order keeping the money: each interleaving
is forced by pausing one transaction at the step that matters while the other runs into it.

On PostgreSQL the paused transaction holds the order's row lock and the other waits on it; on SQLite it holds
the only write lock. Either way the second transaction must act on what the first committed."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from events import db
from events.orders import service as orders_service
from events.orders.tables import Order, OrderHistory
from events.payments import service as payments
from events.payments.tables import Payment, Refund
from events.tickets import issuing
from events.tickets.tables import OutboxMessage, Ticket
from tests.factories import make_event
from tests.integration.payments.conftest import StripeApp, place_order, places_left, post_event, read_order, ticket_type_id, wait_for
from tests.integration.payments.test_stripe_payments import hold_ran_out, paid_order, places_add_up
from tests.support.localstripe import VISA


@dataclass
class Pause:
    reached: asyncio.Event
    go: asyncio.Event


@contextlib.asynccontextmanager
async def paused_after(monkeypatch: pytest.MonkeyPatch, name: str, module: Any = orders_service) -> AsyncIterator[Pause]:
    """The first call of <module>.<name> (orders.service by default) runs, then waits (inside its caller's
    transaction) until `go`."""
    pause = Pause(asyncio.Event(), asyncio.Event())
    original: Callable[..., Any] = getattr(module, name)

    async def pausing(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if not pause.reached.is_set():
            pause.reached.set()
            await pause.go.wait()
        return result

    monkeypatch.setattr(module, name, pausing)
    try:
        yield pause
    finally:
        pause.go.set()


async def second_one_waits() -> None:
    """Until the other transaction is queued behind the paused one's lock (PostgreSQL shows it waiting on a
    row lock; SQLite's waiting writer cannot be seen, so it is given a moment: it waits however long it gets)."""
    if db.is_sqlite():
        await asyncio.sleep(0.5)
        return

    async def waiting() -> bool:
        rows = await Order.raw("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return rows[0]["n"] > 0

    await wait_for(waiting, timeout=10, interval=0.02, what="the second transaction to wait for the first one's lock")


async def succeeded_webhook(stripe_app: StripeApp, intent_id: str) -> httpx.Response:
    return await post_event(stripe_app.http, "payment_intent.succeeded", await stripe_app.localstripe.retrieve_intent(intent_id))


async def history(reference: str) -> list[str]:
    rows = await OrderHistory.select(OrderHistory.kind).where(OrderHistory.order_id.reference == reference).order_by(OrderHistory.id)
    return [row["kind"] for row in rows]


async def outbox(reference: str) -> list[str]:
    rows = await OutboxMessage.select(OutboxMessage.kind).where(OutboxMessage.order_id.reference == reference).order_by(OutboxMessage.id)
    return [row["kind"] for row in rows]


def within(seconds: float) -> Callable[[Any], Any]:
    return lambda awaitable: asyncio.wait_for(awaitable, seconds)


# --- the sweeper against a payment -------------------------------------------------------------------------


async def test_a_payment_landing_while_the_sweeper_expires_its_hold_gets_tickets(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """The sweeper has marked the hold expired (not committed yet) when Stripe's webhook arrives: the payment
    waits, then finds the hold expired and takes its places back, which are still free."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await place_order(http, slug, 2)
    await hold_ran_out(order)
    assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200

    async with paused_after(monkeypatch, "release_places") as sweeper_paused:
        sweep = asyncio.create_task(payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways))
        await within(10)(sweeper_paused.reached.wait())
        webhook = asyncio.create_task(succeeded_webhook(stripe_app, order.intent_id))
        await second_one_waits()
        sweeper_paused.go.set()
        expired, delivered = await within(20)(asyncio.gather(sweep, webhook))

    assert expired == 1
    assert delivered.status_code == 200, delivered.text
    body = await read_order(http, order)
    assert body["status"] == "paid"
    assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]
    assert await history(order.reference) == ["created", "hold_expired", "late_payment_issued"]
    assert await outbox(order.reference) == ["order_confirmation"]
    assert await Payment.count().where(Payment.provider_reference == order.intent_id) == 1
    assert await Refund.count() == 0 and await localstripe.refunds(order.intent_id) == []
    assert await places_left(http, slug) == 18
    await places_add_up(slug)


async def test_a_payment_settling_while_the_sweeper_comes_for_its_hold_keeps_its_tickets(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """The other way round: the payment is issuing tickets (not committed) when the sweeper reaches the overdue
    hold. The sweeper waits, then finds the order paid and releases nothing."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now)
    order = await place_order(http, slug, 2)
    await hold_ran_out(order)
    assert (await localstripe.pay(order.intent_id, VISA)).status_code == 200

    async with paused_after(monkeypatch, "issue_tickets", issuing) as payment_paused:
        webhook = asyncio.create_task(succeeded_webhook(stripe_app, order.intent_id))
        await within(10)(payment_paused.reached.wait())
        sweep = asyncio.create_task(payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways))
        await second_one_waits()
        payment_paused.go.set()
        delivered, expired = await within(20)(asyncio.gather(webhook, sweep))

    assert delivered.status_code == 200, delivered.text
    assert expired == 0
    body = await read_order(http, order)
    assert body["status"] == "paid"
    assert [t["status"] for t in body["tickets"]] == ["valid", "valid"]
    assert await history(order.reference) == ["created", "paid"]
    assert await Refund.count() == 0
    assert await places_left(http, slug) == 18
    await places_add_up(slug)


# --- the buyer replacing their hold against a payment for it ----------------------------------------------


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def buy_with_form(http: httpx.AsyncClient, slug: str, quantity: int) -> httpx.Response:
    """The event page's buy form; the browser's held_order cookie makes a second purchase replace the first."""
    type_id = await ticket_type_id(http, slug)
    page = await http.get(f"/events/{slug}")
    form = {f"quantity_{type_id}": str(quantity), "name": "Amal Haddad", "email": "amal@example.org", "_csrf_token": csrf(page.text)}
    return await http.post(f"/events/{slug}/buy", data=form)


async def form_order(slug: str) -> dict[str, Any]:
    """The newest order of the event (the one the form just placed)."""
    row = (
        await Order.select(Order.reference, Order.payment_intent_id, Order.status)
        .where(Order.event.slug == slug)
        .order_by(Order.id, ascending=False)
        .first()
    )
    assert row is not None
    return row


async def order_status(reference: str) -> str:
    row = await Order.select(Order.status).where(Order.reference == reference).first()
    assert row is not None
    return row["status"]


async def test_a_payment_landing_while_its_hold_is_replaced_is_refunded_when_the_places_went_to_the_new_hold(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """The buyer paid on the first payment page, went back and bought again; the new hold is replacing the first
    (its places are the event's last) as Stripe's webhook for the first arrives. The payment waits, finds its
    hold replaced and its places gone, and is refunded in full with the guest emailed."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=2, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)
    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code == 200

    async with paused_after(monkeypatch, "release_places") as replacement_paused:
        again = asyncio.create_task(buy_with_form(http, slug, 2))
        await within(10)(replacement_paused.reached.wait())
        webhook = asyncio.create_task(succeeded_webhook(stripe_app, first["payment_intent_id"]))
        await second_one_waits()
        replacement_paused.go.set()
        bought_again, delivered = await within(20)(asyncio.gather(again, webhook))

    assert bought_again.status_code == 303, bought_again.text
    assert delivered.status_code == 200, delivered.text
    second = await form_order(slug)
    assert second["reference"] != first["reference"] and second["status"] == "pending"
    assert await order_status(first["reference"]) == "refunded"
    assert await Ticket.count().where(Ticket.order_id.reference == first["reference"]) == 0
    assert await history(first["reference"]) == ["created", "hold_expired", "late_payment_refund_due", "late_payment_refunded"]
    assert await outbox(first["reference"]) == ["late_payment_refunded"]
    at_stripe = await localstripe.refunds(first["payment_intent_id"])
    paid = await Payment.select(Payment.amount_pence).where(Payment.provider_reference == first["payment_intent_id"])
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(paid[0]["amount_pence"], "succeeded")]
    assert await places_left(http, slug) == 0
    await places_add_up(slug)


async def test_a_payment_settling_while_the_buyer_replaces_its_hold_keeps_its_tickets(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """The other way round: the first order's payment is issuing tickets when the new hold tries to replace it.
    The new hold waits, finds the first order paid, and is placed beside it (there is room)."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)
    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code == 200

    async with paused_after(monkeypatch, "issue_tickets", issuing) as payment_paused:
        webhook = asyncio.create_task(succeeded_webhook(stripe_app, first["payment_intent_id"]))
        await within(10)(payment_paused.reached.wait())
        again = asyncio.create_task(buy_with_form(http, slug, 2))
        await second_one_waits()
        payment_paused.go.set()
        delivered, bought_again = await within(20)(asyncio.gather(webhook, again))

    assert delivered.status_code == 200, delivered.text
    assert bought_again.status_code == 303, bought_again.text
    assert await order_status(first["reference"]) == "paid"
    assert await Ticket.count().where(Ticket.order_id.reference == first["reference"], Ticket.status == "valid") == 2
    assert await history(first["reference"]) == ["created", "paid"]
    second = await form_order(slug)
    assert second["reference"] != first["reference"] and second["status"] == "pending"
    assert await places_left(http, slug) == 0
    await places_add_up(slug)


# --- the worker dying between booking a late payment and refunding it -------------------------------------


class WorkerDied(Exception):
    pass


def dies_after_the_first_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process stops the moment its first write transaction has committed (nested ones join it)."""
    original = db.write_transaction
    depth = 0

    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[None]:
        nonlocal depth
        depth += 1
        try:
            async with original():
                yield
        finally:
            depth -= 1
        if depth == 0:
            monkeypatch.setattr(db, "write_transaction", original)
            raise WorkerDied

    monkeypatch.setattr(db, "write_transaction", transaction)


async def test_a_late_payment_for_a_full_event_is_refunded_even_if_the_worker_dies_once_it_is_booked(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    """Booking the payment and deciding its refund are one transaction: whatever stops after that commit, the
    pending refund is on record, the guest's email queued, and the refund job sends it to Stripe."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=2, reserved_free_places=0)
    late = await place_order(http, slug, 2)
    await hold_ran_out(late)
    assert (await localstripe.pay(late.intent_id, VISA)).status_code == 200
    await paid_order(stripe_app, slug, 2, buyer={"name": "Bo Li", "email": "bo@example.org"})  # takes the released places

    dies_after_the_first_commit(monkeypatch)
    with pytest.raises(WorkerDied):
        await payments.sync_intent(late.intent_id, gateway=stripe_app.gateway, now=datetime.now(timezone.utc))
    assert await Payment.count().where(Payment.provider_reference == late.intent_id) == 1
    assert await localstripe.refunds(late.intent_id) == []  # Stripe was not asked yet

    # Stripe tells us again, and the refund job runs: the money goes back once, and the guest is told.
    assert (await succeeded_webhook(stripe_app, late.intent_id)).status_code == 200
    await payments.retry_pending_refunds(datetime.now(timezone.utc) + timedelta(minutes=1), gateways=stripe_app.gateways)
    body = await read_order(http, late)
    assert body["status"] == "refunded" and body["tickets"] == []
    assert body["refunded_pence"] == late.total_pence
    assert [(r["amount"], r["status"]) for r in await localstripe.refunds(late.intent_id)] == [(late.total_pence, "succeeded")]
    assert [r["status"] for r in await Refund.select(Refund.status).where(Refund.order_id.reference == late.reference)] == ["succeeded"]
    assert await outbox(late.reference) == ["late_payment_refunded"]
    await places_add_up(slug)
