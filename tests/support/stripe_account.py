"""A Stripe account that answers whatever its holder made it say: a PaymentIntent's state, the refunds listed for it
(as payments.service.sync_intent reads them), and what it says of a refund asked of it (Stripe's refund objects have
the status pending, requires_action, succeeded, failed or canceled), for tests of what we do with Stripe's answers."""

from __future__ import annotations

from typing import Any

from events.payments.gateway import IntentState, ProviderRefund
from events.payments.statuses import PaymentMethod


class AccountSays:
    """Stands for an organisation's own Stripe account, answering whatever its holder made it say."""

    provider = PaymentMethod.stripe
    takes_cards = True

    def __init__(self, intent: IntentState, refunds: list[ProviderRefund] | None = None, *, refund_status: str = "succeeded") -> None:
        self.intent, self.refunds, self.refund_status = intent, refunds or [], refund_status

    async def refund(self, *, intent_id: str, amount_pence: int, local_refund_id: int, reference: str) -> ProviderRefund:
        return ProviderRefund(f"re_{local_refund_id}", amount_pence, self.refund_status, local_refund_id)

    async def retrieve_intent(self, intent_id: str, *, quick: bool = False) -> IntentState:
        return self.intent

    async def list_refunds(self, intent_id: str) -> list[ProviderRefund]:
        return self.refunds

    async def fee_of(self, *args: Any, **kwargs: Any) -> None:
        return None


def succeeded(intent_id: str, pence: int, reference: str) -> IntentState:
    """A PaymentIntent paid in full (``pence``) for the order ``reference``."""
    return IntentState(
        intent_id=intent_id, status="succeeded", amount_received=pence, currency="GBP", charge_id="", order_reference=reference, failure_message=""
    )
