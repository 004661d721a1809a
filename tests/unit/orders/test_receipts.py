"""An order's receipt from its lines: every line once, in the order a guest reads them, adding up to what was paid."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.orders import pricing
from events.orders.receipts import (
    Charity,
    GiftAidNote,
    OrderLineFacts,
    PaidWith,
    ReceiptLine,
    ReceiptLineKind,
    build_receipt,
    donor_name,
    paid_with,
    receipt_lines,
)

PLACE = 3000


def facts(line: pricing.Line, partner_name: str = "") -> OrderLineFacts:
    """A priced line as it is stored and read back."""
    return OrderLineFacts(line.kind, line.description, line.quantity, line.unit_price_pence, line.booking_fee_pence, partner_name)


def test_a_generous_order_reads_tickets_fee_pay_it_forward_then_donation() -> None:
    lines = [
        OrderLineFacts("donation", "Donation", 1, 1000, partner_name="Welcome Kitchen"),
        OrderLineFacts("ticket", "Supper", 2, 3000, 150),
        OrderLineFacts("pay_it_forward", "Pay it forward", 2, PLACE),
        OrderLineFacts("pay_it_forward", "Pay it forward", 1, 500),
        OrderLineFacts("ticket", "Concession", 1, 1500, 150),
    ]
    receipt = build_receipt(
        lines,
        reference="ABC-123",
        currency="GBP",
        refunded_pence=0,
        payment_provider="stripe",
        paid=True,
        place_pence=PLACE,
        gift_aid=GiftAidNote("Mrs Amal Haddad", 7500),
        charity=Charity("Refugee Kitchen CIO", "1234567"),
    )
    assert receipt.lines == (
        ReceiptLine(ReceiptLineKind.tickets, "Supper", 2, 3000, 6000),
        ReceiptLine(ReceiptLineKind.tickets, "Concession", 1, 1500, 1500),
        ReceiptLine(ReceiptLineKind.booking_fee, "", 3, 150, 450),
        ReceiptLine(ReceiptLineKind.pay_it_forward_places, "", 2, PLACE, 6000),
        ReceiptLine(ReceiptLineKind.pay_it_forward, "", 1, 500, 500),
        ReceiptLine(ReceiptLineKind.donation, "Welcome Kitchen", 1, 1000, 1000),
    )
    assert receipt.total_pence == 6000 + 1500 + 450 + 6000 + 500 + 1000
    assert receipt.paid_with == PaidWith.card and receipt.gift_aid == GiftAidNote("Mrs Amal Haddad", 7500)


def test_one_funded_place_is_a_place_and_any_other_single_amount_is_an_amount() -> None:
    one_place, amount = receipt_lines(
        [OrderLineFacts("pay_it_forward", "Pay it forward", 1, PLACE), OrderLineFacts("pay_it_forward", "Pay it forward", 1, 1200)], place_pence=PLACE
    )
    assert (one_place.kind, one_place.quantity) == (ReceiptLineKind.pay_it_forward_places, 1)
    assert (amount.kind, amount.amount_pence) == (ReceiptLineKind.pay_it_forward, 1200)
    # An event without pay-it-forward places: every contribution is an amount.
    [line] = receipt_lines([OrderLineFacts("pay_it_forward", "Pay it forward", 1, 0)], place_pence=0)
    assert line.kind == ReceiptLineKind.pay_it_forward


def test_a_shared_donation_names_no_partner_and_free_tickets_carry_no_fee() -> None:
    lines = receipt_lines([OrderLineFacts("ticket", "Supper", 1, 0, 0), OrderLineFacts("donation", "Donation", 1, 500)], place_pence=0)
    assert [line.kind for line in lines] == [ReceiptLineKind.tickets, ReceiptLineKind.donation]
    assert lines[1].name == ""


@pytest.mark.parametrize(
    ("provider", "paid", "expected"),
    [
        ("stripe", True, PaidWith.card),
        ("test", True, PaidWith.test),
        ("cash", True, PaidWith.cash),
        ("card_terminal", True, PaidWith.card_terminal),
        ("none", True, PaidWith.free_place),
        ("", True, PaidWith.free_place),
        ("stripe", False, None),
    ],
)
def test_how_it_was_paid_comes_from_the_payment_provider_once_paid(provider: str, paid: bool, expected: PaidWith | None) -> None:
    assert paid_with(provider, paid=paid) == expected


def test_the_donor_is_named_as_they_declared() -> None:
    assert donor_name("Mrs", " Amal ", "Haddad") == "Mrs Amal Haddad"
    assert donor_name("", "Amal", "Haddad") == "Amal Haddad"


@settings(max_examples=300)
@given(
    tickets=st.lists(st.tuples(st.integers(1, 10), st.integers(0, 10_000)), min_size=0, max_size=4),
    fee=st.integers(0, 500),
    places=st.integers(0, 20),
    contribution=st.integers(0, 50_000),
    donation=st.integers(0, 50_000),
    place_pence=st.integers(0, 5000),
)
def test_the_receipt_adds_up_to_the_priced_order(
    tickets: list[tuple[int, int]], fee: int, places: int, contribution: int, donation: int, place_pence: int
) -> None:
    """Whatever the order, its receipt's lines add up to pricing's total, line by line: nothing lost, nothing twice."""
    lines = [pricing.Line("ticket", f"Type {n}", quantity, price, fee if price else 0) for n, (quantity, price) in enumerate(tickets)]
    if places and place_pence:
        lines.append(pricing.Line("pay_it_forward", "Pay it forward", places, place_pence, 0))
    if contribution:
        lines.append(pricing.Line("pay_it_forward", "Pay it forward", 1, contribution, 0))
    if donation:
        lines.append(pricing.Line("donation", "Donation", 1, donation, 0))
    quote = pricing.Quote(tuple(lines))
    receipt = receipt_lines([facts(line) for line in lines], place_pence=place_pence)
    assert sum(line.amount_pence for line in receipt) == quote.total_pence
    by_kind = {kind: sum(line.amount_pence for line in receipt if line.kind == kind) for kind in ReceiptLineKind}
    assert by_kind[ReceiptLineKind.tickets] == quote.tickets_pence
    assert by_kind[ReceiptLineKind.booking_fee] == quote.booking_fees_pence
    assert by_kind[ReceiptLineKind.pay_it_forward_places] + by_kind[ReceiptLineKind.pay_it_forward] == quote.pay_it_forward_pence
    assert by_kind[ReceiptLineKind.donation] == quote.donation_pence
    assert all(line.amount_pence == line.quantity * line.unit_pence for line in receipt)
