"""Account tables: users with roles, hashed API tokens, and server-side web sessions."""

from typing import Any

from piccolo.columns import BigInt, Boolean, Bytea, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

# catalogue is a layer above this one: the foreign key names its table lazily, so this module does not import it.
_PARTNER = LazyTableReference("Partner", module_path="events.catalogue.tables")


class User(Table, tablename="app_user"):
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    email = Varchar(length=254, unique=True, index=True)
    display_name = Varchar(length=120, default="")
    password_hash = Varchar(length=255, default="", secret=True)
    role = Varchar(length=20)
    partner: ForeignKey[Any] = ForeignKey(references=_PARTNER, null=True, default=None, on_delete=OnDelete.set_null)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    """A bearer token; only its SHA-256 is stored, so a database leak yields no usable token.

    ``expires_at``: none for tokens made on the command line; a door device's token ends a while after its
    event. ``scope`` limits what the token may do ("door:<event id>": only that event's door API, see accounts.auth)
    and lets the tokens made for it be revoked together."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    label = Varchar(length=120, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    scope = Varchar(length=40, default="")


class SessionRecord(Table, tablename="web_session"):
    """Litestar's server-side session data, kept in the database so any worker can serve any request."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    key = Varchar(length=200, unique=True, index=True)
    data = Bytea()
    expires_at = BigInt(null=True, default=None, index=True)
