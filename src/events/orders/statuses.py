"""An order's status: held while the buyer pays, then paid, expired or refunded."""

from enum import StrEnum


class OrderStatus(StrEnum):
    pending = "pending"  # places held while the buyer pays
    paid = "paid"  # paid (or a free claim); tickets issued
    expired = "expired"  # the hold ran out before payment; places released
    refund_due = "refund_due"  # money arrived after the hold had expired: it is being sent back
    refunded = "refunded"  # every penny returned; tickets refunded
