"""A correctly signed Stripe webhook whose body is not a usable event is answered 400 (not a 500 Stripe
would retry for days) and logged with its event id; nothing is recorded."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from events.payments.tables import WebhookEvent
from tests.support.localstripe import WEBHOOK_SECRET, sign

UNUSABLE = {
    "no data": {"id": "evt_nodata", "object": "event", "type": "payment_intent.succeeded"},
    "data is a list": {"id": "evt_datalist", "type": "payment_intent.succeeded", "data": []},
    "object is a string": {"id": "evt_objstring", "type": "payment_intent.succeeded", "data": {"object": "pi_123"}},
    "id is a number": {"id": 12345, "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_123"}}},
    "oversized id": {"id": "evt_" + "x" * 5000, "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_123"}}},
    "type is a number": {"id": "evt_typenumber", "type": 7, "data": {"object": {"id": "pi_123"}}},
    "intent id oversized": {"id": "evt_bigintent", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_" + "9" * 500}}},
    "intent id with a NUL": {"id": "evt_nulintent", "type": "charge.refunded", "data": {"object": {"payment_intent": "pi_\u0000"}}},
    "the event is a list": [{"id": "evt_list"}],
    "the event is a string": "evt_string",
    "not JSON": "{not json",
}
EVENT_IDS = {"no data": "evt_nodata", "type is a number": "evt_typenumber", "intent id oversized": "evt_bigintent"}


@pytest.fixture
def signed_webhooks(app: Litestar) -> Iterator[None]:
    original = app.state.settings
    stripe = dataclasses.replace(original.stripe, webhook_secret=WEBHOOK_SECRET)
    app.state.settings = dataclasses.replace(original, stripe=stripe)
    yield
    app.state.settings = original


@pytest.mark.parametrize("event", UNUSABLE.values(), ids=UNUSABLE.keys())
async def test_a_signed_but_unusable_webhook_is_a_bad_request(
    client: httpx.AsyncClient, signed_webhooks: None, caplog: pytest.LogCaptureFixture, event: Any
) -> None:
    payload = event.encode() if isinstance(event, str) and event.startswith("{") else json.dumps(event).encode()
    with caplog.at_level(logging.WARNING, logger="events.payments"):
        response = await client.post(
            "/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert await WebhookEvent.count() == 0
    event_id = event.get("id") if isinstance(event, dict) else None
    if isinstance(event_id, str) and len(event_id) < 100 and "\x00" not in json.dumps(event):
        assert any(event_id in record.getMessage() for record in caplog.records), [r.getMessage() for r in caplog.records]


async def test_a_usable_webhook_is_still_received(client: httpx.AsyncClient, signed_webhooks: None) -> None:
    payload = json.dumps({"id": "evt_fine", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}).encode()
    response = await client.post("/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "outcome": "ignored"}
    assert await WebhookEvent.count() == 1
