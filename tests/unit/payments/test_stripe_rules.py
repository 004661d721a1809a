"""What an owner may connect: Stripe's key shapes, one mode for both keys; messages never repeat a secret."""

from __future__ import annotations

import pytest

from events.payments.stripe_rules import StripeKeys, hint, key_problems, livemode

GOOD = StripeKeys.of(" sk_test_51Habcdefgh1234 ", "pk_test_51Habcdefgh5678", "whsec_abcdefgh12345678")


def test_good_keys_have_no_problems() -> None:
    assert key_problems(GOOD) == {}
    assert GOOD.secret_key == "sk_test_51Habcdefgh1234"  # spaces around a pasted key are dropped
    assert key_problems(StripeKeys("rk_live_51Habcdefgh1234", "pk_live_51Habcdefgh5678", "whsec_abcdefgh12345678")) == {}


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        (StripeKeys("pk_test_51Habcdefgh1234", GOOD.publishable_key, GOOD.webhook_secret), "secret_key"),
        (StripeKeys("sk_prod_51Habcdefgh1234", GOOD.publishable_key, GOOD.webhook_secret), "secret_key"),
        (StripeKeys("sk_test_short", GOOD.publishable_key, GOOD.webhook_secret), "secret_key"),
        (StripeKeys("sk_test_51Habc defgh1234", GOOD.publishable_key, GOOD.webhook_secret), "secret_key"),
        (StripeKeys(GOOD.secret_key, "sk_test_51Habcdefgh5678", GOOD.webhook_secret), "publishable_key"),
        (StripeKeys(GOOD.secret_key, "pk_live_51Habcdefgh5678", GOOD.webhook_secret), "publishable_key"),
        (StripeKeys(GOOD.secret_key, GOOD.publishable_key, "whsec_x"), "webhook_secret"),
        (StripeKeys(GOOD.secret_key, GOOD.publishable_key, "sk_test_51Habcdefgh1234"), "webhook_secret"),
    ],
)
def test_each_malformed_key_is_named(keys: StripeKeys, field: str) -> None:
    problems = key_problems(keys)
    assert list(problems) == [field]
    assert all(keys.secret_key not in message and keys.webhook_secret not in message for message in problems.values())


def test_the_hint_and_mode_reveal_nothing_usable() -> None:
    assert hint(GOOD.secret_key) == "1234" and livemode(GOOD.secret_key) is False
    assert livemode("rk_live_51Habcdefgh1234") is True
    assert GOOD.secret_key not in repr(GOOD) and GOOD.webhook_secret not in repr(GOOD)
