"""Properties of discounts, for any prices, codes and refunds: no ticket and no order total goes below zero, the parts
add up to the discount, and an event's statement adds up after discounts and refunds, to the penny."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.codes import rules
from events.ledger.allocation import INCOME_KINDS, EventMoney, KindTotals, allocate
from events.ledger.service import payment_entries, refund_entries
from events.orders import pricing

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)

prices = st.integers(min_value=0, max_value=50_000)
codes = st.one_of(
    st.none(),
    st.builds(lambda percent: rules.Code(1, "PERCENT", 100, discount_percent=percent), st.integers(1, 100)),
    st.builds(lambda pence: rules.Code(2, "AMOUNT", 100, discount_pence=pence), st.integers(1, rules.MAX_DISCOUNT_PENCE)),
)


@given(st.lists(prices, min_size=1, max_size=30), codes)
def test_each_ticket_pays_its_price_less_its_part_never_below_zero(ticket_prices: list[int], code: rules.Code | None) -> None:
    paid, discount = rules.paid_prices(ticket_prices, code)
    assert discount == rules.order_discount(code, sum(ticket_prices))
    assert 0 <= discount <= sum(ticket_prices)
    assert all(0 <= price <= listed for price, listed in zip(paid, ticket_prices, strict=True))
    assert sum(paid) + discount == sum(ticket_prices)


types = st.lists(st.tuples(prices, st.booleans()), min_size=1, max_size=4).map(
    lambda specs: {
        index + 1: pricing.TypeOnSale(index + 1, f"Type {index + 1}", price, "online", None, None, 10, hidden=hidden)
        for index, (price, hidden) in enumerate(specs)
    }
)


@st.composite
def orders(draw: st.DrawFn) -> tuple[dict[int, pricing.TypeOnSale], pricing.EventTerms, pricing.Request, rules.Code | None]:
    on_sale = draw(types)
    terms = pricing.EventTerms("on_sale", booking_fee_pence=draw(st.integers(0, 500)), pay_it_forward_place_pence=3000, partner_ids={})
    chosen = draw(st.lists(st.sampled_from(sorted(on_sale)), min_size=1, max_size=len(on_sale), unique=True))
    items = [(type_id, draw(st.integers(1, 10))) for type_id in chosen]
    # Hidden types are ordered with a code that unlocks them (with a discount or not); without one, only the others.
    code = draw(codes)
    if code is not None:
        code = rules.Code(
            code.id, code.code, 100, discount_percent=code.discount_percent, discount_pence=code.discount_pence, unlocks=frozenset(on_sale)
        )
    elif any(on_sale[type_id].hidden for type_id in chosen):
        code = rules.Code(3, "ACCESS", 100, unlocks=frozenset(on_sale))
    request = pricing.Request(
        items=items,
        pay_it_forward_places=draw(st.integers(0, 3)),
        donation_pence=draw(st.integers(0, 10_000)),
        buyer_name="Amal",
        buyer_email="amal@example.org",
    )
    return on_sale, terms, request, code


@given(orders())
def test_no_order_total_goes_below_zero_and_only_tickets_are_discounted(order: Any) -> None:
    on_sale, terms, request, code = order
    quote = pricing.quote_online_order(on_sale, terms, request, NOW, code)
    listed = sum(on_sale[type_id].price_pence * quantity for type_id, quantity in request.items)
    assert quote.total_pence >= 0 and all(line.unit_price_pence >= 0 and line.booking_fee_pence >= 0 for line in quote.lines)
    assert quote.tickets_pence == listed - quote.discount_pence
    assert quote.discount_pence == rules.order_discount(code, listed)
    # Never on pay it forward or donations; booking fees only ever dropped with a ticket that became free.
    assert quote.pay_it_forward_pence == request.pay_it_forward_places * terms.pay_it_forward_place_pence
    assert quote.donation_pence == request.donation_pence
    paid_tickets = sum(line.quantity for line in quote.lines if line.kind == "ticket" and line.unit_price_pence > 0)
    assert quote.booking_fees_pence == paid_tickets * terms.booking_fee_pence
    assert quote.total_pence == quote.tickets_pence + quote.booking_fees_pence + quote.pay_it_forward_pence + quote.donation_pence
    assert dict(request.items) == dict(quote.places_by_type)


def _order_row(order_id: int, quote: pricing.Quote) -> dict[str, Any]:
    return {
        "id": order_id,
        "event": 1,
        "currency": "GBP",
        "tickets_pence": quote.tickets_pence,
        "booking_fees_pence": quote.booking_fees_pence,
        "pay_it_forward_pence": quote.pay_it_forward_pence,
        "donation_pence": quote.donation_pence,
    }


@settings(max_examples=150)
@given(st.lists(st.tuples(orders(), st.integers(0, 10), st.integers(0, 400)), min_size=1, max_size=6), st.integers(1, 9_999))
def test_an_event_statement_adds_up_after_discounts_and_refunds(sold: list[Any], first_share: int) -> None:
    """Orders priced with codes are paid (less Stripe's fee) and some of their tickets refunded at what was paid for
    them, as payments.refunds plans it; the ledger's entries are allocated to two partners. Ticket income is what the
    tickets listed at less the discounts, and every penny paid, less refunds and fees, is with a partner."""
    entries = []
    listed_total = discounts = taken = refunded = 0
    for order_id, ((on_sale, terms, request, code), refund_count, stripe_fee) in enumerate(sold, start=1):
        quote = pricing.quote_online_order(on_sale, terms, request, NOW, code)
        listed_total += sum(on_sale[type_id].price_pence * quantity for type_id, quantity in request.items)
        discounts += quote.discount_pence
        if quote.total_pence == 0:
            continue  # nothing to pay: no payment, no entries
        order = _order_row(order_id, quote)
        fee = min(stripe_fee, quote.total_pence)
        entries += payment_entries({"id": order_id, "provider": "stripe", "fee_pence": fee, "created_at": NOW}, order, None)
        taken += quote.total_pence
        # Refund the first tickets (at their paid price and fee), as a refund of chosen tickets is planned.
        tickets = [(line.unit_price_pence, line.booking_fee_pence) for line in quote.lines if line.kind == "ticket" for _ in range(line.quantity)]
        prices = sum(price for price, _ in tickets[:refund_count])
        booking_fees = sum(booking for _, booking in tickets[:refund_count])
        if prices + booking_fees:
            refund = {"id": order_id, "method": "stripe", "created_at": NOW, "tickets_pence": prices, "booking_fees_pence": booking_fees}
            entries += refund_entries(refund | {"contributions_pence": 0, "donations_pence": 0}, order, None)
            refunded += prices + booking_fees

    by_kind = {kind: KindTotals() for kind in INCOME_KINDS}
    component_kind = {"tickets": "tickets", "booking_fees": "booking_fees", "contributions": "contributions", "donations": "donations"}
    for entry in entries:
        kind = component_kind[entry.component]
        totals = by_kind[kind]
        if entry.kind == "payment":
            by_kind[kind] = KindTotals(totals.gross_pence + entry.amount_pence, totals.refunds_pence, totals.fees_pence)
        elif entry.kind == "refund":
            by_kind[kind] = KindTotals(totals.gross_pence, totals.refunds_pence - entry.amount_pence, totals.fees_pence)
        else:
            by_kind[kind] = KindTotals(totals.gross_pence, totals.refunds_pence, totals.fees_pence - entry.amount_pence)
    fees = sum(totals.fees_pence for totals in by_kind.values())

    # Ticket income is booked after the discounts: what the tickets listed at, less what the codes took off.
    assert by_kind["tickets"].gross_pence == listed_total - discounts
    assert sum(totals.gross_pence for totals in by_kind.values()) == taken
    assert sum(totals.refunds_pence for totals in by_kind.values()) == refunded

    money = EventMoney(
        tickets=by_kind["tickets"],
        booking_fees=by_kind["booking_fees"],
        contributions=by_kind["contributions"],
        general_donations=by_kind["donations"],
        designated_donations={},
        fixed_costs_pence=0,
        per_attendee_cost_pence=0,
        attendees=0,
        free_guests=0,
        unused_contributions="beneficiaries",
    )
    allocation = allocate(money, [(1, first_share), (2, 10_000 - first_share)])
    assert sum(partner.income_pence["tickets"] for partner in allocation.partners) == listed_total - discounts
    # (Stripe keeps its fee on a refunded order: where that leaves less than nothing, the shortfall is the deficit.)
    assert allocation.net_pence - allocation.deficit_pence == taken - refunded - fees
    for kind in INCOME_KINDS:  # each line of the statement is shared out whole
        assert sum(partner.income_pence[kind] for partner in allocation.partners) == by_kind[kind].gross_pence
    assert sum(partner.refunds_pence for partner in allocation.partners) == refunded
