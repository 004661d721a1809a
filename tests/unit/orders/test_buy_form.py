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


def test_the_form_names_a_guest_per_ticket_chosen_and_no_more() -> None:
    form = {"quantity_1": "2", "quantity_2": "1", "guest_name_0": "", "guest_name_1": "Bob", "guest_name_2": "", "guest_name_3": "Left over"}
    request, problems = buy_request(form, [1, 2])
    assert problems == {} and request.guest_names == ("", "Bob")  # three tickets; the trailing empty one dropped
    assert buy_request({"quantity_1": "1"}, [1])[0].guest_names == ()
    assert buy_request({"quantity_1": "0", "guest_name_0": "Bob"}, [1])[0].guest_names == ()
