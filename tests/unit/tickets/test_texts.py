"""What each text says, in the guest's language, and that it stays within two SMS segments in English."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events import i18n
from events.tickets import texts
from events.tickets.statuses import MessageKind
from events.tickets.texts import OrderText, compose, link_for, segments

STARTS = datetime(2031, 8, 16, 19, 0, tzinfo=ZoneInfo("Europe/London"))  # a Saturday
TICKET = "https://tickets.example.org/tickets/abcdefghjkmnpqrstuvw"
ORDER = "https://tickets.example.org/orders/K7M-4QX?token=ord_" + "A" * 43
REFUND = {"amount_pence": 1200, "currency": "GBP", "method": "stripe", "ticket_ids": [1]}
ANNOUNCEMENT = {"subject": "The venue has changed", "body": "We have moved to St Margaret's Hall.", "locale": "en", "ticket_types": []}
THANKS = {
    "currency": "GBP",
    "free_places_funded": 12,
    "free_places_used": 9,
    "partners": [{"name": "Welcome Kitchen", "amount_pence": 34000}, {"name": "Women's Group", "amount_pence": 12050}],
}


def text(kind: str, locale: str = "en", **changes: Any) -> OrderText:
    values: dict[str, Any] = {
        "kind": kind,
        "locale": locale,
        "organisation": "Refugee Kitchen",
        "event_title": "Supper Club",
        "starts_at": STARTS,
        "venue": "St Margaret's Community Hall",
        "link": ORDER if kind in ("refund_notice", "event_cancelled", "late_payment_refunded") else TICKET,
        "tickets": 1,
        "paid_pence": 1200,
        "refunded_pence": 1200,
        "detail": {"refund_notice": REFUND, "thank_you": THANKS, "announcement": ANNOUNCEMENT}.get(kind, {}),
    }
    return OrderText(**(values | changes))


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_in_english_fits_two_segments_and_names_who_sends_it(kind: str) -> None:
    body = compose(text(kind, link="" if kind == "thank_you" else (ORDER if kind != "reminder" else TICKET)))
    assert segments(body) <= texts.MAX_SEGMENTS, body
    assert body.startswith("Refugee Kitchen: ") and "Supper Club" in body
    assert body.count("https://") == (0 if kind == "thank_you" else 1)
    assert "\u00a0" not in body and "\u202f" not in body  # no-break spaces would make it UCS-2


def test_the_ticket_text_gives_the_event_its_time_and_the_link() -> None:
    assert compose(text("order_confirmation")) == f"Refugee Kitchen: Your ticket\nSupper Club\nSat 16 Aug, 19:00\n{TICKET}"
    assert compose(text("tickets_resent", tickets=3, link=ORDER)).startswith("Refugee Kitchen: Your tickets\n")
    assert compose(text("tickets_reissued")).startswith("Refugee Kitchen: Your updated tickets for Supper Club\nSat 16 Aug, 19:00\n")


def test_the_reminder_says_when_where_and_to_show_the_ticket() -> None:
    body = compose(text("reminder"))
    assert body.splitlines() == [
        "Refugee Kitchen: Reminder: Supper Club",
        "Sat 16 Aug, 19:00",
        "St Margaret's Community Hall",
        "Show this ticket on your phone at the door:",
        TICKET,
        "Can't come? Give your place back from that page.",
    ]


@pytest.mark.parametrize(
    ("method", "says", "days"),
    [("stripe", "Refunded: £12", True), ("card_terminal", "Refunded: £12", False), ("cash", "£12 refunded to you in cash.", False)],
)
def test_a_refund_notice_gives_the_amount_and_how_long_a_card_refund_takes(method: str, says: str, days: bool) -> None:
    body = compose(text("refund_notice", detail={**REFUND, "method": method}))
    assert says in body and ORDER in body
    assert ("5 to 10 working days" in body) is days
    assert ("as arranged at the door" in body) is not days  # the same words as the email: handed back at the door


def test_a_cancellation_says_what_that_refund_gives_back_and_nothing_when_nothing_is_refunded() -> None:
    everything = {"amount_pence": 1200, "currency": "GBP", "method": "stripe", "ticket_ids": [1]}
    assert "We are refunding everything you paid: £12." in compose(text("event_cancelled", detail=everything))
    # £30 of a £90 order was refunded before the cancellation: the text gives back the £60 left, not £90.
    rest = {"amount_pence": 6000, "currency": "GBP", "method": "stripe", "ticket_ids": [1]}
    body = compose(text("event_cancelled", paid_pence=9000, refunded_pence=9000, detail=rest))
    assert "We are refunding what was left of your payment: £60." in body and "£90" not in body
    assert "refunding" not in compose(text("event_cancelled", paid_pence=0, refunded_pence=0))


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_a_cancellation_with_time_to_choose_gives_the_refund_its_date_and_the_page_to_donate_it(locale: str) -> None:
    choice_page = "https://tickets.example.org/orders/K7M-4QX/cancelled?token=ord_" + "A" * 43
    detail = {"refund_choice_until": "2031-08-23T18:00:00+00:00", "choice_pence": 6050, "currency": "GBP"}
    body = compose(text("event_cancelled", locale, paid_pence=6050, refunded_pence=0, detail=detail, link=choice_page))
    assert body.endswith(choice_page) and body.count("https://") == 1
    if locale == "en":
        assert "We will refund £60.50 on 23 Aug, or you can donate it:" in body and "refunding" not in body
        assert segments(body) <= texts.MAX_SEGMENTS, body


def test_a_thank_you_gives_the_totals_and_names_the_partners_that_fit() -> None:
    body = compose(text("thank_you", link=""))
    assert body.splitlines() == [
        "Refugee Kitchen: Thank you for your generosity at Supper Club",
        "Guests funded 12 free places; 9 taken.",
        "Raised for our partners: Welcome Kitchen £340, Women's Group £120.50",
    ]
    many = {**THANKS, "partners": [{"name": f"Partner project number {n}", "amount_pence": 1000 * (10 - n)} for n in range(10)]}
    trimmed = compose(text("thank_you", link="", detail=many))
    assert segments(trimmed) <= texts.MAX_SEGMENTS and "Partner project number 0 £100" in trimmed and "number 9" not in trimmed
    assert compose(text("thank_you", link="", detail={"currency": "GBP", "free_places_funded": 0, "partners": []})).count("\n") == 0


def test_an_arabic_text_is_in_arabic() -> None:
    body = compose(text("order_confirmation", locale="ar"))
    catalogue = i18n.translations("ar")
    assert catalogue.ngettext("Your ticket", "Your tickets", 1) in body and "Your ticket" not in body
    assert "أغسطس" in body or "اغسطس" in body  # August, as Arabic writes it
    assert catalogue.gettext("%(event)s is cancelled") % {"event": "Supper Club"} in compose(text("event_cancelled", locale="ar"))


def test_an_unknown_language_falls_back_to_english() -> None:
    assert compose(text("order_confirmation", locale="xx")) == compose(text("order_confirmation"))


def test_one_ticket_links_to_its_page_and_several_to_the_order() -> None:
    assert link_for([TICKET], ORDER) == TICKET
    assert link_for([TICKET, TICKET + "2"], ORDER) == ORDER
    assert link_for([], ORDER) == ORDER


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two places
        ("€" * 81, 2),
        ("ب" * 70, 1),  # any character outside GSM-7 makes the whole text UCS-2
        ("ب" * 71, 2),
        ("£12 é à ñ", 1),
    ],
)
def test_segments_are_counted_as_sms_counts_them(body: str, count: int) -> None:
    assert segments(body) == count


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no text"):
        compose(text("newsletter"))


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
@pytest.mark.parametrize("kind", list(MessageKind))
def test_the_whatsapp_template_variables_are_the_organisation_and_the_message_on_one_line(kind: str, locale: str) -> None:
    """WhatsApp refuses a template variable holding a line break, a tab or more than four spaces in a row; the
    template signs the message itself, so {{2}} does not start with the organisation's name again."""
    variables = texts.template_variables(text(kind, locale))
    assert set(variables) == {"1", "2"} and variables["1"] == "Refugee Kitchen"
    assert variables["2"] and not any(character in variables["2"] for character in "\n\r\t") and "     " not in variables["2"]
    assert not variables["2"].startswith("Refugee Kitchen")
    lines = compose(text(kind, locale), signed=False).splitlines()
    assert variables["2"] == " · ".join(lines)


def test_the_whatsapp_message_reads_as_the_sms_does_without_its_signature() -> None:
    assert texts.template_variables(text("order_confirmation")) == {
        "1": "Refugee Kitchen",
        "2": f"Your ticket · Supper Club · Sat 16 Aug, 19:00 · {TICKET}",
    }


def test_an_arabic_thank_you_lists_the_partners_with_the_arabic_comma() -> None:
    short = {
        "currency": "GBP",
        "free_places_funded": 0,
        "free_places_used": 0,
        "partners": [{"name": "Kin", "amount_pence": 200}, {"name": "Ark", "amount_pence": 100}],
    }
    body = compose(text("thank_you", link="", locale="ar", organisation="", event_title="Club", detail=short))
    assert "Kin" in body and "\u060c Ark" in body and ", Ark" not in body


def test_a_donated_refunds_text_thanks_the_guest_with_the_amount_and_the_order_link() -> None:
    body = compose(text("refund_donated", link=ORDER, detail={"donated_pence": 6050, "currency": "GBP", "gift_aid": True}))
    assert body.splitlines() == ["Refugee Kitchen: Thank you! Your refund for Supper Club is now a donation.", "Your donation: £60.50", ORDER]


def test_a_gift_without_a_ticket_is_thanked_with_the_amount_and_its_receipts_link() -> None:
    gift = text("order_confirmation", link=ORDER, tickets=0, paid_pence=9099, contribution=True)
    body = compose(gift)
    assert body.splitlines() == ["Refugee Kitchen: Thank you for your gift to Supper Club", "Your receipt for £90.99:", ORDER]
    assert segments(body) <= texts.MAX_SEGMENTS
    for locale in ("ar", "fr", "fa"):
        translated = compose(replace(gift, locale=locale))
        assert "Thank you" not in translated and "receipt" not in translated and ORDER in translated


def test_an_organisers_message_gives_their_words_then_the_event_and_the_ticket() -> None:
    assert compose(text("announcement")).splitlines() == [
        "Refugee Kitchen: The venue has changed",
        "We have moved to St Margaret's Hall.",
        "Supper Club",
        "Sat 16 Aug, 19:00",
        "St Margaret's Community Hall",
        TICKET,
    ]


def test_a_long_message_is_cut_at_a_word_and_stays_in_plain_sms_characters() -> None:
    words = "The hall flooded overnight, so we are moving everything to the church next door. " * 10
    body = compose(text("announcement", detail={**ANNOUNCEMENT, "body": words}))
    [kept] = [line for line in body.splitlines() if line.startswith("The hall")]
    assert len(kept) <= texts.ANNOUNCEMENT_TEXT_CHARACTERS and kept.endswith("...") and words.startswith(kept.removesuffix("..."))
    assert not kept.removesuffix("...").endswith(" ") and body.endswith(TICKET)
    assert all(character.isascii() for character in body)  # "…" would make every segment hold 70 characters, not 160
    assert texts.shortened("short enough", 400) == "short enough"
    assert texts.shortened("x" * 500, 400) == "x" * 397 + "..."  # one long word: cut inside it


def test_an_arabic_guest_gets_the_organisers_words_with_the_event_in_arabic() -> None:
    body = compose(text("announcement", locale="ar"))
    assert "The venue has changed" in body and "We have moved to St Margaret's Hall." in body
    assert "أغسطس" in body or "اغسطس" in body


def test_joining_a_waiting_list_is_confirmed_with_the_place_in_the_queue_and_the_guests_own_link() -> None:
    link = "https://tickets.example.org/waiting-list/" + "A" * 22
    body = compose(text("waiting_list_joined", link=link, detail={"position": 4}))
    assert body == f"Refugee Kitchen: You are on the waiting list for Supper Club\nYou are number 4 in the queue.\n{link}"
