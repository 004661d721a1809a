"""The `events` command: serve, worker, migrate, demo, and user and token management."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import click

from events import db
from events.config import Settings, SettingsError, load_settings
from events.errors import EventsError

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.secho(f"Configuration error: {exc}", fg="red", err=True)
        sys.exit(2)


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run async work with the database bound; domain and connection errors become one clear line."""

    async def bound() -> T:
        async with db.bound(settings.database_url):
            return await work()

    try:
        return asyncio.run(bound())
    except EventsError as exc:
        click.secho(exc.message, fg="red", err=True)
        sys.exit(1)
    except (OSError, ConnectionError) as exc:
        click.secho(f"Cannot reach the database ({exc}). Is it running, and is DATABASE_URL right?", fg="red", err=True)
        sys.exit(1)


@click.group()
def main() -> None:
    """Ticketing for charity fundraising events."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("piccolo").setLevel(logging.WARNING)


@main.command()
def migrate() -> None:
    """Apply every database migration not yet applied."""
    settings = _settings()
    _run(settings, db.migrate)
    click.echo("Database is up to date.")


@main.command()
def demo() -> None:
    """Seed the demo organisations, partners, events and (in development) a login for each. Safe to run again."""
    from events.demo import LOGINS, seed_demo

    settings = _settings()
    created = _run(settings, lambda: seed_demo(datetime.now(timezone.utc), with_demo_login=not settings.is_production))
    click.echo(f"Demo data ready ({', '.join(created) if created else 'nothing new to add'}).")
    if not settings.is_production:
        for login in LOGINS:
            click.secho(f"Development {login.role} login for {login.organisation}: {login.email} / {login.password}", fg="green", bold=True)


WORKER_HEALTHCHECK_SECONDS = 60


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (use several in production).")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the site and API."""
    import uvicorn

    settings = _settings()
    pending = _run(settings, db.pending_migrations)
    if pending:
        click.secho(f"{len(pending)} database migration(s) not applied: run `events migrate` first.", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Serving on http://{host}:{port} ({settings.env}, {'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    uvicorn.run(
        "events.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=settings.is_production,
        log_level="info",
        access_log=False,
        # uvicorn restarts a worker that misses its health check for 5 s by default; on a busy machine a
        # starting worker (imports, templates) can take longer, and would be killed over and over.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@main.command()
def worker() -> None:
    """Run the periodic jobs (hold sweeper, payment re-checks, email outbox, clean-ups) until stopped."""
    from events.jobs.registry import periodic_jobs
    from events.jobs.worker import run_forever
    from events.payments.gateway import create_gateway

    settings = _settings()
    gateway = create_gateway(settings.stripe, production=settings.is_production)

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_forever(periodic_jobs(gateway, settings), stop)

    _run(settings, work)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "organiser", "door", "partner_viewer"]))
@click.option("--name", default="", help="Display name.")
@click.option("--partner", "partner_slug", default=None, help="Partner slug, for a partner_viewer.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(email: str, role: str, name: str, partner_slug: str | None, password_stdin: bool) -> None:
    """Create a user. Without --password-stdin the user can sign in only with API tokens."""
    from events.accounts import service
    from events.catalogue.lookup import partner_id

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    settings = _settings()

    async def create() -> Any:
        partner = await partner_id(partner_slug) if partner_slug else None
        return await service.create_user(email, role=role, password=password, display_name=name, partner_id=partner)

    created: Any = _run(settings, create)
    click.echo(f"Created {created.role} {created.email}.")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. 'Door 1 phone'.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None, help="Stop working after this many days (default: never).")
def token_create(email: str, label: str, expires_in_days: int | None) -> None:
    """Print a new API token for EMAIL (shown once; send it as 'Authorization: Bearer <token>')."""
    from events.accounts import service

    settings = _settings()
    now = datetime.now(timezone.utc)
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days is not None else None
    value = _run(settings, lambda: service.create_api_token(email, label=label, now=now, expires_at=expires_at))
    click.echo(value)


@token.command("revoke")
@click.argument("email")
def token_revoke(email: str) -> None:
    """Revoke every API token of EMAIL."""
    from events.accounts import service

    settings = _settings()
    count = _run(settings, lambda: service.revoke_api_tokens(email, now=datetime.now(timezone.utc)))
    click.echo(f"Revoked {count} token(s).")


@main.group()
def keys() -> None:
    """Manage the keys that sign ticket QR codes."""


@keys.command("rotate")
@click.argument("event_slug")
def keys_rotate(event_slug: str) -> None:
    """Start signing EVENT_SLUG's tickets with a new key. Tickets already issued keep working: door
    devices verify them with the retired key too (refresh their offline data after rotating)."""
    from events.catalogue.tables import Event
    from events.errors import NotFound
    from events.tickets.keys import rotate_signing_key

    settings = _settings()

    async def work() -> str:
        event = await Event.select(Event.id).where(Event.slug == event_slug).first()
        if event is None:
            raise NotFound(f"No event with the slug {event_slug}.")
        return await rotate_signing_key(event["id"], secret_key=settings.secret_key, now=datetime.now(timezone.utc))

    click.echo(f"New signing key {_run(settings, work)} for {event_slug}.")
