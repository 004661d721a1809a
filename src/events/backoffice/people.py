"""Offboarding in the back office: switching a person's account off (their sign-ins end and their API tokens are
revoked at once) or on again, and revoking one of their tokens, each recorded in the audit log in the same
transaction. Here, not in accounts/: the audit log is a layer above accounts."""

from __future__ import annotations

from datetime import datetime

from events import db
from events.accounts import memberships, offboarding, rules
from events.accounts.offboarding import Deactivated, Person, TokenView
from events.accounts.roles import CurrentUser
from events.audit import service as audit
from events.errors import NotAllowed
from events.i18n import N_


async def _may_switch(actor: CurrentUser, user_id: int) -> Person:
    target = await offboarding.person(actor.organisation, user_id)
    refusal = rules.deactivation_refusal(
        actor_id=actor.id,
        actor_role=actor.role,
        target_id=target.id,
        target_role=target.role,
        active_owners=await memberships.active_owners(actor.organisation),
    )
    if refusal is not None:
        raise NotAllowed(refusal, code="cannot_deactivate")
    return target


async def deactivate_person(actor: CurrentUser, user_id: int, *, now: datetime) -> Deactivated:
    async with db.write_transaction():
        target = await _may_switch(actor, user_id)
        result = await offboarding.deactivate(actor.organisation, user_id, now=now)
        if result.changed:
            await audit.record(
                "user.deactivated",
                now=now,
                subject_type="user",
                subject_id=user_id,
                before={"email": target.email, "active": True},
                after={"active": False, "sign_ins_ended": result.sign_ins_ended, "tokens_revoked": result.tokens_revoked},
            )
    return result


async def reactivate_person(actor: CurrentUser, user_id: int, *, now: datetime) -> bool:
    async with db.write_transaction():
        target = await _may_switch(actor, user_id)
        changed = await offboarding.reactivate(actor.organisation, user_id)
        if changed:
            await audit.record(
                "user.reactivated",
                now=now,
                subject_type="user",
                subject_id=user_id,
                before={"email": target.email, "active": False},
                after={"active": True},
            )
    return changed


async def revoke_token(actor: CurrentUser, user_id: int, token_id: int, *, now: datetime) -> TokenView:
    async with db.write_transaction():
        token = await offboarding.revoke_token(actor.organisation, user_id, token_id, now=now)
        if token.revoked_at is None:
            await audit.record(
                "api_token.revoked",
                now=now,
                subject_type="api_token",
                subject_id=token_id,
                before={"label": token.label, "user_id": user_id},
                after={"revoked": True},
            )
    return token


async def change_role(actor: CurrentUser, user_id: int, role: str, *, now: datetime) -> str:
    """Give a member another role (owners only; never the organisation's last owner away), recorded in the audit
    log; returns the role they had."""
    async with db.write_transaction():
        target = await offboarding.person(actor.organisation, user_id)
        refusal = rules.role_change_refusal(
            actor_id=actor.id,
            actor_role=actor.role,
            target_id=target.id,
            target_role=target.role,
            new_role=role,
            active_owners=await memberships.active_owners(actor.organisation),
        )
        if refusal is not None:
            raise NotAllowed(refusal, code="cannot_change_role")
        if not target.active:
            raise NotAllowed(N_("Reactivate them first."), code="cannot_change_role")
        before = await memberships.change_role(user_id, actor.organisation, role)
        if before != role:
            await audit.record(
                "user.role_changed",
                now=now,
                subject_type="user",
                subject_id=user_id,
                before={"email": target.email, "role": before},
                after={"role": role},
            )
    return before
