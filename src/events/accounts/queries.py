"""The accounts' hand-written SQL: finding the user behind an API token, and noting when it was last used. Run it with ``events.db.run``; placeholders
are Piccolo's ``{}``, in the order of the arguments. Everything else in accounts uses Piccolo's query builder."""

from __future__ import annotations

# Raw: hot path (every API request: building the same join with Piccolo's query builder cost more CPU than the rest
# of a door scan's queries together). The holder's membership of the token's organisation decides what it may do;
# none (ended, or the organisation suspended) and the token works no more. Arguments: token hash, true (active).
USER_FOR_TOKEN = """
SELECT u.id, u.email, u.display_name, u.is_platform_admin, m.role, m.partner, m.restricted, m.organisation,
       o.slug AS "organisation.slug", o.name AS "organisation.name",
       t.id AS token_id, t.label, t.expires_at, t.scope, t.last_used_at
FROM api_token t
JOIN app_user u ON u.id = t."user"
JOIN membership m ON m."user" = t."user" AND m.organisation = t.organisation AND m.deactivated_at IS NULL
JOIN organisation o ON o.id = m.organisation AND o.suspended_at IS NULL
WHERE t.token_hash = {} AND t.revoked_at IS NULL AND u.is_active = {}
LIMIT 1
"""
# Raw: hot path (the API requests of one server process that arrive together: their tokens' users in one round trip,
# as USER_FOR_TOKEN for each; service.user_for_token). Arguments: token hashes (a text array), true (active).
USERS_FOR_TOKENS = """
SELECT t.token_hash, u.id, u.email, u.display_name, u.is_platform_admin, m.role, m.partner, m.restricted, m.organisation,
       o.slug AS "organisation.slug", o.name AS "organisation.name",
       t.id AS token_id, t.label, t.expires_at, t.scope, t.last_used_at
FROM api_token t
JOIN app_user u ON u.id = t."user"
JOIN membership m ON m."user" = t."user" AND m.organisation = t.organisation AND m.deactivated_at IS NULL
JOIN organisation o ON o.id = m.organisation AND o.suspended_at IS NULL
WHERE t.token_hash = ANY({}::text[]) AND t.revoked_at IS NULL AND u.is_active = {}
"""
# Raw: hot path (an API request whose token was last noted as used over a minute ago: at most one write a minute per
# token, and of requests racing past the check only one matches). Arguments: now, token id, now less a minute.
TOKEN_USED = """
UPDATE api_token SET last_used_at = {} WHERE id = {} AND (last_used_at IS NULL OR last_used_at < {})
"""
