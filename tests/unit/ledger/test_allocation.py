"""The split across partners never loses or invents a penny, whatever the mix of money."""

from hypothesis import given, settings
from hypothesis import strategies as st

from events.ledger.allocation import INCOME_KINDS, EventMoney, KindTotals, allocate


def kind(gross: int, refunds: int = 0, fees: int = 0) -> KindTotals:
    return KindTotals(gross_pence=gross, refunds_pence=refunds, fees_pence=fees)


def test_the_supper_club_by_hand() -> None:
    """40 places, 20 free; 20 × £30 sold; £12 a cover; £100 venue; £90 paid forward; 70/30 split."""
    money = EventMoney(
        tickets=kind(60_000, fees=1_200),
        booking_fees=kind(0),
        contributions=kind(9_000, fees=180),
        general_donations=kind(0),
        designated_donations={2: kind(5_000, fees=100)},
        fixed_costs_pence=10_000,
        per_attendee_cost_pence=1_200,
        attendees=40,
        free_guests=20,
    )
    result = allocate(money, [(1, 7000), (2, 3000)])
    # Costs: £100 + 40 × £12 = £580. Free guests' covers (£240) come first from the £88.20 net paid forward.
    assert result.costs_pence == 58_000
    assert result.costs_covered_by_contributions_pence == 8_820
    assert result.unused_contributions_pence == 0
    # Pool: tickets £600 − £12 fee + contributions £88.20 = £676.20; less £580 costs = £96.20 surplus.
    first, second = result.partners
    assert first.net_pence == 6_734 and second.net_pence == 2_886 + 4_900  # 70/30 of £96.20, plus the designated £49
    assert result.net_pence == 9_620 + 4_900


def test_unused_pay_it_forward_money_waits_for_the_organisers_choice() -> None:
    base = {
        "tickets": kind(10_000),
        "booking_fees": kind(0),
        "contributions": kind(6_000),
        "general_donations": kind(0),
        "designated_donations": {},
        "fixed_costs_pence": 0,
        "per_attendee_cost_pence": 1_000,
        "attendees": 12,
        "free_guests": 2,
    }
    held = allocate(EventMoney(**base), [(1, 10_000)])
    assert held.costs_covered_by_contributions_pence == 2_000 and held.unused_contributions_pence == 4_000
    assert held.net_pence == 10_000 + 2_000 - 12_000
    given_away = allocate(EventMoney(**base, unused_contributions="beneficiaries"), [(1, 10_000)])
    assert given_away.unused_contributions_pence == 0 and given_away.net_pence == 4_000


def test_costs_beyond_income_are_a_deficit_not_a_debt_of_the_partners() -> None:
    money = EventMoney(
        tickets=kind(1_000),
        booking_fees=kind(0),
        contributions=kind(0),
        general_donations=kind(0),
        designated_donations={},
        fixed_costs_pence=5_000,
        per_attendee_cost_pence=0,
        attendees=0,
        free_guests=0,
    )
    result = allocate(money, [(1, 5000), (2, 5000)])
    assert result.deficit_pence == 4_000 and all(p.net_pence == 0 for p in result.partners)


def test_costs_corrected_below_zero_count_as_none_and_never_add_to_what_partners_are_owed() -> None:
    base = {
        "tickets": kind(6_000),
        "booking_fees": kind(0),
        "contributions": kind(0),
        "general_donations": kind(0),
        "designated_donations": {},
        "per_attendee_cost_pence": 100,
        "attendees": 4,
        "free_guests": 0,
    }
    corrected_too_far = allocate(EventMoney(**base, fixed_costs_pence=-2_000), [(1, 7000), (2, 3000)])  # type: ignore[arg-type]
    assert corrected_too_far.costs_pence == 400  # the per-cover costs only: the fixed ones stop at zero
    assert corrected_too_far.net_pence == 6_000 - 400
    assert [p.net_pence for p in corrected_too_far.partners] == [3_920, 1_680]
    assert corrected_too_far == allocate(EventMoney(**base, fixed_costs_pence=0), [(1, 7000), (2, 3000)])  # type: ignore[arg-type]


def test_booking_fees_can_be_kept_back_by_rule() -> None:
    money = EventMoney(
        tickets=kind(6_000),
        booking_fees=kind(500),
        contributions=kind(0),
        general_donations=kind(0),
        designated_donations={},
        fixed_costs_pence=0,
        per_attendee_cost_pence=0,
        attendees=10,
        free_guests=0,
        booking_fees_to_cause=False,
    )
    result = allocate(money, [(1, 10_000)])
    assert result.retained_booking_fees_pence == 500 and result.net_pence == 6_000


amounts = st.integers(min_value=0, max_value=5_000_000)


@st.composite
def kinds(draw: st.DrawFn) -> KindTotals:
    gross = draw(amounts)
    refunds = draw(st.integers(min_value=0, max_value=gross))
    fees = draw(st.integers(min_value=0, max_value=(gross - refunds) // 10))
    return KindTotals(gross, refunds, fees)


@st.composite
def shares(draw: st.DrawFn) -> list[tuple[int, int]]:
    count = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=9_999), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 10_000]
    return [(index + 1, bounds[index + 1] - bounds[index]) for index in range(count)]


@settings(max_examples=2000, deadline=None)
@given(
    tickets=kinds(),
    booking=kinds(),
    contributions=kinds(),
    donations=kinds(),
    designated=kinds(),
    shares=shares(),
    fixed=st.integers(min_value=-5_000_000, max_value=5_000_000),
    per_cover=st.integers(min_value=0, max_value=5_000),
    attendees=st.integers(min_value=0, max_value=500),
    free_share=st.floats(min_value=0, max_value=1),
    to_cause=st.booleans(),
    unused=st.sampled_from(["held", "beneficiaries", "carried_over"]),
)
def test_no_penny_is_lost_or_invented(
    tickets: KindTotals,
    booking: KindTotals,
    contributions: KindTotals,
    donations: KindTotals,
    designated: KindTotals,
    shares: list[tuple[int, int]],
    fixed: int,
    per_cover: int,
    attendees: int,
    free_share: float,
    to_cause: bool,
    unused: str,
) -> None:
    money = EventMoney(
        tickets=tickets,
        booking_fees=booking,
        contributions=contributions,
        general_donations=donations,
        designated_donations={shares[0][0]: designated},
        fixed_costs_pence=fixed,
        per_attendee_cost_pence=per_cover,
        attendees=attendees,
        free_guests=int(attendees * free_share),
        booking_fees_to_cause=to_cause,
        unused_contributions=unused,
    )
    result = allocate(money, shares)
    # Every pound is somewhere: with a partner, retained as booking fees, held/carried as unused
    # contributions, spent on costs, or uncovered (the deficit is costs no income paid for).
    whole = tickets.net_pence + booking.net_pence + contributions.net_pence + donations.net_pence + designated.net_pence
    accounted = result.net_pence + result.retained_booking_fees_pence + result.unused_contributions_pence + result.costs_pence - result.deficit_pence
    assert accounted == whole
    # Each line, summed over partners, is the event's line; each partner's lines sum to its net.
    for kind_name in INCOME_KINDS:
        assert sum(p.income_pence[kind_name] for p in result.partners) >= 0
    assert sum(p.costs_pence for p in result.partners) == result.costs_pence - result.deficit_pence
    for partner in result.partners:
        assert partner.net_pence == sum(partner.income_pence.values()) - partner.refunds_pence - partner.fees_pence - partner.costs_pence
        assert partner.costs_pence >= 0 and partner.fees_pence >= 0
    assert result.deficit_pence >= 0 and result.unused_contributions_pence >= 0
    assert result.costs_pence >= 0  # corrections below zero (fixed < 0) never turn costs into income
