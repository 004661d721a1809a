"""The rules of codes: what a typed code is, when a code works, and the discount to the penny."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from events.codes import rules

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)


def code(**changes: object) -> rules.Code:
    values: dict[str, object] = {"id": 1, "code": "SUMMER-26", "max_uses": 10}
    values.update(changes)
    return rules.Code(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  summer-26 ", "SUMMER-26"),
        ("summer 26", "SUMMER26"),
        ("K7M4QXPA93", "K7M4QXPA93"),
        ("abc", None),  # too short to be a code
        ("-ABCD", None),
        ("ABCD-", None),
        ("ÄBCDE", None),
        ("ABC!DE", None),
        ("A" * 41, None),
        ("", None),
    ],
)
def test_a_typed_code_is_trimmed_and_upper_cased_or_cannot_be_a_code(typed: str, stored: str | None) -> None:
    assert rules.normalise(typed) == stored


def test_a_made_up_code_has_nothing_to_mistake_and_reads_back_as_itself() -> None:
    made = {rules.new_code() for _ in range(50)}
    assert len(made) == 50
    for one in made:
        assert len(one) == 10 and set(one) <= set(rules.GENERATED_ALPHABET) and rules.normalise(one) == one
        assert not set(one) & set("01OIL")


def test_a_code_works_only_within_its_window_and_until_revoked() -> None:
    assert rules.refusal(code(), NOW) is None
    assert rules.refusal(code(valid_from=NOW), NOW) is None
    assert rules.refusal(code(valid_from=NOW + timedelta(seconds=1)), NOW) == rules.NOT_YET
    assert rules.refusal(code(valid_until=NOW + timedelta(seconds=1)), NOW) is None
    assert rules.refusal(code(valid_until=NOW), NOW) == rules.ENDED  # valid_until is when it stops
    assert rules.refusal(code(revoked_at=NOW - timedelta(days=1)), NOW) == rules.REVOKED
    # Its uses are counted with the places, not here.
    assert rules.refusal(code(uses=10), NOW) is None and code(uses=10).uses_left == 0


def test_a_code_unlocks_only_its_own_types() -> None:
    assert rules.unlocks(code(unlocks=frozenset({4})), 4)
    assert not rules.unlocks(code(unlocks=frozenset({4})), 5)
    assert not rules.unlocks(None, 4)


@pytest.mark.parametrize(
    ("changes", "tickets", "discount"),
    [
        ({"discount_percent": 50}, 999, 500),  # half of £9.99 is £4.995: rounded half up
        ({"discount_percent": 33}, 1000, 330),
        ({"discount_percent": 100}, 4500, 4500),
        ({"discount_pence": 500}, 4500, 500),
        ({"discount_pence": 5000}, 4500, 4500),  # never below zero
        ({"discount_pence": 500}, 0, 0),
        ({}, 4500, 0),  # an access code alone takes nothing off
    ],
)
def test_the_orders_discount(changes: dict[str, int], tickets: int, discount: int) -> None:
    assert rules.order_discount(code(**changes), tickets) == discount


def test_the_discount_is_shared_over_the_tickets_by_price_to_the_penny() -> None:
    assert rules.discount_parts([1000, 1000, 1000], 1000) == [334, 333, 333]
    assert rules.discount_parts([2000, 1000], 1000) == [667, 333]
    assert rules.discount_parts([0, 1000], 500) == [0, 500]  # a free ticket takes none
    assert rules.discount_parts([0, 0], 0) == [0, 0]
    assert rules.paid_prices([1000, 1000, 1000], code(discount_pence=1000)) == ([666, 667, 667], 1000)
    with pytest.raises(ValueError, match="more than the tickets cost"):
        rules.discount_parts([100], 101)


def test_a_new_codes_terms_are_checked_field_by_field() -> None:
    def problems(**changes: object) -> dict[str, str]:
        values: dict[str, object] = {
            "discount_percent": None,
            "discount_pence": None,
            "max_uses": 5,
            "valid_from": None,
            "valid_until": None,
            "unlocks_any": True,
        }
        values.update(changes)
        return rules.terms_problems(**values)  # type: ignore[arg-type]

    assert problems() == {}
    assert set(problems(discount_percent=10, discount_pence=100)) == {"discount_pence"}
    assert set(problems(discount_percent=0)) == {"discount_percent"}
    assert set(problems(discount_percent=101)) == {"discount_percent"}
    assert set(problems(unlocks_any=False)) == {"unlocks"}
    assert problems(unlocks_any=False, discount_pence=100) == {}
    assert set(problems(max_uses=0)) == {"max_uses"}
    assert set(problems(valid_from=NOW, valid_until=NOW)) == {"valid_until"}


def test_an_organisers_own_code() -> None:
    assert rules.code_problem("VOLUNTEERS-2026") is None
    assert rules.code_problem("VOL") is not None
    assert rules.code_problem("volunteers") is not None  # stored upper-case: the service normalises first
