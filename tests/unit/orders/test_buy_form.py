"""Counts on the buy form: plain ASCII digits only, of a sane length."""

import pytest

from events.orders.forms import buy_request, parse_count


@pytest.mark.parametrize(("typed", "count"), [("3", 3), (" 12 ", 12), ("", 0), (None, 0), ("999999", 999999)])
def test_a_count_typed_in_plain_digits_is_read(typed: str | None, count: int) -> None:
    assert parse_count(typed) == count


@pytest.mark.parametrize("typed", ["²", "\u0661", "\uff13", "9" * 5000, "1234567", "-1", "1.5", "3 4"])
def test_what_isdigit_or_int_would_misread_is_not_a_count(typed: str) -> None:
    assert parse_count(typed) is None
    _, problems = buy_request({"quantity_7": typed, "pay_it_forward_places": typed}, [7])
    assert set(problems) == {"quantity_7", "pay_it_forward_places"}
