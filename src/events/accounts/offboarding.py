"""An organisation's team as its back office lists it, taking a person off it and back, and their API tokens there.

Everything is within one organisation: a person on two teams taken off one keeps the other. Taking someone off
ends the membership, every sign-in of theirs (a session may be acting for this organisation) and every API token
they hold for this organisation; when it was their last organisation, the account is switched off and any
password-reset link spent. All in the caller's transaction (the back office records it in the audit log in the
same one). The authentication middleware reads the
sign-ins and the person's state from the database on every signed-in request, so an old session is refused on its
very next request, and tokens are read from the database on every request, so a revoked token is refused at once
by every server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events import db
from events.accounts import rules, service, sign_ins
from events.accounts.rules import TokenState
from events.accounts.tables import AccountMessage, ApiToken, Membership, PasswordReset, User
from events.errors import NotFound
from events.i18n import N_

NO_SUCH_PERSON = N_("There is no such person.")


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    email: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def name(self) -> str:
        return self.display_name or self.email


@dataclass(frozen=True, slots=True)
class Deactivated:
    """What switching a person off ended (both zero when they were already off)."""

    changed: bool
    sign_ins_ended: int
    tokens_revoked: int


@dataclass(frozen=True, slots=True)
class TokenView:
    """An API token as the back office shows it: never the secret."""

    id: int
    label: str
    created_at: datetime
    created_by: str  # the name of who made it; "" when made on the command line
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    state: TokenState
    door_token: bool


def _person(row: dict) -> Person:
    active = row["deactivated_at"] is None and bool(row["user.is_active"])
    return Person(row["user.id"], row["user.email"], row["user.display_name"], row["role"], active, row["user.created_at"], row["user.last_login_at"])


_PERSON_COLUMNS = (
    Membership.user.id,
    Membership.user.email,
    Membership.user.display_name,
    Membership.role,
    Membership.deactivated_at,
    Membership.user.is_active,
    Membership.user.created_at,
    Membership.user.last_login_at,
)


async def people(organisation_id: int) -> list[Person]:
    """The organisation's team, active first, by email. Paired door phones are left out: the event's door page
    lists and switches them off."""
    rows = await Membership.select(*_PERSON_COLUMNS).where(
        Membership.organisation == organisation_id, Membership.user.email.not_like(f"%@{service.DEVICE_EMAIL_DOMAIN}")
    )
    return sorted((_person(row) for row in rows), key=lambda person: (not person.active, person.email))


async def person(organisation_id: int, user_id: int) -> Person:
    """Someone on (or once on) the organisation's team; anyone else is not found, whoever they are."""
    row = await Membership.select(*_PERSON_COLUMNS).where(Membership.organisation == organisation_id, Membership.user == user_id).first()
    if row is None:
        raise NotFound(NO_SUCH_PERSON, code="no_such_person")
    return _person(row)


async def deactivate(organisation_id: int, user_id: int, *, now: datetime) -> Deactivated:
    """Take the person off the team: their sign-ins end and their tokens for this organisation are revoked, at once.
    Their last organisation gone, the account is switched off: no reset link or queued account email left."""
    async with db.write_transaction():
        switched = (
            await Membership.update({Membership.deactivated_at: now})
            .where(Membership.organisation == organisation_id, Membership.user == user_id, Membership.deactivated_at.is_null())
            .returning(Membership.id)
        )
        ended = await sign_ins.end_other_sign_ins(user_id, keep=None)
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where(ApiToken.user == user_id, ApiToken.organisation == organisation_id, ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        # The door phones they paired go with them: those phones' accounts exist only for their tokens.
        phones = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where(
                ApiToken.created_by == user_id,
                ApiToken.organisation == organisation_id,
                ApiToken.revoked_at.is_null(),
                ApiToken.user.email.like(f"%@{service.DEVICE_EMAIL_DOMAIN}"),
            )
            .returning(ApiToken.user)
        )
        if phones:
            await User.update({User.is_active: False}).where(User.id.is_in([phone["user"] for phone in phones]))
        if not await Membership.exists().where(Membership.user == user_id, Membership.deactivated_at.is_null()):
            await User.update({User.is_active: False}).where(User.id == user_id, User.is_platform_admin == False)  # noqa: E712
            await PasswordReset.update({PasswordReset.used_at: now}).where(PasswordReset.user == user_id, PasswordReset.used_at.is_null())
            await AccountMessage.update({AccountMessage.status: "skipped", AccountMessage.last_error: "account deactivated"}).where(
                AccountMessage.user == user_id, AccountMessage.status == "queued"
            )
    return Deactivated(changed=bool(switched), sign_ins_ended=ended, tokens_revoked=len(revoked) + len(phones))


async def reactivate(organisation_id: int, user_id: int) -> bool:
    """Put the person back on the team (they sign in with their password; revoked tokens stay revoked). False if
    they were on it."""
    async with db.write_transaction():
        switched = (
            await Membership.update({Membership.deactivated_at: None})
            .where(Membership.organisation == organisation_id, Membership.user == user_id, Membership.deactivated_at.is_not_null())
            .returning(Membership.id)
        )
        if switched:
            await User.update({User.is_active: True}).where(User.id == user_id)
    return bool(switched)


async def tokens_of(organisation_id: int, user_id: int, *, now: datetime) -> list[TokenView]:
    """The person's API tokens for this organisation, newest first, live and ended alike."""
    rows = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            ApiToken.scope,
            ApiToken.created_by.email,
            ApiToken.created_by.display_name,
        )
        .where(ApiToken.user == user_id, ApiToken.organisation == organisation_id)
        .order_by(ApiToken.id, ascending=False)
    )
    return [
        TokenView(
            id=row["id"],
            label=row["label"],
            created_at=row["created_at"],
            created_by=row["created_by.display_name"] or row["created_by.email"] or "",
            last_used_at=row["last_used_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            state=rules.token_state(revoked_at=row["revoked_at"], expires_at=row["expires_at"], now=now),
            door_token=bool(row["scope"]),
        )
        for row in rows
    ]


async def revoke_token(organisation_id: int, user_id: int, token_id: int, *, now: datetime) -> TokenView:
    """Revoke one of the person's tokens for this organisation (revoking a revoked one changes nothing); returns it
    as it was."""
    async with db.write_transaction():
        before = next((token for token in await tokens_of(organisation_id, user_id, now=now) if token.id == token_id), None)
        if before is None:
            raise NotFound(N_("That person has no such API token."), code="no_such_token")
        await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.id == token_id, ApiToken.user == user_id, ApiToken.revoked_at.is_null())
    return before
