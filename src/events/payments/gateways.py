"""Which Stripe account a payment goes through: each organisation's own (connected in the back office), else, for
the installation's first organisation only, the environment's STRIPE_* settings (so a single-organisation
installation works as it always did), else none: that organisation takes no card payments.

In development without STRIPE_* settings the environment's gateway is the test provider, which serves every
organisation without an account of its own (no money moves, so no organisation can take another's).

Every answer reads the organisation's StripeAccount row, so a connection or disconnection made by another
process applies at once; what is kept per process is only the decrypted client, reused while the stored,
encrypted key is the same one (connecting or disconnecting here drops it at once too).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from events import db
from events.config import Settings, StripeSettings
from events.orders import codes
from events.organisations.tables import Organisation
from events.payments import queries
from events.payments.credentials import CredentialCipher, CredentialsUnreadable
from events.payments.gateway import Gateway, NoCardPayments, StripeGateway
from events.payments.statuses import PaymentMethod
from events.payments.stripe_rules import StripeKeys

logger = logging.getLogger("events.payments")


@dataclass(frozen=True, slots=True)
class Account:
    """An organisation's gateway and the secret its webhooks are signed with (None: it receives none)."""

    gateway: Gateway
    webhook_secret: str | None = field(repr=False)
    own: bool  # its own connected account (not the environment's)


@dataclass(frozen=True, slots=True)
class _Decrypted:
    stored: tuple[str, str, str]  # the row's encrypted secrets and publishable key: a new connection changes them
    account: Account


class Gateways:
    """Every organisation's gateway, resolved per call (see the module docstring)."""

    def __init__(self, environment: Gateway, settings: Settings) -> None:
        self.environment = environment
        self._stripe = settings.stripe
        self.cipher = CredentialCipher(settings.secret_key)
        self._decrypted: dict[int, _Decrypted] = {}
        self._none = Account(NoCardPayments(), None, own=False)

    async def first_organisation(self) -> int | None:
        """The installation's first organisation (the one existing data moved into): the environment's account's."""
        row = await Organisation.select(Organisation.id).order_by(Organisation.id).first()
        return row["id"] if row else None

    async def account(self, organisation_id: int | None) -> Account:
        if organisation_id is None:
            return self._none
        return await self._resolved(await db.run(queries.ACCOUNT_OF_ORGANISATION, organisation_id))

    async def _resolved(self, rows: Sequence[Mapping[str, Any]]) -> Account:
        """The account for a row of queries.ACCOUNT_OF_* (none: no such organisation)."""
        if not rows:
            return self._none
        row = rows[0]
        organisation_id = row["organisation"]
        if row["secret_key_encrypted"] is not None:
            stored = (row["secret_key_encrypted"], row["webhook_secret_encrypted"], row["publishable_key"])
            cached = self._decrypted.get(organisation_id)
            if cached is not None and cached.stored == stored:
                return cached.account
            try:
                secret_key, webhook_secret = self.cipher.decrypt(stored[0]), self.cipher.decrypt(stored[1])
            except CredentialsUnreadable:
                logger.error(
                    "Organisation %s's Stripe credentials cannot be decrypted (EVENTS_SECRET_KEY changed?); reconnect Stripe", organisation_id
                )
                return self._none
            account = Account(self.stripe_gateway(StripeKeys(secret_key, stored[2], webhook_secret)), webhook_secret, own=True)
            self._decrypted[organisation_id] = _Decrypted(stored, account)
            return account
        self._decrypted.pop(organisation_id, None)
        if self.environment.provider == PaymentMethod.test or row["first"]:
            return Account(self.environment, self._stripe.webhook_secret, own=False)
        return self._none

    async def for_organisation(self, organisation_id: int | None) -> Gateway:
        return (await self.account(organisation_id)).gateway

    async def for_event(self, slug: str) -> Gateway:
        """The gateway of the event's organisation (no card payments for an event that does not exist: whoever asks
        finds that out from the event itself)."""
        return (await self._resolved(await db.run(queries.ACCOUNT_OF_EVENT, slug))).gateway

    async def for_order(self, reference: str) -> Gateway:
        """The gateway of the order's organisation (no card payments for an order that does not exist)."""
        return (await self._resolved(await db.run(queries.ACCOUNT_OF_ORDER, codes.normalise_reference(reference)))).gateway

    def stripe_gateway(self, keys: StripeKeys) -> StripeGateway:
        """A Stripe gateway for these keys, on the installation's Stripe API and Stripe.js addresses."""
        return StripeGateway(
            StripeSettings(
                keys.secret_key,
                keys.publishable_key,
                keys.webhook_secret,
                self._stripe.api_base,
                self._stripe.js_url,
                timeout_seconds=self._stripe.timeout_seconds,
            )
        )

    def forget(self, organisation_id: int) -> None:
        """Drop the organisation's decrypted client (its account was connected or disconnected here)."""
        self._decrypted.pop(organisation_id, None)
