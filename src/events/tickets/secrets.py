"""Ticket secrets: what a ticket's code carries, unguessable and free of look-alike characters.

Pure (standard library only).
"""

from __future__ import annotations

import secrets

from events.orders.codes import SECRET_ALPHABET

TICKET_SECRET_LENGTH = 20  # 20 * log2(31) ≈ 99 bits


def new_ticket_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(TICKET_SECRET_LENGTH))
