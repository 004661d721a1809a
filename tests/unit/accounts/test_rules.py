"""Who may switch an account off or change a role, what an invitation may ask for, and the states of reset links,
invitations and API tokens."""

from datetime import datetime, timedelta, timezone

from events.accounts import rules
from events.accounts.rules import InvitationState, ResetLinkState, TokenState

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_nobody_deactivates_themselves_and_only_owners_deactivate_owners() -> None:
    def refusal(actor_id: int, actor_role: str, target_id: int, target_role: str, active_owners: int = 2) -> str | None:
        return rules.deactivation_refusal(
            actor_id=actor_id, actor_role=actor_role, target_id=target_id, target_role=target_role, active_owners=active_owners
        )

    assert refusal(1, "owner", 1, "owner") == rules.CANNOT_DEACTIVATE_SELF
    assert refusal(1, "organiser", 2, "owner") == rules.ONLY_OWNERS_DEACTIVATE_OWNERS
    assert refusal(1, "owner", 2, "owner") is None
    assert refusal(1, "organiser", 2, "organiser") is None
    assert refusal(1, "organiser", 2, "door") is None


def test_the_last_owner_is_never_deactivated() -> None:
    # A platform admin or a stale page could ask: the organisation would have nobody to manage its team.
    assert rules.deactivation_refusal(actor_id=1, actor_role="owner", target_id=2, target_role="owner", active_owners=1) == rules.LAST_OWNER
    assert rules.deactivation_refusal(actor_id=1, actor_role="owner", target_id=2, target_role="door", active_owners=1) is None


def test_only_owners_change_roles_never_their_own_nor_the_last_owners() -> None:
    def refusal(actor_role: str, target_id: int, target_role: str, new_role: str, active_owners: int = 2) -> str | None:
        return rules.role_change_refusal(
            actor_id=1, actor_role=actor_role, target_id=target_id, target_role=target_role, new_role=new_role, active_owners=active_owners
        )

    assert refusal("owner", 2, "door", "organiser") is None
    assert refusal("owner", 2, "organiser", "owner") is None
    assert refusal("owner", 2, "owner", "organiser", active_owners=2) is None
    assert refusal("owner", 2, "owner", "organiser", active_owners=1) == rules.LAST_OWNER
    assert refusal("owner", 2, "owner", "owner", active_owners=1) is None  # no change
    assert refusal("organiser", 2, "door", "organiser") == rules.ONLY_OWNERS_CHANGE_ROLES
    assert refusal("owner", 1, "owner", "door") == rules.CANNOT_CHANGE_OWN_ROLE
    assert refusal("owner", 2, "door", "admin") == rules.UNKNOWN_ROLE


def test_what_an_invitation_may_ask_for() -> None:
    assert rules.invitation_problems(role="organiser", has_partner=False, has_events=True) == {}
    assert rules.invitation_problems(role="door", has_partner=False, has_events=True) == {}
    assert rules.invitation_problems(role="owner", has_partner=False, has_events=False) == {}
    assert rules.invitation_problems(role="partner_viewer", has_partner=True, has_events=False) == {}
    assert rules.invitation_problems(role="partner_viewer", has_partner=False, has_events=False) == {"partner": rules.PARTNER_NEEDED}
    assert rules.invitation_problems(role="owner", has_partner=False, has_events=True) == {"events": rules.EVENTS_ONLY_FOR_RESTRICTABLE}
    assert rules.invitation_problems(role="door", has_partner=True, has_events=False) == {"partner": rules.PARTNER_ONLY_FOR_VIEWERS}
    assert rules.invitation_problems(role="admin", has_partner=False, has_events=False) == {"role": rules.UNKNOWN_ROLE}


def test_an_invitation_link_works_once_for_seven_days_until_revoked() -> None:
    expires = NOW - timedelta(days=6) + rules.INVITATION_LIFETIME

    def state(**changes: datetime | None) -> InvitationState:
        return rules.invitation_state(**{"found": True, "expires_at": expires, "accepted_at": None, "revoked_at": None, "now": NOW, **changes})  # type: ignore[arg-type]

    assert state() is InvitationState.pending
    assert state(now=expires) is InvitationState.expired
    assert state(accepted_at=NOW) is InvitationState.accepted
    assert state(revoked_at=NOW) is InvitationState.revoked
    assert state(accepted_at=NOW, now=expires) is InvitationState.accepted  # used, then it expired: it says used
    assert rules.invitation_state(found=False, expires_at=None, accepted_at=None, revoked_at=None, now=NOW) is InvitationState.unknown


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
