"""The buy form: counts in plain ASCII digits only, of a sane length; every problem at once, in an error summary
linking each to its field; an order's choices written back into the form."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from events.orders.forms import ErrorLink, buy_request, choices_form, error_summary, has_contribution, parse_count
from events.orders.gift_aid import Declaration


@pytest.mark.parametrize(("typed", "count"), [("3", 3), (" 12 ", 12), ("", 0), (None, 0), ("999999", 999999)])
def test_a_count_typed_in_plain_digits_is_read(typed: str | None, count: int) -> None:
    assert parse_count(typed) == count


@pytest.mark.parametrize("typed", ["²", "\u0661", "\uff13", "9" * 5000, "1234567", "-1", "1.5", "3 4"])
def test_what_isdigit_or_int_would_misread_is_not_a_count(typed: str) -> None:
    assert parse_count(typed) is None
    _, problems = buy_request({"quantity_7": typed, "pay_it_forward_places": typed}, [7])
    assert {"quantity_7", "pay_it_forward_places"} <= set(problems) and "items" not in problems


def test_an_empty_form_has_every_problem_at_once() -> None:
    """Not the name and email first, and "choose a ticket" only on the next try."""
    _, problems = buy_request({"name": " ", "email": ""}, [7, 8])
    assert set(problems) == {"items", "buyer.name", "buyer.email"}


def test_a_contribution_alone_is_a_choice() -> None:
    _, problems = buy_request({"donation": "5", "name": "Amal Haddad", "email": "amal@example.org"}, [7])
    assert problems == {}


def test_the_error_summary_links_each_problem_to_its_field_in_the_pages_order() -> None:
    errors = {
        "buyer.email": "email problem",
        "gift_aid.postcode": "postcode problem",
        "items[1].quantity": "too many of the second type chosen",
        "buyer.name": "name problem",
        "donation_pence": "donation problem",
        "event": "no field",
    }
    summary = error_summary(errors, [7, 8, 9], {"quantity_7": "1", "quantity_8": "0", "quantity_9": "4"})
    assert summary == [
        ErrorLink("quantity_9", "too many of the second type chosen"),
        ErrorLink("donation", "donation problem"),
        ErrorLink("gift_aid_postcode", "postcode problem"),
        ErrorLink("name", "name problem"),
        ErrorLink("email", "email problem"),
        ErrorLink(None, "no field"),
    ]


def test_nothing_chosen_links_to_the_first_ticket_type() -> None:
    _, problems = buy_request({}, [7, 8])
    assert error_summary(problems, [7, 8], {})[0] == ErrorLink("quantity_7", problems["items"])


@dataclass(frozen=True)
class Choices:
    items: Mapping[int, int] = field(default_factory=dict)
    pay_it_forward_places: int = 0
    donation_pence: int = 0
    donation_partner: str | None = None
    buyer_name: str = "Amal Haddad"
    buyer_email: str = "amal@example.org"
    code: str | None = None
    gift_aid: Declaration | None = None
    guest_names: Sequence[str] = ()


@pytest.mark.parametrize("donation_pence", [0, 5, 550, 1200, 100000])
def test_an_orders_choices_read_back_as_the_same_order(donation_pence: int) -> None:
    declaration = Declaration("Ms", "Amal", "Haddad", "12", "SW1A 1AA", confirmed=True)
    choices = Choices(
        items={7: 2, 9: 1},
        pay_it_forward_places=3,
        donation_pence=donation_pence,
        donation_partner="welcome-kitchen" if donation_pence else None,
        code="FRIENDS",
        gift_aid=declaration,
        guest_names=["", "Bob Newcomer"],
    )
    form = choices_form(choices)
    request, problems = buy_request(form, [7, 8, 9])
    assert problems == {}
    assert request.items == [(7, 2), (9, 1)] and request.pay_it_forward_places == 3
    assert (request.donation_pence, request.donation_partner) == (donation_pence, choices.donation_partner)
    assert (request.buyer_name, request.buyer_email, request.code, request.gift_aid) == ("Amal Haddad", "amal@example.org", "FRIENDS", declaration)
    assert form["guest_name_1"] == "Bob Newcomer" and "guest_name_0" not in form


def test_the_form_names_a_guest_per_ticket_chosen_and_no_more() -> None:
    buyer = {"name": "Alice Newcomer", "email": "alice@example.org"}
    form = buyer | {"quantity_1": "2", "quantity_2": "1", "guest_name_0": "", "guest_name_1": "Bob", "guest_name_2": "", "guest_name_3": "Left over"}
    request, problems = buy_request(form, [1, 2])
    assert problems == {} and request.guest_names == ("", "Bob")  # three tickets; the trailing empty one dropped
    assert buy_request({"quantity_1": "1"}, [1])[0].guest_names == ()
    assert buy_request({"quantity_1": "0", "guest_name_0": "Bob"}, [1])[0].guest_names == ()


def test_a_huge_quantity_costs_no_more_to_read_than_the_fields_sent() -> None:
    """Quantities are read before they are checked: reading guests' names must not count up to them."""
    form = {"name": "Alice Newcomer", "email": "alice@example.org", "guest_name_2": "Bob"} | {f"quantity_{i}": "999999" for i in range(1, 6)}
    calls = 0

    class Counting(dict[str, str]):
        def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
            nonlocal calls
            calls += 1
            return super().get(key, default)

    request, _ = buy_request(Counting(form), [1, 2, 3, 4, 5])
    assert request.guest_names == ("", "", "Bob")
    assert calls < 100


def test_a_form_has_a_contribution_when_it_gives_a_donation_or_places_the_event_takes() -> None:
    """What an order may have without a ticket (a buy form refused for want of places keeps it)."""
    assert has_contribution({"donation": "5"}, takes_pay_it_forward=False)
    assert has_contribution({"pay_it_forward_places": "1"}, takes_pay_it_forward=True)
    assert not has_contribution({"pay_it_forward_places": "1"}, takes_pay_it_forward=False)
    assert not has_contribution({"quantity_1": "2", "donation": "0", "pay_it_forward_places": "0"}, takes_pay_it_forward=True)
    assert not has_contribution({"donation": "lots", "pay_it_forward_places": "²"}, takes_pay_it_forward=True)
