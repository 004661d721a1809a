"""Accounts service: users, sign-in with rate limits, and API tokens."""

from __future__ import annotations

import secrets
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from piccolo.columns import Column

from events import db, text
from events.accounts import memberships, passwords, queries, rules
from events.accounts.acting import ACTOR
from events.accounts.roles import DOOR, RESTRICTABLE_ROLES, ROLES, CurrentUser, door_event_of_scope, restricted_by_default
from events.accounts.tables import ApiToken, User
from events.batching import Combiner
from events.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from events.i18n import N_
from events.organisations import service as organisations
from events.ratelimit import service as ratelimit

TOKEN_PREFIX = "evt_"
# Paired door phones get accounts of their own; .invalid is reserved, so no mail is ever sent there.
DEVICE_EMAIL_DOMAIN = "devices.invalid"
LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_ATTEMPTS_PER_EMAIL = 10
LOGIN_ATTEMPTS_PER_CLIENT = 30


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    email: str,
    *,
    role: str,
    password: str | None,
    display_name: str = "",
    partner_id: int | None = None,
    organisation_id: int | None = None,
    restricted: bool | None = None,
    is_platform_admin: bool = False,
) -> CurrentUser:
    """A new account, a member of ``organisation_id`` with ``role`` (no organisation named: the only one there is).
    A partner viewer's ``partner_id`` comes from catalogue.lookup.partner_id (accounts is below catalogue, so it
    is given the id rather than looking the partner up). ``restricted`` None: the role's default (door staff work
    their door team's events, organisers every event)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or text.line_problem(email) is not None:
        raise InvalidInput("Give a valid email address.", fields={"email": "Not an email address."})
    if (problem := text.line_problem(display_name.strip(), required=False)) is not None:
        raise InvalidInput(problem, fields={"display_name": problem})
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of: {', '.join(ROLES)}.", fields={"role": "Unknown role."})
    if password is not None and (problem := passwords.password_problem(password)):
        raise InvalidInput(problem, fields={"password": problem})
    async with db.write_transaction():
        organisation = await organisations.by_id(organisation_id) if organisation_id is not None else await organisations.resolve(None)
        if await User.exists().where(User.email == email):
            raise Conflict(f"A user with the email {email} already exists.", code="email_taken")
        user = User(
            email=email,
            display_name=display_name,
            is_platform_admin=is_platform_admin,
            password_hash=await passwords.hash_password_in_thread(password) if password else "",
        )
        await user.save()
        restricted = restricted_by_default(role) if restricted is None else restricted
        await memberships.add_membership(user.id, organisation.id, role=role, partner_id=partner_id, restricted=restricted)
    return CurrentUser(
        id=user.id,
        email=email,
        display_name=display_name,
        role=role,
        partner_id=partner_id,
        organisation_id=organisation.id,
        organisation_slug=organisation.slug,
        organisation_name=organisation.name,
        restricted=restricted and role in RESTRICTABLE_ROLES,
        is_platform_admin=is_platform_admin,
    )


async def set_password(email: str, password: str) -> None:
    if problem := passwords.password_problem(password):
        raise InvalidInput(problem, fields={"password": problem})
    async with db.write_transaction():
        updated = (
            await User.update({User.password_hash: await passwords.hash_password_in_thread(password)})
            .where(User.email == normalise_email(email))
            .returning(User.id)
        )
    if not updated:
        raise NotFound(f"No user with the email {email}.")


async def authenticate(email: str, password: str, *, client: str, now: datetime) -> CurrentUser | None:
    """The user for these credentials, or None. Raises TooManyAttempts when either limit is hit.

    Only failures count: each attempt takes its place under both limits before the password is checked (so
    guesses sent in parallel cannot overshoot), and a correct password gives its place back and clears the
    account's failures. So signing in often never locks anyone out, and the right password once a lockout is
    over starts the account afresh."""
    email = normalise_email(email)
    now_epoch = int(now.timestamp())
    limits = (("login-client", client, LOGIN_ATTEMPTS_PER_CLIENT), ("login-email", email, LOGIN_ATTEMPTS_PER_EMAIL))
    decisions = [
        await ratelimit.hit(scope, subject, limit=limit, window_seconds=LOGIN_WINDOW_SECONDS, now_epoch=now_epoch) for scope, subject, limit in limits
    ]
    if refused := [decision for decision in decisions if not decision.allowed]:
        raise TooManyAttempts(N_("Too many sign-in attempts."), retry_after_seconds=max(decision.retry_after_seconds for decision in refused))
    row = await User.select().where(User.email == email, User.is_active == True).first()  # noqa: E712
    if not await passwords.verify_password_in_thread(row["password_hash"] if row else None, password) or row is None:
        return None
    # A person with no organisation left (every membership ended) and no platform duties has nothing to sign in to.
    organisation_id = await memberships.first_organisation_id(row["id"])
    if organisation_id is None and not row["is_platform_admin"]:
        return None
    await ratelimit.forgive("login-client", client, window_seconds=LOGIN_WINDOW_SECONDS, now_epoch=now_epoch)
    await ratelimit.reset("login-email", email)
    changes: dict[Column | str, Any] = {User.last_login_at: now}
    if passwords.needs_rehash(row["password_hash"]):
        changes[User.password_hash] = await passwords.hash_password_in_thread(password)
    await User.update(changes).where(User.id == row["id"])
    return await memberships.acting_as(row["id"], organisation_id)


async def create_api_token(
    email: str,
    *,
    label: str = "",
    now: datetime,
    expires_at: datetime | None = None,
    scope: str = "",
    organisation_id: int | None = None,
    created_by: int | None = None,
) -> str:
    """Make a bearer token for a user, acting in ``organisation_id`` (none named: the person's only organisation),
    and return it; it is shown once and only its hash is kept. Its creator is whoever is signed in making the
    request (none on the command line)."""
    user = await User.select(User.id).where(User.email == normalise_email(email), User.is_active == True).first()  # noqa: E712
    if user is None:
        raise NotFound(f"No active user with the email {email}.")
    if organisation_id is None:
        joined = await memberships.memberships_of(user["id"])
        if len(joined) != 1:
            raise InvalidInput(
                "That person belongs to several organisations: name one with --org SLUG." if joined else "That person is on no organisation's team.",
                fields={"org": "Name the organisation."},
            )
        organisation_id = joined[0].organisation_id
    elif not await memberships.is_member(user["id"], organisation_id):
        raise NotFound(f"{email} is not on that organisation's team.", code="not_a_member")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.write_transaction():
        creator = ACTOR.get()
        creator_id = created_by if created_by is not None else (creator.id if creator is not None else None)
        await ApiToken(
            user=user["id"],
            organisation=organisation_id,
            token_hash=rules.secret_hash(token),
            label=label,
            created_at=now,
            expires_at=expires_at,
            scope=scope,
            created_by=creator_id,
        ).save()
    return token


async def create_device_account(
    device_name: str, *, organisation_id: int, now: datetime, expires_at: datetime, scope: str, paired_by: int | None = None
) -> tuple[CurrentUser, str]:
    """A door account for one paired device, named after it, with no password and one API token (returned). The
    token names who paired the phone as its creator: taking them off the team switches the phone off too."""
    async with db.write_transaction():
        user = await create_user(
            f"device-{secrets.token_hex(8)}@{DEVICE_EMAIL_DOMAIN}",
            role=DOOR,
            password=None,
            display_name=device_name,
            organisation_id=organisation_id,
        )
        token = await create_api_token(
            user.email, label=device_name, now=now, expires_at=expires_at, scope=scope, organisation_id=organisation_id, created_by=paired_by
        )
    return user, token


def is_device_account(email: str) -> bool:
    return email.endswith("@" + DEVICE_EMAIL_DOMAIN)


async def revoke_scoped_tokens(user_id: int, scope: str, *, now: datetime, deactivate_device: bool = False) -> int:
    """Revoke the user's tokens made for ``scope``; a paired device's account, which exists only for its tokens,
    is switched off too. Returns how many tokens were revoked."""
    async with db.write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where(ApiToken.user == user_id, ApiToken.scope == scope, ApiToken.revoked_at.is_null())
            .returning(ApiToken.id)
        )
        if deactivate_device:
            await User.update({User.is_active: False}).where(User.id == user_id, User.email.like(f"%@{DEVICE_EMAIL_DOMAIN}"))
    return len(revoked)


@dataclass(frozen=True, slots=True)
class ScopedToken:
    """A live token made for one scope (a door device), with who holds it; never the token itself."""

    id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    user_id: int
    holder: str  # the holder's name, or their email address
    paired_device: bool  # held by a paired phone's own account


async def active_scoped_tokens(scope: str, *, now: datetime) -> list[ScopedToken]:
    """The unrevoked, unexpired tokens made for ``scope``, oldest first, with who holds each (never the token)."""
    rows = (
        await ApiToken.select(
            ApiToken.id, ApiToken.label, ApiToken.created_at, ApiToken.expires_at, ApiToken.user.id, ApiToken.user.email, ApiToken.user.display_name
        )
        .where(ApiToken.scope == scope, ApiToken.revoked_at.is_null(), (ApiToken.expires_at.is_null()) | (ApiToken.expires_at > now))
        .order_by(ApiToken.id)
    )
    return [
        ScopedToken(
            id=row["id"],
            label=row["label"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            user_id=row["user.id"],
            holder=row["user.display_name"] or row["user.email"],
            paired_device=is_device_account(row["user.email"]),
        )
        for row in rows
    ]


async def revoke_scoped_token(token_id: int, scope: str, *, now: datetime) -> int | None:
    """Revoke one token made for ``scope``, whoever holds it; a paired device's account, which exists only for its
    token, is switched off too. Returns the holder's user id, or None if no such live token has that scope."""
    async with db.write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where(ApiToken.id == token_id, ApiToken.scope == scope, ApiToken.revoked_at.is_null())
            .returning(ApiToken.user)
        )
        if not revoked:
            return None
        user_id: int = revoked[0]["user"]
        await User.update({User.is_active: False}).where(User.id == user_id, User.email.like(f"%@{DEVICE_EMAIL_DOMAIN}"))
    return user_id


async def revoke_all_scoped_tokens(scope: str, *, now: datetime) -> int:
    """Revoke every token made for ``scope``, whoever holds it (paired devices' accounts are switched off)."""
    async with db.write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.scope == scope, ApiToken.revoked_at.is_null()).returning(ApiToken.user)
        )
        holders = {row["user"] for row in revoked}
        if holders:
            await User.update({User.is_active: False}).where(User.id.is_in(list(holders)), User.email.like(f"%@{DEVICE_EMAIL_DOMAIN}"))
    return len(revoked)


async def user_for_token(token: str, *, at: datetime | None = None) -> CurrentUser | None:
    """The user a token belongs to, acting in the token's organisation, unless it is unknown, revoked, expired (at
    ``at``, default now), its holder is switched off or off that organisation's team, or the organisation is
    suspended. Read from the database on every request (one indexed join), never kept in a process: a token
    revoked on any server stops working on every server at once."""
    digest = rules.secret_hash(token)
    at = at or datetime.now(timezone.utc)
    row = await _token_row(digest)
    if row is None or (row["expires_at"] is not None and _aware(row["expires_at"]) <= at):
        return None
    if rules.last_used_due(_aware(row["last_used_at"]) if row["last_used_at"] else None, at):
        await db.run(queries.TOKEN_USED, at, row["token_id"], at - rules.LAST_USED_EVERY)
    return memberships.current_user_of(row, row, device=row["label"], door_event_id=door_event_of_scope(row["scope"] or ""))


async def _token_row(digest: str) -> Mapping[str, Any] | None:
    """The live token with this hash, its holder and their membership (USER_FOR_TOKEN), or None. On PostgreSQL the
    lookups of the requests that arrive while one is running go together in the next (events.batching): one round
    trip for them all, read as each would have read it alone."""
    if db.is_sqlite() or db.engine().current_transaction.get() is not None:
        rows = await db.run(queries.USER_FOR_TOKEN, digest, True)
        return rows[0] if rows else None
    return await _TOKEN_LOOKUPS.submit(None, digest)


async def _look_up_tokens(_: Hashable, digests: Sequence[str]) -> list[Mapping[str, Any] | None]:
    rows = await db.run(queries.USERS_FOR_TOKENS, list(set(digests)), True)
    found = {row["token_hash"]: row for row in rows}
    return [found.get(digest) for digest in digests]


# Lookups waiting for the next round trip: at most this many hashes in one.
TOKEN_LOOKUP_LIMIT = 100
_TOKEN_LOOKUPS: Combiner[str, Mapping[str, Any] | None] = Combiner(_look_up_tokens, limit=TOKEN_LOOKUP_LIMIT)


def _aware(moment: datetime | str) -> datetime:
    """A timestamp read back by raw SQL: SQLite may give text, and naive means UTC."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def revoke_api_tokens(email: str, *, now: datetime) -> int:
    async with db.write_transaction():
        user = await User.select(User.id).where(User.email == normalise_email(email)).first()
        if user is None:
            raise NotFound(f"No user with the email {email}.")
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.user == user["id"], ApiToken.revoked_at.is_null()).returning(ApiToken.id)
        )
    return len(revoked)
