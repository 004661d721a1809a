import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.orders import codes, forms, pricing

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)
ADVANCE = pricing.TypeOnSale(1, "Advance", 600, "online", None, NOW + timedelta(days=5), 8)
DOOR = pricing.TypeOnSale(2, "Door", 900, "door", None, None, 8)
FREE = pricing.TypeOnSale(3, "Volunteer", 0, "both", None, None, 2)
TYPES = {t.id: t for t in (ADVANCE, DOOR, FREE)}
TERMS = pricing.EventTerms("on_sale", booking_fee_pence=50, pay_it_forward_place_pence=3000, partner_ids={"help-refugees": 7})


def request(**changes: object) -> pricing.Request:
    values: dict[str, object] = {"items": [(1, 2)], "buyer_name": "Amal", "buyer_email": "amal@example.org"}
    values.update(changes)
    return pricing.Request(**values)  # type: ignore[arg-type]


def test_tickets_booking_fees_and_contributions_add_up_to_the_total() -> None:
    quote = pricing.quote_online_order(TYPES, TERMS, request(pay_it_forward_places=1, donation_pence=500, donation_partner="help-refugees"), NOW)
    assert quote.tickets_pence == 1200
    assert quote.booking_fees_pence == 100
    assert quote.pay_it_forward_pence == 3000
    assert quote.donation_pence == 500
    assert quote.total_pence == 4800
    assert quote.places_by_type == {1: 2}
    assert [line.kind for line in quote.lines] == ["ticket", "pay_it_forward", "donation"]
    assert quote.lines[-1].partner_id == 7


def test_free_tickets_carry_no_booking_fee() -> None:
    quote = pricing.quote_online_order(TYPES, TERMS, request(items=[(3, 2)]), NOW)
    assert quote.total_pence == 0 and quote.places == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": [(1, 0)]}, "items[0].quantity"),
        ({"items": [(1, 9)]}, "items[0].quantity"),
        ({"items": [(99, 1)]}, "items[0].ticket_type"),
        ({"items": [(1, 1), (1, 1)]}, "items[1].ticket_type"),
        ({"items": []}, "items"),
        ({"buyer_email": "not-an-email"}, "buyer.email"),
        ({"buyer_email": ""}, "buyer.email"),
        ({"buyer_name": "  "}, "buyer.name"),
        ({"donation_pence": 500, "donation_partner": "someone-else"}, "donation_partner"),
        ({"donation_partner": "help-refugees"}, "donation_partner"),
    ],
)
def test_bad_requests_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(pricing.Problems) as problems:
        pricing.quote_online_order(TYPES, TERMS, request(**changes), NOW)
    assert problems.value.code == "invalid"
    assert field in problems.value.fields


def test_door_only_and_out_of_window_types_are_sales_closed_not_invalid() -> None:
    with pytest.raises(pricing.Problems) as door:
        pricing.quote_online_order(TYPES, TERMS, request(items=[(2, 1)]), NOW)
    assert door.value.code == "sales_closed"
    with pytest.raises(pricing.Problems) as late:
        pricing.quote_online_order(TYPES, TERMS, request(), NOW + timedelta(days=6))
    assert late.value.code == "sales_closed"
    with pytest.raises(pricing.Problems) as closed:
        pricing.quote_online_order(TYPES, pricing.EventTerms("sales_closed", 0, 0, {}), request(), NOW)
    assert closed.value.code == "sales_closed"


def test_door_sales_use_door_types_without_booking_fee() -> None:
    quote = pricing.quote_door_sale(TYPES, [(2, 3)], "on_sale")
    assert quote.total_pence == 2700 and quote.places == 3
    with pytest.raises(pricing.Problems):
        pricing.quote_door_sale(TYPES, [(1, 1)], "on_sale")


@given(
    st.lists(st.tuples(st.sampled_from([1, 3]), st.integers(min_value=1, max_value=2)), min_size=1, max_size=2, unique_by=lambda t: t[0]),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=100_000),
)
def test_the_total_is_always_the_sum_of_its_parts(items: list[tuple[int, int]], places: int, donation: int) -> None:
    quote = pricing.quote_online_order(TYPES, TERMS, request(items=items, pay_it_forward_places=places, donation_pence=donation), NOW)
    assert quote.total_pence == quote.tickets_pence + quote.booking_fees_pence + quote.pay_it_forward_pence + quote.donation_pence
    assert quote.total_pence == sum(line.total_pence for line in quote.lines)


def test_references_are_short_readable_and_forgiving_when_typed() -> None:
    reference = codes.new_order_reference()
    assert len(reference) == 7 and reference[3] == "-"
    assert codes.normalise_reference(reference.lower().replace("-", " ")) == reference


def test_order_tokens_are_bound_to_the_order_and_the_server_secret() -> None:
    token = codes.order_access_token("s" * 40, "ABC-DEF")
    assert codes.token_matches("s" * 40, "ABC-DEF", token)
    assert not codes.token_matches("s" * 40, "ABC-DEG", token)
    assert not codes.token_matches("t" * 40, "ABC-DEF", token)
    assert not codes.token_matches("s" * 40, "ABC-DEF", None)


@pytest.mark.parametrize(("text", "pence"), [("", 0), ("5", 500), ("£12.5", 1250), ("12,50", 1250), (" 3.07 ", 307)])
def test_amounts_typed_in_pounds_become_pence(text: str, pence: int) -> None:
    assert forms.parse_pounds(text) == pence


@pytest.mark.parametrize("text", ["five", "-3", "1.234", "1e3"])
def test_amounts_that_are_not_money_are_refused(text: str) -> None:
    assert forms.parse_pounds(text) is None


TYPED_AMOUNTS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "typed_amounts.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("text", "pence"), TYPED_AMOUNTS)
def test_amounts_are_read_as_the_event_pages_live_total_reads_them(text: str, pence: int | None) -> None:
    """tests/vectors/typed_amounts.json, which tests/js/money.test.mjs holds static/js/money.js to: Arabic and Persian
    digits and the Arabic decimal separator are amounts, on both sides; a superscript or a fullwidth digit is not."""
    assert forms.parse_pounds(text) == pence


def test_the_typed_amounts_cover_arabic_and_persian_digits_and_refuse_other_digits() -> None:
    amounts = dict(TYPED_AMOUNTS)
    assert amounts["١٢٫٥٠"] == amounts["۱۲٫۵۰"] == amounts["12,50"] == amounts["12.50"] == 1250
    assert amounts["٥"] == amounts["۵"] == 500
    assert amounts["²"] is None and amounts["５"] is None


def test_a_name_for_each_ticket_at_most() -> None:
    assert pricing.quote_online_order(TYPES, TERMS, request(items=[(1, 2)], guest_names=("", "Bob")), NOW).places == 2
    with pytest.raises(pricing.Problems) as refused:
        pricing.quote_online_order(TYPES, TERMS, request(items=[(1, 2)], guest_names=("A", "B", "C")), NOW)
    assert set(refused.value.fields) == {"guest_names"}
    with pytest.raises(pricing.Problems):  # a donation alone has no tickets to name
        pricing.quote_online_order(TYPES, TERMS, request(items=[], donation_pence=500, guest_names=("Bob",)), NOW)


def test_guest_names_are_optional_single_lines_of_at_most_200_characters() -> None:
    assert pricing.guest_name_problems(["", "  ", "Bob Newcomer", "سارا احمدی", "B" * 200]) == {}
    problems = pricing.guest_name_problems(["Bob\nNewcomer", "B" * 201, "ok", "tab\there"])
    assert set(problems) == {"guest_names[0]", "guest_names[1]", "guest_names[3]"}
    assert "guest_names[2]" in pricing.text_problems(request(guest_names=("", "", "x\x00")))


def test_only_the_names_given_are_kept_by_position() -> None:
    assert pricing.guest_names_by_position(["", " Bob ", "  ", "Chloé"]) == {1: "Bob", 3: "Chloé"}
