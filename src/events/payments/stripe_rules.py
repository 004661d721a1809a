"""What Stripe keys an owner may connect: the shapes Stripe gives them, one mode for both keys. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from events.i18n import N_

# Stripe's keys: a prefix naming the kind and mode, then letters and digits (documented as opaque, so the
# length is left open within reason).
SECRET_KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}$")
PUBLISHABLE_KEY_PATTERN = re.compile(r"^pk_(test|live)_[A-Za-z0-9]{8,247}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^whsec_[A-Za-z0-9+/=]{8,250}$")
HINT_LENGTH = 4


@dataclass(frozen=True, slots=True)
class StripeKeys:
    """What the owner typed, stripped of surrounding spaces. The repr hides the secrets."""

    secret_key: str
    publishable_key: str
    webhook_secret: str

    def __repr__(self) -> str:
        return f"StripeKeys(secret_key=…{hint(self.secret_key)}, publishable_key={self.publishable_key!r}, webhook_secret=…)"

    @classmethod
    def of(cls, secret_key: str, publishable_key: str, webhook_secret: str) -> StripeKeys:
        return cls(secret_key.strip(), publishable_key.strip(), webhook_secret.strip())


def livemode(secret_key: str) -> bool:
    """Whether a (well-formed) secret key moves real money."""
    return secret_key.split("_", 2)[1] == "live"


def hint(secret_key: str) -> str:
    """The last characters of a secret key: enough for a person to recognise it, never to use it."""
    return secret_key[-HINT_LENGTH:]


def key_problems(keys: StripeKeys) -> dict[str, str]:
    """Each field's problem (none: the keys have Stripe's shapes and both keys are test keys or both live).
    The messages never repeat what was typed."""
    problems: dict[str, str] = {}
    secret = SECRET_KEY_PATTERN.match(keys.secret_key)
    publishable = PUBLISHABLE_KEY_PATTERN.match(keys.publishable_key)
    if secret is None:
        problems["secret_key"] = N_("Enter the secret key from Stripe: it starts sk_test_, sk_live_, rk_test_ or rk_live_.")
    if publishable is None:
        problems["publishable_key"] = N_("Enter the publishable key from Stripe: it starts pk_test_ or pk_live_.")
    elif secret is not None and secret.group(2) != publishable.group(1):
        problems["publishable_key"] = N_("The publishable key must be from the same mode as the secret key (both test or both live).")
    if WEBHOOK_SECRET_PATTERN.match(keys.webhook_secret) is None:
        problems["webhook_secret"] = N_("Enter the webhook signing secret from Stripe: it starts whsec_.")
    return problems
