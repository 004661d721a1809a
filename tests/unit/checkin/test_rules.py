"""Deciding a scan at the door (checkin/rules.py): who is let in, who is let out, and which offline admissions clash."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import get_args

import pytest

from events.checkin import rules
from events.checkin.schemas import Reason

NOW = datetime(2026, 9, 12, 19, 30, tzinfo=timezone.utc)
EVENT = 17

FRESH = rules.TicketAtDoor(id=4821, event_id=EVENT, version=1, status="valid", order_status="paid", checked_in_at=None, inside=False)
INSIDE = replace(FRESH, checked_in_at=NOW, inside=True)
WENT_OUT = replace(FRESH, checked_in_at=NOW, inside=False)


def entry(ticket: rules.TicketAtDoor | None, *, version: int | None = 1, reentry: bool = False) -> rules.Admit | rules.Reject:
    return rules.decide_entry(ticket, event_id=EVENT, scanned_version=version, reentry_allowed=reentry)


def test_a_paid_valid_ticket_of_this_event_is_let_in_once() -> None:
    assert entry(FRESH) == rules.Admit(4821)
    assert entry(FRESH, version=None) == rules.Admit(4821)  # a bare secret has no version to check
    assert entry(INSIDE) == rules.Reject("already_redeemed", 4821)
    assert entry(WENT_OUT) == rules.Reject("already_redeemed", 4821)  # no re-entry at this event


def test_with_re_entry_a_guest_who_went_out_comes_back_in_but_not_twice() -> None:
    assert entry(WENT_OUT, reentry=True) == rules.Admit(4821)
    assert entry(INSIDE, reentry=True) == rules.Reject("already_redeemed", 4821)
    assert entry(FRESH, reentry=True) == rules.Admit(4821)


def test_nothing_scanned_and_other_events_tickets_are_refused_first() -> None:
    assert entry(None) == rules.Reject("unknown")
    elsewhere = replace(FRESH, event_id=EVENT + 1, status="refunded", order_status="pending")
    assert entry(elsewhere) == rules.Reject("wrong_event", 4821)  # whatever else is wrong with it


@pytest.mark.parametrize(
    ("status", "order_status", "reason"),
    [
        ("refunded", "paid", "refunded"),
        ("valid", "refunded", "refunded"),
        ("valid", "refund_due", "refunded"),
        ("void", "refund_due", "refunded"),  # money going back outranks a replaced ticket
        ("void", "paid", "void"),
        ("void", "pending", "void"),
        ("valid", "pending", "unpaid"),
        ("valid", "expired", "unpaid"),
    ],
)
def test_refused_tickets_say_why(status: str, order_status: str, reason: str) -> None:
    ticket = replace(FRESH, status=status, order_status=order_status)
    assert entry(ticket) == rules.Reject(reason, 4821)
    # Being inside already does not hide the reason a ticket is no good.
    assert entry(replace(ticket, checked_in_at=NOW, inside=True)) == rules.Reject(reason, 4821)


def test_an_old_code_of_a_re_issued_ticket_is_void() -> None:
    reissued = replace(FRESH, version=2)
    assert entry(reissued, version=1) == rules.Reject("void", 4821)
    assert entry(reissued, version=2) == rules.Admit(4821)
    assert entry(reissued, version=None) == rules.Admit(4821)
    # Order of checks: refunded before void before unpaid before already scanned.
    assert entry(replace(reissued, order_status="refunded"), version=1) == rules.Reject("refunded", 4821)
    assert entry(replace(reissued, order_status="pending"), version=1) == rules.Reject("void", 4821)
    assert entry(replace(reissued, checked_in_at=NOW, inside=True), version=1) == rules.Reject("void", 4821)


def test_every_refusal_reason_is_one_the_api_declares() -> None:
    tickets = [
        None,
        FRESH,
        INSIDE,
        replace(FRESH, event_id=99),
        replace(FRESH, status="void"),
        replace(FRESH, status="refunded"),
        replace(FRESH, order_status="pending"),
    ]
    reasons = {
        decision.reason for t in tickets for decision in [entry(t), rules.decide_exit(t, event_id=EVENT)] if isinstance(decision, rules.Reject)
    }
    assert reasons == set(get_args(Reason))  # the door page reads the reasons the API schema lists


def test_an_exit_lets_out_only_a_guest_who_is_inside() -> None:
    assert rules.decide_exit(INSIDE, event_id=EVENT) == rules.Admit(4821)
    assert rules.decide_exit(WENT_OUT, event_id=EVENT) == rules.Reject("already_redeemed", 4821)  # out already
    assert rules.decide_exit(FRESH, event_id=EVENT) == rules.Reject("void", 4821)  # never came in
    assert rules.decide_exit(None, event_id=EVENT) == rules.Reject("unknown")
    assert rules.decide_exit(replace(INSIDE, event_id=EVENT + 1), event_id=EVENT) == rules.Reject("wrong_event", 4821)


def test_after_an_exit_re_entry_is_allowed_only_where_the_event_allows_it() -> None:
    assert isinstance(rules.decide_exit(INSIDE, event_id=EVENT), rules.Admit)
    went_out = replace(INSIDE, inside=False)  # what the service stores after the exit
    assert entry(went_out, reentry=True) == rules.Admit(4821)
    assert entry(went_out, reentry=False) == rules.Reject("already_redeemed", 4821)


DOORS_OPEN = datetime(2026, 9, 12, 18, 0, tzinfo=timezone.utc)
LAST_ORDERS = datetime(2026, 9, 12, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("set_up", "works_until"),
    [
        (DOORS_OPEN - timedelta(days=30), DOORS_OPEN - timedelta(days=30) + rules.DOOR_TOKEN_LEAD),  # a month early: two days to try it
        (DOORS_OPEN - rules.DOOR_TOKEN_LEAD - timedelta(minutes=1), DOORS_OPEN - timedelta(minutes=1)),
        (DOORS_OPEN - rules.DOOR_TOKEN_LEAD, LAST_ORDERS + rules.DOOR_TOKEN_GRACE),  # the day before: the whole night
        (DOORS_OPEN + timedelta(hours=2), LAST_ORDERS + rules.DOOR_TOKEN_GRACE),
        (LAST_ORDERS + timedelta(hours=3), LAST_ORDERS + timedelta(hours=3) + rules.DOOR_TOKEN_GRACE),  # after: to sync
    ],
)
def test_a_door_token_lasts_the_night_it_was_set_up_for_and_no_longer(set_up: datetime, works_until: datetime) -> None:
    assert rules.door_token_expiry(starts_at=DOORS_OPEN, ends_at=LAST_ORDERS, now=set_up) == works_until


def test_a_door_token_never_outlives_its_event_by_more_than_the_grace() -> None:
    for hours in range(-24 * 40, 24 * 2):
        set_up = DOORS_OPEN + timedelta(hours=hours)
        expiry = rules.door_token_expiry(starts_at=DOORS_OPEN, ends_at=LAST_ORDERS, now=set_up)
        assert set_up < expiry <= max(LAST_ORDERS, set_up) + rules.DOOR_TOKEN_GRACE
        assert expiry - set_up <= rules.DOOR_TOKEN_LEAD + (LAST_ORDERS - DOORS_OPEN) + rules.DOOR_TOKEN_GRACE
