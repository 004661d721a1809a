"""A buyer who goes back from the payment page and buys again replaces their first hold: the first hold's
PaymentIntent is cancelled at Stripe at once (or by the sweeper if Stripe cannot be reached), so the first
payment page cannot take a second payment for the same places; a payment made there before the cancellation
is settled late, in tickets while places are free, else refunded in full with the guest emailed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from events.orders.tables import Order
from events.payments import service as payments
from events.payments.gateway import PaymentProviderError
from events.payments.tables import Payment, Refund
from events.tickets.tables import Ticket
from tests.factories import make_event
from tests.integration.payments.conftest import StripeApp, places_left, ticket_type_id
from tests.integration.payments.test_late_payment_races import buy_with_form, csrf, form_order, history, order_status, outbox
from tests.integration.payments.test_stripe_payments import places_add_up
from tests.support.localstripe import VISA


async def intent_closed(reference: str) -> bool:
    row = await Order.select(Order.intent_closed_at).where(Order.reference == reference).first()
    assert row is not None
    return row["intent_closed_at"] is not None


async def test_buying_again_cancels_the_first_payment_so_its_page_cannot_charge(stripe_app: StripeApp, now: datetime) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    second = await form_order(slug)

    assert await order_status(first["reference"]) == "expired" and second["status"] == "pending"
    assert (await localstripe.retrieve_intent(first["payment_intent_id"]))["status"] == "canceled"
    assert await intent_closed(first["reference"])  # the sweeper need not ask Stripe again
    assert (await localstripe.retrieve_intent(second["payment_intent_id"]))["status"] == "requires_payment_method"

    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code >= 400  # the stale page cannot charge
    assert (await localstripe.pay(second["payment_intent_id"], VISA)).status_code == 200
    assert await Payment.count() == 0 and await places_left(http, slug) == 2
    await places_add_up(slug)


async def test_the_sweeper_cancels_a_replaced_payment_that_could_not_be_cancelled_at_once(
    stripe_app: StripeApp, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)

    async def unreachable(intent_id: str) -> str:
        raise PaymentProviderError("We could not reach the payment provider.")

    with monkeypatch.context() as patch:
        patch.setattr(stripe_app.gateway, "cancel_intent", unreachable)
        assert (await buy_with_form(http, slug, 2)).status_code == 303  # the new hold is placed all the same
    assert await order_status(first["reference"]) == "expired"
    assert (await localstripe.retrieve_intent(first["payment_intent_id"]))["status"] == "requires_payment_method"
    assert not await intent_closed(first["reference"])

    # The sweeper leaves it a few minutes (the new hold could still fail to start its payment and put it back), then
    # cancels it.
    assert await payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways) == 0  # nothing overdue
    assert not await intent_closed(first["reference"])
    later = datetime.now(timezone.utc) + payments.REPLACED_HOLD_GRACE + timedelta(seconds=1)
    assert await payments.sweep_expired_holds(later, gateways=stripe_app.gateways) == 0
    assert (await localstripe.retrieve_intent(first["payment_intent_id"]))["status"] == "canceled"
    assert await intent_closed(first["reference"])
    await places_add_up(slug)


async def test_a_first_payment_made_before_buying_again_gets_its_tickets_while_places_are_free(stripe_app: StripeApp, now: datetime) -> None:
    """Paid on the first page (Stripe's webhook not here yet), then went back and bought again: cancelling the
    first payment finds it succeeded, and it is settled late. Both orders stand; the buyer chose to buy again."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)
    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code == 200
    assert (await buy_with_form(http, slug, 2)).status_code == 303

    assert await order_status(first["reference"]) == "paid"
    assert await Ticket.count().where(Ticket.order_id.reference == first["reference"], Ticket.status == "valid") == 2
    assert await history(first["reference"]) == ["created", "hold_expired", "late_payment_issued"]
    assert await outbox(first["reference"]) == ["order_confirmation"]
    assert await intent_closed(first["reference"])
    assert (await form_order(slug))["status"] == "pending"
    assert await Refund.count() == 0 and await places_left(http, slug) == 0
    await places_add_up(slug)


async def test_a_first_payment_made_before_buying_again_is_refunded_when_its_places_went_to_the_new_hold(
    stripe_app: StripeApp, now: datetime
) -> None:
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=2, reserved_free_places=0)
    assert (await buy_with_form(http, slug, 2)).status_code == 303
    first = await form_order(slug)
    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code == 200
    assert (await buy_with_form(http, slug, 2)).status_code == 303  # the event's last places: the first hold's

    assert await order_status(first["reference"]) == "refunded"
    assert await Ticket.count().where(Ticket.order_id.reference == first["reference"]) == 0
    assert await history(first["reference"]) == ["created", "hold_expired", "late_payment_refund_due", "late_payment_refunded"]
    assert await outbox(first["reference"]) == ["late_payment_refunded"]
    [paid] = await Payment.select(Payment.amount_pence).where(Payment.provider_reference == first["payment_intent_id"])
    at_stripe = await localstripe.refunds(first["payment_intent_id"])
    assert [(r["amount"], r["status"]) for r in at_stripe] == [(paid["amount_pence"], "succeeded")]
    assert (await form_order(slug))["status"] == "pending"
    assert await places_left(http, slug) == 0

    # The sweeper and Stripe's late webhook change nothing more.
    await payments.sweep_expired_holds(datetime.now(timezone.utc), gateways=stripe_app.gateways)
    await payments.recheck_payments(datetime.now(timezone.utc), gateways=stripe_app.gateways)
    assert len(await localstripe.refunds(first["payment_intent_id"])) == 1
    assert await Refund.count().where(Refund.order_id.reference == first["reference"]) == 1
    await places_add_up(slug)


async def test_a_changed_order_cancels_the_payment_so_the_old_page_cannot_charge(stripe_app: StripeApp, now: datetime) -> None:
    """ "Change order" changes nothing by itself (the old payment page still takes the payment); the changed order,
    once its payment has started, replaces the order and cancels its payment."""
    http, localstripe = stripe_app.http, stripe_app.localstripe
    slug = await make_event(now, capacity=4, reserved_free_places=0)
    bought = await buy_with_form(http, slug, 2)
    assert bought.status_code == 303
    first = await form_order(slug)
    page = await http.get(bought.headers["location"])
    token = bought.headers["location"].partition("token=")[2]
    changed = await http.post(f"/orders/{first['reference']}/change", data={"token": token, "_csrf_token": csrf(page.text)})
    assert changed.status_code == 200 and await places_left(http, slug) == 2
    assert await order_status(first["reference"]) == "pending"
    assert (await localstripe.retrieve_intent(first["payment_intent_id"]))["status"] == "requires_payment_method"

    type_id = await ticket_type_id(http, slug)
    changes = re.search(r'name="changes" value="([^"]+)"', changed.text)
    assert changes is not None
    form = {
        f"quantity_{type_id}": "3",
        "name": "Amal Haddad",
        "email": "amal@example.org",
        "changes": changes.group(1),
        "_csrf_token": csrf(changed.text),
    }
    assert (await http.post(f"/events/{slug}/buy", data=form)).status_code == 303
    assert await order_status(first["reference"]) == "expired" and await places_left(http, slug) == 1
    assert (await localstripe.retrieve_intent(first["payment_intent_id"]))["status"] == "canceled"
    assert await intent_closed(first["reference"])
    assert (await localstripe.pay(first["payment_intent_id"], VISA)).status_code >= 400
    await places_add_up(slug)
