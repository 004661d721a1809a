"""Claiming Gift Aid: the 25% split across partners that never loses a penny, and HMRC's schedule rows."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from events.giftaid import rules


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
