"""Connecting an organisation's own Stripe account (owners, in the back office) and disconnecting it.

The secret key and webhook signing secret are checked, encrypted (payments.credentials) and stored; from then
on nothing shows them again: not a page, not a log line, not the audit log, which records the last four
characters of the key only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import stripe

from events import db
from events.audit import service as audit
from events.errors import Conflict, InvalidInput
from events.i18n import N_
from events.payments import stripe_rules
from events.payments.gateway import PaymentProviderError
from events.payments.gateways import Gateways
from events.payments.service import PaymentUnavailable
from events.payments.statuses import PaymentMethod
from events.payments.stripe_rules import StripeKeys
from events.payments.tables import StripeAccount

logger = logging.getLogger("events.payments")


@dataclass(frozen=True, slots=True)
class StripeConnection:
    """What may be shown of a connected account: never a secret."""

    key_hint: str
    livemode: bool
    publishable_key: str
    connected_at: datetime
    connected_by: str  # who connected it ("" once their account is gone)


@dataclass(frozen=True, slots=True)
class StripeStatus:
    connection: StripeConnection | None
    # Without a connection of its own: whether the installation's STRIPE_* settings take its card payments, or
    # (development without them) the test provider does.
    environment_keys: bool
    test_payments: bool = False


async def stripe_status(organisation_id: int, *, gateways: Gateways) -> StripeStatus:
    row = (
        await StripeAccount.select(
            StripeAccount.secret_key_hint,
            StripeAccount.livemode,
            StripeAccount.publishable_key,
            StripeAccount.connected_at,
            StripeAccount.connected_by.display_name.as_alias("name"),
            StripeAccount.connected_by.email.as_alias("email"),
        )
        .where(StripeAccount.organisation == organisation_id)
        .first()
    )
    if row is not None:
        connection = StripeConnection(
            row["secret_key_hint"], row["livemode"], row["publishable_key"], row["connected_at"], row["name"] or row["email"] or ""
        )
        return StripeStatus(connection, environment_keys=False)
    gateway = (await gateways.account(organisation_id)).gateway
    from_environment = gateway is gateways.environment
    return StripeStatus(
        None,
        environment_keys=from_environment and gateway.provider == PaymentMethod.stripe,
        test_payments=from_environment and gateway.provider == PaymentMethod.test,
    )


async def connect(organisation_id: int, keys: StripeKeys, *, connected_by: int | None, gateways: Gateways, now: datetime) -> StripeConnection:
    """Check the keys' shapes, then that Stripe accepts the secret key, then store them encrypted. An organisation
    already connected disconnects first, so replacing keys is a deliberate two-step act."""
    if problems := stripe_rules.key_problems(keys):
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    if await StripeAccount.exists().where(StripeAccount.organisation == organisation_id):
        raise Conflict(N_("A Stripe account is already connected. Disconnect it first."), code="stripe_already_connected")
    await _check_with_stripe(keys, gateways)
    hint, livemode = stripe_rules.hint(keys.secret_key), stripe_rules.livemode(keys.secret_key)
    async with db.write_transaction():
        if await StripeAccount.exists().where(StripeAccount.organisation == organisation_id):
            raise Conflict(N_("A Stripe account is already connected. Disconnect it first."), code="stripe_already_connected")
        await StripeAccount.insert(
            StripeAccount(
                organisation=organisation_id,
                secret_key_encrypted=gateways.cipher.encrypt(keys.secret_key),
                webhook_secret_encrypted=gateways.cipher.encrypt(keys.webhook_secret),
                publishable_key=keys.publishable_key,
                secret_key_hint=hint,
                livemode=livemode,
                connected_at=now,
                connected_by=connected_by,
            )
        )
        await audit.record(
            "stripe.connected",
            now=now,
            organisation_id=organisation_id,
            subject_type="stripe_account",
            subject_id=organisation_id,
            after={"key_ending": hint, "livemode": livemode},
        )
    gateways.forget(organisation_id)
    logger.info("Organisation %s connected a Stripe account (key ending %s, %s mode)", organisation_id, hint, "live" if livemode else "test")
    status = await stripe_status(organisation_id, gateways=gateways)
    assert status.connection is not None
    return status.connection


async def disconnect(organisation_id: int, *, gateways: Gateways, now: datetime) -> bool:
    """Forget the organisation's keys (safe to repeat). Its card payments stop at once; refunds and re-checks of
    payments already taken wait until an account is connected again (or, for the first organisation, go through
    the environment's account)."""
    async with db.write_transaction():
        removed = (
            await StripeAccount.delete()
            .where(StripeAccount.organisation == organisation_id)
            .returning(StripeAccount.secret_key_hint, StripeAccount.livemode)
        )
        if removed:
            await audit.record(
                "stripe.disconnected",
                now=now,
                organisation_id=organisation_id,
                subject_type="stripe_account",
                subject_id=organisation_id,
                before={"key_ending": removed[0]["secret_key_hint"], "livemode": removed[0]["livemode"]},
            )
    gateways.forget(organisation_id)
    if removed:
        logger.info("Organisation %s disconnected its Stripe account", organisation_id)
    return bool(removed)


async def _check_with_stripe(keys: StripeKeys, gateways: Gateways) -> None:
    """Stripe must accept the secret key; a key it refuses is the owner's to fix (422), Stripe out of reach is not (503)."""
    try:
        await gateways.stripe_gateway(keys).check_key()
    except PaymentProviderError as exc:
        if isinstance(exc.__cause__, (stripe.AuthenticationError, stripe.PermissionError, stripe.InvalidRequestError)):
            message = N_("Stripe did not accept this secret key. Copy it again from the Stripe dashboard (Developers, API keys).")
            raise InvalidInput(message, fields={"secret_key": message}) from None
        raise PaymentUnavailable(N_("We could not reach Stripe to check the key. Please try again in a moment.")) from None
