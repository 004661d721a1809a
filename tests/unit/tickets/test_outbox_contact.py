"""How a message reaches a guest: email when they gave an address, else a text to their mobile number."""

from events.tickets.outbox import Contact, contact_of
from events.tickets.statuses import MessageChannel


def test_an_email_address_wins_over_a_phone_number() -> None:
    assert contact_of(" guest@example.org ", "+447911123456", whatsapp=True) == Contact(MessageChannel.email, "guest@example.org")


def test_a_guest_with_only_a_phone_number_gets_a_text() -> None:
    assert contact_of("", "+447911123456", whatsapp=False) == Contact(MessageChannel.sms, "+447911123456")


def test_the_text_goes_by_whatsapp_where_the_organisation_turned_it_on() -> None:
    assert contact_of("", "+447911123456", whatsapp=True) == Contact(MessageChannel.whatsapp, "+447911123456")


def test_a_guest_who_gave_neither_gets_nothing() -> None:
    assert contact_of("  ", "", whatsapp=True) is None


def test_a_number_saved_as_the_guest_typed_it_is_texted_in_international_form() -> None:
    assert contact_of("", "07911 123456", whatsapp=False) == Contact(MessageChannel.sms, "+447911123456")


def test_a_number_that_cannot_take_texts_gets_nothing() -> None:
    assert contact_of("", "020 7946 0000", whatsapp=False) is None  # a London landline
