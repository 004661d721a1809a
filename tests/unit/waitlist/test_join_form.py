"""The join form's choices: how many places (up to the chosen type's per-order maximum), which type, which language."""

from __future__ import annotations

import pytest

from events.catalogue.rules import waiting_list_joinable
from events.waitlist.join_form import Offered, read_join_form

SUPPER, BRUNCH = Offered(11, 6), Offered(12, 2)


def test_one_type_needs_no_choice_and_the_page_language_is_the_default() -> None:
    form, problems = read_join_form({"name": "Amal", "email": "a@example.org", "quantity": "6"}, types=[SUPPER], max_places=6, page_locale="ar")
    assert problems == {}
    assert (form.ticket_type, form.quantity, form.locale, form.name) == (11, 6, "ar", "Amal")


@pytest.mark.parametrize("quantity", ["0", "3", "-1", "²", "\u0661", "1.0", "9" * 5000, ""])
def test_a_count_outside_the_chosen_types_maximum_is_refused(quantity: str) -> None:
    _, problems = read_join_form({"ticket_type": "12", "quantity": quantity}, types=[SUPPER, BRUNCH], max_places=6, page_locale="en")
    assert set(problems) == {"quantity"}


def test_several_types_need_one_of_them() -> None:
    for chosen in ("", "13", "abc"):
        _, problems = read_join_form({"ticket_type": chosen, "quantity": "1"}, types=[SUPPER, BRUNCH], max_places=6, page_locale="en")
        assert "ticket_type" in problems
    form, problems = read_join_form({"ticket_type": "12", "quantity": "2", "locale": "fa"}, types=[SUPPER, BRUNCH], max_places=6, page_locale="en")
    assert problems == {} and (form.ticket_type, form.quantity, form.locale) == (12, 2, "fa")


def test_a_free_place_is_one_place_and_an_unknown_language_is_refused() -> None:
    form, problems = read_join_form({"name": "Nour"}, types=[], max_places=1, page_locale="fr")
    assert problems == {} and (form.quantity, form.ticket_type, form.locale) == (1, None, "fr")
    _, problems = read_join_form({"quantity": "2", "locale": "de"}, types=[], max_places=1, page_locale="fr")
    assert set(problems) == {"quantity", "locale"}


def test_a_waiting_list_opens_only_once_a_type_on_sale_is_sold_out() -> None:
    assert waiting_list_joinable(event_list_open=True, type_list=True, on_sale_online=True, available=0)
    assert not waiting_list_joinable(event_list_open=True, type_list=True, on_sale_online=True, available=1)
    assert not waiting_list_joinable(event_list_open=False, type_list=True, on_sale_online=True, available=0)
    assert not waiting_list_joinable(event_list_open=True, type_list=False, on_sale_online=True, available=0)
    assert not waiting_list_joinable(event_list_open=True, type_list=True, on_sale_online=False, available=0)
