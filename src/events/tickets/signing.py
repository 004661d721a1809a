"""Signed ticket codes: Ed25519 over a compact payload, verifiable offline with the event's public keys.

The payload names the ticket, its version (bumped when a ticket is re-issued), the event, the type,
the secret and the validity window. Nothing about the holder. Pure (cryptography only).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CODE_PREFIX = "EVT1"


class InvalidTicketCode(Exception):
    """The code is malformed, signed by an unknown key, or does not match its signature."""


@dataclass(frozen=True, slots=True)
class TicketClaims:
    key_id: str
    ticket_id: int
    version: int
    event_id: int
    ticket_type_id: int
    secret: str
    valid_from: int  # epoch seconds
    valid_until: int

    def as_payload(self) -> dict[str, object]:
        return {
            "k": self.key_id,
            "t": self.ticket_id,
            "n": self.version,
            "e": self.event_id,
            "y": self.ticket_type_id,
            "s": self.secret,
            "f": self.valid_from,
            "u": self.valid_until,
        }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_ticket(claims: TicketClaims, private_key: Ed25519PrivateKey) -> str:
    """'EVT1.<payload>.<signature>', all base64url: what the QR code carries."""
    body = _b64(json.dumps(claims.as_payload(), separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(private_key.sign(f"{CODE_PREFIX}.{body}".encode()))
    return f"{CODE_PREFIX}.{body}.{signature}"


def read_claims(code: str) -> TicketClaims:
    """The claims of a code without checking the signature (to find which key to check it with)."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != CODE_PREFIX:
        raise InvalidTicketCode("not a ticket code")
    try:
        data = json.loads(_unb64(parts[1]))
        return TicketClaims(
            key_id=str(data["k"]),
            ticket_id=int(data["t"]),
            version=int(data["n"]),
            event_id=int(data["e"]),
            ticket_type_id=int(data["y"]),
            secret=str(data["s"]),
            valid_from=int(data["f"]),
            valid_until=int(data["u"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidTicketCode("malformed ticket code") from exc


def verify_ticket(code: str, public_keys: Mapping[str, Ed25519PublicKey]) -> TicketClaims:
    """Claims of a genuine code signed by one of ``public_keys`` (older, rotated keys included)."""
    claims = read_claims(code)
    key = public_keys.get(claims.key_id)
    if key is None:
        raise InvalidTicketCode("signed with an unknown key")
    prefix, body, signature = code.strip().split(".")
    try:
        key.verify(_unb64(signature), f"{prefix}.{body}".encode())
    except (InvalidSignature, ValueError) as exc:
        raise InvalidTicketCode("signature does not match") from exc
    return claims


def looks_signed(scanned: str) -> bool:
    return scanned.strip().startswith(CODE_PREFIX + ".")


def public_key_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text))
