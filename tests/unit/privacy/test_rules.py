"""When personal data goes, and what HMRC makes us keep."""

from datetime import datetime, timedelta, timezone

from events.privacy import rules

NOON = datetime(2027, 8, 14, 12, 0, tzinfo=timezone.utc)


def test_guests_are_erased_the_retention_period_after_the_event_ends() -> None:
    assert rules.erase_after(NOON, 90) == NOON + timedelta(days=90)
    cutoff = rules.ended_before(NOON + timedelta(days=90, seconds=1), 90)
    assert NOON < cutoff  # ended more than 90 days ago: due
    assert not NOON < rules.ended_before(NOON + timedelta(days=89), 90)


def test_gift_aid_declarations_of_paid_orders_are_kept_seven_years() -> None:
    assert rules.gift_aid_keep_until(NOON) == NOON.replace(year=2034)
    assert rules.keeps_gift_aid("paid", NOON, NOON.replace(year=2034) - timedelta(seconds=1))
    assert not rules.keeps_gift_aid("paid", NOON, NOON.replace(year=2034))
    assert rules.keeps_gift_aid("refunded", NOON, NOON + timedelta(days=1))  # refunded after a claim: HMRC still asks
    assert not rules.keeps_gift_aid("expired", NOON, NOON + timedelta(days=1))  # never paid: backs no claim
    assert not rules.keeps_gift_aid("pending", None, NOON)


def test_a_leap_day_donation_is_kept_until_the_28th() -> None:
    leap = datetime(2028, 2, 29, 9, 0, tzinfo=timezone.utc)
    assert rules.gift_aid_keep_until(leap) == datetime(2035, 2, 28, 9, 0, tzinfo=timezone.utc)
    assert rules.gift_aid_cutoff(datetime(2035, 2, 28, 9, 0, tzinfo=timezone.utc)) == datetime(2028, 2, 28, 9, 0, tzinfo=timezone.utc)


def test_emails_are_matched_without_case_or_spaces() -> None:
    assert rules.normalise_email("  Amal@Example.ORG ") == "amal@example.org"
    assert rules.looks_like_email("amal@example.org")
    assert not rules.looks_like_email("amal") and not rules.looks_like_email("amal@example") and not rules.looks_like_email("a b@c.de")
