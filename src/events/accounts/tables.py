"""Account tables: people, their memberships of organisations (with a role in each), invitations, hashed API
tokens, server-side web sessions and whose they are, password resets, and emails to people about their account."""

from typing import Any

from piccolo.columns import JSON, BigInt, Boolean, Bytea, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from events.organisations.tables import Organisation

# catalogue is a layer above this one: the foreign key names its table lazily, so this module does not import it.
_PARTNER = LazyTableReference("Partner", module_path="events.catalogue.tables")


class User(Table, tablename="app_user"):
    """A person (or a paired door phone). What they may do is their Membership's, per organisation; ``is_active``
    False switches the whole account off (their last membership ended, or a platform admin's decision)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    email = Varchar(length=254, unique=True, index=True)
    display_name = Varchar(length=120, default="")
    password_hash = Varchar(length=255, default="", secret=True)
    is_active = Boolean(default=True)
    # Runs the service: creates and suspends organisations (/platform, `events org`); no organisation's data.
    is_platform_admin = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="membership"):
    """A person's place in one organisation: their role there (accounts.roles), the partner project a partner
    viewer sees, and whether an organiser or door member is limited to chosen events (catalogue.EventAccess lists
    an organiser's, the door team a door member's). One per person and organisation (a unique index)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)
    partner: ForeignKey[Any] = ForeignKey(references=_PARTNER, null=True, default=None, on_delete=OnDelete.set_null)
    restricted = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    # An owner took the person off the team: their sessions ended and this organisation's tokens were revoked.
    deactivated_at = Timestamptz(null=True, default=None)


class Invitation(Table, tablename="invitation"):
    """An owner's invitation to join their organisation with a role: a single-use link, sent by email, that lets
    the person set a password (or, with an account already, accept). Only the link token's SHA-256 is kept; the
    token is made when the email is sent (tickets/outbox.py), like a password reset's."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=254, index=True)
    role = Varchar(length=20)
    partner: ForeignKey[Any] = ForeignKey(references=_PARTNER, null=True, default=None, on_delete=OnDelete.cascade)
    # The events an organiser or door member will be limited to (event ids); empty: every event.
    event_ids = JSON(default="[]")
    token_hash = Varchar(length=64, null=True, default=None, unique=True, index=True)
    invited_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """A bearer token; only its SHA-256 is stored, so a database leak yields no usable token.

    ``expires_at``: none for tokens made on the command line; a door device's token ends a while after its
    event. ``scope`` limits what the token may do ("door:<event id>": only that event's door API, see accounts.auth)
    and lets the tokens made for it be revoked together."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    # The organisation the token acts in: its holder's membership there decides what it may do.
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    label = Varchar(length=120, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    scope = Varchar(length=40, default="")
    # Who made it: the person signed in when it was made (a paired phone's token names the organiser who paired
    # it); none for tokens made on the command line.
    created_by = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.set_null)


class SessionRecord(Table, tablename="web_session"):
    """Litestar's server-side session data, kept in the database so any worker can serve any request."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    key = Varchar(length=200, unique=True, index=True)
    data = Bytea()
    expires_at = BigInt(null=True, default=None, index=True)


class SignIn(Table, tablename="sign_in"):
    """One signed-in browser: whose web session it is, so a person can see their sign-ins and end them from any
    server (the authentication middleware refuses a session whose sign-in is gone). Written at sign-in, keyed by the
    SHA-256 of the session id, never the id itself. No address is kept: when it started, when it was last seen and
    a short browser description are what a person needs to recognise it."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    key_hash = Varchar(length=64, unique=True, index=True)
    browser = Varchar(length=120, default="")
    started_at = Timestamptz(default=TimestamptzNow())
    # Written at most once a minute (a conditional update), not on every request.
    last_seen_at = Timestamptz(default=TimestamptzNow(), index=True)


class PasswordReset(Table, tablename="password_reset"):
    """A single-use link to set a new password; only its token's SHA-256 is stored (like ApiToken)."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AccountMessage(Table, tablename="account_message"):
    """An email to a person about their account (a password-reset link), queued in the transaction that asks for
    it and sent, with retries, by the email outbox's worker like an order's emails (tickets/outbox.py). Its link is
    made when it is sent, so the token is never stored in the clear."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    kind = Varchar(length=40)  # password_reset, invitation
    user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    # An invitation's email (the person may have no account yet).
    invitation = ForeignKey(references=Invitation, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    recipient = Varchar(length=254)
    locale = Varchar(length=8, default="en")
    # The outbox's statuses (tickets.statuses.MessageStatus, a layer above): queued, sent, failed, skipped.
    status = Varchar(length=10, default="queued", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    sending_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=200, default="")  # the error's kind and SMTP code only, never an address
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
