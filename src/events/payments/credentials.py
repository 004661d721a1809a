"""Encrypting an organisation's Stripe secrets at rest (the secret key and the webhook signing secret).

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from EVENTS_SECRET_KEY with HKDF, so the secrets in
the database are useless without the installation's own secret, and no second secret needs managing. A
MultiFernet: encrypting uses the current secret, decrypting also tries earlier ones, so an installation can
rotate EVENTS_SECRET_KEY by passing the old one as ``previous`` while ``rotate`` re-encrypts what is stored.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Binds the derived key to this one use: the same EVENTS_SECRET_KEY signs sessions and tickets, differently.
HKDF_INFO = b"events stripe credentials"


class CredentialsUnreadable(Exception):
    """Stored credentials that no current or earlier secret decrypts (EVENTS_SECRET_KEY changed without rotating)."""


def derive_key(secret: str) -> bytes:
    """The Fernet key (urlsafe base64 of 32 bytes) for credentials under one installation secret."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class CredentialCipher:
    """Encrypts with the current secret; decrypts with it or any of ``previous`` (newest first)."""

    def __init__(self, secret: str, previous: tuple[str, ...] = ()) -> None:
        self._fernet = MultiFernet([Fernet(derive_key(s)) for s in (secret, *previous)])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise CredentialsUnreadable("Stored Stripe credentials cannot be decrypted with EVENTS_SECRET_KEY.") from None

    def rotate(self, token: str) -> str:
        """The same plaintext, encrypted under the current secret (for re-encrypting after a secret change)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise CredentialsUnreadable("Stored Stripe credentials cannot be decrypted with EVENTS_SECRET_KEY.") from None
