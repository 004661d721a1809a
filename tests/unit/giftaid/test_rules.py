"""Gift Aid rules: the declaration, which money it covers, and the 25% split that never loses a penny."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.giftaid import rules
from events.orders import pricing

NOW = datetime(2027, 7, 1, 12, tzinfo=timezone.utc)
SUPPER = pricing.TypeOnSale(1, "Supper", 3000, "online", None, None, 6)
TERMS = pricing.EventTerms("on_sale", booking_fee_pence=100, pay_it_forward_place_pence=3000, partner_ids={"welcome-kitchen": 7})


def declaration(**changes: object) -> rules.Declaration:
    values: dict[str, object] = {
        "title": "Ms",
        "first_name": "Amal",
        "last_name": "Haddad",
        "house": "12",
        "postcode": "sw1a 1aa",
        "confirmed": True,
    }
    values.update(changes)
    return rules.Declaration(**values)  # type: ignore[arg-type]


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
    assert rules.normalise_postcode(typed) == expected


@pytest.mark.parametrize("typed", ["", "SW1A", "12345", "SW1A 1A", "QW1 1AA", "SW1A 1CA", "75001", "SW1A-1AA", "AAA 1AA"])
def test_what_is_not_a_uk_postcode_is_refused(typed: str) -> None:
    assert rules.normalise_postcode(typed) is None


def test_a_complete_confirmed_declaration_has_no_problems() -> None:
    assert rules.declaration_problems(declaration(), eligible_pence=500, currency="GBP") == {}
    assert rules.declaration_problems(declaration(title=""), eligible_pence=500, currency="GBP") == {}  # HMRC: title optional


def test_each_missing_or_wrong_field_is_named() -> None:
    problems = rules.declaration_problems(
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
    problems = rules.declaration_problems(declaration(first_name="A" * 36, last_name="=HYPERLINK(1)"), eligible_pence=1, currency="GBP")
    assert set(problems) == {"gift_aid.first_name", "gift_aid.last_name"}


def test_a_declaration_needs_a_donation_or_contribution_in_pounds() -> None:
    assert set(rules.declaration_problems(declaration(), eligible_pence=0, currency="GBP")) == {"gift_aid"}
    assert set(rules.declaration_problems(declaration(), eligible_pence=500, currency="EUR")) == {"gift_aid"}


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
    assert rules.eligible_pence(quote.lines) == 3000 + 250 + 500


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
    clean = rules.normalised(declaration(first_name=" Amal ", postcode="sw1a1aa"))
    assert (clean.first_name, clean.postcode) == ("Amal", "SW1A 1AA")


def test_gift_aid_is_a_quarter_rounded_down() -> None:
    assert rules.gift_aid_pence(1000) == 250
    assert rules.gift_aid_pence(1003) == 250
    assert rules.gift_aid_pence(0) == 0


def test_designated_donations_go_wholly_to_their_partner_the_rest_by_share() -> None:
    # £30 pooled (contributions and general donations) split 70/30; £50 designated to partner 2.
    claim = rules.claimable_by_partner(3000, {2: 5000}, [(1, 7000), (2, 3000)])
    assert claim == {1: 525, 2: 225 + 1250}
    assert sum(claim.values()) == rules.gift_aid_pence(8000)


def test_no_declared_money_means_nothing_to_claim() -> None:
    assert rules.claimable_by_partner(0, {}, [(1, 5000), (2, 5000)]) == {1: 0, 2: 0}
    assert rules.claimable_by_partner(100, {}, []) == {}


shares_strategy = st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6).map(
    lambda weights: [(index + 1, weight) for index, weight in enumerate(weights)]
)


@given(
    pooled=st.integers(min_value=0, max_value=10_000_000),
    designated=st.lists(st.integers(min_value=0, max_value=10_000_000), max_size=6),
    shares=shares_strategy,
)
def test_the_partners_gift_aid_adds_up_to_a_quarter_of_the_whole_to_the_penny(
    pooled: int, designated: list[int], shares: list[tuple[int, int]]
) -> None:
    to_partner = {index + 1: pence for index, pence in enumerate(designated)}
    claim = rules.claimable_by_partner(pooled, to_partner, shares)
    partners = [partner for partner, _ in shares]
    eligible = pooled + sum(pence for partner, pence in to_partner.items() if partner in partners)
    assert list(claim) == partners
    assert sum(claim.values()) == rules.gift_aid_pence(eligible)
    assert all(pence >= 0 for pence in claim.values())
    for partner in partners:  # each partner gets its quarter, give or take the last penny
        weight = dict(shares)[partner]
        own = to_partner.get(partner, 0) + pooled * weight // sum(dict(shares).values())
        assert own // 4 - 1 <= claim[partner] <= (own + 1) // 4 + 1


@given(st.integers(min_value=0, max_value=10**9))
def test_amounts_are_pounds_with_two_decimals_without_floats(pence: int) -> None:
    text = rules.format_amount(pence)
    pounds, decimals = text.split(".")
    assert len(decimals) == 2 and int(pounds) * 100 + int(decimals) == pence


def test_a_schedule_row_has_hmrcs_columns_and_uk_date() -> None:
    donation = rules.ScheduledDonation("Ms", "Amal", "Haddad-Smith", "12", "SW1A 1AA", datetime(2027, 7, 31, 23, 30, tzinfo=timezone.utc), 3750)
    row = rules.schedule_row(donation, ZoneInfo("Europe/London"))
    assert len(row) == len(rules.SCHEDULE_HEADER) == 9
    # 23:30 UTC on 31 July is 00:30 on 1 August in London; a double-barrelled surname takes a space.
    assert row == ["Ms", "Amal", "Haddad Smith", "12", "SW1A 1AA", "", "", "01/08/27", "37.50"]
