"""Switching a person's account off and on again, and their API tokens as the back office lists and revokes them.

Switching off ends every sign-in, revokes every API token and spends any password-reset link, in the caller's
transaction (the back office records it in the audit log in the same one). The authentication middleware reads the
sign-ins and the person's state from the database on every signed-in request, so an old session is refused on its
very next request; a token is refused at once by the process that revoked it and within service.TOKEN_CACHE_SECONDS
by every other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events import db
from events.accounts import rules, service, sign_ins
from events.accounts.rules import TokenState
from events.accounts.tables import AccountMessage, ApiToken, PasswordReset, User
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
    return Person(row["id"], row["email"], row["display_name"], row["role"], row["is_active"], row["created_at"], row["last_login_at"])


_PERSON_COLUMNS = (User.id, User.email, User.display_name, User.role, User.is_active, User.created_at, User.last_login_at)


async def people() -> list[Person]:
    """Everyone with an account, active first, by email. Paired door phones are left out: the event's door page
    lists and switches them off."""
    rows = (
        await User.select(*_PERSON_COLUMNS)
        .where(User.email.not_like(f"%@{service.DEVICE_EMAIL_DOMAIN}"))
        .order_by(User.is_active, ascending=False)
        .order_by(User.email)
    )
    return [_person(row) for row in rows]


async def person(user_id: int) -> Person:
    row = await User.select(*_PERSON_COLUMNS).where(User.id == user_id).first()
    if row is None:
        raise NotFound(NO_SUCH_PERSON, code="no_such_person")
    return _person(row)


async def deactivate(user_id: int, *, now: datetime) -> Deactivated:
    """Switch the person off: no sign-in, no token, no reset link or queued account email left, all at once."""
    async with db.write_transaction():
        switched = await User.update({User.is_active: False}).where(User.id == user_id, User.is_active == True).returning(User.id)  # noqa: E712
        ended = await sign_ins.end_other_sign_ins(user_id, keep=None)
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.user == user_id, ApiToken.revoked_at.is_null()).returning(ApiToken.id)
        )
        await PasswordReset.update({PasswordReset.used_at: now}).where(PasswordReset.user == user_id, PasswordReset.used_at.is_null())
        await AccountMessage.update({AccountMessage.status: "skipped", AccountMessage.last_error: "account deactivated"}).where(
            AccountMessage.user == user_id, AccountMessage.status == "queued"
        )
    service.forget_cached_tokens(user_id)
    return Deactivated(changed=bool(switched), sign_ins_ended=ended, tokens_revoked=len(revoked))


async def reactivate(user_id: int) -> bool:
    """Let the person sign in again (with their password; their revoked tokens stay revoked). False if already on."""
    async with db.write_transaction():
        switched = await User.update({User.is_active: True}).where(User.id == user_id, User.is_active == False).returning(User.id)  # noqa: E712
    return bool(switched)


async def tokens_of(user_id: int, *, now: datetime) -> list[TokenView]:
    """The person's API tokens, newest first, live and ended alike."""
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
        .where(ApiToken.user == user_id)
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


async def revoke_token(user_id: int, token_id: int, *, now: datetime) -> TokenView:
    """Revoke one of the person's tokens (revoking a revoked one changes nothing); returns it as it was."""
    async with db.write_transaction():
        before = next((token for token in await tokens_of(user_id, now=now) if token.id == token_id), None)
        if before is None:
            raise NotFound(N_("That person has no such API token."), code="no_such_token")
        await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.id == token_id, ApiToken.user == user_id, ApiToken.revoked_at.is_null())
    service.forget_cached_tokens(user_id)
    return before
