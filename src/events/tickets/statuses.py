"""A ticket's status, and the status of a message carrying tickets to a guest."""

from enum import StrEnum


class TicketStatus(StrEnum):
    valid = "valid"  # admits its holder
    refunded = "refunded"  # its order was refunded
    void = "void"  # cancelled by an organiser (or replaced by a re-issued ticket)


class MessageStatus(StrEnum):
    queued = "queued"  # waiting for the outbox worker
    sent = "sent"  # accepted by the mail server
    failed = "failed"  # gave up after retries
    skipped = "skipped"  # nothing to send (no address, or no valid tickets left)
