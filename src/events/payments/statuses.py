"""How money came in, and the status of money going back out."""

from enum import StrEnum


class PaymentMethod(StrEnum):
    stripe = "stripe"  # online, through the organisation's Stripe account
    test = "test"  # online without a Stripe key (demo and development): no money moves
    cash = "cash"  # at the door
    card_terminal = "card_terminal"  # at the door, on a card reader outside this service
    bank_transfer = "bank_transfer"  # refunds only: given back from the organisation's bank account, outside this service


class RefundStatus(StrEnum):
    pending = "pending"  # asked of Stripe, not yet confirmed
    succeeded = "succeeded"  # the money is on its way back
    failed = "failed"  # Stripe refused; an organiser gives it back another way (payments.service.give_back_refused_refund)


# The reason of a refund that undid a door sale made by mistake (door_sales): the statement's door takings count them.
DOOR_SALE_UNDONE_REASON = "Door sale undone at the door"
