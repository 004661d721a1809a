"""An order's receipt: each thing paid for, the total, how it was paid, the Gift Aid declared and the charity paid.

One plain structure built from the order's lines, which the confirmation email (both parts), the confirmation page
and the order page all print, so they cannot disagree. Pure: money in integer pence, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ReceiptLineKind(StrEnum):
    tickets = "tickets"  # tickets of one type: name, quantity, unit price
    booking_fee = "booking_fee"  # the booking fee on the tickets: quantity of tickets, fee per ticket
    pay_it_forward_places = "pay_it_forward_places"  # places funded for guests who cannot pay: quantity, value of a place
    pay_it_forward = "pay_it_forward"  # an amount towards pay-it-forward places
    donation = "donation"  # a donation; name: the partner project it is for ("" when shared between them)


class PaidWith(StrEnum):
    card = "card"  # online, through Stripe
    test = "test"  # development's test payment: no money moved
    cash = "cash"  # at the door
    card_terminal = "card_terminal"  # at the door, on a card reader
    free_place = "free_place"  # nothing to pay: a free place, or free tickets


# Order.payment_provider as stored -> how the guest paid. "none" (and an empty provider) is an order with nothing to pay.
_PAID_WITH = {"stripe": PaidWith.card, "test": PaidWith.test, "cash": PaidWith.cash, "card_terminal": PaidWith.card_terminal}


@dataclass(frozen=True, slots=True)
class OrderLineFacts:
    """An order line as stored (OrderLine), with its partner project's name for a designated donation."""

    kind: str  # ticket, pay_it_forward, donation
    description: str  # a ticket line's ticket type name
    quantity: int
    unit_price_pence: int
    booking_fee_pence: int = 0  # per unit
    partner_name: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    kind: ReceiptLineKind
    name: str  # the ticket type's or the partner project's name, as its organiser wrote it; "" for the others
    quantity: int
    unit_pence: int
    amount_pence: int


@dataclass(frozen=True, slots=True)
class GiftAidNote:
    """That the donor declared Gift Aid, in their name, on this much of the order (its contributions and donations)."""

    donor: str
    eligible_pence: int


@dataclass(frozen=True, slots=True)
class Charity:
    """Whom the guest paid: the charity's registered name and number (no number: not a registered charity)."""

    name: str
    number: str = ""


@dataclass(frozen=True, slots=True)
class Receipt:
    reference: str
    currency: str
    lines: tuple[ReceiptLine, ...]
    refunded_pence: int
    paid_with: PaidWith | None  # None while the order is not paid
    gift_aid: GiftAidNote | None
    charity: Charity

    @property
    def total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def contribution_only(self) -> bool:
        """An order of pay-it-forward places or a donation alone: no ticket, so no place at the event. Its confirmation
        is this receipt and a thank-you, never "you're going"."""
        return bool(self.lines) and not any(line.kind == ReceiptLineKind.tickets for line in self.lines)


def paid_with(payment_provider: str, *, paid: bool) -> PaidWith | None:
    """How an order was paid, from its payment provider; None until it is paid."""
    if not paid:
        return None
    return _PAID_WITH.get(payment_provider, PaidWith.free_place)


def receipt_lines(lines: Iterable[OrderLineFacts], *, place_pence: int) -> tuple[ReceiptLine, ...]:
    """The receipt's lines, in the order a guest reads them: tickets by type, the booking fee, pay it forward, the
    donation. ``place_pence`` is the event's value of a pay-it-forward place: a pay-it-forward line of one unit at that
    value is a funded place, any other single unit an amount (pricing writes places as many units at that value).

    Every penny of the lines is on the receipt, once: the receipt's lines add up to the lines' total."""
    lines = list(lines)
    tickets = [line for line in lines if line.kind == "ticket"]
    receipt = [ReceiptLine(ReceiptLineKind.tickets, line.description, line.quantity, line.unit_price_pence, _price(line)) for line in tickets]
    receipt += _booking_fees(lines)
    for line in lines:
        if line.kind == "pay_it_forward":
            places = line.quantity > 1 or (place_pence > 0 and line.unit_price_pence == place_pence)
            kind = ReceiptLineKind.pay_it_forward_places if places else ReceiptLineKind.pay_it_forward
            receipt.append(ReceiptLine(kind, "", line.quantity, line.unit_price_pence, _price(line)))
    for line in lines:
        if line.kind == "donation":
            receipt.append(ReceiptLine(ReceiptLineKind.donation, line.partner_name, line.quantity, line.unit_price_pence, _price(line)))
    return tuple(receipt)


def build_receipt(
    lines: Sequence[OrderLineFacts],
    *,
    reference: str,
    currency: str,
    refunded_pence: int,
    payment_provider: str,
    paid: bool,
    place_pence: int,
    gift_aid: GiftAidNote | None,
    charity: Charity,
) -> Receipt:
    return Receipt(
        reference=reference,
        currency=currency,
        lines=receipt_lines(lines, place_pence=place_pence),
        refunded_pence=refunded_pence,
        paid_with=paid_with(payment_provider, paid=paid),
        gift_aid=gift_aid,
        charity=charity,
    )


def donor_name(title: str, first_name: str, last_name: str) -> str:
    """'Mrs Amal Haddad', as the donor gave it for Gift Aid."""
    return " ".join(part.strip() for part in (title, first_name, last_name) if part.strip())


def _price(line: OrderLineFacts) -> int:
    return line.quantity * line.unit_price_pence


def _booking_fees(lines: Sequence[OrderLineFacts]) -> list[ReceiptLine]:
    """One line per fee per ticket (an event has one booking fee, so normally one line), counting the tickets it is on."""
    tickets_by_fee: dict[int, int] = {}
    for line in lines:
        if line.booking_fee_pence:
            tickets_by_fee[line.booking_fee_pence] = tickets_by_fee.get(line.booking_fee_pence, 0) + line.quantity
    return [ReceiptLine(ReceiptLineKind.booking_fee, "", count, fee, count * fee) for fee, count in tickets_by_fee.items()]
