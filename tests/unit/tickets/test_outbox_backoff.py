"""The retry schedule of the email outbox: doubling from a minute, capped at an hour, then giving up."""

from datetime import datetime, timedelta, timezone

from events.tickets.outbox import MAX_ATTEMPTS, SENDING_LEASE, retry_at, send_budget

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


def test_a_shortened_schedule_keeps_its_shape() -> None:
    """Tests compress an outage with EVENTS_OUTBOX_RETRY_SECONDS: the same doubling, capped at 60 first waits."""
    first = timedelta(seconds=1)
    delays = [retry_at(attempts, NOW, first=first) - NOW for attempts in range(1, MAX_ATTEMPTS)]  # type: ignore[operator]
    assert delays == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60)]
    assert retry_at(MAX_ATTEMPTS, NOW, first=first) is None


def test_a_try_may_take_half_its_lease() -> None:
    assert send_budget(SENDING_LEASE) == 150  # five minutes' lease: a try is abandoned after two and a half
    assert send_budget(timedelta(seconds=6)) == 3
