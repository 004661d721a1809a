"""The event's money as the figures the dashboard and every statement show, worked out once. Pure.

The figures follow the allocation (ledger.allocation): gross income is everything guests paid, pay-it-forward money
included from the moment it is paid; what is not shared with the partner projects (pay-it-forward money not yet used,
booking fees kept, donations for projects that are not beneficiaries) and the costs the income met come off it, and
what is left is exactly what the partners' lines add up to (a property test holds this for any money).
"""

from __future__ import annotations

from collections.abc import Collection

from events.ledger.allocation import EventMoney, KindTotals, pool
from events.ledger.schemas import EventFigures


def event_figures(money: EventMoney, partner_ids: Collection[int], *, paid_out_pence: int, gift_aid_claimable_pence: int) -> EventFigures:
    """The event's figures, for its beneficiary partners ``partner_ids`` (none yet: the net due is what they will share)."""
    shared = pool(money)
    designated = money.designated_donations
    for_partners = sum(kind.net_pence for partner, kind in designated.items() if partner in partner_ids)
    for_others = sum(kind.net_pence for partner, kind in designated.items() if partner not in partner_ids)
    kinds: list[KindTotals] = [money.tickets, money.booking_fees, money.contributions, money.general_donations, *designated.values()]
    donations = money.general_donations.gross_pence + sum(kind.gross_pence for kind in designated.values())
    released = shared.pooled["contributions"].net_pence
    net_due = shared.shared_net_pence + for_partners
    return EventFigures(
        ticket_income_pence=money.tickets.gross_pence,
        booking_fees_pence=money.booking_fees.gross_pence,
        pay_it_forward_pence=money.contributions.gross_pence,
        donations_pence=donations,
        gross_income_pence=money.tickets.gross_pence + money.booking_fees.gross_pence + money.contributions.gross_pence + donations,
        refunds_pence=sum(kind.refunds_pence for kind in kinds),
        stripe_fees_pence=sum(kind.fees_pence for kind in kinds),
        pay_it_forward_used_pence=shared.costs_covered_by_contributions_pence,
        pay_it_forward_given_pence=released - shared.costs_covered_by_contributions_pence,
        pay_it_forward_not_yet_used_pence=shared.unused_contributions_pence,
        booking_fees_kept_pence=shared.retained_booking_fees_pence,
        event_costs_pence=shared.costs_pence,
        costs_not_covered_pence=shared.deficit_pence,
        donations_for_others_pence=for_others,
        net_due_pence=net_due,
        paid_out_pence=paid_out_pence,
        balance_pence=net_due - paid_out_pence,
        gift_aid_claimable_pence=gift_aid_claimable_pence,
    )


def adds_up(figures: EventFigures) -> bool:
    """Whether the figures add up as the pages show them, line by line, to the net due and the balance."""
    return (
        figures.gross_income_pence
        - figures.refunds_pence
        - figures.stripe_fees_pence
        - figures.pay_it_forward_not_yet_used_pence
        - figures.booking_fees_kept_pence
        - figures.donations_for_others_pence
        - figures.event_costs_pence
        + figures.costs_not_covered_pence
        == figures.net_due_pence
        and figures.net_due_pence - figures.paid_out_pence == figures.balance_pence
    )
