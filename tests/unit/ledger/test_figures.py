"""The event's figures: one meaning per word. Gross income counts pay-it-forward money from the moment it is paid, the
money set aside and the costs come off it line by line, and what is left is exactly what the partners' lines add up
to, for any money."""

from hypothesis import given, settings
from hypothesis import strategies as st

from events.ledger.allocation import EventMoney, KindTotals, allocate
from events.ledger.figures import adds_up, event_figures
from events.ledger.words import EVENT, FUND, PARTNER
from tests.unit.ledger.test_allocation import kinds, shares


def test_pay_it_forward_money_is_in_gross_income_and_set_aside_until_it_is_used() -> None:
    """The issue's example: £125 of tickets and £30 paid forward is £155 gross income, wherever it is shown; the £30
    is not yet used, so the partners share £125."""
    money = EventMoney(
        tickets=KindTotals(12_500),
        booking_fees=KindTotals(),
        contributions=KindTotals(3_000),
        general_donations=KindTotals(),
        designated_donations={},
        fixed_costs_pence=0,
        per_attendee_cost_pence=0,
        attendees=5,
        free_guests=0,
    )
    figures = event_figures(money, [1, 2], paid_out_pence=0, gift_aid_claimable_pence=0)
    assert figures.gross_income_pence == 15_500 and figures.pay_it_forward_pence == 3_000
    assert figures.pay_it_forward_not_yet_used_pence == 3_000 and figures.pay_it_forward_used_pence == 0
    assert figures.net_due_pence == 12_500 == allocate(money, [(1, 7000), (2, 3000)]).net_pence
    assert adds_up(figures)


def test_free_places_use_the_fund_first_and_the_rest_is_given_when_decided() -> None:
    base = {
        "tickets": KindTotals(10_000),
        "booking_fees": KindTotals(200),
        "contributions": KindTotals(6_000, fees_pence=100),
        "general_donations": KindTotals(),
        "designated_donations": {9: KindTotals(1_000)},  # for a project that is not a beneficiary
        "fixed_costs_pence": 0,
        "per_attendee_cost_pence": 1_000,
        "attendees": 12,
        "free_guests": 2,
        "booking_fees_to_cause": False,
    }
    held = event_figures(EventMoney(**base), [1], paid_out_pence=500, gift_aid_claimable_pence=0)
    assert (held.pay_it_forward_used_pence, held.pay_it_forward_given_pence, held.pay_it_forward_not_yet_used_pence) == (2_000, 0, 3_900)
    assert held.booking_fees_kept_pence == 200 and held.donations_for_others_pence == 1_000
    assert held.net_due_pence == allocate(EventMoney(**base), [(1, 10_000)]).net_pence and held.balance_pence == held.net_due_pence - 500
    given_away = event_figures(EventMoney(**base, unused_contributions="beneficiaries"), [1], paid_out_pence=0, gift_aid_claimable_pence=0)
    assert (given_away.pay_it_forward_given_pence, given_away.pay_it_forward_not_yet_used_pence) == (3_900, 0)
    assert given_away.net_due_pence == held.net_due_pence + 3_900
    assert adds_up(held) and adds_up(given_away)


def test_costs_the_income_does_not_cover_are_shown_and_never_owed_by_the_partners() -> None:
    money = EventMoney(
        tickets=KindTotals(1_000),
        booking_fees=KindTotals(),
        contributions=KindTotals(),
        general_donations=KindTotals(),
        designated_donations={},
        fixed_costs_pence=5_000,
        per_attendee_cost_pence=0,
        attendees=1,
        free_guests=0,
    )
    figures = event_figures(money, [], paid_out_pence=0, gift_aid_claimable_pence=0)  # no partners chosen yet
    assert (figures.event_costs_pence, figures.costs_not_covered_pence, figures.net_due_pence) == (5_000, 4_000, 0)
    assert adds_up(figures)


def test_every_figure_has_a_word_and_a_note() -> None:
    from events.ledger.schemas import EventFigures

    fields = {name.removesuffix("_pence") for name in EventFigures.__struct_fields__}
    assert {word.key for word in (*EVENT, *FUND)} == fields
    assert all(word.label and word.note.endswith(".") for word in (*EVENT, *FUND, *PARTNER))
    event_labels = [word.label for word in (*EVENT, *FUND)]
    assert len(set(event_labels)) == len(event_labels)  # one word, one figure
    assert {"Ticket income", "Gross income", "Net due to partners"} <= set(event_labels)
    assert not {"Gross income", "Pay-it-forward money"} & {word.label for word in PARTNER}  # a partner's share has its own words


@settings(max_examples=1000, deadline=None)
@given(
    tickets=kinds(),
    booking=kinds(),
    contributions=kinds(),
    donations=kinds(),
    designated=kinds(),
    stray=kinds(),
    shares=shares(),
    fixed=st.integers(min_value=-5_000_000, max_value=5_000_000),
    per_cover=st.integers(min_value=0, max_value=5_000),
    attendees=st.integers(min_value=0, max_value=500),
    free_share=st.floats(min_value=0, max_value=1),
    to_cause=st.booleans(),
    unused=st.sampled_from(["held", "beneficiaries", "carried_over"]),
    paid_out=st.integers(min_value=0, max_value=1_000_000),
)
def test_the_figures_add_up_to_what_the_partners_lines_add_up_to(
    tickets: KindTotals,
    booking: KindTotals,
    contributions: KindTotals,
    donations: KindTotals,
    designated: KindTotals,
    stray: KindTotals,
    shares: list[tuple[int, int]],
    fixed: int,
    per_cover: int,
    attendees: int,
    free_share: float,
    to_cause: bool,
    unused: str,
    paid_out: int,
) -> None:
    money = EventMoney(
        tickets=tickets,
        booking_fees=booking,
        contributions=contributions,
        general_donations=donations,
        designated_donations={shares[0][0]: designated, 99: stray},  # 99: not a beneficiary
        fixed_costs_pence=fixed,
        per_attendee_cost_pence=per_cover,
        attendees=attendees,
        free_guests=int(attendees * free_share),
        booking_fees_to_cause=to_cause,
        unused_contributions=unused,
    )
    figures = event_figures(money, [partner for partner, _ in shares], paid_out_pence=paid_out, gift_aid_claimable_pence=0)
    allocation = allocate(money, shares)
    assert figures.net_due_pence == allocation.net_pence
    assert adds_up(figures)
    assert figures.gross_income_pence == (
        figures.ticket_income_pence + figures.booking_fees_pence + figures.pay_it_forward_pence + figures.donations_pence
    )
    released = sum(p.income_pence["contributions"] for p in allocation.partners)
    assert released <= figures.pay_it_forward_pence  # the partners' pay-it-forward money is what was used or given
    assert (
        figures.pay_it_forward_used_pence + figures.pay_it_forward_given_pence + figures.pay_it_forward_not_yet_used_pence == contributions.net_pence
    )
