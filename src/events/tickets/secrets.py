"""Ticket secrets: what a ticket's code carries, unguessable and free of look-alike characters.

Pure (standard library only).
"""

from __future__ import annotations

import secrets

from events.orders.codes import SECRET_ALPHABET

TICKET_SECRET_LENGTH = 20  # 20 * log2(31) ≈ 99 bits


def new_ticket_secret() -> str:
    """A ticket's code (the QR code's, the door's) or the key of its page: two of these per ticket, never the same."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(TICKET_SECRET_LENGTH))
