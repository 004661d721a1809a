"""Leases that let exactly one worker, on any host, run a periodic job at a time."""

from piccolo.columns import BigInt, Serial, Varchar
from piccolo.table import Table


class JobLease(Table, tablename="job_lease"):
    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers
    name = Varchar(length=80, unique=True)
    holder = Varchar(length=120, default="")
    leased_until = BigInt(default=0)
    last_run_at = BigInt(default=0)
