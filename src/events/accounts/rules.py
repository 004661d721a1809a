"""What a person may do to an account, and the states of a password-reset link and an API token. Pure: no
framework or database; ``now`` is given."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from events.accounts.roles import OWNER
from events.i18n import N_

RESET_LINK_LIFETIME = timedelta(hours=1)
# Sign-ins and API tokens record when they were last used at most this often: a conditional update, not a write
# on every request.
LAST_USED_EVERY = timedelta(minutes=1)

CANNOT_DEACTIVATE_SELF = N_("You cannot deactivate your own account: ask another organiser.")
ONLY_OWNERS_DEACTIVATE_OWNERS = N_("Only an owner can deactivate or reactivate an owner.")


class ResetLinkState(StrEnum):
    valid = "valid"
    used = "used"  # spent, or replaced when the password was set another way
    expired = "expired"
    unknown = "unknown"  # never issued (or its person is switched off)


class TokenState(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


def deactivation_refusal(*, actor_id: int, actor_role: str, target_id: int, target_role: str) -> str | None:
    """Why ``actor`` may not switch ``target``'s account off (or on again), or None when they may. Nobody locks
    themselves out, and an organiser cannot remove an owner (who could otherwise never be restored by them)."""
    if actor_id == target_id:
        return CANNOT_DEACTIVATE_SELF
    if target_role == OWNER and actor_role != OWNER:
        return ONLY_OWNERS_DEACTIVATE_OWNERS
    return None


def reset_link_state(*, expires_at: datetime | None, used_at: datetime | None, user_active: bool, now: datetime) -> ResetLinkState:
    """A reset link found by its token (``expires_at`` None when no link has that token)."""
    if expires_at is None or not user_active:
        return ResetLinkState.unknown
    if used_at is not None:
        return ResetLinkState.used
    if expires_at <= now:
        return ResetLinkState.expired
    return ResetLinkState.valid


def token_state(*, revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> TokenState:
    if revoked_at is not None:
        return TokenState.revoked
    if expires_at is not None and expires_at <= now:
        return TokenState.expired
    return TokenState.active


def last_used_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether to record a use now: never recorded, or last recorded at least LAST_USED_EVERY ago."""
    return last_used_at is None or now - last_used_at >= LAST_USED_EVERY


def secret_hash(secret: str) -> str:
    """How an account secret is stored (API tokens, session ids, reset links): its SHA-256 only, so a database
    leak yields nothing that works. The secrets are long and random, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()
