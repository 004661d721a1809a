"""What the ledger answers (msgspec): reconciliations, partner statements and the differences with Stripe, costs,
payouts and the results of the organiser's ledger actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import msgspec
from msgspec import Struct


class Figures(Protocol):
    """A statement's figures, in the order they add up (a partner's line, an event in a partner's statement, or
    the totals). ``income_pence`` maps each of allocation.INCOME_KINDS to pence."""

    @property
    def income_pence(self) -> dict[str, int]: ...
    @property
    def refunds_pence(self) -> int: ...
    @property
    def fees_pence(self) -> int: ...
    @property
    def costs_pence(self) -> int: ...
    @property
    def net_pence(self) -> int: ...
    @property
    def paid_out_pence(self) -> int: ...
    @property
    def balance_pence(self) -> int: ...
    @property
    def gift_aid_claimable_pence(self) -> int: ...


# --- differences with Stripe: one shape per kind, told apart by "kind" ------------------------------------


class _Difference(Struct, frozen=True, tag_field="kind"):
    @property
    def kind(self) -> str:
        """The tag msgspec writes as "kind" (templates read it here)."""
        return str(self.__struct_config__.tag)


class NotChecked(_Difference, frozen=True, tag="not_checked"):
    """Card payments and refunds recorded after the last import of Stripe's balance."""

    payments: int


class MissingFromStripe(_Difference, frozen=True, tag="missing_from_stripe"):
    payment: str
    amount_pence: int | None


class AmountMismatch(_Difference, frozen=True, tag="amount_mismatch"):
    payment: str
    ledger_pence: int | None
    stripe_pence: int | None


class FeeMismatch(_Difference, frozen=True, tag="fee_mismatch"):
    payment: str
    ledger_pence: int | None
    stripe_pence: int | None


class ChargeWithoutOrder(_Difference, frozen=True, tag="charge_without_order"):
    charge: str
    amount_pence: int | None


class RefundMissingFromStripe(_Difference, frozen=True, tag="refund_missing_from_stripe"):
    refund: str
    amount_pence: int | None


class RefundAmountMismatch(_Difference, frozen=True, tag="refund_amount_mismatch"):
    refund: str
    ledger_pence: int | None
    stripe_pence: int | None


class RefundWithoutRecord(_Difference, frozen=True, tag="refund_without_record"):
    refund: str
    amount_pence: int | None


Difference = (
    NotChecked
    | MissingFromStripe
    | AmountMismatch
    | FeeMismatch
    | ChargeWithoutOrder
    | RefundMissingFromStripe
    | RefundAmountMismatch
    | RefundWithoutRecord
)


# --- statements -------------------------------------------------------------------------------------------


class Totals(Struct, frozen=True):
    """The figures of every line of a statement added up."""

    income_pence: dict[str, int]
    refunds_pence: int
    fees_pence: int
    costs_pence: int
    net_pence: int
    paid_out_pence: int
    balance_pence: int
    gift_aid_claimable_pence: int


class PartnerLine(Struct, frozen=True):
    """One partner's figures in an event's reconciliation."""

    partner: str  # the partner's slug
    income_pence: dict[str, int]
    refunds_pence: int
    fees_pence: int
    costs_pence: int
    net_pence: int
    paid_out_pence: int
    balance_pence: int
    gift_aid_claimable_pence: int  # still to be claimed from HMRC, so not part of the net or the balance


class NamedPartnerLine(PartnerLine, frozen=True):
    """A partner's line with the partner's name, for the statement page."""

    name: str


class EventFigures(Struct, frozen=True):
    """The event's money in the words the dashboard and every statement use (ledger.figures.event_figures), in the
    order they add up: gross income, less refunds, Stripe fees, money set aside and the costs charged, is the net due
    to the partners; less what was paid out, the balance owed. Each word is explained in ledger.words."""

    ticket_income_pence: int
    booking_fees_pence: int
    pay_it_forward_pence: int  # received (and carried in from another event's fund, less any carried out)
    donations_pence: int
    gross_income_pence: int  # the four above
    refunds_pence: int
    stripe_fees_pence: int
    pay_it_forward_used_pence: int  # spent on free guests' places (part of the event costs)
    pay_it_forward_given_pence: int  # what was left, given to the partners at close
    pay_it_forward_not_yet_used_pence: int  # still in the event's fund: in gross income, in no partner's figures
    booking_fees_kept_pence: int
    event_costs_pence: int
    costs_not_covered_pence: int
    donations_for_others_pence: int  # designated to partner projects that are not beneficiaries of the event
    net_due_pence: int
    paid_out_pence: int
    balance_pence: int
    gift_aid_claimable_pence: int


class EventReconciliation(Struct, frozen=True):
    """What each partner of an event is owed and why, checked against Stripe."""

    event: str
    currency: str
    partners: Sequence[PartnerLine]
    totals: Totals
    costs_pence: int
    costs_covered_by_contributions_pence: int
    unused_contributions_pence: int
    retained_booking_fees_pence: int
    deficit_pence: int
    reconciled: bool
    # How many of its payments were by card through Stripe (none: nothing to reconcile, whatever ``reconciled`` says).
    card_payments: int
    differences: list[Difference]
    stripe_imported_to: datetime | None
    notes: list[str]
    figures: EventFigures  # the event's own figures, the same as on its dashboard


class DoorTakings(Struct, frozen=True):
    """What was taken at the door by one way of paying (cash, card terminal), for counting the tin or the terminal's
    report at the end of the night: sales, money given back (refunds, sales undone at the door among them), and what
    should be there."""

    method: str  # cash, card_terminal
    sales: int
    sold_pence: int
    given_back: int
    given_back_pence: int
    undone: int  # sales undone at the door by the door team (door_sales), counted in given_back too
    undone_pence: int

    @property
    def net_pence(self) -> int:
        return self.sold_pence - self.given_back_pence


class EventStatement(EventReconciliation, frozen=True):
    """The organiser's statement page: the reconciliation with partner names, and ticket income per day."""

    partners: Sequence[NamedPartnerLine]
    title: str
    starts_at: datetime
    sales_by_day: list[tuple[date, int]]
    # What access and discount codes took off the tickets of orders that were paid (refunded since or not): ticket
    # income is already after it, so it is shown beside that income, never taken off again.
    discounts_pence: int = 0
    door_takings: Sequence[DoorTakings] = ()  # by way of paying at the door, those used only


class StatementEvent(Struct, frozen=True):
    """One event in a partner's statement: the event, and the partner's figures for it in the period."""

    event: str
    title: str
    starts_at: datetime
    currency: str
    reconciled: bool
    card_payments: int  # by card through Stripe (none: nothing to reconcile)
    differences: list[Difference]
    partner: str
    income_pence: dict[str, int]
    refunds_pence: int
    fees_pence: int
    costs_pence: int
    net_pence: int
    paid_out_pence: int
    balance_pence: int
    gift_aid_claimable_pence: int


class IssuerOut(Struct, frozen=True):
    """The organisation a statement comes from: the charity whose books it is drawn from, and how to reach them."""

    organisation: str  # its slug
    name: str
    charity_name: str
    charity_number: str
    contact_email: str

    @property
    def charity_line(self) -> str:
        """ "Refugee Kitchen CIO, registered charity 1234567", or the name alone (statements are in English)."""
        name = self.charity_name or self.name
        return f"{name}, registered charity {self.charity_number}" if self.charity_number else name


class PartnerStatement(Struct, frozen=True):
    """A partner's share of every event it benefits from, for ledger entries in [from, to)."""

    partner: str
    name: str
    from_: datetime = msgspec.field(name="from")
    to: datetime
    events: list[StatementEvent]
    totals: Totals
    currency: str
    reconciled: bool
    card_payments: int  # its events', by card through Stripe (none: nothing to reconcile)
    # The organisation that added the partner project (and runs its events): its charity details head the statement.
    issued_by: IssuerOut | None = None


# --- the organiser's ledger actions -----------------------------------------------------------------------


class PayoutOut(Struct, frozen=True):
    """A payout as recorded."""

    id: int
    partner: int
    event: int | None
    amount_pence: int
    currency: str
    paid_on: datetime
    bank_reference: str
    override_reason: str
    recorded_by: str
    created_at: datetime
    reverses: int | None = None  # a reversal: the payout it undoes
    reversed_by: int | None = None  # a payout since reversed: the reversal

    @classmethod
    def of(cls, row: Mapping[str, Any], *, reversed_by: int | None = None) -> PayoutOut:
        """From a row of ``Payout.select()`` (or a saved Payout's ``to_dict()``)."""
        return cls(
            id=row["id"],
            partner=row["partner"],
            event=row["event"],
            amount_pence=row["amount_pence"],
            currency=row["currency"],
            paid_on=row["paid_on"],
            bank_reference=row["bank_reference"],
            override_reason=row["override_reason"],
            recorded_by=row["recorded_by"],
            created_at=row["created_at"],
            reverses=row.get("reverses"),
            reversed_by=reversed_by,
        )


class UnusedDecision(Struct, frozen=True):
    decision: str
    unused_pence: int
    target_event: str | None


class Rebooked(Struct, frozen=True):
    event: str
    entries_booked: int


class StripeImported(Struct, frozen=True):
    """An import of Stripe's balance transactions: the period, what Stripe listed and what was new, and the
    events checked again."""

    from_: datetime = msgspec.field(name="from")
    to: datetime
    transactions: int
    new_transactions: int
    events_checked: int
    differences: int
