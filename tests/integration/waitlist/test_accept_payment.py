"""Taking up a paid offer when the payment cannot start: an organisation taking no card payments is refused before
anything changes, and a payment provider that cannot be reached leaves the offer standing (the places taken, held
until the offer's own expiry, never given back in between) so the guest can try again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from litestar import Litestar

from events.audit.tables import AuditEntry
from events.orders.tables import Order, OrderHistory
from events.payments.gateway import Gateway, NoCardPayments, PaymentProviderError, TestGateway
from events.payments.gateways import Gateways
from events.waitlist.tables import WaitingEntry
from tests.integration.waitlist.helpers import event_row, joined, sold_out_event, status, type_row
from tests.integration.waitlist.test_waiting_list import raise_capacity, sweep


class Unreachable(TestGateway):
    async def create_intent(self, **_: object) -> tuple[str, str]:
        raise PaymentProviderError("We could not reach the payment provider. Please try again in a moment.")


@contextmanager
def gateway_of_every_organisation(app: Litestar, gateway: Gateway) -> Iterator[None]:
    working = app.state.gateways
    app.state.gateways = Gateways(gateway, app.state.settings)
    try:
        yield
    finally:
        app.state.gateways = working


async def offered_to_two(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> tuple[str, str, str]:
    """A sold-out event; Amira waiting for two places and Bashir for one; two places freed and offered to Amira."""
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira", quantity=2)
    bashir = await joined(client, slug, "Bashir", quantity=1)
    await raise_capacity(client, organiser, slug, by=2)
    assert await sweep(slug, now) == 1
    assert (await status(client, amira))["offer"]["places"] == 2
    return slug, amira, bashir


async def state(slug: str) -> dict[str, Any]:
    """Everything taking up an offer changes."""
    return {
        "entries": [
            (e["status"], e["offered_places"], e["offer_expires_at"], e["offer_order"]) for e in await WaitingEntry.select().order_by(WaitingEntry.id)
        ],
        "orders": [
            (o["status"], o["places"], o["total_pence"], o["hold_expires_at"])
            for o in await Order.select().where(Order.channel == "waitlist").order_by(Order.id)
        ],
        "event_taken": (await event_row(slug))["places_taken"],
        "type_taken": (await type_row(slug))["places_taken"],
        "audit": await AuditEntry.count(),
    }


async def test_no_card_payments_refuses_taking_up_a_paid_offer_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug, amira, bashir = await offered_to_two(client, organiser, now)
    before = await state(slug)
    with gateway_of_every_organisation(app, NoCardPayments()):
        for body in ({}, {"quantity": 1}):
            refused = await client.post(f"/api/waiting-list/{amira}/accept", json=body)
            assert refused.status_code == 409 and refused.json()["error"] == "card_payments_unavailable", refused.text
    assert await state(slug) == before
    assert (await status(client, amira))["status"] == "offered" and (await status(client, bashir))["status"] == "waiting"

    # Once the organisation takes cards again, the same offer is taken up.
    taken = await client.post(f"/api/waiting-list/{amira}/accept", json={})
    assert taken.status_code == 201 and taken.json()["status"] == "pending", taken.text


async def test_a_payment_provider_that_cannot_be_reached_leaves_the_offer_standing_to_try_again(
    client: httpx.AsyncClient, app: Litestar, organiser: dict[str, str], now: datetime
) -> None:
    slug, amira, bashir = await offered_to_two(client, organiser, now)
    [entry, _] = await WaitingEntry.select().order_by(WaitingEntry.id)
    expires = entry["offer_expires_at"]
    taken_before = (await event_row(slug))["places_taken"]

    with gateway_of_every_organisation(app, Unreachable()):
        down = await client.post(f"/api/waiting-list/{amira}/accept", json={"quantity": 1})
    assert down.status_code == 503 and down.json()["error"] == "payment_unavailable", down.text

    # The offer stands again: the one place she took, until the offer's own expiry, its order still holding it.
    again = await status(client, amira)
    assert again["status"] == "offered" and again["offer"]["places"] == 1
    assert datetime.fromisoformat(again["offer"]["expires_at"]) == expires
    order = await Order.select(Order.id, Order.status, Order.places, Order.hold_expires_at).where(Order.id == entry["offer_order"]).first()
    assert order is not None
    assert (order["status"], order["places"], order["hold_expires_at"]) == ("pending", 1, expires)
    # The place she did not take went on to Bashir; hers was never given back in between (no hold ended).
    assert (await status(client, bashir))["offer"]["places"] == 1
    assert (await event_row(slug))["places_taken"] == taken_before
    history = [row["kind"] for row in await OrderHistory.select(OrderHistory.kind).where(OrderHistory.order_id == order["id"])]
    assert "hold_expired" not in history and "offer_reopened" in history
    reopened = await AuditEntry.select(AuditEntry.after).where(AuditEntry.action == "waiting_list.offer_reopened")
    assert len(reopened) == 1

    # Trying again, the payment starts.
    retried = await client.post(f"/api/waiting-list/{amira}/accept", json={})
    assert retried.status_code == 201, retried.text
    body = retried.json()
    price, fee = (await type_row(slug))["price_pence"], (await event_row(slug))["booking_fee_pence"]
    assert body["status"] == "pending" and body["total_pence"] == price + fee and body["reference"]
    assert (await status(client, amira))["status"] == "accepted"
    assert (await event_row(slug))["places_taken"] == taken_before
