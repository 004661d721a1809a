"""When personal data goes, and what HMRC makes us keep."""

from datetime import datetime, timedelta, timezone

import pytest

from events.privacy import rules

NOON = datetime(2027, 8, 14, 12, 0, tzinfo=timezone.utc)


def test_guests_are_erased_the_retention_period_after_the_event_ends() -> None:
    assert rules.erase_after(NOON, 90) == NOON + timedelta(days=90)
    cutoff = rules.ended_before(NOON + timedelta(days=90, seconds=1), 90)
    assert cutoff > NOON  # ended more than 90 days ago: due
    assert not rules.ended_before(NOON + timedelta(days=89), 90) > NOON


def test_gift_aid_declarations_of_paid_orders_are_kept_seven_years() -> None:
    assert rules.gift_aid_keep_until(NOON) == NOON.replace(year=2034)
    assert rules.keeps_gift_aid("paid", NOON, NOON.replace(year=2034) - timedelta(seconds=1))
    assert not rules.keeps_gift_aid("paid", NOON, NOON.replace(year=2034))
    assert rules.keeps_gift_aid("refunded", NOON, NOON + timedelta(days=1))  # refunded after a claim: HMRC still asks
    assert not rules.keeps_gift_aid("expired", NOON, NOON + timedelta(days=1))  # never paid: backs no claim
    assert not rules.keeps_gift_aid("pending", None, NOON)


def test_a_declaration_made_with_a_donated_refund_is_kept_seven_years_if_the_refund_was_offered() -> None:
    assert rules.keeps_donated_refund_gift_aid(True, NOON, NOON.replace(year=2034) - timedelta(seconds=1))
    assert not rules.keeps_donated_refund_gift_aid(True, NOON, NOON.replace(year=2034))
    assert not rules.keeps_donated_refund_gift_aid(False, NOON, NOON + timedelta(days=1))  # no refund offered: backs no claim


def test_a_leap_day_donation_is_kept_until_the_28th() -> None:
    leap = datetime(2028, 2, 29, 9, 0, tzinfo=timezone.utc)
    assert rules.gift_aid_keep_until(leap) == datetime(2035, 2, 28, 9, 0, tzinfo=timezone.utc)
    assert rules.gift_aid_cutoff(datetime(2035, 2, 28, 9, 0, tzinfo=timezone.utc)) == datetime(2028, 2, 28, 9, 0, tzinfo=timezone.utc)


def test_emails_are_matched_without_case_or_spaces() -> None:
    assert rules.normalise_email("  Amal@Example.ORG ") == "amal@example.org"
    assert rules.looks_like_email("amal@example.org")
    assert not rules.looks_like_email("amal") and not rules.looks_like_email("amal@example") and not rules.looks_like_email("a b@c.de")


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)7700-900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("  07700900123 ", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),  # a French mobile, as a guest from France writes it
        ("020 7946 0000 ext. 5", "+442079460000"),  # found with the switchboard's number too; names tell them apart
    ],
)
def test_phone_numbers_are_compared_in_one_form(written: str, normal: str) -> None:
    assert rules.normalise_phone(written) == normal


@pytest.mark.parametrize("text", ["", "12", "call me", "+44 7700 900123 456 789 012"])
def test_things_that_cannot_be_phone_numbers_are_not_read_as_them(text: str) -> None:
    assert rules.normalise_phone(text) is None


def test_a_contact_is_an_email_address_or_a_phone_number() -> None:
    assert rules.read_contact(" Amal@Example.org ") == rules.Contact("email", "amal@example.org")
    assert rules.read_contact("07700 900123") == rules.Contact("phone", "+447700900123")
    assert rules.read_contact("amal@") is None and rules.read_contact("Amal Haddad") is None
