"""Payment providers behind one interface: Stripe (the official async SDK), the development test provider, and
"no card payments" for an organisation with no Stripe account (payments.gateways picks one per organisation).

Every outbound Stripe call that changes something (a POST) carries an idempotency key; reads (GET) take none.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import stripe
from stripe.params import BalanceTransactionListParams

from events.config import StripeSettings
from events.i18n import N_
from events.payments.statuses import PaymentMethod


class PaymentProviderError(Exception):
    """The provider could not be reached or refused the request; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class IntentState:
    """What the provider says about a payment, reduced to what fulfilment needs."""

    intent_id: str
    status: str  # succeeded, processing, requires_payment_method, requires_action, canceled, ...
    amount_received: int
    currency: str
    charge_id: str
    order_reference: str
    failure_message: str


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    refund_id: str
    amount_pence: int
    status: str
    local_refund_id: int | None = None  # our Refund row, carried in the provider's metadata


@dataclass(frozen=True, slots=True)
class BalanceTransaction:
    """One of Stripe's balance transactions, reduced to what reconciliation reads."""

    id: str
    type: str  # charge, payment, refund, payment_refund, ...
    source: str  # the charge or refund it is for ("" when none)
    amount: int  # pence, negative for money going out
    fee: int
    net: int
    currency: str  # upper case, e.g. GBP
    created: int  # Unix time


def balance_transaction(data: Mapping[str, Any]) -> BalanceTransaction:
    """A balance transaction from Stripe's JSON object (its source id or expanded source)."""
    source = data.get("source") or ""
    if isinstance(source, dict):  # expanded
        source = source.get("id", "")
    return BalanceTransaction(
        id=data["id"],
        type=data.get("type") or "",
        source=source,
        amount=int(data["amount"]),
        fee=int(data.get("fee") or 0),
        net=int(data.get("net") or 0),
        currency=(data.get("currency") or "").upper(),
        created=int(data["created"]),
    )


@runtime_checkable
class Gateway(Protocol):
    provider: PaymentMethod
    publishable_key: str | None
    js_url: str | None
    takes_cards: bool  # False: an organisation with no Stripe account (free and door sales only)

    async def create_intent(self, *, reference: str, amount_pence: int, currency: str, event_slug: str) -> tuple[str, str]: ...
    async def retrieve_intent(self, intent_id: str, *, quick: bool = False) -> IntentState: ...
    async def cancel_intent(self, intent_id: str) -> str: ...
    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund: ...
    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]: ...
    async def fee_for_charge(self, charge_id: str) -> int | None: ...
    async def balance_transactions(self, *, created_from: int, created_to: int) -> list[BalanceTransaction]: ...


# How long a page a guest is waiting for asks Stripe (quick=True), once, with no retries: a Stripe that does not
# answer must not hold the page (the full timeout, three tries, is up to 3 x EVENTS_STRIPE_TIMEOUT_SECONDS); what
# it would have said comes later by webhook or the worker's re-check.
QUICK_TIMEOUT_SECONDS = 2.0


class StripeGateway:
    provider = PaymentMethod.stripe
    takes_cards = True

    def __init__(self, settings: StripeSettings) -> None:
        assert settings.secret_key
        self.publishable_key: str | None = settings.publishable_key
        self.js_url: str | None = settings.js_url
        self._client = stripe.StripeClient(
            settings.secret_key,
            base_addresses={"api": settings.api_base},
            http_client=stripe.HTTPXClient(timeout=settings.timeout_seconds, allow_sync_methods=False),
            max_network_retries=2,
        )
        self._quick_client = stripe.StripeClient(
            settings.secret_key,
            base_addresses={"api": settings.api_base},
            http_client=stripe.HTTPXClient(timeout=min(QUICK_TIMEOUT_SECONDS, settings.timeout_seconds), allow_sync_methods=False),
            max_network_retries=0,
        )

    async def create_intent(self, *, reference: str, amount_pence: int, currency: str, event_slug: str) -> tuple[str, str]:
        intent = await self._call(
            self._client.v1.payment_intents.create_async(
                params={
                    "amount": amount_pence,
                    "currency": currency.lower(),
                    # Stripe's typed params (stripe 16) lack this field, which the API and localstripe accept.
                    "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                    "metadata": {"order_reference": reference, "event": event_slug},
                },
                options={"idempotency_key": f"order-{reference}-intent"},
            )
        )
        return intent.id, intent.client_secret or ""

    async def retrieve_intent(self, intent_id: str, *, quick: bool = False) -> IntentState:
        """``quick``: for a page a guest waits for: one try, within QUICK_TIMEOUT_SECONDS, else PaymentProviderError."""
        client = self._quick_client if quick else self._client
        intent = await self._call(client.v1.payment_intents.retrieve_async(intent_id))
        return _intent_state(intent)

    async def cancel_intent(self, intent_id: str) -> str:
        try:
            # A key per attempt, not per intent: Stripe would answer a later attempt with the first one's
            # stored result for a day (e.g. "cannot cancel while processing"), never trying again.
            intent = await self._client.v1.payment_intents.cancel_async(
                intent_id, options={"idempotency_key": f"cancel-{intent_id}-{secrets.token_hex(8)}"}
            )
        except stripe.InvalidRequestError:
            # Already succeeded, processing or cancelled: say what it is now, so the caller can act on it.
            return (await self.retrieve_intent(intent_id)).status
        except stripe.StripeError as exc:
            raise PaymentProviderError(_safe_message(exc)) from exc
        return intent.status

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        refund = await self._call(
            self._client.v1.refunds.create_async(
                params={
                    "payment_intent": intent_id,
                    "amount": amount_pence,
                    "metadata": {"order_reference": reference, "refund_id": str(local_refund_id)},
                },
                options={"idempotency_key": f"refund-{local_refund_id}"},
            )
        )
        return _provider_refund(refund)

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        page = await self._call(self._client.v1.refunds.list_async(params={"payment_intent": intent_id, "limit": 100}))
        return [_provider_refund(refund) for refund in page.data]

    async def fee_for_charge(self, charge_id: str) -> int | None:
        """Stripe's fee for a charge, or None while its balance transaction is not yet available."""
        charge = await self._call(self._client.v1.charges.retrieve_async(charge_id))
        transaction_id = charge.balance_transaction
        if not transaction_id:
            return None
        if not isinstance(transaction_id, str):
            transaction_id = transaction_id.id
        transaction = await self._call(self._client.v1.balance_transactions.retrieve_async(transaction_id))
        return int(transaction.fee)

    async def balance_transactions(self, *, created_from: int, created_to: int) -> list[BalanceTransaction]:
        """Every balance transaction in a period, following Stripe's pagination."""
        found: list[BalanceTransaction] = []
        params: BalanceTransactionListParams = {"limit": 100, "created": {"gte": created_from, "lt": created_to}}
        while True:
            page = await self._call(self._client.v1.balance_transactions.list_async(params=params))
            found.extend(balance_transaction(txn.to_dict()) for txn in page.data)
            if not page.has_more or not page.data:
                return found
            params["starting_after"] = page.data[-1].id

    async def check_key(self) -> bool:
        """Whether Stripe accepts the secret key (it reads the account's balance, which every key, restricted
        ones with balance read access included, may do). Returns the key's livemode as Stripe reports it."""
        balance = await self._call(self._client.v1.balance.retrieve_async())
        return bool(balance.livemode)

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except stripe.StripeError as exc:
            raise PaymentProviderError(_safe_message(exc)) from exc


class TestGateway:
    """Development only: no card details, the buyer presses 'Pay' on a clearly labelled test page.
    It drives the same fulfilment path as Stripe. Production settings never build it."""

    provider = PaymentMethod.test
    publishable_key: str | None = None
    js_url: str | None = None
    takes_cards = True

    async def create_intent(self, *, reference: str, amount_pence: int, currency: str, event_slug: str) -> tuple[str, str]:
        return f"test_{reference}", ""

    async def retrieve_intent(self, intent_id: str, *, quick: bool = False) -> IntentState:
        return IntentState(intent_id, "requires_payment_method", 0, "", "", intent_id.removeprefix("test_"), "")

    async def cancel_intent(self, intent_id: str) -> str:
        return "canceled"

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        return ProviderRefund(f"test_re_{secrets.token_hex(8)}", amount_pence, "succeeded", local_refund_id)

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        return []

    async def fee_for_charge(self, charge_id: str) -> int | None:
        return 0

    async def balance_transactions(self, *, created_from: int, created_to: int) -> list[BalanceTransaction]:
        return []


class CardPaymentsOff(PaymentProviderError):
    """The organisation has no Stripe account: it takes no card payments (free places and door sales still work)."""


class NoCardPayments:
    """An organisation with neither its own Stripe account nor the environment's: every call says so. Card payments
    it took before disconnecting (refunds, re-checks) wait, and are retried, until an account is connected again."""

    provider = PaymentMethod.stripe
    publishable_key: str | None = None
    js_url: str | None = None
    takes_cards = False

    async def create_intent(self, *, reference: str, amount_pence: int, currency: str, event_slug: str) -> tuple[str, str]:
        raise CardPaymentsOff(N_("This organisation does not take card payments online yet."))

    async def retrieve_intent(self, intent_id: str, *, quick: bool = False) -> IntentState:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))

    async def cancel_intent(self, intent_id: str) -> str:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))

    async def fee_for_charge(self, charge_id: str) -> int | None:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))

    async def balance_transactions(self, *, created_from: int, created_to: int) -> list[BalanceTransaction]:
        raise CardPaymentsOff(N_("This organisation has no Stripe account connected."))


def create_gateway(settings: StripeSettings, *, production: bool) -> Gateway:
    if settings.enabled:
        return StripeGateway(settings)
    if production:
        raise RuntimeError("The test payment provider is never used in production.")
    return TestGateway()


def _intent_state(intent: Any) -> IntentState:
    data = intent.to_dict()
    charge = data.get("latest_charge")
    charge_id = charge if isinstance(charge, str) else (charge or {}).get("id", "")
    error = data.get("last_payment_error") or {}
    succeeded = data["status"] == "succeeded"
    return IntentState(
        intent_id=data["id"],
        status=data["status"],
        amount_received=int(data.get("amount_received") or (data["amount"] if succeeded else 0)),
        currency=(data.get("currency") or "").upper(),
        charge_id=charge_id or "",
        order_reference=(data.get("metadata") or {}).get("order_reference", ""),
        failure_message=error.get("message") or "",
    )


def _provider_refund(refund: Any) -> ProviderRefund:
    data = refund.to_dict()
    local = (data.get("metadata") or {}).get("refund_id")
    return ProviderRefund(
        data["id"],
        int(data["amount"]),
        data.get("status") or "succeeded",
        int(local) if local and str(local).isascii() and str(local).isdigit() and len(str(local)) <= 18 else None,
    )


def _safe_message(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.CardError):
        return exc.user_message or N_("The card was declined.")
    if isinstance(exc, stripe.APIConnectionError):
        return N_("We could not reach the payment provider. Please try again in a moment.")
    if isinstance(exc, (stripe.APIError, stripe.RateLimitError)):
        # Stripe's own trouble (a 5xx, or too many requests at once): it passes, so the buyer may simply try again.
        return N_("The payment provider is not answering properly just now. Please try again in a moment.")
    return N_("The payment provider could not handle this request.")
