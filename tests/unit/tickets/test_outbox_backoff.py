"""The retry schedule of the email outbox: doubling from a minute, capped at an hour, then giving up."""

from datetime import datetime, timedelta, timezone

from events.tickets.outbox import MAX_ATTEMPTS, retry_at

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)


def test_retries_double_from_one_minute() -> None:
    delays = [retry_at(attempts, NOW) - NOW for attempts in range(1, 7)]  # type: ignore[operator]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32)]


def test_retries_are_at_most_an_hour_apart() -> None:
    for attempts in range(7, MAX_ATTEMPTS):
        assert retry_at(attempts, NOW) == NOW + timedelta(hours=1)


def test_after_twelve_failed_attempts_the_email_is_given_up() -> None:
    assert MAX_ATTEMPTS == 12
    assert retry_at(11, NOW) is not None
    assert retry_at(12, NOW) is None
    assert retry_at(50, NOW) is None


def test_the_whole_schedule_gives_the_mail_server_hours_to_come_back() -> None:
    waited = sum((retry_at(a, NOW) - NOW for a in range(1, MAX_ATTEMPTS)), timedelta())  # type: ignore[operator]
    assert timedelta(hours=5) < waited < timedelta(hours=8)
