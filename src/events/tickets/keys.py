"""Per-event signing keys: made as the event's first tickets are issued, rotated on demand, private halves encrypted
at rest."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from events import db
from events.tickets import queries
from events.tickets.signing import public_key_from_text, public_key_text
from events.tickets.tables import EventSigningKey

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _wrapping_key(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"events/ticket-signing-keys").derive(secret_key.encode())
    return AESGCM(derived)


def _seal(private_key: Ed25519PrivateKey, secret_key: str) -> str:
    raw = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _wrapping_key(secret_key).encrypt(nonce, raw, b"ed25519")).decode()


@lru_cache(maxsize=256)
def _unseal(sealed: str, secret_key: str) -> Ed25519PrivateKey:
    # Keys never change once written, so caching by their sealed text is safe across workers.
    blob = base64.b64decode(sealed)
    raw = _wrapping_key(secret_key).decrypt(blob[:12], blob[12:], b"ed25519")
    return Ed25519PrivateKey.from_private_bytes(raw)


# The installation's secret (Settings.secret_key), which seals the keys' private halves: given when the app or a
# command starts, as the database is bound (use_secret_key), so that issuing tickets, deep inside a payment's, a
# claim's or a door sale's transaction, can make the event's first key without every caller passing it down.
_secret_key: str | None = None


def use_secret_key(secret_key: str) -> None:
    global _secret_key  # noqa: PLW0603 - the installation's one secret, set when the app or a command starts
    _secret_key = secret_key


async def make_first_key(event_id: int, *, now: datetime) -> None:
    """Make the event's first signing key as its tickets are issued, in the issuing transaction (issuing.issue_tickets),
    so that showing a ticket never has to write (tests/integration/test_anonymous_views_write_nothing.py). Once made,
    an event always has an active key (a rotation retires the old and makes a new one in one transaction): past the
    event's first tickets this is one indexed read.

    Never waits for another key maker: the issuing transaction holds its order's row and may hold the event's
    counters, and a maker it waited for could be waiting for those. If one holds the lock now, the key is left to it
    (should it roll back, the first view makes the key: current_signing_key). Without the secret (a process that
    never called use_secret_key), likewise left to the first view."""
    if _secret_key is None or await _active_key(event_id) is not None:
        return
    if not db.is_sqlite():  # SQLite's write transaction is already the only writer
        [row] = await db.run(queries.TRY_LOCK_KEYS, event_id)
        if not row["locked"]:
            return
        if await _active_key(event_id) is not None:  # made by whoever held the lock before us, and committed
            return
    await _new_key(event_id, secret_key=_secret_key, now=now)


async def current_signing_key(event_id: int, *, secret_key: str, now: datetime) -> tuple[str, Ed25519PrivateKey]:
    """The event's newest active key. Its first is made as its first tickets are issued (make_first_key), so showing
    a ticket only reads. An event whose tickets were all issued before keys were made that way (or whose first key's
    maker rolled back) gets its key here, on first use, and only once: however many processes or hosts show its
    tickets at the same moment (each made a key of its own before, and a door phone that had fetched the event's keys
    in between could not check the tickets signed with the later ones)."""
    row = await _active_key(event_id)
    if row is None:
        async with db.write_transaction():
            await _lock_keys(event_id)
            row = await _active_key(event_id)  # made by whoever held the lock before us
            if row is None:
                return await _new_key(event_id, secret_key=secret_key, now=now)
    return unsealed(row["key_id"], row["private_key"], secret_key)


def checking_key(public_key: str, sealed: str) -> Ed25519PrivateKey | Ed25519PublicKey:
    """The key to check an event's codes with (signing.verify_ticket), from its row: the private half when this
    process holds the installation's secret (use_secret_key), since checking with it costs a third; else, or if the
    secret does not open it (a secret changed since), the public half."""
    public = public_key_from_text(public_key)
    if _secret_key is not None:
        try:
            private = _unseal(sealed, _secret_key)
        except (InvalidTag, ValueError, binascii.Error):
            logger.warning("A ticket signing key could not be opened with this installation's secret; checking with its public half")
        else:
            # The half door phones check with offline (the row's public key) must be the private half's, or the server
            # and the phones would accept different codes.
            if public_key_text(private.public_key()) == public_key_text(public):
                return private
            logger.warning("A ticket signing key's private half does not match its public half; checking with the public half")
    return public


def unsealed(key_id: str, sealed: str, secret_key: str) -> tuple[str, Ed25519PrivateKey]:
    """A key as read from its row (e.g. with a ticket: tickets.queries.TICKET_BY_PAGE_SECRET), ready to sign."""
    return key_id, _unseal(sealed, secret_key)


async def _active_key(event_id: int) -> Mapping[str, str] | None:
    rows = await db.run(queries.ACTIVE_SIGNING_KEY, event_id)
    return rows[0] if rows else None


async def _lock_keys(event_id: int) -> None:
    """Whoever makes or rotates an event's keys holds its key lock until the transaction ends (PostgreSQL; SQLite's
    write transaction is already the only writer)."""
    if not db.is_sqlite():
        await db.run(queries.LOCK_KEYS, event_id)


async def rotate_signing_key(event_id: int, *, secret_key: str, now: datetime) -> str:
    """Retire the event's active keys and make a new one. Tickets signed before still verify."""
    async with db.write_transaction():
        await _lock_keys(event_id)
        await EventSigningKey.update({EventSigningKey.retired_at: now}).where(EventSigningKey.event == event_id, EventSigningKey.retired_at.is_null())
        key_id, _ = await _new_key(event_id, secret_key=secret_key, now=now)
    return key_id


async def public_keys(event_id: int) -> dict[str, Ed25519PublicKey]:
    rows = await EventSigningKey.select(EventSigningKey.key_id, EventSigningKey.public_key).where(EventSigningKey.event == event_id)
    return {row["key_id"]: public_key_from_text(row["public_key"]) for row in rows}


async def _new_key(event_id: int, *, secret_key: str, now: datetime) -> tuple[str, Ed25519PrivateKey]:
    private_key = Ed25519PrivateKey.generate()
    key_id = secrets.token_hex(6)
    public: Ed25519PublicKey = private_key.public_key()
    await EventSigningKey(
        event=event_id,
        key_id=key_id,
        public_key=public_key_text(public),
        private_key=_seal(private_key, secret_key),
        created_at=now,
    ).save()
    return key_id, private_key
