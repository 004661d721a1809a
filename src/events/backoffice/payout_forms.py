"""Reading the payout form of a partner project's payouts page: pounds and pence into pence, the day it was paid, the
bank's reference and the reason for paying more than is owed, each with a message a treasurer understands. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from events import text
from events.i18n import N_
from events.orders.forms import parse_pounds

_UK_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
REFERENCE_MAX = 120
REASON_MAX = 1000


@dataclass(frozen=True, slots=True)
class PayoutForm:
    event: str  # the event's slug
    amount_pence: int
    paid_on: date
    bank_reference: str
    override_reason: str


def parse_day(value: str) -> date | None:
    """'2027-08-20' (a date field) or '20/08/2027' (typed the UK way); None when it is not a date."""
    value = (value or "").strip()
    try:
        if match := _UK_DATE.match(value):
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def read_payout(form: Mapping[str, str]) -> tuple[PayoutForm | None, dict[str, str]]:
    """The payout the form asks for, or each field's problem (nothing is recorded unless every field reads)."""
    problems: dict[str, str] = {}
    event = (form.get("event") or "").strip()
    if not event:
        problems["event"] = N_("Choose the event this payout is for.")
    amount_text = (form.get("amount") or "").strip()
    amount = parse_pounds(amount_text) if amount_text else None
    if not amount_text:
        problems["amount"] = N_("Enter the amount paid, like 120 or 45.50.")
    elif amount is None:
        problems["amount"] = N_("Enter the amount in pounds and pence, like 120, 45.50 or £45.50.")
    elif amount == 0:
        problems["amount"] = N_("Enter an amount above £0.")
    paid_on = parse_day(form.get("paid_on") or "")
    if paid_on is None:
        problems["paid_on"] = N_("Enter the day the money was paid, like 20/08/2027.")
    reference = " ".join((form.get("bank_reference") or "").split())
    if (problem := text.line_problem(reference)) is not None:
        problems["bank_reference"] = N_("Enter the bank's reference for the payment, e.g. BACS 0042.") if not reference else problem
    elif len(reference) > REFERENCE_MAX:
        problems["bank_reference"] = N_("Use at most 120 characters.")
    reason = (form.get("override_reason") or "").strip()
    if (problem := text.text_problem(reason, required=False)) is not None:
        problems["override_reason"] = problem
    elif len(reason) > REASON_MAX:
        problems["override_reason"] = N_("Use at most 1000 characters.")
    if problems or amount is None or paid_on is None:
        return None, problems
    return PayoutForm(event, amount, paid_on, reference, reason), {}
