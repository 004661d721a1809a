"""A ticket's status, and the status and channel of a message to a guest."""

from enum import StrEnum


class TicketStatus(StrEnum):
    valid = "valid"  # admits its holder
    refunded = "refunded"  # its order was refunded
    void = "void"  # cancelled by an organiser (or replaced by a re-issued ticket)
    released = "released"  # its guest could not come and gave the place back (free release, or donated)
    passed_on = "passed_on"  # its guest passed it to a friend, who has a new ticket


class MessageStatus(StrEnum):
    queued = "queued"  # waiting for the outbox worker
    sent = "sent"  # accepted by the mail server (or the text-message provider)
    failed = "failed"  # gave up after retries
    skipped = "skipped"  # nothing to send (no address, or no valid tickets left)


class MessageKind(StrEnum):
    """What a message to a guest is about. Each is written as an email (tickets.email) and as a text (tickets.texts)."""

    order_confirmation = "order_confirmation"
    tickets_resent = "tickets_resent"
    tickets_reissued = "tickets_reissued"
    refund_notice = "refund_notice"
    late_payment_refunded = "late_payment_refunded"
    event_cancelled = "event_cancelled"
    reminder = "reminder"  # sent unasked before the event (tickets.reminders)
    thank_you = "thank_you"  # sent unasked after it, to givers (ledger.thank_you)
    # "Can't come?" (events.releases): the guest's confirmation of what they chose. A refund's confirmation is its
    # refund notice; a friend's new ticket comes with an order confirmation of its own.
    place_released = "place_released"  # a place that cost nothing, given back
    ticket_donated = "ticket_donated"  # a paid ticket given back, its price donated
    ticket_passed_on = "ticket_passed_on"  # a ticket passed to a friend, to the guest who passed it on
    # Places held for a guest on the waiting list (events.waitlist), with the link to take them before the offer runs
    # out; queued against the offer's order, whose buyer details are the waiting guest's.
    waiting_list_offer = "waiting_list_offer"
    # A cancelled event's refund the guest chose to donate to its partner projects instead (payments.cancellation).
    refund_donated = "refund_donated"
    # An organiser's message to the event's guests (events.announcements), e.g. "the venue has changed": their words
    # (their version in the guest's language, where they gave one) wrapped in the event's details in the guest's
    # language; the words travel in the message's detail.
    announcement = "announcement"
    # A guest has joined an event's waiting list (events.waitlist): their place in the queue and their own page's link
    # (to see it, or leave). Sent to who they are, not about an order: they have none yet.
    waiting_list_joined = "waiting_list_joined"


# The confirmations of a guest giving a ticket up ("Can't come?"): they carry what happened to which ticket.
RELEASE_MESSAGES = (MessageKind.place_released, MessageKind.ticket_donated, MessageKind.ticket_passed_on)

# The messages that carry the order's tickets.
TICKET_MESSAGES = (MessageKind.order_confirmation, MessageKind.tickets_resent, MessageKind.tickets_reissued)


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
