"""A Gift Aid declaration made with an order: what it must say, and which money it covers (never tickets or fees)."""

from datetime import datetime, timezone

import pytest

from events.orders import gift_aid, pricing

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)
SUPPER = pricing.TypeOnSale(1, "Supper", 3000, "online", None, None, 6)
TERMS = pricing.EventTerms("on_sale", booking_fee_pence=100, pay_it_forward_place_pence=3000, partner_ids={"welcome-kitchen": 7})


def declaration(**changes: object) -> gift_aid.Declaration:
    values: dict[str, object] = {
        "title": "Ms",
        "first_name": "Amal",
        "last_name": "Haddad",
        "house": "12",
        "postcode": "sw1a 1aa",
        "confirmed": True,
    }
    values.update(changes)
    return gift_aid.Declaration(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        (" m1  1ae ", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_uk_postcodes_are_accepted_in_hmrc_form(typed: str, expected: str) -> None:
    assert gift_aid.normalise_postcode(typed) == expected


@pytest.mark.parametrize("typed", ["", "SW1A", "12345", "SW1A 1A", "QW1 1AA", "SW1A 1CA", "75001", "SW1A-1AA", "AAA 1AA"])
def test_what_is_not_a_uk_postcode_is_refused(typed: str) -> None:
    assert gift_aid.normalise_postcode(typed) is None


def test_a_complete_confirmed_declaration_has_no_problems() -> None:
    assert gift_aid.declaration_problems(declaration(), eligible_pence=500, currency="GBP") == {}
    assert gift_aid.declaration_problems(declaration(title=""), eligible_pence=500, currency="GBP") == {}  # HMRC: title optional


def test_each_missing_or_wrong_field_is_named() -> None:
    problems = gift_aid.declaration_problems(
        declaration(first_name=" ", last_name="", house="", postcode="75001", confirmed=False, title="Professor"),
        eligible_pence=500,
        currency="GBP",
    )
    assert set(problems) == {
        "gift_aid.confirmed",
        "gift_aid.first_name",
        "gift_aid.last_name",
        "gift_aid.house",
        "gift_aid.postcode",
        "gift_aid.title",
    }
    assert "postcode" in problems["gift_aid.postcode"]


def test_names_are_held_to_the_schedule_limits_and_cannot_be_formulas() -> None:
    problems = gift_aid.declaration_problems(declaration(first_name="A" * 36, last_name="=HYPERLINK(1)"), eligible_pence=1, currency="GBP")
    assert set(problems) == {"gift_aid.first_name", "gift_aid.last_name"}


def test_a_declaration_needs_a_donation_or_contribution_in_pounds() -> None:
    assert set(gift_aid.declaration_problems(declaration(), eligible_pence=0, currency="GBP")) == {"gift_aid"}
    assert set(gift_aid.declaration_problems(declaration(), eligible_pence=500, currency="EUR")) == {"gift_aid"}


def test_only_contributions_and_donations_are_eligible_never_tickets_or_booking_fees() -> None:
    request = pricing.Request(
        items=[(1, 2)],
        pay_it_forward_places=1,
        pay_it_forward_pence=250,
        donation_pence=500,
        donation_partner="welcome-kitchen",
        buyer_name="Amal",
        buyer_email="amal@example.org",
        gift_aid=declaration(),
    )
    quote = pricing.quote_online_order({1: SUPPER}, TERMS, request, NOW)
    assert quote.total_pence == 2 * 3100 + 3000 + 250 + 500
    assert gift_aid.eligible_pence(quote.lines) == 3000 + 250 + 500


def test_checkout_refuses_a_declaration_on_tickets_alone() -> None:
    request = pricing.Request(items=[(1, 2)], buyer_name="Amal", buyer_email="amal@example.org", gift_aid=declaration())
    with pytest.raises(pricing.Problems) as refused:
        pricing.quote_online_order({1: SUPPER}, TERMS, request, NOW)
    assert set(refused.value.fields) == {"gift_aid"}


def test_checkout_names_the_declarations_problems_with_the_others() -> None:
    request = pricing.Request(
        items=[(1, 1)], donation_pence=500, buyer_name="", buyer_email="amal@example.org", gift_aid=declaration(postcode="nowhere")
    )
    with pytest.raises(pricing.Problems) as refused:
        pricing.quote_online_order({1: SUPPER}, TERMS, request, NOW)
    assert set(refused.value.fields) == {"buyer.name", "gift_aid.postcode"}


def test_a_recorded_declaration_is_trimmed_with_the_postcode_in_hmrc_form() -> None:
    clean = gift_aid.normalised(declaration(first_name=" Amal ", postcode="sw1a1aa"))
    assert (clean.first_name, clean.postcode) == ("Amal", "SW1A 1AA")
