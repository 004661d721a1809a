"""Sign-ins: which person each web session belongs to, so a person can see where they are signed in and end any of
those sessions from any server. The state is in the database only (the sign_in table, keyed by a hash of the
session id): the authentication middleware asks it on every signed-in request, so an ended session is refused on
its very next request, whichever process serves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from events import db
from events.accounts import memberships, rules
from events.accounts.roles import CurrentUser
from events.accounts.tables import SignIn


@dataclass(frozen=True, slots=True)
class SignInView:
    """One of a person's sign-ins, as their sessions page shows it."""

    id: int
    browser: str
    started_at: datetime
    last_seen_at: datetime
    current: bool


async def record_sign_in(user_id: int, session_key: str, *, browser: str, now: datetime) -> int:
    """Note that the session ``session_key`` (new, see sessions.start_session) is ``user_id``'s; returns its id."""
    async with db.write_transaction():
        rows = await SignIn.insert(
            SignIn(user=user_id, key_hash=rules.secret_hash(session_key), browser=browser, started_at=now, last_seen_at=now)
        ).returning(SignIn.id)
    return int(rows[0]["id"])


async def user_for_session(session_key: str, user_id: int, organisation_id: int | None, *, now: datetime) -> CurrentUser | None:
    """The person signed in with this session, acting in ``organisation_id`` (the session's), unless the sign-in
    was ended or the person switched off. Notes when it was last seen at most once a minute (a conditional update,
    so racing requests write once)."""
    row = await SignIn.select(SignIn.id, SignIn.last_seen_at).where(SignIn.key_hash == rules.secret_hash(session_key), SignIn.user == user_id).first()
    if row is None:
        return None
    if rules.last_used_due(row["last_seen_at"], now):
        await SignIn.update({SignIn.last_seen_at: now}).where(SignIn.id == row["id"], SignIn.last_seen_at < now - rules.LAST_USED_EVERY)
    return await memberships.acting_as(user_id, organisation_id, sign_in_id=row["id"])


async def sign_ins_of(user: CurrentUser, *, now: datetime, max_age: timedelta) -> list[SignInView]:
    """The person's live sign-ins, this one first, then the most recently seen."""
    rows = (
        await SignIn.select(SignIn.id, SignIn.browser, SignIn.started_at, SignIn.last_seen_at)
        .where(SignIn.user == user.id, SignIn.last_seen_at > now - max_age)
        .order_by(SignIn.last_seen_at, ascending=False)
    )
    views = [SignInView(row["id"], row["browser"], row["started_at"], row["last_seen_at"], row["id"] == user.sign_in_id) for row in rows]
    return sorted(views, key=lambda view: not view.current)


async def end_sign_in(user: CurrentUser, sign_in_id: int) -> bool:
    """End one of the person's own sign-ins; False when they have no such sign-in."""
    async with db.write_transaction():
        ended = await SignIn.delete().where(SignIn.id == sign_in_id, SignIn.user == user.id).returning(SignIn.id)
    return bool(ended)


async def end_other_sign_ins(user_id: int, *, keep: int | None) -> int:
    """End every sign-in of the person but ``keep`` (the one making the request, if any); returns how many. Joins the
    caller's transaction when there is one (a password reset, a deactivation)."""
    async with db.write_transaction():
        query = SignIn.delete().where(SignIn.user == user_id)
        if keep is not None:
            query = query.where(SignIn.id != keep)
        ended = await query.returning(SignIn.id)
    return len(ended)


async def purge_stale_sign_ins(now: datetime, *, max_age: timedelta) -> None:
    """Forget sign-ins whose session has run out (not seen for the session's whole lifetime)."""
    await SignIn.delete().where(SignIn.last_seen_at < now - max_age)
