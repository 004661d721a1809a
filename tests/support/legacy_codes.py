"""Ticket codes in the format issued before EVT2 (``EVT1.<base64url JSON claims>.<base64url signature>``),
which the server and the door page must still accept. Written out here, independently of
events.tickets.signing, as the record of what those tickets carry."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.tickets.signing import TicketClaims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def legacy_code(claims: TicketClaims, private_key: Ed25519PrivateKey) -> str:
    payload = {
        "k": claims.key_id,
        "t": claims.ticket_id,
        "n": claims.version,
        "e": claims.event_id,
        "y": claims.ticket_type_id,
        "s": claims.secret,
        "f": claims.valid_from,
        "u": claims.valid_until,
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"EVT1.{body}.{_b64(private_key.sign(f'EVT1.{body}'.encode()))}"
