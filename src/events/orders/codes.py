"""Order references, claim codes' alphabet and access tokens: unguessable where they must be, readable where people read them.

Ticket secrets are made in events.tickets.secrets, from the same alphabet.

Pure (standard library only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# No look-alikes (0/o, 1/i/l) so a code read aloud or typed from paper is not mistaken.
SECRET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ORDER_TOKEN_PREFIX = "ord_"


def new_order_reference() -> str:
    """'K7M-4QX': short enough to read out at the door; not secret (the access token is)."""
    raw = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{raw[:3]}-{raw[3:]}"


def normalise_reference(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{cleaned[:3]}-{cleaned[3:]}" if len(cleaned) == 6 else text.strip().upper()


def order_access_token(secret_key: str, reference: str) -> str:
    """The bearer token for one order: derived from the server secret, so nothing needs storing."""
    digest = hmac.new(secret_key.encode(), f"order-access:{reference}".encode(), hashlib.sha256).digest()
    return ORDER_TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def held_order_token(secret_key: str, reference: str) -> str:
    """What the held_order cookie carries with a reference: keyed apart from the order's access token, so
    neither can be made from the other (an order link does not make a cookie that replaces its hold)."""
    digest = hmac.new(secret_key.encode(), f"held-order:{reference}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def held_order_token_matches(secret_key: str, reference: str, token: str | None) -> bool:
    return bool(token) and (token or "").isascii() and hmac.compare_digest(held_order_token(secret_key, reference), token or "")


def change_token(secret_key: str, reference: str) -> str:
    """What the buy form carries when "Change order" opened it: sent with the form, the order it names is replaced
    by the changed one. Keyed apart from the access token and the held_order cookie's token."""
    digest = hmac.new(secret_key.encode(), f"change-order:{reference}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def change_token_matches(secret_key: str, reference: str, token: str | None) -> bool:
    return bool(token) and (token or "").isascii() and hmac.compare_digest(change_token(secret_key, reference), token or "")


def claim_pass(secret_key: str, code: str) -> str:
    """What a browser keeps once it has opened a claim code's page: proof that it knows the code, which no one
    can make without the code (or the server secret)."""
    digest = hmac.new(secret_key.encode(), f"claim-pass:{code.strip().lower()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def claim_pass_matches(secret_key: str, code: str, presented: str | None) -> bool:
    return bool(presented) and (presented or "").isascii() and hmac.compare_digest(claim_pass(secret_key, code), presented or "")


def token_matches(secret_key: str, reference: str, token: str | None) -> bool:
    # A token that is not ASCII cannot be ours (and compare_digest refuses to compare it).
    return bool(token) and (token or "").isascii() and hmac.compare_digest(order_access_token(secret_key, reference), token or "")
