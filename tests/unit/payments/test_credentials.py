"""Stripe secrets at rest: Fernet under a key derived from EVENTS_SECRET_KEY (HKDF), rotatable (MultiFernet)."""

from __future__ import annotations

import pytest

from events.payments.credentials import CredentialCipher, CredentialsUnreadable, derive_key

SECRET = "sk_live_51Habcdefghijklmnop1234"


def test_a_secret_round_trips_and_is_not_stored_as_itself() -> None:
    cipher = CredentialCipher("installation secret")
    token = cipher.encrypt(SECRET)
    assert SECRET not in token and "1234" not in token.split(".")[0]
    assert cipher.decrypt(token) == SECRET
    assert cipher.encrypt(SECRET) != token  # a fresh IV each time: equal keys are not recognisable as equal


def test_another_installation_secret_cannot_read_it() -> None:
    token = CredentialCipher("installation secret").encrypt(SECRET)
    with pytest.raises(CredentialsUnreadable) as raised:
        CredentialCipher("another secret").decrypt(token)
    assert SECRET not in str(raised.value)
    with pytest.raises(CredentialsUnreadable):
        CredentialCipher("installation secret").decrypt("not a token")


def test_a_changed_installation_secret_still_reads_and_rotates_what_the_old_one_wrote() -> None:
    old = CredentialCipher("old secret").encrypt(SECRET)
    cipher = CredentialCipher("new secret", previous=("old secret",))
    assert cipher.decrypt(old) == SECRET
    rotated = cipher.rotate(old)
    assert CredentialCipher("new secret").decrypt(rotated) == SECRET


def test_the_key_is_derived_for_this_use_only() -> None:
    key = derive_key("installation secret")
    assert key == derive_key("installation secret") and key != derive_key("installation secret ")
    assert b"installation" not in key and len(key) == 44  # urlsafe base64 of 32 bytes
