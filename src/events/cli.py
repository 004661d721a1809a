"""The `events` command: serve, worker, migrate, demo, and managing organisations, users, tokens and door teams."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import click

from events import cpu, db, malloc
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
        from events.tickets import keys

        keys.use_secret_key(settings.secret_key)  # a command that issues tickets (demo, worker) makes their event's key
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
    """Seed the demo organisations, partners, events and (in development) a login for each and a sold-out screening
    with its waiting list. Safe to run again."""
    from events.demo import LOGINS, seed_demo

    settings = _settings()
    development = not settings.is_production
    created = _run(settings, lambda: seed_demo(datetime.now(timezone.utc), with_demo_login=development, with_demo_sales=development))
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
        timeout_keep_alive=settings.keep_alive_seconds,
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
        malloc.fix_thresholds()  # runs for days: large freed blocks go back to the system
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        cpu_pool = cpu.start(settings.cpu_processes, timeout_seconds=settings.cpu_timeout_seconds)  # the PDFs emails attach render in it
        try:
            await run_forever(periodic_jobs(gateway, settings), stop)
        finally:
            await cpu_pool.close()

    _run(settings, work)


@main.group()
def org() -> None:
    """Manage organisations (running the service for several charities)."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's name, as guests see it.")
@click.option("--contact-email", default="", help="Where guests can write to the organisation.")
@click.option("--owner-email", default="", help="Invite this person as its first owner (needs the worker to send the email).")
def org_create(slug: str, name: str, contact_email: str, owner_email: str) -> None:
    """Create an organisation."""
    from events.backoffice import platform
    from events.organisations.rules import OrganisationDetails

    settings = _settings()
    details = OrganisationDetails(name=name, contact_email=contact_email)
    created = _run(
        settings,
        lambda: platform.create(slug, details, owner_email=owner_email, admin=None, client="cli", locale="en", now=datetime.now(timezone.utc)),
    )
    click.echo(f"Created organisation {created.slug} ({created.name})." + (f" Invited {owner_email} as its owner." if owner_email else ""))


@org.command("list")
def org_list() -> None:
    """List every organisation: slug, members, events, and whether it is suspended."""
    from events.backoffice import platform

    settings = _settings()
    for summary in _run(settings, platform.overview):
        organisation = summary.organisation
        state = "suspended" if organisation.suspended else "active"
        click.echo(f"{organisation.slug}\t{organisation.name}\t{summary.members} members\t{summary.events} events\t{state}")


def _suspend(slug: str, *, suspended: bool) -> None:
    from events.backoffice import platform

    settings = _settings()
    changed = _run(settings, lambda: platform.set_suspended(slug, suspended=suspended, admin=None, now=datetime.now(timezone.utc)))
    click.echo(f"{changed.slug} is {'suspended' if changed.suspended else 'active'}.")


@org.command("suspend")
@click.argument("slug")
def org_suspend(slug: str) -> None:
    """Suspend an organisation: its pages and events are hidden and its people cannot act for it."""
    _suspend(slug, suspended=True)


@org.command("unsuspend")
@click.argument("slug")
def org_unsuspend(slug: str) -> None:
    """Lift an organisation's suspension."""
    _suspend(slug, suspended=False)


@main.group()
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["owner", "organiser", "treasurer", "door", "partner_viewer"]))
@click.option("--org", "org_slug", default=None, help="The organisation's slug (may be left out while there is only one).")
@click.option("--name", default="", help="Display name.")
@click.option("--partner", "partner_slug", default=None, help="Partner slug, for a partner_viewer.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--platform-admin", is_flag=True, help="Also let them run the service (/platform: create and suspend organisations).")
def user_create(email: str, role: str, org_slug: str | None, name: str, partner_slug: str | None, password_stdin: bool, platform_admin: bool) -> None:
    """Create a user, a member of one organisation. Without --password-stdin the user can sign in only with API tokens."""
    from events.accounts import service
    from events.catalogue.tables import Partner
    from events.errors import InvalidInput
    from events.organisations import service as organisations

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    settings = _settings()

    async def create() -> Any:
        organisation = await organisations.resolve(org_slug)
        partner = None
        if partner_slug:
            row = await Partner.select(Partner.id).where(Partner.slug == partner_slug, Partner.organisation == organisation.id).first()
            if row is None:
                raise InvalidInput(f"{organisation.slug} has no partner project {partner_slug!r}.")
            partner = row["id"]
        return await service.create_user(
            email,
            role=role,
            password=password,
            display_name=name,
            partner_id=partner,
            organisation_id=organisation.id,
            is_platform_admin=platform_admin,
        )

    created: Any = _run(settings, create)
    click.echo(f"Created {created.role} {created.email} in {created.organisation_slug}." + (" They are a platform admin." if platform_admin else ""))


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--org", "org_slug", default=None, help="The organisation the token acts in (may be left out while the person is on one team).")
@click.option("--label", default="", help="What the token is for, e.g. 'Door 1 phone'.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None, help="Stop working after this many days (default: never).")
def token_create(email: str, org_slug: str | None, label: str, expires_in_days: int | None) -> None:
    """Print a new API token for EMAIL (shown once; send it as 'Authorization: Bearer <token>')."""
    from events.accounts import service
    from events.organisations import service as organisations

    settings = _settings()
    now = datetime.now(timezone.utc)
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days is not None else None

    async def create() -> str:
        organisation_id = (await organisations.find(org_slug)).id if org_slug else None
        return await service.create_api_token(email, label=label, now=now, expires_at=expires_at, organisation_id=organisation_id)

    click.echo(_run(settings, create))


@token.command("revoke")
@click.argument("email")
def token_revoke(email: str) -> None:
    """Revoke every API token of EMAIL."""
    from events.accounts import service

    settings = _settings()
    count = _run(settings, lambda: service.revoke_api_tokens(email, now=datetime.now(timezone.utc)))
    click.echo(f"Revoked {count} token(s).")


@main.group()
def door() -> None:
    """Manage an event's door team (who may scan its tickets)."""


@door.command("add")
@click.argument("email")
@click.option("--event", "event_slug", required=True, help="The event's slug.")
def door_add(email: str, event_slug: str) -> None:
    """Put a door member of the event's organisation on the event's door team."""
    from events.checkin import door_team

    settings = _settings()
    team = _run(settings, lambda: door_team.add_to_door_team(event_slug, email, now=datetime.now(timezone.utc)))
    click.echo(f"{email} is on the door team of {event_slug} ({len(team)} on it).")


@door.command("remove")
@click.argument("email")
@click.option("--event", "event_slug", required=True, help="The event's slug.")
def door_remove(email: str, event_slug: str) -> None:
    """Take someone off the event's door team (their door-device tokens for it stop working)."""
    from events.checkin import door_team

    settings = _settings()
    team = _run(settings, lambda: door_team.remove_from_door_team(event_slug, email, now=datetime.now(timezone.utc)))
    click.echo(f"{email} is off the door team of {event_slug} ({len(team)} on it).")


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
