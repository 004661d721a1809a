"""Changing a password, and resetting a forgotten one by email: a single-use link, valid for an hour, whose token is
made when the email is sent (the outbox asks issue_reset_link) and stored only as a hash. Asking for a link answers
the same whether or not the account exists; it is rate-limited per address and per email."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from events import db
from events.accounts import memberships, passwords, rules, sign_ins
from events.accounts.roles import CurrentUser
from events.accounts.rules import ResetLinkState
from events.accounts.service import DEVICE_EMAIL_DOMAIN, LOGIN_ATTEMPTS_PER_EMAIL, LOGIN_WINDOW_SECONDS, normalise_email
from events.accounts.tables import AccountMessage, PasswordReset, User
from events.errors import InvalidInput, TooManyAttempts
from events.i18n import N_
from events.ratelimit import service as ratelimit

PASSWORD_RESET = "password_reset"  # the account email's kind
RESET_WINDOW_SECONDS = 3600
RESETS_PER_EMAIL = 3
RESETS_PER_CLIENT = 20
WRONG_CURRENT_PASSWORD = N_("That is not your current password.")


@dataclass(frozen=True, slots=True)
class ResetOutcome:
    """What following a reset link came to: ``user`` is set only when the new password was set."""

    state: ResetLinkState
    user: CurrentUser | None = None


async def change_password(user: CurrentUser, current_password: str, new_password: str, *, now: datetime) -> int:
    """Set a new password for the signed-in person, who proves it is them with their current one (wrong guesses
    count toward the sign-in limit of their account). Their other sign-ins end; returns how many."""
    if (problem := passwords.password_problem(new_password)) is not None:
        raise InvalidInput(problem, fields={"new_password": problem})
    now_epoch = int(now.timestamp())
    decision = await ratelimit.hit(
        "login-email", user.email, limit=LOGIN_ATTEMPTS_PER_EMAIL, window_seconds=LOGIN_WINDOW_SECONDS, now_epoch=now_epoch
    )
    if not decision.allowed:
        raise TooManyAttempts(N_("Too many sign-in attempts."), retry_after_seconds=decision.retry_after_seconds)
    row = await User.select(User.password_hash).where(User.id == user.id, User.is_active == True).first()  # noqa: E712
    if row is None or not await passwords.verify_password_in_thread(row["password_hash"] or None, current_password):
        raise InvalidInput(WRONG_CURRENT_PASSWORD, fields={"current_password": WRONG_CURRENT_PASSWORD})
    await ratelimit.reset("login-email", user.email)
    async with db.write_transaction():
        await _set_password(user.id, new_password, now=now)
        return await sign_ins.end_other_sign_ins(user.id, keep=user.sign_in_id)


async def request_password_reset(email: str, *, client: str, locale: str, now: datetime) -> None:
    """Queue a reset email if ``email`` is an active account's that has a password; otherwise do nothing, and say
    nothing either way. Each request counts toward both limits first, whether or not the account exists, so
    neither the answer nor the limits tell anyone which addresses have accounts."""
    email = normalise_email(email)
    now_epoch = int(now.timestamp())
    decisions = [
        await ratelimit.hit(scope, subject, limit=limit, window_seconds=RESET_WINDOW_SECONDS, now_epoch=now_epoch)
        for scope, subject, limit in (("reset-client", client, RESETS_PER_CLIENT), ("reset-email", email, RESETS_PER_EMAIL))
    ]
    if refused := [decision for decision in decisions if not decision.allowed]:
        raise TooManyAttempts(N_("Too many password reset requests."), retry_after_seconds=max(decision.retry_after_seconds for decision in refused))
    if email.endswith("@" + DEVICE_EMAIL_DOMAIN):
        return
    async with db.write_transaction():
        # Accounts made without a password sign in with API tokens only; a reset must not give them one.
        user = await User.select(User.id).where(User.email == email, User.is_active == True, User.password_hash != "").first()  # noqa: E712
        if user is None:
            return
        await AccountMessage.insert(
            AccountMessage(kind=PASSWORD_RESET, user=user["id"], recipient=email, locale=locale, next_attempt_at=now, created_at=now)
        )


async def issue_reset_link(user_id: int, *, now: datetime) -> str | None:
    """A new reset token for the person, valid for RESET_LINK_LIFETIME from now (when its email is sent); only its
    hash is kept. None when the person has been switched off since asking."""
    async with db.write_transaction():
        if not await User.exists().where(User.id == user_id, User.is_active == True):  # noqa: E712
            return None
        token = secrets.token_urlsafe(32)
        await PasswordReset.insert(
            PasswordReset(user=user_id, token_hash=rules.secret_hash(token), created_at=now, expires_at=now + rules.RESET_LINK_LIFETIME)
        )
    return token


async def reset_link_state(token: str, *, now: datetime) -> ResetLinkState:
    """Whether a reset link can still be used (opening the link only looks: a mail scanner's visit spends nothing)."""
    row = await _link(token)
    return _state(row, now)


async def use_reset_link(token: str, new_password: str, *, now: datetime) -> ResetOutcome:
    """Set the new password if the link is still good, in one transaction: the link is spent (a conditional update,
    so of two tabs sending it only one succeeds), the person's other links are spent too, every session of theirs
    ends and their sign-in lockout is lifted. The caller then signs them in."""
    if (problem := passwords.password_problem(new_password)) is not None:
        raise InvalidInput(problem, fields={"password": problem})
    async with db.write_transaction():
        row = await _link(token)
        if (state := _state(row, now)) is not ResetLinkState.valid or row is None:
            return ResetOutcome(state)
        spent = (
            await PasswordReset.update({PasswordReset.used_at: now})
            .where(PasswordReset.id == row["id"], PasswordReset.used_at.is_null())
            .returning(PasswordReset.id)
        )
        if not spent:
            return ResetOutcome(ResetLinkState.used)
        await _set_password(row["user.id"], new_password, now=now)
        await sign_ins.end_other_sign_ins(row["user.id"], keep=None)
        await ratelimit.reset("login-email", row["user.email"])
    user = await memberships.acting_as(row["user.id"], await memberships.first_organisation_id(row["user.id"]))
    return ResetOutcome(ResetLinkState.valid, user)


async def _set_password(user_id: int, password: str, *, now: datetime) -> None:
    """Inside the caller's transaction: the new hash, and any reset link still out for the person spent."""
    await User.update({User.password_hash: await passwords.hash_password_in_thread(password)}).where(User.id == user_id)
    await PasswordReset.update({PasswordReset.used_at: now}).where(PasswordReset.user == user_id, PasswordReset.used_at.is_null())


async def _link(token: str) -> dict | None:
    if not token or len(token) > 100:
        return None
    return (
        await PasswordReset.select(
            PasswordReset.id,
            PasswordReset.expires_at,
            PasswordReset.used_at,
            PasswordReset.user.id,
            PasswordReset.user.email,
            PasswordReset.user.display_name,
            PasswordReset.user.is_active,
        )
        .where(PasswordReset.token_hash == rules.secret_hash(token))
        .first()
    )


def _state(row: dict | None, now: datetime) -> ResetLinkState:
    if row is None:
        return ResetLinkState.unknown
    return rules.reset_link_state(expires_at=row["expires_at"], used_at=row["used_at"], user_active=bool(row["user.is_active"]), now=now)
