"""A ticket's status, and the status and channel of a message to a guest."""

from enum import StrEnum


class TicketStatus(StrEnum):
    valid = "valid"  # admits its holder
    refunded = "refunded"  # its order was refunded
    void = "void"  # cancelled by an organiser (or replaced by a re-issued ticket)


class MessageStatus(StrEnum):
    queued = "queued"  # waiting for the outbox worker
    sent = "sent"  # accepted by the mail server (or the text-message provider)
    failed = "failed"  # gave up after retries
    skipped = "skipped"  # nothing to send (no address, or no valid tickets left)


class MessageChannel(StrEnum):
    """How a message reaches a guest: email when they gave an address, else a text to the mobile number they gave."""

    email = "email"
    sms = "sms"
    whatsapp = "whatsapp"  # only where the organisation turned it on


# How a refund reaches the guest (payments' PaymentMethod values; tickets sit below payments): cash and card-terminal
# refunds are handed back at the door, as arranged there; others go back to the card and take days to arrive.
DOOR_REFUND_METHODS = frozenset({"cash", "card_terminal"})


def refunded_at_the_door(method: str) -> bool:
    return method in DOOR_REFUND_METHODS
