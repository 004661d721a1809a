"""Who may switch an account off, and the states of reset links and API tokens."""

from datetime import datetime, timedelta, timezone

from events.accounts import rules
from events.accounts.rules import ResetLinkState, TokenState

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_nobody_deactivates_themselves_and_only_admins_deactivate_admins() -> None:
    assert rules.deactivation_refusal(actor_id=1, actor_role="owner", target_id=1, target_role="owner") == rules.CANNOT_DEACTIVATE_SELF
    assert rules.deactivation_refusal(actor_id=1, actor_role="organiser", target_id=2, target_role="owner") == rules.ONLY_OWNERS_DEACTIVATE_OWNERS
    assert rules.deactivation_refusal(actor_id=1, actor_role="owner", target_id=2, target_role="owner") is None
    assert rules.deactivation_refusal(actor_id=1, actor_role="organiser", target_id=2, target_role="organiser") is None
    assert rules.deactivation_refusal(actor_id=1, actor_role="organiser", target_id=2, target_role="door") is None


def test_a_reset_link_works_once_for_an_hour_for_an_active_person() -> None:
    issued = NOW - timedelta(minutes=59)
    expires = issued + rules.RESET_LINK_LIFETIME
    assert rules.reset_link_state(expires_at=expires, used_at=None, user_active=True, now=NOW) is ResetLinkState.valid
    assert rules.reset_link_state(expires_at=expires, used_at=NOW, user_active=True, now=NOW) is ResetLinkState.used
    assert rules.reset_link_state(expires_at=expires, used_at=None, user_active=True, now=expires) is ResetLinkState.expired
    assert rules.reset_link_state(expires_at=expires, used_at=None, user_active=False, now=NOW) is ResetLinkState.unknown
    assert rules.reset_link_state(expires_at=None, used_at=None, user_active=True, now=NOW) is ResetLinkState.unknown


def test_token_states() -> None:
    assert rules.token_state(revoked_at=None, expires_at=None, now=NOW) is TokenState.active
    assert rules.token_state(revoked_at=None, expires_at=NOW + timedelta(days=1), now=NOW) is TokenState.active
    assert rules.token_state(revoked_at=None, expires_at=NOW, now=NOW) is TokenState.expired
    assert rules.token_state(revoked_at=NOW, expires_at=NOW + timedelta(days=1), now=NOW) is TokenState.revoked


def test_last_use_is_noted_at_most_once_a_minute() -> None:
    assert rules.last_used_due(None, NOW)
    assert not rules.last_used_due(NOW - timedelta(seconds=59), NOW)
    assert rules.last_used_due(NOW - timedelta(seconds=60), NOW)
