from pathlib import Path

import pytest

from events.config import SettingsError, load_settings


def test_development_defaults_to_sqlite_under_var_and_keeps_a_generated_secret(tmp_path: Path) -> None:
    first = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    second = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    assert first.database_url == f"sqlite:///{tmp_path / 'events.sqlite3'}"
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key  # generated once, then kept
    assert first.hold_minutes == 15
    assert first.run_worker_in_process is True
    assert not first.stripe.enabled


def test_postgres_urls_are_accepted(tmp_path: Path) -> None:
    settings = load_settings({"EVENTS_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u:p@db:5432/events"})
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EVENTS_ENV": "staging"}, "EVENTS_ENV must be 'development' or 'production'"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with sqlite:// or postgresql://"),
        ({"EVENTS_HOLD_MINUTES": "soon"}, "EVENTS_HOLD_MINUTES must be a whole number"),
        ({"EVENTS_HOLD_MINUTES": "0"}, "EVENTS_HOLD_MINUTES must be between 1 and 1440"),
        ({"EVENTS_SECRET_KEY": "short"}, "EVENTS_SECRET_KEY must be at least 32 characters"),
        ({"EVENTS_BASE_URL": "tickets.example.org"}, "EVENTS_BASE_URL must be an http:// or https:// URL"),
        ({"SMTP_STARTTLS": "maybe"}, "SMTP_STARTTLS must be true or false"),
        ({"STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET are needed"),
        ({"EVENTS_ENV": "production"}, "DATABASE_URL is required in production"),
    ],
)
def test_a_bad_setting_names_itself(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), **environ})


def test_production_needs_its_secrets_and_https(tmp_path: Path) -> None:
    base = {
        "EVENTS_VAR_DIR": str(tmp_path),
        "EVENTS_ENV": "production",
        "DATABASE_URL": "postgresql://u:p@db/events",
        "EVENTS_SECRET_KEY": "x" * 40,
        "EVENTS_BASE_URL": "https://tickets.example.org",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        "SMTP_HOST": "smtp.example.org",
    }
    settings = load_settings(base)
    assert settings.is_production and settings.run_worker_in_process is False
    with pytest.raises(SettingsError, match="EVENTS_SECRET_KEY is required"):
        load_settings({k: v for k, v in base.items() if k != "EVENTS_SECRET_KEY"})
    with pytest.raises(SettingsError, match="must use https://"):
        load_settings({**base, "EVENTS_BASE_URL": "http://tickets.example.org"})
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY"):
        load_settings({k: v for k, v in base.items() if not k.startswith("STRIPE_")})
    # A service for many organisations, each connecting its own Stripe account, says so instead.
    hosted = load_settings({**{k: v for k, v in base.items() if not k.startswith("STRIPE_")}, "EVENTS_STRIPE_PER_ORGANISATION_ONLY": "true"})
    assert hosted.is_production and not hosted.stripe.enabled
    assert "x" * 40 not in repr(settings)  # secrets never show up in logs of the settings


def test_hold_limits_default_to_ten_places_per_email_and_twenty_holds_a_minute_per_address(tmp_path: Path) -> None:
    settings = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    assert (settings.hold_places_per_email, settings.holds_per_client_per_minute, settings.hold_places_per_client) == (10, 20, 40)
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_HOLD_PLACES_PER_CLIENT": "120"}).hold_places_per_client == 120
    changed = load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_HOLD_PLACES_PER_EMAIL": "4", "EVENTS_HOLDS_PER_CLIENT_PER_MINUTE": "100"})
    assert (changed.hold_places_per_email, changed.holds_per_client_per_minute) == (4, 100)
    with pytest.raises(SettingsError, match="EVENTS_HOLD_PLACES_PER_EMAIL must be between 1 and 10000"):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_HOLD_PLACES_PER_EMAIL": "0"})
    with pytest.raises(SettingsError, match="EVENTS_HOLDS_PER_CLIENT_PER_MINUTE must be a whole number"):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_HOLDS_PER_CLIENT_PER_MINUTE": "lots"})


TWILIO = {
    "EVENTS_TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "EVENTS_TWILIO_AUTH_TOKEN": "a-token",
    "EVENTS_TWILIO_FROM": "+447700900001",
}


def test_text_messages_are_off_until_a_twilio_account_is_set(tmp_path: Path) -> None:
    off = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    assert not off.twilio.enabled and off.twilio.base_url == "https://api.twilio.com"
    on = load_settings({"EVENTS_VAR_DIR": str(tmp_path), **TWILIO, "EVENTS_TWILIO_WHATSAPP_FROM": "whatsapp:+447700900002"})
    assert on.twilio.enabled and on.twilio.sender == "+447700900001" and on.twilio.whatsapp_sender == "+447700900002"
    assert "a-token" not in repr(on.twilio)
    proxied = load_settings({"EVENTS_VAR_DIR": str(tmp_path), **TWILIO, "EVENTS_TWILIO_BASE_URL": "http://127.0.0.1:9000/"})
    assert proxied.twilio.base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EVENTS_TWILIO_ACCOUNT_SID": TWILIO["EVENTS_TWILIO_ACCOUNT_SID"]}, "both EVENTS_TWILIO_ACCOUNT_SID and EVENTS_TWILIO_AUTH_TOKEN"),
        ({**TWILIO, "EVENTS_TWILIO_ACCOUNT_SID": "my-account"}, "EVENTS_TWILIO_ACCOUNT_SID must be the account SID"),
        ({**TWILIO, "EVENTS_TWILIO_FROM": ""}, "set EVENTS_TWILIO_FROM"),
        ({**TWILIO, "EVENTS_TWILIO_WHATSAPP_FROM": "07700 900002"}, "EVENTS_TWILIO_WHATSAPP_FROM must be a Twilio WhatsApp number"),
        ({**TWILIO, "EVENTS_TWILIO_BASE_URL": "api.twilio.com"}, "EVENTS_TWILIO_BASE_URL must be an http:// or https:// URL"),
        ({**TWILIO, "EVENTS_TWILIO_WHATSAPP_CONTENT_SID": "my-template"}, "EVENTS_TWILIO_WHATSAPP_CONTENT_SID must be the Content SID"),
        ({**TWILIO, "EVENTS_TWILIO_WHATSAPP_CONTENT_SID": "HX" + "0" * 31}, "HX and 32 hexadecimal digits"),
    ],
)
def test_a_bad_twilio_setting_names_itself(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), **environ})


def test_a_messaging_service_is_enough_to_send_from(tmp_path: Path) -> None:
    environ = {**TWILIO, "EVENTS_TWILIO_FROM": "", "EVENTS_TWILIO_MESSAGING_SERVICE_SID": "MG" + "ab" * 16}
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), **environ}).twilio.messaging_service_sid == "MG" + "ab" * 16


def test_whatsapp_is_ready_only_with_a_sender_and_an_approved_template(tmp_path: Path) -> None:
    whatsapp = {**TWILIO, "EVENTS_TWILIO_WHATSAPP_FROM": "+447700900002"}
    template = {"EVENTS_TWILIO_WHATSAPP_CONTENT_SID": "HX" + "0123456789abcdef" * 2}
    assert not load_settings({"EVENTS_VAR_DIR": str(tmp_path), **whatsapp}).twilio.whatsapp_ready  # no template: SMS
    assert not load_settings({"EVENTS_VAR_DIR": str(tmp_path), **TWILIO, **template}).twilio.whatsapp_ready  # no sender
    ready = load_settings({"EVENTS_VAR_DIR": str(tmp_path), **whatsapp, **template}).twilio
    assert ready.whatsapp_ready and ready.whatsapp_content_sid == template["EVENTS_TWILIO_WHATSAPP_CONTENT_SID"]


def test_production_talks_to_twilio_over_https_only_and_texts_only_with_an_account(tmp_path: Path) -> None:
    production = {
        "EVENTS_VAR_DIR": str(tmp_path),
        "EVENTS_ENV": "production",
        "DATABASE_URL": "postgresql://u:p@db/events",
        "EVENTS_SECRET_KEY": "x" * 40,
        "EVENTS_BASE_URL": "https://tickets.example.org",
        "EVENTS_STRIPE_PER_ORGANISATION_ONLY": "true",
        "SMTP_HOST": "smtp.example.org",
    }
    assert not load_settings(production).can_send_texts  # no Twilio account: no text goes anywhere
    assert load_settings(production | TWILIO).can_send_texts
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path)}).can_send_texts  # development writes them to var/outbox/
    with pytest.raises(SettingsError, match="EVENTS_TWILIO_BASE_URL must use https:// in production"):
        load_settings(production | TWILIO | {"EVENTS_TWILIO_BASE_URL": "http://twilio-proxy.internal"})
    assert (
        load_settings(production | TWILIO | {"EVENTS_TWILIO_BASE_URL": "https://twilio-proxy.internal"}).twilio.base_url
        == "https://twilio-proxy.internal"
    )


def test_the_app_compresses_unless_told_the_proxy_does(tmp_path: Path) -> None:
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path)}).compress_responses is True
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_COMPRESS_RESPONSES": "false"}).compress_responses is False
    with pytest.raises(SettingsError, match="EVENTS_COMPRESS_RESPONSES"):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_COMPRESS_RESPONSES": "maybe"})


def test_the_apple_pay_domain_file_is_served_only_once_its_text_is_set(tmp_path: Path) -> None:
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path)}).stripe.apple_pay_domain_association is None
    assert (
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION": " \n"}).stripe.apple_pay_domain_association
        is None
    )
    text = "7B2270737049223A22" * 100 + "\n"  # kept exactly, its line end too
    settings = load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION": text})
    assert settings.stripe.apple_pay_domain_association == text


@pytest.mark.parametrize("text", ["abc\x00def", "abc\x1bdef", "x" * (64 * 1024 + 1)])
def test_an_apple_pay_domain_file_that_is_not_text_stops_start_up(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError, match="EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION must be the text"):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_STRIPE_APPLE_PAY_DOMAIN_ASSOCIATION": text})


def test_outage_timings_keep_production_defaults_unless_a_test_shortens_them(tmp_path: Path) -> None:
    defaults = load_settings({"EVENTS_VAR_DIR": str(tmp_path)})
    assert (defaults.outbox_retry_seconds, defaults.outbox_sending_lease_seconds, defaults.stripe.timeout_seconds) == (60, 300, 80)
    shortened = load_settings(
        {
            "EVENTS_VAR_DIR": str(tmp_path),
            "EVENTS_OUTBOX_RETRY_SECONDS": "1",
            "EVENTS_OUTBOX_SENDING_LEASE_SECONDS": "6",
            "EVENTS_STRIPE_TIMEOUT_SECONDS": "3",
        }
    )
    assert (shortened.outbox_retry_seconds, shortened.outbox_sending_lease_seconds, shortened.stripe.timeout_seconds) == (1, 6, 3)
    for name, value in (
        ("EVENTS_OUTBOX_RETRY_SECONDS", "0"),
        ("EVENTS_OUTBOX_SENDING_LEASE_SECONDS", "1"),
        ("EVENTS_STRIPE_TIMEOUT_SECONDS", "soon"),
    ):
        with pytest.raises(SettingsError, match=name):
            load_settings({"EVENTS_VAR_DIR": str(tmp_path), name: value})


def test_pdfs_render_in_one_pool_process_per_server_process_unless_told_otherwise(tmp_path: Path) -> None:
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path)}).cpu_processes == 1
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_CPU_PROCESSES": "0"}).cpu_processes == 0  # a thread, as before
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_CPU_PROCESSES": " 3 "}).cpu_processes == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "EVENTS_CPU_PROCESSES must be between 0 and 64, not -1"),
        ("65", "EVENTS_CPU_PROCESSES must be between 0 and 64, not 65"),
        ("two", "EVENTS_CPU_PROCESSES must be a whole number, not 'two'"),
        ("1.5", "EVENTS_CPU_PROCESSES must be a whole number"),
    ],
)
def test_a_bad_number_of_cpu_processes_stops_start_up(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_CPU_PROCESSES": value})


def test_a_pdf_may_take_thirty_seconds_in_the_pool_unless_told_otherwise(tmp_path: Path) -> None:
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path)}).cpu_timeout_seconds == 30
    assert load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_CPU_TIMEOUT_SECONDS": "90"}).cpu_timeout_seconds == 90
    for value, message in (("0", "must be between 1 and 3600, not 0"), ("soon", "must be a whole number")):
        with pytest.raises(SettingsError, match=f"EVENTS_CPU_TIMEOUT_SECONDS {message}"):
            load_settings({"EVENTS_VAR_DIR": str(tmp_path), "EVENTS_CPU_TIMEOUT_SECONDS": value})
