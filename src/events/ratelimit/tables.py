"""Fixed-window attempt counters shared by every worker and host."""

from piccolo.columns import BigInt, Integer, Serial, Varchar
from piccolo.table import Table


class RateLimitBucket(Table, tablename="rate_limit_bucket"):
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    key = Varchar(length=120, unique=True, index=True)
    window_start = BigInt()
    hits = Integer(default=0)
