"""What personal data is erased when, and what is kept. Pure.

Erased: buyers' names, email addresses and phone numbers (claim contact details included: a free place's
order holds them), ticket holder names, and the emails queued or sent about an order.
Kept: every amount, count, status and reference, so statements, reconciliation and door counts do not move.

Gift Aid declarations are kept longer. HMRC asks a charity to keep the records behind a Gift Aid claim for
six years after the end of the accounting period the donation falls in; this service does not know the
charity's accounting year, so it assumes the longest case (the period ends up to a year after the
donation) and keeps a declaration of a paid order for seven years from the donation. A declaration on an
order that was never paid backs no claim and is erased with the rest. A declaration made when donating money the
guest could have had back (payments.tables.RefundDonation) is kept the same way, seven years from the day they chose
to donate, if a refund was really offered (otherwise it backs no claim).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import phonenumbers

from events.orders.statuses import OrderStatus

ERASED = ""
# Phone numbers written without a country code (07700 900123) are read as numbers of this country.
PHONE_REGION = "GB"
# Orders whose declaration can back a Gift Aid claim: money was received (and maybe later refunded).
PAID_STATUSES = frozenset({OrderStatus.paid, OrderStatus.refunded, OrderStatus.refund_due})
GIFT_AID_KEEP_YEARS = 7
ERASE_BATCH = 200


def erase_after(ends_at: datetime, retention_days: int) -> datetime:
    """When an event's guests' personal data is erased."""
    return ends_at + timedelta(days=retention_days)


def ended_before(now: datetime, retention_days: int) -> datetime:
    """Events that ended before this moment are due for erasure."""
    return now - timedelta(days=retention_days)


def _years_later(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year without one
        return moment.replace(year=moment.year + years, day=28)


def gift_aid_keep_until(donated_at: datetime) -> datetime:
    """A declaration's names and address are kept until then (see the module's note on HMRC)."""
    return _years_later(donated_at, GIFT_AID_KEEP_YEARS)


def keeps_gift_aid(order_status: str, donated_at: datetime | None, now: datetime) -> bool:
    """Whether a declaration must survive an erasure for HMRC."""
    if order_status not in PAID_STATUSES or donated_at is None:
        return False
    return now < gift_aid_keep_until(donated_at)


def keeps_donated_refund_gift_aid(refund_offered: bool, donated_at: datetime, now: datetime) -> bool:
    """Whether the declaration made with a donated refund must survive an erasure for HMRC."""
    return refund_offered and now < gift_aid_keep_until(donated_at)


def gift_aid_cutoff(now: datetime) -> datetime:
    """Declarations of donations made before this moment are past HMRC's keeping period."""
    return _years_later(now, -GIFT_AID_KEEP_YEARS)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def looks_like_email(email: str) -> bool:
    local, at, domain = email.strip().partition("@")
    return bool(local) and bool(at) and "." in domain and " " not in email.strip()


def normalise_phone(text: str) -> str | None:
    """A phone number as people write it ('07700 900123', '+44 (0)7700-900123') in one form ('+447700900123'),
    or None if it cannot be a phone number. An extension is left out, so a search finds the orders made with
    and without one; the organiser sees each order's name and ticks the guest's own."""
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True, slots=True)
class Contact:
    """How a guest asking about their data booked: the email address or phone number, normalised."""

    kind: Literal["email", "phone"]
    value: str


def read_contact(text: str) -> Contact | None:
    """An email address (anything with an @) or a phone number; None if it is neither."""
    cleaned = text.strip()
    if "@" in cleaned:
        email = normalise_email(cleaned)
        return Contact("email", email) if looks_like_email(email) else None
    phone = normalise_phone(cleaned)
    return Contact("phone", phone) if phone else None
