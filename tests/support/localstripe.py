"""localstripe: a stateful fake Stripe API on loopback, for payment tests that go through the real Stripe SDK.

`run_localstripe(tmp)` starts it as a subprocess on 127.0.0.1:<free port> with its data file inside `tmp`
(localstripe hard-codes /tmp/localstripe.pickle, so the launcher redirects the Store's load and dump),
waits until it answers and yields a `LocalStripe` handle with helpers:

- `register_webhook(...)`: localstripe signs and POSTs events (payment_intent.succeeded / payment_failed
  only: it never sends charge.refunded) to every registered endpoint, about a second after they happen;
- `pay(intent_id, card)`: what Stripe.js' confirmCardPayment does with a card element, done server-side
  (a PaymentMethod for the card number, attached to the PaymentIntent, then confirmed). localstripe's own
  Stripe.js stand-in cannot do this (see `confirm_route` in tests/browser/test_card_purchase.py);
- `pay_with_wallet(intent_id, billing_details)`: the same for an Apple Pay or Google Pay payment (a card
  PaymentMethod with the wallet's billing details; localstripe has no wallets);
- refunds made "in the dashboard", i.e. straight to Stripe rather than through our API;
- `signed_event(...)`: a webhook body and Stripe-Signature header built as Stripe documents them.

Known gaps of localstripe: no Checkout Sessions, fees are always 0, no charge.refunded events,
idempotency keys are ignored, unknown parameters are rejected with 400.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import PortTaken, free_port, port_taken

SECRET_KEY = "sk_test_localstripe_events"
PUBLISHABLE_KEY = "pk_test_localstripe_events"
WEBHOOK_SECRET = "whsec_localstripe_events_test"

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, the charge is declined ("Your card was declined.")

# Runs inside the localstripe subprocess: the data file goes to argv[1], the server listens on 127.0.0.1:argv[2].
_LAUNCHER = r"""
import logging, pickle, sys
from pathlib import Path

from aiohttp import web
from localstripe import resources

data_file = Path(sys.argv[1])
port = int(sys.argv[2])


def try_load_from_disk(self):
    pass  # always from scratch


def dump_to_disk(self):
    with data_file.open("wb") as f:
        pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)


resources.Store.try_load_from_disk = try_load_from_disk
resources.Store.dump_to_disk = dump_to_disk

from localstripe.server import app  # noqa: E402  (after the patch: the server module only imports the store)

logger = logging.getLogger("aiohttp.access")
logger.setLevel(logging.INFO)
logger.addHandler(logging.StreamHandler())
logging.getLogger().setLevel(logging.INFO)
web.run_app(app, host="127.0.0.1", port=port, access_log=logger, print=None)
"""


class StripeRequestFailed(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text}")
        self.response = response


@dataclass
class LocalStripe:
    url: str
    data_file: Path
    log_file: Path
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def environment(self, webhook_secret: str = WEBHOOK_SECRET) -> dict[str, str]:
        """The app's Stripe settings pointing at this localstripe."""
        return {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_PUBLISHABLE_KEY": self.publishable_key,
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRIPE_API_BASE": self.url,
            "STRIPE_JS_URL": self.js_url,
        }

    # --- configuration ------------------------------------------------------------------------------

    def register_webhook(self, endpoint_id: str, url: str, secret: str = WEBHOOK_SECRET, events: list[str] | None = None) -> None:
        """Send events to `url`, signed with `secret` (registering the same id again replaces it)."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        response = httpx.post(f"{self.url}/_config/webhooks/{endpoint_id}", json=body, timeout=5)
        if response.status_code != 200:
            raise StripeRequestFailed(response)

    # --- the Stripe API, as a merchant (secret key) --------------------------------------------------

    async def request(self, method: str, path: str, data: dict[str, Any] | None = None, *, check: bool = True) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            response = await http.request(
                method,
                path,
                data=_form(data or {}) if method == "POST" else None,
                params=_form(data or {}) if method != "POST" else None,
                headers={"Authorization": f"Bearer {self.secret_key}"},
            )
        if check and response.status_code != 200:
            raise StripeRequestFailed(response)
        return response

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        return (await self.request("GET", path, params)).json()

    async def retrieve_intent(self, intent_id: str) -> dict[str, Any]:
        return await self.get(f"/v1/payment_intents/{intent_id}")

    async def create_card_payment_method(self, number: str, *, exp_month: int = 12, exp_year: int = 2034, cvc: str = "123") -> str:
        response = await self.request(
            "POST",
            "/v1/payment_methods",
            {"type": "card", "card": {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}},
        )
        return response.json()["id"]

    async def pay(self, intent_id: str, card: str = VISA) -> httpx.Response:
        """Confirm a PaymentIntent with a card, as Stripe.js' confirmCardPayment would.

        Returns localstripe's answer: 200 with the PaymentIntent, or 402 with {"error": {...}} when the card
        is declined (the PaymentIntent is then back in requires_payment_method with last_payment_error)."""
        payment_method = await self.create_card_payment_method(card)
        await self.request("POST", f"/v1/payment_intents/{intent_id}", {"payment_method": payment_method})
        return await self.request("POST", f"/v1/payment_intents/{intent_id}/confirm", check=False)

    async def pay_with_wallet(self, intent_id: str, billing_details: dict[str, str], card: str = VISA) -> httpx.Response:
        """Confirm a PaymentIntent as Stripe.js does once the buyer approves an Apple Pay or Google Pay sheet, as far as
        localstripe can: the wallet's card becomes a PaymentMethod of type card carrying the billing details the wallet
        shared, attached to the PaymentIntent and confirmed. (localstripe cannot tokenise a wallet and keeps no
        ``card.wallet``: see tests/integration/payments/test_wallet_payments.py for Stripe's own shape.)"""
        method = await self.request(
            "POST",
            "/v1/payment_methods",
            {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"}, "billing_details": billing_details},
        )
        await self.request("POST", f"/v1/payment_intents/{intent_id}", {"payment_method": method.json()["id"]})
        return await self.request("POST", f"/v1/payment_intents/{intent_id}/confirm", check=False)

    async def refund_in_dashboard(self, intent_id: str, amount_pence: int | None = None) -> dict[str, Any]:
        """A refund made directly at Stripe (as in its dashboard), not through our API."""
        data: dict[str, Any] = {"payment_intent": intent_id}
        if amount_pence is not None:
            data["amount"] = amount_pence
        return (await self.request("POST", "/v1/refunds", data)).json()

    async def refunds(self, intent_id: str) -> list[dict[str, Any]]:
        return (await self.get("/v1/refunds", payment_intent=intent_id, limit=100))["data"]


def _form(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Stripe's form encoding: card[number]=..., payment_method_types[0]=card."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_form(value, name))
        elif isinstance(value, (list, tuple)):
            flat.update(_form({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = str(value)
    return flat


@contextmanager
def run_localstripe(directory: Path, environment: Mapping[str, str] | None = None) -> Iterator[LocalStripe]:
    """Start localstripe on a free loopback port with its data file in `directory`; stop it afterwards. `environment`
    adds to its environment (e.g. SSL_CERT_FILE, so that it trusts the test certificate of an https webhook URL)."""
    directory.mkdir(parents=True, exist_ok=True)
    process, handle = _start_localstripe(directory, environment)
    try:
        yield handle
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_localstripe(directory: Path, environment: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], LocalStripe]:
    """localstripe, answering; on another free port if something else took the first meanwhile (see free_port)."""
    data_file = directory / "localstripe.pickle"
    for attempt in range(3):
        port = free_port()
        log_file = directory / f"localstripe-{port}.log"
        with log_file.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(data_file), str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(environment or {})},
            )
        handle = LocalStripe(url=f"http://127.0.0.1:{port}", data_file=data_file, log_file=log_file)
        try:
            _wait_until_answering(handle, process)
        except PortTaken:
            if attempt == 2:
                raise
            continue
        except BaseException:
            process.kill()
            process.wait()
            raise
        return process, handle
    raise AssertionError("unreachable")


def _wait_until_answering(handle: LocalStripe, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = handle.log_file.read_text()
            raise (PortTaken if port_taken(log) else RuntimeError)(f"localstripe exited early:\n{log}")
        try:
            # The Stripe.js stand-in needs no key: a cheap "are you there".
            if httpx.get(handle.js_url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer:\n{handle.log_file.read_text()}")


# --- webhook events built by hand, as Stripe documents them -------------------------------------------------


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """An Event object as Stripe sends it (https://docs.stripe.com/api/events/object)."""
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(event).encode()


def charge_refunded_object(intent: dict[str, Any], refunds: list[dict[str, Any]]) -> dict[str, Any]:
    """A Charge object (https://docs.stripe.com/api/charges/object) after refunds, as a charge.refunded event
    carries it, built from the PaymentIntent and refunds localstripe holds."""
    charge = intent["latest_charge"]
    charge_id = charge if isinstance(charge, str) else charge["id"]
    refunded = sum(r["amount"] for r in refunds)
    return {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": refunded,
        "balance_transaction": charge.get("balance_transaction") if isinstance(charge, dict) else None,
        "captured": True,
        "created": intent["created"],
        "currency": intent["currency"],
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": intent["id"],
        "payment_method": intent.get("payment_method"),
        "refunded": refunded >= intent["amount"],
        "status": "succeeded",
    }
