"""Checkout, behind the buy endpoints (storefront.order_controllers): hold the places, then start the card payment;
a free order is settled into tickets at once. Booking the payment when it succeeds is payments.service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events import db
from events.errors import Conflict
from events.i18n import N_
from events.orders import pricing
from events.orders import service as orders
from events.orders.hold_limits import Asker
from events.orders.service import PlacedOrder
from events.orders.statuses import OrderStatus
from events.orders.tables import Order
from events.payments import service as payments
from events.payments.gateway import CardPaymentsOff, Gateway, PaymentProviderError
from events.payments.statuses import PaymentMethod
from events.tickets import issuing


@dataclass(frozen=True, slots=True)
class Checkout:
    order: PlacedOrder
    provider: str
    intent_id: str | None
    client_secret: str | None


async def checkout(
    slug: str,
    request: pricing.Request,
    *,
    gateway: Gateway,
    now: datetime,
    hold_minutes: int,
    asker: Asker,
    locale: str = "en",
    on_placed: orders.OnPlaced | None = None,
) -> Checkout:
    """Hold places, then start the payment with ``gateway``, the event's organisation's (payments.gateways). If the
    provider cannot be reached, or the organisation takes no card payments, the hold is released at once.

    A hold this one replaces (``asker.changes`` or ``asker.replaces``: the buyer used "Change order", or sent the form
    again) ends as the new one is placed, but its PaymentIntent is cancelled only once the new one's payment has
    started: if it cannot start (Stripe down), the earlier hold is put back as it was in the transaction that releases
    the new one, its payment page still working. Before replacing a hold at all, Stripe is asked briefly about its payment: when
    Stripe is known not to answer, the earlier hold is not even touched.
    ``on_placed`` adds to the order in the transaction that places it (orders.place_order)."""
    for earlier in dict.fromkeys(reference for reference in (asker.changes, asker.replaces) if reference):
        await _provider_answers(earlier, gateway)
    placed = await orders.place_order(slug, request, now=now, hold_minutes=hold_minutes, asker=asker, locale=locale, on_placed=on_placed)
    if placed.total_pence == 0:
        async with db.write_transaction():
            await Order.update({Order.payment_provider: "none"}).where(Order.id == placed.id)
            await issuing.settle_paid_order(placed.id, now)
        await _close_replaced(placed, gateway, now)
        return Checkout(placed, "none", None, None)
    try:
        intent_id, client_secret = await gateway.create_intent(
            reference=placed.reference, amount_pence=placed.total_pence, currency=placed.currency, event_slug=slug
        )
    except CardPaymentsOff:
        await orders.release_hold(placed.id, now, reason="no card payments", restore=placed.replaced)
        raise Conflict(N_("This organisation does not take card payments online yet."), code="card_payments_unavailable") from None
    except PaymentProviderError as exc:
        await orders.release_hold(placed.id, now, reason="payment provider unavailable", restore=placed.replaced)
        raise payments.PaymentUnavailable(str(exc)) from exc
    await orders.record_payment_start(placed.id, provider=gateway.provider, intent_id=intent_id, client_secret=client_secret)
    await _close_replaced(placed, gateway, now)
    return Checkout(placed, gateway.provider, intent_id, client_secret)


async def _provider_answers(replaces: str, gateway: Gateway) -> None:
    """The buyer's earlier hold is about to be replaced: if it is a pending card payment's, Stripe is asked about
    it briefly (Gateway.retrieve_intent, quick) and a Stripe that does not answer refuses the checkout here
    (PaymentUnavailable), before anything is changed."""
    if gateway.provider != PaymentMethod.stripe or not gateway.takes_cards:
        return
    row = await Order.select(Order.payment_intent_id).where(Order.reference == replaces, Order.status == OrderStatus.pending).first()
    if row is None or not row["payment_intent_id"]:
        return
    try:
        await gateway.retrieve_intent(row["payment_intent_id"], quick=True)
    except PaymentProviderError as exc:
        raise payments.PaymentUnavailable(str(exc)) from exc


async def _close_replaced(placed: PlacedOrder, gateway: Gateway, now: datetime) -> None:
    """The hold the new one replaced has its payment cancelled at once, as the sweeper would."""
    if placed.replaced is not None:
        row = await Order.select(Order.reference).where(Order.id == placed.replaced).first()
        if row is not None:
            await payments.close_replaced_intent(row["reference"], gateway=gateway, now=now)
