"""The money words: each figure's name and a short note on how it is worked out, written once for the dashboard, the
statement pages, the PDF and the spreadsheets, so a word means one thing wherever it is shown. Pure.

An event's figures (EVENT) are the event's whole money; a partner project's (PARTNER) are its share of the money that
goes to the partner projects, so the two use different words where their numbers differ ("Ticket income" for the
event, "Tickets" for a partner's share of it)."""

from __future__ import annotations

from dataclasses import dataclass

from events.i18n import N_


@dataclass(frozen=True, slots=True)
class MoneyWord:
    key: str  # the figure's field, less _pence (EventFigures; or Figures for a partner)
    label: str
    note: str


EVENT = (
    MoneyWord(
        "ticket_income",
        N_("Ticket income"),
        N_(
            "What guests paid for tickets, online and at the door, after any discount. A ticket price a guest gave as a donation instead of a refund moves to Donations."
        ),
    ),
    MoneyWord(
        "booking_fees",
        N_("Booking fees"),
        N_("The booking fees guests paid on top of ticket prices. They go to the partner projects, unless the event keeps them for its costs."),
    ),
    MoneyWord(
        "pay_it_forward",
        N_("Pay-it-forward money"),
        N_(
            "What guests paid to fund free places for others (and money carried in from another event's fund, less any carried out). "
            "It is counted here as soon as it is paid, and sits in the event's pay-it-forward fund until it is used: first for the free "
            "guests' share of the costs; what is left waits until the event closes, when you give it to the partner projects or carry "
            "it to a future event."
        ),
    ),
    MoneyWord(
        "donations",
        N_("Donations"),
        N_("Donations added to orders, shared or for one partner project, and ticket prices guests donated instead of taking a refund."),
    ),
    MoneyWord(
        "gross_income",
        N_("Gross income"),
        N_("Everything guests paid for this event: ticket income, booking fees, pay-it-forward money and donations, before refunds, fees and costs."),
    ),
    MoneyWord("refunds", N_("Refunds"), N_("Money given back to guests, of every kind.")),
    MoneyWord(
        "stripe_fees",
        N_("Stripe fees"),
        N_("What Stripe kept from card payments. Stripe keeps its fee when a payment is refunded, so it stays a cost."),
    ),
    MoneyWord(
        "pay_it_forward_not_yet_used",
        N_("Pay-it-forward money not yet used"),
        N_(
            "Pay-it-forward money (less its refunds and fees) not spent on free guests' places yet. It stays in the event's fund, "
            "in no partner's figures, until you decide at close where it goes."
        ),
    ),
    MoneyWord(
        "booking_fees_kept",
        N_("Booking fees kept"),
        N_("Booking fees the event keeps for its costs rather than giving them to the partner projects (a setting of the event)."),
    ),
    MoneyWord(
        "donations_for_others",
        N_("Donations for projects not on this event"),
        N_("Donations made for a partner project that is not one of this event's beneficiaries: they are not shared."),
    ),
    MoneyWord(
        "event_costs",
        N_("Event costs"),
        N_(
            "The costs you recorded (hall, ingredients…) plus the cost per guest for everyone expected, free guests too. "
            "The free guests' part is paid from pay-it-forward money first."
        ),
    ),
    MoneyWord(
        "costs_not_covered",
        N_("Costs not covered"),
        N_("Costs the income did not cover. They are not charged to the partner projects: what they are due never goes below zero."),
    ),
    MoneyWord(
        "net_due",
        N_("Net due to partners"),
        N_(
            "Gross income less refunds, Stripe fees, the money set aside above and the costs: what the partner projects share, "
            "each by its share (a donation made for one project goes to it in full)."
        ),
    ),
    MoneyWord("paid_out", N_("Paid out"), N_("Payouts recorded to the partner projects for this event, less any reversed.")),
    MoneyWord("balance", N_("Balance owed"), N_("Net due less paid out: what is still to be paid to the partner projects.")),
    MoneyWord(
        "gift_aid_claimable",
        N_("Gift Aid to claim from HMRC (not in the balance)"),
        N_("Gift Aid on declared donations and pay-it-forward money, still to be claimed. It is not in the balance until HMRC pays it."),
    ),
)

# Where the pay-it-forward money went (beside the figures above, not lines of their sum).
FUND = (
    MoneyWord(
        "pay_it_forward_used",
        N_("Pay-it-forward money used for free places"),
        N_(
            "The free guests' share of the event costs (the cost per guest for each free guest), paid from the pay-it-forward money as far as it goes."
        ),
    ),
    MoneyWord(
        "pay_it_forward_given",
        N_("Pay-it-forward money given to the partners"),
        N_("What was left after the free places, given to the partner projects when you decided so at close."),
    ),
)

# A partner project's figures: its share of what the partners share (by its share of the event), plus the donations
# made for it in full. The partners' lines add up to the event's net due, paid out and balance owed.
PARTNER = (
    MoneyWord("tickets", N_("Tickets"), N_("This project's share of the ticket income.")),
    MoneyWord("booking_fees", N_("Booking fees"), N_("Its share of the booking fees, when they go to the partner projects.")),
    MoneyWord(
        "contributions",
        N_("Pay-it-forward money used"),
        N_(
            "Its share of the pay-it-forward money used for free guests' places, or given to the partner projects at close. Money not yet used is in no project's figures."
        ),
    ),
    MoneyWord("donations", N_("Donations"), N_("Its share of the shared donations, plus the donations made for it in full.")),
    MoneyWord("income", N_("Income for this project"), N_("The four lines above added up.")),
    MoneyWord("refunds", N_("Refunds"), N_("Its share of the refunds of that money.")),
    MoneyWord("fees", N_("Stripe fees"), N_("Its share of Stripe's fees on that money.")),
    MoneyWord("costs", N_("Event costs"), N_("Its share of the event costs the income met.")),
    MoneyWord("net", N_("Net due"), N_("Income for this project less its refunds, fees and costs.")),
    MoneyWord("paid_out", N_("Paid out"), N_("Payouts recorded to this project, less any reversed.")),
    MoneyWord("balance", N_("Balance owed"), N_("Net due less paid out: what is still to be paid to this project.")),
    MoneyWord(
        "gift_aid_claimable",
        N_("Gift Aid to claim from HMRC (not in the balance)"),
        N_("Gift Aid on declared donations and pay-it-forward money shared with this project, still to be claimed."),
    ),
)


def event_word(key: str) -> MoneyWord:
    return next(word for word in (*EVENT, *FUND) if word.key == key)


def partner_word(key: str) -> MoneyWord:
    return next(word for word in PARTNER if word.key == key)
