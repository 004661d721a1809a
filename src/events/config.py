"""Settings read once from the environment; a bad value stops start-up with one clear message."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("development", "production")
STRIPE_API_BASE_DEFAULT = "https://api.stripe.com"
STRIPE_JS_URL_DEFAULT = "https://js.stripe.com/v3/"
TWILIO_BASE_URL_DEFAULT = "https://api.twilio.com"
APPLE_PAY_DOMAIN_ASSOCIATION_MAX_CHARACTERS = 64 * 1024


class SettingsError(Exception):
    """A setting is missing or malformed. The message names the variable and what to do."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None
    port: int
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    starttls: bool


@dataclass(frozen=True, slots=True)
class StripeSettings:
    secret_key: str | None = field(repr=False)
    publishable_key: str | None
    webhook_secret: str | None = field(repr=False)
    api_base: str
    js_url: str
    # Apple's domain association file, as Stripe's dashboard gives it for registering a domain for Apple Pay
    # (served at /.well-known/apple-developer-merchantid-domain-association); None serves nothing.
    apple_pay_domain_association: str | None = None
    # How long one request to Stripe may take (EVENTS_STRIPE_TIMEOUT_SECONDS; the SDK's own default): a Stripe that
    # does not answer at all fails a checkout after this, tried three times, with "try again" and nothing held.
    timeout_seconds: int = 80

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key)


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """Text messages (SMS, and WhatsApp where an organisation turns it on) through Twilio. Without an account SID and
    auth token no text is sent: development writes each one to var/outbox/ instead."""

    account_sid: str | None = None
    auth_token: str | None = field(default=None, repr=False)
    sender: str | None = None  # the SMS sender: a Twilio number in E.164 or an alphanumeric sender ID
    messaging_service_sid: str | None = None  # or a Messaging Service, which picks the sender from its pool
    whatsapp_sender: str | None = None  # the WhatsApp-enabled Twilio number, E.164 (sent as whatsapp:+...)
    # The approved WhatsApp template (a Content SID, HX...) every WhatsApp text is sent with: {{1}} the organisation's
    # name, {{2}} the message. WhatsApp refuses a free-form message a business starts (Twilio error 63016).
    whatsapp_content_sid: str | None = None
    base_url: str = TWILIO_BASE_URL_DEFAULT

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    @property
    def whatsapp_ready(self) -> bool:
        """Whether texts can go by WhatsApp: an account, a WhatsApp sender and an approved template. Until then an
        organisation cannot turn WhatsApp on, and the texts of one that had it on go by SMS."""
        return self.enabled and self.whatsapp_sender is not None and self.whatsapp_content_sid is not None


@dataclass(frozen=True, slots=True)
class Settings:
    env: str
    database_url: str
    secret_key: str = field(repr=False)
    base_url: str
    var_dir: Path
    hold_minutes: int
    hold_places_per_email: int
    holds_per_client_per_minute: int
    hold_places_per_client: int
    retention_days: int
    db_pool_size: int
    run_worker_in_process: bool
    stripe: StripeSettings
    smtp: SmtpSettings
    twilio: TwilioSettings = TwilioSettings()
    # gzip in the app (Litestar's compression); off when the reverse proxy compresses instead (docs/deployment.md).
    compress_responses: bool = True
    # The outbox's first wait before a message that could not be sent is tried again (doubling up to 60 times it) and
    # how long a worker's claim on a message lasts (tickets.outbox). Tests shorten both to compress an outage.
    outbox_retry_seconds: int = 60
    outbox_sending_lease_seconds: int = 300
    # Processes each serve process (and `events worker`) renders PDFs in, off its GIL (events.cpu); 0 renders them in a
    # thread of the serve process itself, as before there was a pool.
    cpu_processes: int = 1
    # How long one PDF may take in that pool before its process is killed (it hangs) and the guest told to try again
    # (events.cpu): far above the largest real render (a 500-ticket order's PDF, about 1.2 s on a fast machine).
    cpu_timeout_seconds: int = 30
    # How long a worker holds a periodic job's lease (the outbox's job: outbox_sending_lease_seconds): another worker
    # may take it over once it runs out (the holder was killed, or its host went away). Longer than any job's run or SMTP
    # conversation; shortened only by tests that kill a worker.
    job_lease_seconds: int = 300
    # How long `events serve` keeps a client's idle connection open for its next request (uvicorn's keep-alive, 5 s by
    # default). Longer than a load balancer keeps an idle connection to the server (HAProxy: seconds to a minute, its
    # pool-purge-delay halving them every 5 s; nginx's upstream keepalive_timeout and AWS's idle timeout: 60 s), so that
    # the balancer always closes an idle connection first: a server that closed it as the balancer sent the next request
    # down it would lose that request (HAProxy then drops the client's connection, for it to retry: tests/integration/
    # test_several_servers.py's pollers met that with uvicorn's 5 s, HAProxy's purge interval).
    keep_alive_seconds: int = 75
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
    locale_dir: Path = PROJECT_ROOT / "locale"
    migrations_dir: Path = PROJECT_ROOT / "migrations"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def can_send_texts(self) -> bool:
        """Whether a text to a guest goes anywhere: through Twilio, or (development without Twilio) into var/outbox/.
        Production without a Twilio account sends none, so no page may ask for a number or promise a text."""
        return self.twilio.enabled or not self.is_production


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the first bad one."""
    environ = os.environ if environ is None else environ
    env = environ.get("EVENTS_ENV", "development").strip().lower()
    if env not in ENVIRONMENTS:
        raise SettingsError(f"EVENTS_ENV must be 'development' or 'production', not {env!r}.")
    production = env == "production"

    var_dir = Path(environ.get("EVENTS_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    database_url = _database_url(environ.get("DATABASE_URL"), var_dir, production)
    base_url = _base_url(environ.get("EVENTS_BASE_URL"), production)
    secret_key = _secret_key(environ.get("EVENTS_SECRET_KEY"), var_dir, production)
    stripe = StripeSettings(
        secret_key=environ.get("STRIPE_SECRET_KEY") or None,
        publishable_key=environ.get("STRIPE_PUBLISHABLE_KEY") or None,
        webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET") or None,
        api_base=_url("STRIPE_API_BASE", environ.get("STRIPE_API_BASE") or STRIPE_API_BASE_DEFAULT),
        js_url=_url("STRIPE_JS_URL", environ.get("STRIPE_JS_URL") or STRIPE_JS_URL_DEFAULT),
        apple_pay_domain_association=_apple_pay_domain_association(environ.get("EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION")),
        timeout_seconds=_integer(environ, "EVENTS_STRIPE_TIMEOUT_SECONDS", 80, minimum=1, maximum=600),
    )
    if stripe.enabled and not (stripe.publishable_key and stripe.webhook_secret):
        raise SettingsError("STRIPE_SECRET_KEY is set, so STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET are needed too.")
    # A service hosting many organisations may leave the environment's Stripe keys out, each organisation connecting
    # its own account in the back office; saying so is explicit, so a single charity's forgotten keys still stop it.
    each_connects_own = _boolean(environ, "EVENTS_STRIPE_PER_ORGANISATION_ONLY", False)
    if production and not stripe.enabled and not each_connects_own:
        raise SettingsError(
            "Production takes real payments: set STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET, "
            "or EVENTS_STRIPE_PER_ORGANISATION_ONLY=true when every organisation connects its own Stripe account."
        )
    smtp = SmtpSettings(
        host=environ.get("SMTP_HOST") or None,
        port=_integer(environ, "SMTP_PORT", 587, minimum=1, maximum=65535),
        user=environ.get("SMTP_USER") or None,
        password=environ.get("SMTP_PASSWORD") or None,
        sender=environ.get("SMTP_FROM") or "Events <tickets@localhost>",
        starttls=_boolean(environ, "SMTP_STARTTLS", True),
    )
    if production and not smtp.host:
        raise SettingsError("Production sends tickets by email: set SMTP_HOST (and SMTP_FROM).")
    twilio = _twilio(environ, production)
    return Settings(
        env=env,
        database_url=database_url,
        secret_key=secret_key,
        base_url=base_url,
        var_dir=var_dir,
        hold_minutes=_integer(environ, "EVENTS_HOLD_MINUTES", 15, minimum=1, maximum=24 * 60),
        hold_places_per_email=_integer(environ, "EVENTS_HOLD_PLACES_PER_EMAIL", 10, minimum=1, maximum=10_000),
        holds_per_client_per_minute=_integer(environ, "EVENTS_HOLDS_PER_CLIENT_PER_MINUTE", 20, minimum=1, maximum=1_000_000),
        hold_places_per_client=_integer(environ, "EVENTS_HOLD_PLACES_PER_CLIENT", 40, minimum=1, maximum=1_000_000),
        db_pool_size=_integer(environ, "EVENTS_DB_POOL_SIZE", 10, minimum=1, maximum=100),
        retention_days=_integer(environ, "EVENTS_RETENTION_DAYS", 90, minimum=1, maximum=3650),
        run_worker_in_process=_boolean(environ, "EVENTS_RUN_WORKER_IN_PROCESS", not production),
        compress_responses=_boolean(environ, "EVENTS_COMPRESS_RESPONSES", True),
        outbox_retry_seconds=_integer(environ, "EVENTS_OUTBOX_RETRY_SECONDS", 60, minimum=1, maximum=3600),
        outbox_sending_lease_seconds=_integer(environ, "EVENTS_OUTBOX_SENDING_LEASE_SECONDS", 300, minimum=2, maximum=3600),
        cpu_processes=_integer(environ, "EVENTS_CPU_PROCESSES", 1, minimum=0, maximum=64),
        cpu_timeout_seconds=_integer(environ, "EVENTS_CPU_TIMEOUT_SECONDS", 30, minimum=1, maximum=3600),
        job_lease_seconds=_integer(environ, "EVENTS_JOB_LEASE_SECONDS", 300, minimum=1, maximum=24 * 3600),
        keep_alive_seconds=_integer(environ, "EVENTS_KEEP_ALIVE_SECONDS", 75, minimum=1, maximum=3600),
        stripe=stripe,
        smtp=smtp,
        twilio=twilio,
    )


def _apple_pay_domain_association(value: str | None) -> str | None:
    """The file's text, kept exactly as given; unset or blank serves none."""
    if value is None or not value.strip():
        return None
    if len(value) > APPLE_PAY_DOMAIN_ASSOCIATION_MAX_CHARACTERS or not all(c.isprintable() or c in "\r\n\t" for c in value):
        raise SettingsError(
            "EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION must be the text of the domain association file Stripe's dashboard "
            f"gives for Apple Pay (printable characters, at most {APPLE_PAY_DOMAIN_ASSOCIATION_MAX_CHARACTERS} of them)."
        )
    return value


def _twilio(environ: Mapping[str, str], production: bool) -> TwilioSettings:
    twilio = TwilioSettings(
        account_sid=environ.get("EVENTS_TWILIO_ACCOUNT_SID") or None,
        auth_token=environ.get("EVENTS_TWILIO_AUTH_TOKEN") or None,
        sender=environ.get("EVENTS_TWILIO_FROM") or None,
        messaging_service_sid=environ.get("EVENTS_TWILIO_MESSAGING_SERVICE_SID") or None,
        whatsapp_sender=(environ.get("EVENTS_TWILIO_WHATSAPP_FROM") or "").strip().removeprefix("whatsapp:") or None,
        whatsapp_content_sid=(environ.get("EVENTS_TWILIO_WHATSAPP_CONTENT_SID") or "").strip() or None,
        base_url=_url("EVENTS_TWILIO_BASE_URL", environ.get("EVENTS_TWILIO_BASE_URL") or TWILIO_BASE_URL_DEFAULT).rstrip("/"),
    )
    if bool(twilio.account_sid) != bool(twilio.auth_token):
        raise SettingsError("Text messages need both EVENTS_TWILIO_ACCOUNT_SID and EVENTS_TWILIO_AUTH_TOKEN (or neither).")
    if twilio.account_sid and not re.fullmatch(r"AC[0-9a-fA-F]{32}", twilio.account_sid):
        raise SettingsError("EVENTS_TWILIO_ACCOUNT_SID must be the account SID from Twilio's console: AC and 32 hexadecimal digits.")
    if twilio.enabled and not (twilio.sender or twilio.messaging_service_sid):
        raise SettingsError(
            "EVENTS_TWILIO_ACCOUNT_SID is set, so set EVENTS_TWILIO_FROM (a Twilio number) or EVENTS_TWILIO_MESSAGING_SERVICE_SID too."
        )
    if twilio.whatsapp_sender and not re.fullmatch(r"\+[1-9][0-9]{6,14}", twilio.whatsapp_sender):
        raise SettingsError("EVENTS_TWILIO_WHATSAPP_FROM must be a Twilio WhatsApp number in E.164 form, e.g. +447700900123.")
    if twilio.whatsapp_content_sid and not re.fullmatch(r"HX[0-9a-fA-F]{32}", twilio.whatsapp_content_sid):
        raise SettingsError(
            "EVENTS_TWILIO_WHATSAPP_CONTENT_SID must be the Content SID of the approved WhatsApp template from Twilio's console: "
            "HX and 32 hexadecimal digits."
        )
    if production and not twilio.base_url.startswith("https://"):
        # The requests carry the auth token (HTTP Basic) and guests' numbers and words.
        raise SettingsError("EVENTS_TWILIO_BASE_URL must use https:// in production: every request carries the Twilio auth token.")
    return twilio


def _database_url(raw: str | None, var_dir: Path, production: bool) -> str:
    if not raw:
        if production:
            raise SettingsError("DATABASE_URL is required in production, e.g. postgresql://user:pass@host:5432/events.")
        return f"sqlite:///{var_dir / 'events.sqlite3'}"
    scheme = urlsplit(raw).scheme
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        parts = urlsplit(raw)
        if not parts.hostname and "host=" not in parts.query:
            raise SettingsError(f"DATABASE_URL has no host: {_redact(raw)}")
        return raw
    if scheme == "sqlite":
        if not raw.removeprefix("sqlite://").strip("/"):
            raise SettingsError("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/events.sqlite3.")
        return raw
    raise SettingsError(f"DATABASE_URL must start with sqlite:// or postgresql://, not {_redact(raw)!r}.")


def _base_url(raw: str | None, production: bool) -> str:
    if not raw:
        if production:
            raise SettingsError("EVENTS_BASE_URL is required in production, e.g. https://tickets.example.org.")
        return "http://127.0.0.1:8000"
    url = _url("EVENTS_BASE_URL", raw).rstrip("/")
    if production and not url.startswith("https://"):
        raise SettingsError("EVENTS_BASE_URL must use https:// in production: session cookies are Secure.")
    return url


def _secret_key(raw: str | None, var_dir: Path, production: bool) -> str:
    if raw:
        if len(raw) < 32:
            raise SettingsError("EVENTS_SECRET_KEY must be at least 32 characters; generate one with `openssl rand -hex 32`.")
        return raw
    if production:
        raise SettingsError("EVENTS_SECRET_KEY is required in production; generate one with `openssl rand -hex 32`.")
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http:// or https:// URL, not {raw!r}.")
    return raw


def _integer(environ: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, not {value}.")
    return value


def _boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}.")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
