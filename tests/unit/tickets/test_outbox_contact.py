"""How a message reaches a guest: email when they gave an address, else a text to their mobile number."""

from events.tickets.outbox import Contact, contact_of
from events.tickets.statuses import MessageChannel


def test_an_email_address_wins_over_a_phone_number() -> None:
    assert contact_of(" guest@example.org ", "+447700900123", whatsapp=True) == Contact(MessageChannel.email, "guest@example.org")


def test_a_guest_with_only_a_phone_number_gets_a_text() -> None:
    assert contact_of("", "+447700900123", whatsapp=False) == Contact(MessageChannel.sms, "+447700900123")


def test_the_text_goes_by_whatsapp_where_the_organisation_turned_it_on() -> None:
    assert contact_of("", "+447700900123", whatsapp=True) == Contact(MessageChannel.whatsapp, "+447700900123")


def test_a_guest_who_gave_neither_gets_nothing() -> None:
    assert contact_of("  ", "", whatsapp=True) is None
