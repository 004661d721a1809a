"""Every periodic job the worker runs, in one list."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from functools import partial

from events.accounts.sessions import SESSION_MAX_AGE, DatabaseStore
from events.accounts.sign_ins import purge_stale_sign_ins
from events.config import Settings
from events.jobs.worker import PeriodicJob
from events.ledger import service as ledger
from events.ledger import stripe_balance, thank_you
from events.payments import cancellation
from events.payments import service as payments
from events.payments.gateway import Gateway
from events.payments.gateways import Gateways
from events.privacy import service as privacy
from events.ratelimit import service as ratelimit
from events.tickets import outbox, reminders
from events.waitlist import service as waitlist


def _wall_clock() -> datetime:
    return datetime.now(timezone.utc)


async def _purge_sessions(now: datetime) -> None:
    await DatabaseStore().delete_expired()
    await purge_stale_sign_ins(now, max_age=SESSION_MAX_AGE)


async def _purge_rate_limits(now: datetime) -> None:
    await ratelimit.purge_expired(int(now.timestamp()))


def periodic_jobs(gateway: Gateway, settings: Settings, *, gateways: Gateways | None = None) -> list[PeriodicJob]:
    """The worker's jobs. ``gateway`` is the environment's; the payment jobs use each organisation's own Stripe
    account through ``gateways`` (made from ``gateway`` and the settings when not given, as the CLI's worker does)."""
    gateways = gateways or Gateways(gateway, settings)
    jobs = [
        PeriodicJob("sweep-expired-holds", every_seconds=15, run=partial(payments.sweep_expired_holds, gateways=gateways)),
        PeriodicJob("recheck-payments", every_seconds=60, run=partial(payments.recheck_payments, gateways=gateways)),
        PeriodicJob("retry-pending-refunds", every_seconds=60, run=partial(payments.retry_pending_refunds, gateways=gateways)),
        # A cancelled event's guests given time to donate their refund instead: refunded when it runs out unchosen.
        PeriodicJob("refund-unchosen-donations", every_seconds=300, run=partial(cancellation.refund_unchosen, gateways=gateways)),
        PeriodicJob("fetch-stripe-fees", every_seconds=300, run=partial(payments.fetch_missing_fees, gateways=gateways)),
        # Money is booked as it moves; this books anything that slipped past (e.g. rows repaired by hand).
        PeriodicJob("book-ledger", every_seconds=900, run=ledger.book_all_events),
        PeriodicJob("import-stripe-balance", every_seconds=3600, run=partial(stripe_balance.import_recent, gateways=gateways)),
        PeriodicJob("purge-expired-sessions", every_seconds=3600, run=_purge_sessions),
        PeriodicJob("purge-rate-limit-buckets", every_seconds=3600, run=_purge_rate_limits),
        # Freed places (refunds, holds and offers that ran out, capacity raised, newly funded free places) offered to the
        # waiting lists in join order; the lists' own changes (a guest leaving, an organiser's offer) offer at once.
        PeriodicJob("offer-freed-places", every_seconds=10, run=waitlist.sweep),
        # Its lease is a message's: a worker stuck on one message that long lets another send the rest (each message
        # is claimed on its own, so no two workers ever send the same one). Each message is stamped with the time it was
        # tried (the wall clock), not the batch's start.
        PeriodicJob(
            "drain-email-outbox",
            every_seconds=10,
            run=partial(outbox.drain_outbox, settings=settings, clock=_wall_clock),
            lease_seconds=settings.outbox_sending_lease_seconds,
        ),
        # Guest messages nobody asks for: each goes once (keyed in the outbox), a few minutes after it is due.
        PeriodicJob("queue-reminders", every_seconds=300, run=reminders.queue_due_reminders),
        PeriodicJob("queue-thank-yous", every_seconds=900, run=thank_you.queue_thank_yous),
        PeriodicJob("purge-email-outbox", every_seconds=3600, run=partial(outbox.purge_outbox, retention_days=settings.retention_days)),
        PeriodicJob("erase-guest-data", every_seconds=3600, run=partial(privacy.erase_expired, retention_days=settings.retention_days)),
    ]
    # Every job's lease is EVENTS_JOB_LEASE_SECONDS but the outbox's, which is a message's claim (above).
    return [job if job.name == "drain-email-outbox" else replace(job, lease_seconds=settings.job_lease_seconds) for job in jobs]
