"""Invitations to join an organisation's team, as accounts keeps them: queued with their email, their single-use link
made when the email is sent (the outbox asks issue_invitation_link, as for a password reset) and stored only as a
hash, and accepted by a new person (who sets a password) or by someone with an account (who proves it is them).

What acceptance also does in the layers above (limiting an organiser to chosen events, putting a door member on
door teams, the audit log) is backoffice.invitations': this module answers what it needs to do so."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events import db
from events.accounts import memberships, passwords, rules
from events.accounts.roles import RESTRICTABLE_ROLES
from events.accounts.rules import InvitationState
from events.accounts.service import LOGIN_ATTEMPTS_PER_EMAIL, LOGIN_WINDOW_SECONDS, normalise_email
from events.accounts.tables import AccountMessage, Invitation, Membership, User
from events.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from events.i18n import N_
from events.ratelimit import service as ratelimit
from events.text import line_problem

INVITATION = "invitation"  # the account email's kind
NO_SUCH_INVITATION = N_("We could not find that invitation.")
ALREADY_ON_TEAM = N_("That person is already on this organisation's team.")
WRONG_PASSWORD = N_("That is not the password of your account.")
NAME_NEEDED = N_("Enter your name, as your team will see it.")


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation as the team page lists it (never its link)."""

    id: int
    email: str
    role: str
    partner_id: int | None
    event_ids: list[int]
    invited_by: str
    created_at: datetime
    expires_at: datetime
    state: InvitationState


@dataclass(frozen=True, slots=True)
class InvitationLink:
    """What an invitation link offers, for its page: which organisation, what role, and whether the address already
    has an account (then the person proves it is theirs instead of choosing a password)."""

    state: InvitationState
    id: int = 0
    organisation_id: int = 0
    organisation_name: str = ""
    email: str = ""
    role: str = ""
    has_account: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted invitation: the person (new or not), their membership, and the limits it came with."""

    invitation_id: int
    user_id: int
    new_account: bool
    membership_id: int
    organisation_id: int
    role: str
    event_ids: list[int]


def _event_ids(value: Any) -> list[int]:
    ids = json.loads(value) if isinstance(value, str) else value
    return [int(event_id) for event_id in ids or []]


def _view(row: dict[str, Any], now: datetime) -> InvitationView:
    state = rules.invitation_state(found=True, expires_at=row["expires_at"], accepted_at=row["accepted_at"], revoked_at=row["revoked_at"], now=now)
    return InvitationView(
        id=row["id"],
        email=row["email"],
        role=row["role"],
        partner_id=row["partner"],
        event_ids=_event_ids(row["event_ids"]),
        invited_by=row["invited_by.display_name"] or row["invited_by.email"] or "",
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        state=state,
    )


_VIEW_COLUMNS = (
    Invitation.id,
    Invitation.email,
    Invitation.role,
    Invitation.partner,
    Invitation.event_ids,
    Invitation.invited_by.email,
    Invitation.invited_by.display_name,
    Invitation.created_at,
    Invitation.expires_at,
    Invitation.accepted_at,
    Invitation.revoked_at,
)


def email_problem(email: str) -> str | None:
    if "@" not in email or len(email) > 254 or line_problem(email) is not None or " " in email:
        return N_("Give a valid email address.")
    return None


async def create_invitation(
    organisation_id: int,
    *,
    email: str,
    role: str,
    partner_id: int | None,
    event_ids: list[int],
    invited_by: int | None,
    locale: str,
    now: datetime,
) -> InvitationView:
    """Invite ``email`` to the organisation with ``role`` and queue the email (in the caller's transaction). A
    pending invitation to the same address is revoked: re-inviting replaces the old link. The caller has checked
    that the partner and the events are the organisation's."""
    email = normalise_email(email)
    problems = rules.invitation_problems(role=role, has_partner=partner_id is not None, has_events=bool(event_ids))
    if (problem := email_problem(email)) is not None:
        problems = {"email": problem, **problems}
    if problems:
        raise InvalidInput(next(iter(problems.values())), fields=problems)
    async with db.write_transaction():
        if await Membership.exists().where(
            Membership.organisation == organisation_id, Membership.user.email == email, Membership.deactivated_at.is_null()
        ):
            raise Conflict(ALREADY_ON_TEAM, code="already_member")
        await _revoke_pending(organisation_id, email, now=now)
        rows = await Invitation.insert(
            Invitation(
                organisation=organisation_id,
                email=email,
                role=role,
                partner=partner_id,
                event_ids=json.dumps(sorted(set(event_ids))),
                invited_by=invited_by,
                created_at=now,
                expires_at=now + rules.INVITATION_LIFETIME,
            )
        ).returning(Invitation.id)
        invitation_id = rows[0]["id"]
        await _queue_email(invitation_id, email, locale=locale, now=now)
        return await invitation(organisation_id, invitation_id, now=now)


async def resend_invitation(organisation_id: int, invitation_id: int, *, locale: str, now: datetime) -> InvitationView:
    """Send a pending (or expired) invitation again, valid for another INVITATION_LIFETIME: its new email carries a
    new link, and the old link stops working when it is made (issue_invitation_link)."""
    async with db.write_transaction():
        current = await invitation(organisation_id, invitation_id, now=now)
        if current.state not in (InvitationState.pending, InvitationState.expired):
            raise Conflict(N_("That invitation has been accepted or revoked: invite the person again instead."), code="invitation_closed")
        await Invitation.update({Invitation.expires_at: now + rules.INVITATION_LIFETIME, Invitation.token_hash: None}).where(
            Invitation.id == invitation_id
        )
        await _queue_email(invitation_id, current.email, locale=locale, now=now)
        return await invitation(organisation_id, invitation_id, now=now)


async def revoke_invitation(organisation_id: int, invitation_id: int, *, now: datetime) -> InvitationView:
    """Withdraw an invitation: its link stops working and an email not yet sent is not sent. Returns it as it was;
    revoking one that is no longer pending changes nothing."""
    async with db.write_transaction():
        before = await invitation(organisation_id, invitation_id, now=now)
        await Invitation.update({Invitation.revoked_at: now}).where(
            Invitation.id == invitation_id, Invitation.accepted_at.is_null(), Invitation.revoked_at.is_null()
        )
        await _skip_queued_emails(invitation_id)
    return before


async def invitation(organisation_id: int, invitation_id: int, *, now: datetime) -> InvitationView:
    """One of the organisation's invitations; another organisation's is not found, as if it did not exist."""
    row = await Invitation.select(*_VIEW_COLUMNS).where(Invitation.id == invitation_id, Invitation.organisation == organisation_id).first()
    if row is None:
        raise NotFound(NO_SUCH_INVITATION, code="invitation_not_found")
    return _view(row, now)


async def pending_invitations(organisation_id: int, *, now: datetime) -> list[InvitationView]:
    """The organisation's invitations not yet accepted or revoked (expired ones too, so they can be sent again),
    newest first."""
    rows = (
        await Invitation.select(*_VIEW_COLUMNS)
        .where(Invitation.organisation == organisation_id, Invitation.accepted_at.is_null(), Invitation.revoked_at.is_null())
        .order_by(Invitation.id, ascending=False)
    )
    return [_view(row, now) for row in rows]


async def belongs_to(organisation_id: int, invitation_id: int) -> bool:
    return await Invitation.exists().where(Invitation.id == invitation_id, Invitation.organisation == organisation_id)


async def issue_invitation_link(invitation_id: int, *, now: datetime) -> tuple[str, InvitationView, str] | None:
    """A new link token for a pending invitation, made when its email is sent; only its hash is kept, and any
    earlier link of the invitation stops working. Returns the token, the invitation and its organisation's name;
    None when it was accepted or revoked since (the email is then skipped)."""
    async with db.write_transaction():
        row = (
            await Invitation.select(*_VIEW_COLUMNS, Invitation.organisation, Invitation.organisation.name)
            .where(Invitation.id == invitation_id)
            .first()
        )
        if row is None or row["accepted_at"] is not None or row["revoked_at"] is not None:
            return None
        token = secrets.token_urlsafe(32)
        expires_at = max(row["expires_at"], now + rules.INVITATION_LIFETIME)
        await Invitation.update({Invitation.token_hash: rules.secret_hash(token), Invitation.expires_at: expires_at}).where(
            Invitation.id == invitation_id
        )
    return token, _view({**row, "expires_at": expires_at}, now), row["organisation.name"]


async def link(token: str, *, now: datetime) -> InvitationLink:
    """What an invitation link offers (opening it only looks: a mail scanner's visit spends nothing)."""
    row = await _by_token(token)
    state = _state(row, now)
    if row is None or state is InvitationState.unknown:
        return InvitationLink(InvitationState.unknown)
    has_account = await User.exists().where(User.email == row["email"])
    return InvitationLink(state, row["id"], row["organisation"], row["organisation.name"], row["email"], row["role"], has_account)


async def accept(
    token: str,
    *,
    now: datetime,
    display_name: str = "",
    password: str = "",
    signed_in_user_id: int | None = None,
) -> Accepted | InvitationState:
    """Accept the invitation (in the caller's transaction): the link is spent with a conditional update (of two tabs
    only one succeeds) and the person joins the team. Without an account they choose a name and password; with one
    they give their password, unless they are signed in as that address already. Answers the link's state instead
    when it cannot be used."""
    email_hint = None
    row = await _by_token(token)
    if row is not None:
        email_hint = row["email"]
    existing = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email_hint).first() if email_hint else None
    if existing is None:
        display_name = " ".join(display_name.split())
        problems: dict[str, str] = {}
        if not display_name:
            problems["display_name"] = NAME_NEEDED
        elif (problem := line_problem(display_name)) is not None or len(display_name) > 120:
            problems["display_name"] = problem or N_("Use at most 120 characters.")
        if (problem := passwords.password_problem(password)) is not None:
            problems["password"] = problem
        if problems and _state(row, now) is InvitationState.pending:
            raise InvalidInput(next(iter(problems.values())), fields=problems)
    elif existing["id"] != signed_in_user_id and _state(row, now) is InvitationState.pending:
        await _check_password(email_hint or "", existing["password_hash"], password, now=now)
    async with db.write_transaction():
        row = await _by_token(token)
        if (state := _state(row, now)) is not InvitationState.pending or row is None:
            return state
        spent = (
            await Invitation.update({Invitation.accepted_at: now})
            .where(Invitation.id == row["id"], Invitation.accepted_at.is_null(), Invitation.revoked_at.is_null())
            .returning(Invitation.id)
        )
        if not spent:
            return InvitationState.accepted
        # An organiser given chosen events is limited to them; a door member works the door teams they are put on
        # (the role's default), here those of the chosen events.
        restricted = True if _event_ids(row["event_ids"]) and row["role"] in RESTRICTABLE_ROLES else None
        if existing is None:
            user = User(
                email=row["email"], display_name=display_name, password_hash=await passwords.hash_password_in_thread(password), last_login_at=now
            )
            await user.save()
            user_id = user.id
        else:
            user_id = existing["id"]
            # Someone whose last team took them off was switched off; joining a team switches them on again.
            await User.update({User.is_active: True, User.last_login_at: now}).where(User.id == user_id)
        # Joined another way since the invitation was sent: accepting changes nothing more.
        if not await memberships.is_member(user_id, row["organisation"]):
            await memberships.add_membership(user_id, row["organisation"], role=row["role"], partner_id=row["partner"], restricted=restricted)
        membership = await memberships.membership_of(user_id, row["organisation"])
        assert membership is not None
        await AccountMessage.update({AccountMessage.status: "skipped", AccountMessage.last_error: "invitation accepted"}).where(
            AccountMessage.invitation == row["id"], AccountMessage.status == "queued"
        )
    return Accepted(row["id"], user_id, existing is None, membership["id"], row["organisation"], row["role"], _event_ids(row["event_ids"]))


async def _check_password(email: str, password_hash: str, password: str, *, now: datetime) -> None:
    """The person proves the account is theirs; wrong guesses count toward its sign-in limit."""
    now_epoch = int(now.timestamp())
    decision = await ratelimit.hit("login-email", email, limit=LOGIN_ATTEMPTS_PER_EMAIL, window_seconds=LOGIN_WINDOW_SECONDS, now_epoch=now_epoch)
    if not decision.allowed:
        raise TooManyAttempts(N_("Too many sign-in attempts."), retry_after_seconds=decision.retry_after_seconds)
    if not await passwords.verify_password_in_thread(password_hash or None, password):
        raise InvalidInput(WRONG_PASSWORD, fields={"password": WRONG_PASSWORD})
    await ratelimit.reset("login-email", email)


async def _revoke_pending(organisation_id: int, email: str, *, now: datetime) -> None:
    replaced = (
        await Invitation.update({Invitation.revoked_at: now})
        .where(
            Invitation.organisation == organisation_id,
            Invitation.email == email,
            Invitation.accepted_at.is_null(),
            Invitation.revoked_at.is_null(),
        )
        .returning(Invitation.id)
    )
    for row in replaced:
        await _skip_queued_emails(row["id"])


async def _skip_queued_emails(invitation_id: int) -> None:
    await AccountMessage.update({AccountMessage.status: "skipped", AccountMessage.last_error: "invitation revoked"}).where(
        AccountMessage.invitation == invitation_id, AccountMessage.status == "queued"
    )


async def _queue_email(invitation_id: int, email: str, *, locale: str, now: datetime) -> None:
    await AccountMessage.insert(
        AccountMessage(kind=INVITATION, invitation=invitation_id, recipient=email, locale=locale, next_attempt_at=now, created_at=now)
    )


async def _by_token(token: str) -> dict[str, Any] | None:
    if not token or len(token) > 100:
        return None
    return (
        await Invitation.select(
            Invitation.id,
            Invitation.organisation,
            Invitation.organisation.name,
            Invitation.organisation.suspended_at,
            Invitation.email,
            Invitation.role,
            Invitation.partner,
            Invitation.event_ids,
            Invitation.expires_at,
            Invitation.accepted_at,
            Invitation.revoked_at,
        )
        .where(Invitation.token_hash == rules.secret_hash(token))
        .first()
    )


def _state(row: dict[str, Any] | None, now: datetime) -> InvitationState:
    if row is None or row["organisation.suspended_at"] is not None:
        return InvitationState.unknown
    return rules.invitation_state(found=True, expires_at=row["expires_at"], accepted_at=row["accepted_at"], revoked_at=row["revoked_at"], now=now)
