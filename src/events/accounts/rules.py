"""What a person may do to an account, and the states of a password-reset link and an API token. Pure: no
framework or database; ``now`` is given."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from events.accounts.roles import OWNER, PARTNER_VIEWER, RESTRICTABLE_ROLES, ROLES
from events.i18n import N_

RESET_LINK_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)
# Sign-ins and API tokens record when they were last used at most this often: a conditional update, not a write
# on every request.
LAST_USED_EVERY = timedelta(minutes=1)

CANNOT_DEACTIVATE_SELF = N_("You cannot deactivate your own account: ask another organiser.")
ONLY_OWNERS_DEACTIVATE_OWNERS = N_("Only an owner can deactivate or reactivate an owner.")
LAST_OWNER = N_("This is the organisation's only owner: make someone else an owner first.")
ONLY_OWNERS_CHANGE_ROLES = N_("Only an owner can change someone's role.")
CANNOT_CHANGE_OWN_ROLE = N_("You cannot change your own role: ask another owner.")
UNKNOWN_ROLE = N_("Choose one of the roles.")
PARTNER_NEEDED = N_("Choose the partner project a partner viewer sees.")
PARTNER_ONLY_FOR_VIEWERS = N_("Only a partner viewer is linked to a partner project.")
EVENTS_ONLY_FOR_RESTRICTABLE = N_("Only organisers and door members can be limited to chosen events.")


class ResetLinkState(StrEnum):
    valid = "valid"
    used = "used"  # spent, or replaced when the password was set another way
    expired = "expired"
    unknown = "unknown"  # never issued (or its person is switched off)


class InvitationState(StrEnum):
    """Where an invitation link stands: only a pending one can be accepted."""

    pending = "pending"
    accepted = "accepted"
    revoked = "revoked"  # withdrawn by an owner, or replaced by a newer invitation to the same address
    expired = "expired"
    unknown = "unknown"  # never issued (a mistyped or made-up link)


class TokenState(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


def deactivation_refusal(*, actor_id: int, actor_role: str, target_id: int, target_role: str, active_owners: int) -> str | None:
    """Why ``actor`` may not switch ``target``'s account off (or on again), or None when they may. Nobody locks
    themselves out, an organiser cannot remove an owner (who could otherwise never be restored by them), and the
    last active owner stays: an organisation without one could never manage its team again."""
    if actor_id == target_id:
        return CANNOT_DEACTIVATE_SELF
    if target_role == OWNER and actor_role != OWNER:
        return ONLY_OWNERS_DEACTIVATE_OWNERS
    if target_role == OWNER and active_owners <= 1:
        return LAST_OWNER
    return None


def role_change_refusal(*, actor_id: int, actor_role: str, target_id: int, target_role: str, new_role: str, active_owners: int) -> str | None:
    """Why ``actor`` may not give ``target`` the role ``new_role``, or None when they may. Only owners change roles,
    never their own (an owner demoting themselves could leave nobody to undo it), and the last owner stays one."""
    if new_role not in ROLES:
        return UNKNOWN_ROLE
    if actor_role != OWNER:
        return ONLY_OWNERS_CHANGE_ROLES
    if actor_id == target_id:
        return CANNOT_CHANGE_OWN_ROLE
    if target_role == OWNER and new_role != OWNER and active_owners <= 1:
        return LAST_OWNER
    return None


def invitation_problems(*, role: str, has_partner: bool, has_events: bool) -> dict[str, str]:
    """What is wrong with an invitation's role and its limits (the address is checked by the caller): a partner
    viewer sees one partner project, which they need; only organisers and door members are limited to events."""
    problems: dict[str, str] = {}
    if role not in ROLES:
        problems["role"] = UNKNOWN_ROLE
        return problems
    if role == PARTNER_VIEWER and not has_partner:
        problems["partner"] = PARTNER_NEEDED
    if role != PARTNER_VIEWER and has_partner:
        problems["partner"] = PARTNER_ONLY_FOR_VIEWERS
    if has_events and role not in RESTRICTABLE_ROLES:
        problems["events"] = EVENTS_ONLY_FOR_RESTRICTABLE
    return problems


def invitation_state(
    *, found: bool, expires_at: datetime | None, accepted_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> InvitationState:
    """An invitation found (or not) by its link's token."""
    if not found or expires_at is None:
        return InvitationState.unknown
    if accepted_at is not None:
        return InvitationState.accepted
    if revoked_at is not None:
        return InvitationState.revoked
    if expires_at <= now:
        return InvitationState.expired
    return InvitationState.pending


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
    """How an account secret is stored (API tokens, session ids, reset and invitation links): its SHA-256 only, so a database
    leak yields nothing that works. The secrets are long and random, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()
