"""Pricing an order with a code: hidden types open only to their code, the discount on ticket lines only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from events.codes import rules
from events.orders import pricing

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)
SUPPER = pricing.TypeOnSale(1, "Supper", 1000, "online", None, None, 8)
CHILD = pricing.TypeOnSale(2, "Child", 500, "online", None, None, 8)
CREW = pricing.TypeOnSale(3, "Crew", 0, "online", None, None, 1, hidden=True)
HELPER = pricing.TypeOnSale(4, "Helper", 1500, "online", None, None, 4, hidden=True)
TYPES = {t.id: t for t in (SUPPER, CHILD, CREW, HELPER)}
TERMS = pricing.EventTerms("on_sale", booking_fee_pence=50, pay_it_forward_place_pence=3000, partner_ids={})


def request(items: list[tuple[int, int]], **changes: object) -> pricing.Request:
    return pricing.Request(items=items, buyer_name="Amal", buyer_email="amal@example.org", **changes)  # type: ignore[arg-type]


def code(**changes: object) -> rules.Code:
    values: dict[str, object] = {"id": 9, "code": "CREW-26", "max_uses": 10}
    values.update(changes)
    return rules.Code(**values)  # type: ignore[arg-type]


def test_a_hidden_type_is_unknown_without_a_code_that_unlocks_it() -> None:
    for given in (None, code(), code(unlocks=frozenset({4}), discount_percent=10)):
        with pytest.raises(pricing.Problems) as refused:
            pricing.quote_online_order(TYPES, TERMS, request([(3, 1)]), NOW, given)
        with pytest.raises(pricing.Problems) as unknown:
            pricing.quote_online_order(TYPES, TERMS, request([(99, 1)]), NOW, given)
        assert refused.value.fields == unknown.value.fields == {"items[0].ticket_type": "This event has no such ticket type."}
    quote = pricing.quote_online_order(TYPES, TERMS, request([(3, 1)]), NOW, code(unlocks=frozenset({3})))
    assert quote.places_by_type == {3: 1} and quote.total_pence == 0 and quote.code_id == 9 and quote.discount_pence == 0


def test_a_code_outside_its_window_is_a_problem_on_the_code() -> None:
    with pytest.raises(pricing.Problems) as early:
        pricing.quote_online_order(TYPES, TERMS, request([(1, 1)]), NOW, code(valid_from=NOW + timedelta(hours=1), discount_percent=10))
    assert early.value.code == "code_not_valid_yet" and set(early.value.fields) == {"code"}


def test_the_discount_comes_off_ticket_lines_only() -> None:
    quote = pricing.quote_online_order(
        TYPES, TERMS, request([(1, 3), (2, 1)], pay_it_forward_places=1, donation_pence=700), NOW, code(discount_pence=1000)
    )
    # £10 off £35 of tickets, by price: 286 + 286 + 285 off the suppers (largest remainder), 143 off the child's.
    assert quote.discount_pence == 1000 and quote.tickets_pence == 3500 - 1000
    assert [(line.kind, line.quantity, line.unit_price_pence, line.booking_fee_pence) for line in quote.lines] == [
        ("ticket", 2, 714, 50),
        ("ticket", 1, 715, 50),
        ("ticket", 1, 357, 50),
        ("pay_it_forward", 1, 3000, 0),
        ("donation", 1, 700, 0),
    ]
    assert quote.booking_fees_pence == 200 and quote.pay_it_forward_pence == 3000 and quote.donation_pence == 700
    assert quote.total_pence == 2500 + 200 + 3000 + 700
    assert quote.places_by_type == {1: 3, 2: 1}


def test_a_ticket_made_free_has_no_fee() -> None:
    quote = pricing.quote_online_order(TYPES, TERMS, request([(1, 2)]), NOW, code(discount_percent=100))
    assert quote.total_pence == 0 and quote.discount_pence == 2000
    assert [(line.quantity, line.unit_price_pence, line.booking_fee_pence) for line in quote.lines] == [(2, 0, 0)]


def test_a_code_that_only_unlocks_takes_nothing_off() -> None:
    quote = pricing.quote_online_order(TYPES, TERMS, request([(1, 1), (4, 2)]), NOW, code(unlocks=frozenset({4})))
    assert quote.discount_pence == 0 and quote.tickets_pence == 1000 + 3000 and quote.code_id == 9
