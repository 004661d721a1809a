"""The rate limits' hand-written SQL: counting attempts atomically. Run each with ``events.db.run``; placeholders
are Piccolo's ``{}``, in the order of the arguments. Everything else in ratelimit uses Piccolo's query builder."""

from __future__ import annotations

# Raw: hot path (every sign-in attempt and waiting-list join, and every ticket resend: one atomic upsert that starts a
# new window or adds to the current one, and returns the count). Arguments: key, window start.
HIT = """
INSERT INTO rate_limit_bucket (key, window_start, hits) VALUES ({}, {}, 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limit_bucket.window_start = excluded.window_start
                THEN rate_limit_bucket.hits + 1 ELSE 1 END,
    window_start = excluded.window_start
RETURNING hits
"""
# Raw: hot path (the hold batch counts several subjects at once, each by its own count, in one statement, the keys
# as one array, and a wrong claim code, access code or waiting-list token is counted under all its budgets at once;
# PostgreSQL only). Keys in order, so two transactions counting the same subjects lock their rows in
# the same order. Arguments: window start, keys (a sorted list), counts (a list, in the keys' order).
ADD_MANY = """
INSERT INTO rate_limit_bucket (key, window_start, hits)
SELECT counted.key, {}, counted.n FROM unnest({}::varchar[], {}::integer[]) AS counted (key, n) ORDER BY counted.key
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limit_bucket.window_start = excluded.window_start
                THEN rate_limit_bucket.hits + excluded.hits ELSE excluded.hits END,
    window_start = excluded.window_start
RETURNING key, hits
"""
# Raw: hot path (ADD_MANY for one subject, on SQLite, which has no arrays). Arguments: key, window start, count.
ADD = """
INSERT INTO rate_limit_bucket (key, window_start, hits) VALUES ({}, {}, {})
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN rate_limit_bucket.window_start = excluded.window_start
                THEN rate_limit_bucket.hits + excluded.hits ELSE excluded.hits END,
    window_start = excluded.window_start
RETURNING hits
"""
