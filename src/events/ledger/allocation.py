"""Allocating an event's money to its beneficiary partners, penny-exact. Pure.

The rules, in order:
1. A designated donation goes wholly to its partner (less its share of Stripe's fees and refunds).
2. Pay-it-forward money first covers the free guests' per-cover costs; what is left is unused
   until the organiser decides: give it to the beneficiaries, or carry it to another event.
3. Event costs (fixed, plus a per-attendee cost counting free guests) come off the pooled income
   (tickets, booking fees when they go to the cause, general donations, pay-it-forward money used).
   Corrections bring the fixed costs down to zero at most: costs are never negative.
4. What is left (the surplus) is split by the partners' shares.

Every line of a statement (each income kind, refunds, fees, costs) is split separately with the
largest-remainder method, so each partner's lines add up to its net, and the partners' lines add up
to the event's totals: no penny is lost or invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from events.money import split_pence

INCOME_KINDS = ("tickets", "booking_fees", "contributions", "donations")


@dataclass(frozen=True, slots=True)
class KindTotals:
    """Money of one kind: what came in, what went back, and the Stripe fees it bore."""

    gross_pence: int = 0
    refunds_pence: int = 0
    fees_pence: int = 0

    @property
    def net_pence(self) -> int:
        return self.gross_pence - self.refunds_pence - self.fees_pence


@dataclass(frozen=True, slots=True)
class EventMoney:
    tickets: KindTotals
    booking_fees: KindTotals
    contributions: KindTotals
    general_donations: KindTotals
    designated_donations: Mapping[int, KindTotals]  # partner id -> that partner's donations
    fixed_costs_pence: int
    per_attendee_cost_pence: int
    attendees: int  # everyone admitted or expected, free guests included
    free_guests: int
    booking_fees_to_cause: bool = True
    unused_contributions: str = "held"  # held, beneficiaries, carried_over


@dataclass(frozen=True, slots=True)
class PartnerAllocation:
    partner_id: int
    income_pence: dict[str, int]
    refunds_pence: int
    fees_pence: int
    costs_pence: int

    @property
    def net_pence(self) -> int:
        return sum(self.income_pence.values()) - self.refunds_pence - self.fees_pence - self.costs_pence


@dataclass(frozen=True, slots=True)
class Allocation:
    partners: tuple[PartnerAllocation, ...]
    costs_pence: int
    costs_covered_by_contributions_pence: int
    unused_contributions_pence: int  # held, or carried over, depending on the decision
    retained_booking_fees_pence: int
    deficit_pence: int  # costs the income did not cover (then the surplus is zero, not negative)
    notes: tuple[str, ...] = field(default=())

    @property
    def net_pence(self) -> int:
        return sum(p.net_pence for p in self.partners)


@dataclass(frozen=True, slots=True)
class Pool:
    """The event's money before it is split by shares: what is shared, the costs charged to it, and what is set
    aside (pay-it-forward money not yet used, booking fees kept). The same for any set of partners."""

    pooled: Mapping[str, KindTotals]  # the shared lines by income kind (booking fees only when they go to the cause)
    costs_pence: int
    costs_covered_by_contributions_pence: int
    unused_contributions_pence: int  # held, or carried over, depending on the decision
    retained_booking_fees_pence: int
    deficit_pence: int

    @property
    def costs_charged_pence(self) -> int:
        """The costs the income met (partners never owe money: the rest is the deficit)."""
        return self.costs_pence - self.deficit_pence

    @property
    def shared_net_pence(self) -> int:
        """What the partners share by their shares: the pooled lines' net less the costs charged."""
        return sum(kind.net_pence for kind in self.pooled.values()) - self.costs_charged_pence


def pool(money: EventMoney) -> Pool:
    """Rules 2 and 3: the pay-it-forward money released, the costs, and the lines shared by the partners."""
    # Corrections (negative costs) bring the costs down to zero, never below: costs never add to what the
    # partners are owed, whatever entries the ledger (or a period of it) holds.
    costs = max(0, money.fixed_costs_pence) + money.per_attendee_cost_pence * money.attendees
    free_guest_costs = money.per_attendee_cost_pence * money.free_guests
    contributions_net = max(0, money.contributions.net_pence)
    covered = min(contributions_net, free_guest_costs)
    unused = contributions_net - covered
    released = covered + (unused if money.unused_contributions == "beneficiaries" else 0)

    # The pooled lines, before costs: each is split by share later. Contributions count only as far
    # as they are released (used for free guests' costs, or given to the beneficiaries).
    pooled: dict[str, KindTotals] = {
        "tickets": money.tickets,
        "donations": money.general_donations,
        "contributions": _released_part(money.contributions, released),
    }
    retained_fees = 0
    if money.booking_fees_to_cause:
        pooled["booking_fees"] = money.booking_fees
    else:
        retained_fees = money.booking_fees.net_pence

    pool_net = sum(kind.net_pence for kind in pooled.values())
    deficit = max(0, costs - pool_net)
    return Pool(
        pooled=pooled,
        costs_pence=costs,
        costs_covered_by_contributions_pence=covered,
        unused_contributions_pence=unused if money.unused_contributions != "beneficiaries" else 0,
        retained_booking_fees_pence=retained_fees,
        deficit_pence=deficit,
    )


def allocate(money: EventMoney, shares: Sequence[tuple[int, int]]) -> Allocation:
    """Split the event's money across partners ``shares`` (partner id, basis points summing to 10000)."""
    if not shares:
        raise ValueError("an event needs at least one beneficiary share to allocate money")
    partner_ids = [partner for partner, _ in shares]
    weights = [share for _, share in shares]
    shared = pool(money)
    pooled = shared.pooled

    split_lines: dict[str, list[int]] = {}
    for kind in INCOME_KINDS:
        split_lines[kind] = split_pence(pooled[kind].gross_pence, weights) if kind in pooled else [0] * len(weights)
    refunds = split_pence(sum(k.refunds_pence for k in pooled.values()), weights)
    fees = split_pence(sum(k.fees_pence for k in pooled.values()), weights)
    costs_split = split_pence(shared.costs_charged_pence, weights)

    partners = []
    for index, partner_id in enumerate(partner_ids):
        designated = money.designated_donations.get(partner_id, KindTotals())
        income = {kind: split_lines[kind][index] for kind in INCOME_KINDS}
        income["donations"] += designated.gross_pence
        partners.append(
            PartnerAllocation(
                partner_id=partner_id,
                income_pence=income,
                refunds_pence=refunds[index] + designated.refunds_pence,
                fees_pence=fees[index] + designated.fees_pence,
                costs_pence=costs_split[index],
            )
        )
    unknown = sorted(set(money.designated_donations) - set(partner_ids))
    notes = tuple(f"Donation designated to partner {partner} who is not a beneficiary of this event" for partner in unknown)
    return Allocation(
        partners=tuple(partners),
        costs_pence=shared.costs_pence,
        costs_covered_by_contributions_pence=shared.costs_covered_by_contributions_pence,
        unused_contributions_pence=shared.unused_contributions_pence,
        retained_booking_fees_pence=shared.retained_booking_fees_pence,
        deficit_pence=shared.deficit_pence,
        notes=notes,
    )


def _released_part(contributions: KindTotals, released_net: int) -> KindTotals:
    """The part of the contributions released to the pool, keeping gross, refunds and fees in proportion.

    Released net is at most the contributions' net; the gross, refund and fee lines are scaled by the
    same fraction (largest remainder on the held part), so released + held lines equal the whole."""
    net = contributions.net_pence
    if net <= 0 or released_net <= 0:
        return KindTotals()
    if released_net >= net:
        return contributions
    gross, refunds, fees = (
        split_pence(value, [released_net, net - released_net])[0]
        for value in (contributions.gross_pence, contributions.refunds_pence, contributions.fees_pence)
    )
    # Settle rounding so the released part's net is exactly what was released.
    return KindTotals(gross_pence=gross + (released_net - (gross - refunds - fees)), refunds_pence=refunds, fees_pence=fees)
