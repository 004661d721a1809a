"""Order emails built from plain data: the organisation's name, colour and logo at the top (the logo inside the
email, shown by its Content-ID), and the charity line and contact address at the bottom, in the guest's language."""

from __future__ import annotations

import dataclasses
import email as email_lib
import io
import re
from datetime import datetime, timezone
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from events import i18n
from events.tickets import email
from events.tickets.statuses import MessageKind

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
NOW = datetime(2027, 8, 1, 9, 0, tzinfo=timezone.utc)


def logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (138, 44, 13)).save(buffer, format="JPEG")
    return buffer.getvalue()


def content(locale: str = "en", **organisation: object) -> email.OrderEmail:
    return email.OrderEmail(
        kind="order_confirmation",
        reference="K7M-4QX",
        locale=locale,
        buyer_name="Amal",
        event_title="Supper Club",
        starts_at=datetime(2027, 8, 19, 19, 0, tzinfo=ZoneInfo("Europe/London")),
        venue="Community Hall",
        order_url="https://tickets.example/orders/K7M-4QX?token=x",
        tickets=[email.TicketLink("Amal", "Supper", "https://tickets.example/tickets/abc")],
        organisation=email.EmailOrganisation(
            **{
                "name": "Refugee Kitchen",
                "url": "https://tickets.example/organisations/refugee-kitchen",
                "accent_colour": "#8a2c0d",
                "charity_name": "Refugee Kitchen CIO",
                "charity_number": "1234567",
                "contact_email": "hello@refugeekitchen.example",
                **organisation,  # type: ignore[arg-type]
            }
        ),
    )


def build(mail: email.OrderEmail) -> email.EmailMessage:
    return email.build_email(
        mail, sender="Events <tickets@events.test>", recipient="amal@example.org", pdf=b"%PDF-1.4", templates_dir=TEMPLATES, now=NOW
    )


def test_the_logo_travels_inside_the_email_next_to_the_html_that_shows_it() -> None:
    message = build(content(logo=logo(), logo_content_type="image/jpeg"))
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None and 'src="cid:organisation-logo"' in html_part.get_content()
    [related] = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    [image] = [part for part in related.iter_parts() if part.get("Content-ID") == "<organisation-logo>"]
    assert image.get_content_type() == "image/jpeg" and image.get_content() == logo()
    assert [part.get_filename() for part in message.iter_attachments()] == ["tickets-K7M-4QX.pdf"]


def test_without_a_logo_there_is_no_image_and_no_broken_reference() -> None:
    message = build(content())
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "cid:" not in html and "background: #8a2c0d" in html
    assert not [part for part in message.walk() if part.get_content_maintype() == "image"]


def test_the_charity_line_and_contact_are_in_both_alternatives() -> None:
    message = build(content())
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,)).get_content()  # type: ignore[union-attr]
        body = re.sub(r"</?bdi>", "", body)  # the HTML isolates the charity's name
        assert "Refugee Kitchen CIO, registered charity 1234567" in body, kind
        assert "Questions? Write to us at hello@refugeekitchen.example" in body, kind


def test_a_charity_without_a_number_is_named_alone() -> None:
    body = build(content(charity_number="", charity_name="")).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "registered charity" not in body and "Refugee Kitchen" in body


def test_in_arabic_the_charity_line_is_translated_and_the_page_reads_right_to_left() -> None:
    message = build(content("ar"))
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'dir="rtl"' in html and "registered charity" not in html
    # Only the charity's name is isolated: the sentence reads right to left, the name first, then the Arabic comma.
    assert "<bdi>Refugee Kitchen CIO</bdi>، جمعية خيرية مسجّلة برقم 1234567" in html and "hello@refugeekitchen.example" in html


def test_the_organisations_name_is_escaped() -> None:
    html = build(content(name='<script>alert("x")</script>')).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html


def reminder(locale: str = "en", **changes: object) -> email.OrderEmail:
    fields: dict[str, object] = {
        "kind": MessageKind.reminder,
        "address": "1 High Street\nLondon E1 1AA",
        "map_url": email.map_url("Community Hall", "1 High Street\nLondon E1 1AA"),
        "access_information": "Step-free entrance on Mill Lane.\nNearest station: Whitechapel.",
    }
    return dataclasses.replace(content(locale), **{**fields, **changes})  # type: ignore[arg-type]


def bodies(message: email.EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_the_reminder_brings_the_tickets_time_place_map_and_access_information() -> None:
    message = email.build_email(
        reminder(), sender="Events <tickets@events.test>", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW
    )
    assert message["Subject"] == "Reminder: Supper Club is coming up"
    assert not list(message.iter_attachments())  # links, not another copy of the PDF
    text, html = bodies(message)
    for body in (text, html):
        assert "Thursday, 19 August 2027, 19:00" in body  # at the venue, in the guest's language
        assert "Community Hall" in body and "1 High Street" in body
        assert "https://www.openstreetmap.org/search?query=Community%20Hall%201%20High%20Street%20London%20E1%201AA" in body
        assert "Step-free entrance on Mill Lane." in body and "Nearest station: Whitechapel." in body
        assert "What to bring: your ticket on your phone, or printed." in body
        assert "https://tickets.example/tickets/abc" in body
        assert "Can't come?" not in body and "Can&#39;t come?" not in body  # no link until guests can give a place back
    assert "- Amal, Supper: https://tickets.example/tickets/abc" in text


def test_the_confirmation_brings_the_way_there_and_how_to_give_a_place_back() -> None:
    """A guest who books a day ahead gets no reminder: the confirmation is the email they open on the way."""
    mail = reminder(kind=MessageKind.order_confirmation, ends_at=datetime(2027, 8, 19, 22, 30, tzinfo=ZoneInfo("Europe/London")))
    mail = dataclasses.replace(mail, cant_come_url="https://tickets.example/orders/K7M-4QX/tickets/7/cant-come?token=x")
    text, html = bodies(build(mail))
    for body in (text, html):
        assert "1 High Street" in body and "https://www.openstreetmap.org/search?query=Community%20Hall" in body
        assert "Step-free entrance on Mill Lane." in body and "Nearest station: Whitechapel." in body
        assert "https://tickets.example/orders/K7M-4QX/tickets/7/cant-come?token=x" in body
    assert "Thursday, 19 August 2027, 19:00–22:30" in text and "19:00–&#8288;22:30" in html
    assert "Can't come? Please give your place back, so that someone else can have it: https://tickets.example/orders/" in text


def test_the_reminders_cant_come_link_shows_once_there_is_one() -> None:
    mail = reminder(cant_come_url="https://tickets.example/orders/K7M-4QX/release?token=x")
    text, html = bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))
    assert "Can't come?" in text and "https://tickets.example/orders/K7M-4QX/release?token=x" in text
    assert 'href="https://tickets.example/orders/K7M-4QX/release?token=x"' in html


def test_a_reminder_without_access_information_or_address_leaves_them_out() -> None:
    mail = dataclasses.replace(reminder(), address="", access_information="", map_url=email.map_url("", ""))
    text, html = bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))
    assert "Getting there" not in text and "Getting there" not in html and "openstreetmap" not in text


def test_the_reminder_reads_right_to_left_in_farsi_and_escapes_what_organisers_wrote() -> None:
    mail = reminder("fa", access_information='<img src=x onerror="alert(1)">')
    _, html = bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))
    assert 'lang="fa" dir="rtl"' in html
    assert "<img src=x" not in html and "&lt;img src=x" in html


THANKS = email.ThankYouTotals(
    currency="GBP",
    free_places_funded=7,
    free_places_used=5,
    partners=(email.PartnerAmount("Welcome Kitchen", 84_250), email.PartnerAmount("Welcome Cinema", 36_107)),
)


def test_the_thank_you_tells_the_events_totals_and_names_nobody() -> None:
    assert email.ThankYouTotals.from_detail(THANKS.as_detail()) == THANKS
    assert THANKS.as_detail() == {
        "currency": "GBP",
        "free_places_funded": 7,
        "free_places_used": 5,
        "partners": [{"name": "Welcome Kitchen", "amount_pence": 84250}, {"name": "Welcome Cinema", "amount_pence": 36107}],
    }
    mail = dataclasses.replace(content(), kind=MessageKind.thank_you, thank_you=THANKS)
    message = email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW)
    assert message["Subject"] == "Thank you for your generosity at Supper Club"
    text, html = bodies(message)
    for body in (text, html):
        assert "Together, guests paid forward 7 free places for refugee and asylum-seeking guests." in body
        assert "5 of them were taken up." in body
        assert "Amal" not in body  # not even its reader: the same totals go to every giver

    assert "- Welcome Kitchen: £842.50\n- Welcome Cinema: £361.07" in text
    assert "<li><bdi>Welcome Kitchen</bdi>: £842.50</li>" in html


def test_a_thank_you_for_donations_alone_leaves_out_the_free_places() -> None:
    mail = dataclasses.replace(
        content("ar"), kind=MessageKind.thank_you, thank_you=dataclasses.replace(THANKS, free_places_funded=0, free_places_used=0)
    )
    text, html = bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))
    assert "paid forward" not in text and 'dir="rtl"' in html and "Welcome Kitchen" in text


ARABIC_EVENING = "الخميس، 19 أغسطس 2027، 19:00"  # the day and the time, joined with the Arabic comma


def arabic(kind: str, **changes: object) -> tuple[str, str]:
    mail = dataclasses.replace(content("ar"), kind=kind, **changes)  # type: ignore[arg-type]
    return bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))


REFUND = email.RefundSummary(3000, "GBP", "test", voided=(email.VoidedTicket("Amal", "Supper"),))


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("order_confirmation", {}),
        (MessageKind.reminder, {}),
        ("refund_notice", {"refund": REFUND}),
        ("event_cancelled", {"paid_pence": 6000}),
    ],
)
def test_in_arabic_the_day_and_time_are_joined_with_the_arabic_comma(kind: str, changes: dict[str, object]) -> None:
    assert i18n.date_and_time(content().starts_at, "ar") == ARABIC_EVENING
    for body in arabic(kind, **changes):
        assert ARABIC_EVENING in body and "2027, 19:00" not in body, kind


@pytest.mark.parametrize(("kind", "changes"), [("order_confirmation", {}), (MessageKind.reminder, {}), ("refund_notice", {"refund": REFUND})])
def test_in_arabic_only_names_and_titles_are_isolated_and_each_ticket_line_uses_the_arabic_comma(kind: str, changes: dict[str, object]) -> None:
    text, html = arabic(kind, **changes)
    # The title keeps the email's alignment (right, in Arabic); only its words are isolated.
    assert re.search(r"<h1 style=\"[^\"]*\"><bdi>Supper Club</bdi></h1>", html) and "<h1 dir" not in html
    assert "<bdi>Amal</bdi>، <bdi>Supper</bdi>" in html and "Amal, Supper" not in html
    assert re.search(r"^- Amal، Supper\b", text, re.MULTILINE) and "Amal, Supper" not in text
    assert '<span dir="auto">Refugee Kitchen CIO' not in html  # the charity's sentence is not isolated whole


def refund_notice(locale: str, refund: email.RefundSummary) -> tuple[str, str]:
    mail = dataclasses.replace(content(locale), kind="refund_notice", refund=refund)
    return bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))


def test_a_refund_of_some_tickets_says_the_others_still_work() -> None:
    text, html = refund_notice("en", dataclasses.replace(REFUND, still_valid=1))
    assert "This ticket was refunded and no longer works:\n- Amal, Supper\nYour other ticket still works.\n" in text
    assert "<p>Your other ticket still works.</p>" in html
    others = i18n.translations("ar").ngettext("Your other ticket still works.", "Your other %(num)d tickets still work.", 2) % {"num": 2}
    for body in refund_notice("ar", dataclasses.replace(REFUND, still_valid=2)):
        assert others in body
    for body in refund_notice("en", REFUND):
        assert "still work" not in body  # no other ticket was left


def test_a_thank_you_lets_the_language_write_the_partners_amount_after_its_name() -> None:
    # French puts a space before a colon: the separator is the catalogue's ("%(partner)s: %(amount)s").
    mail = dataclasses.replace(content("fr"), kind=MessageKind.thank_you, thank_you=THANKS)
    text, html = bodies(email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW))
    written = i18n.translations("fr").gettext("%(partner)s: %(amount)s")
    amount = "842,50\u00a0£"
    assert "- " + written % {"partner": "Welcome Kitchen", "amount": amount} in text
    assert "<li>" + written % {"partner": "<bdi>Welcome Kitchen</bdi>", "amount": amount} + "</li>" in html


def test_a_donated_refund_is_thanked_for_with_its_amount_and_gift_aid() -> None:
    mail = dataclasses.replace(content(), kind=MessageKind.refund_donated, donated_refund=email.DonatedRefund(6050, "GBP", gift_aid=True), tickets=())
    message = email.build_email(mail, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW)
    assert message["Subject"] == "Thank you for donating your refund for Supper Club"
    assert not list(message.iter_attachments())
    for body in bodies(message):
        assert "Your donation: £60.50" in body and "You added Gift Aid" in body and "A donation cannot be given back." in body
    without = dataclasses.replace(mail, donated_refund=email.DonatedRefund(3000, "GBP"))
    for body in bodies(email.build_email(without, sender="e@events.test", recipient="amal@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW)):
        assert "Your donation: £30" in body and "Gift Aid" not in body


def announcement(locale: str = "en", **changes: object) -> email.OrderEmail:
    words = email.OrganiserMessage(subject="The venue has changed", body="We have moved.\n<b>Doors</b> at 18:30 & not before.", locale="en")
    return dataclasses.replace(content(locale), kind=MessageKind.announcement, announcement=words, **changes)  # type: ignore[arg-type]


def test_an_organisers_message_has_their_subject_their_words_as_text_and_replies_go_to_them() -> None:
    message = build(announcement())
    assert message["Subject"] == "The venue has changed" and message["To"] == "amal@example.org"
    assert message["Reply-To"] == "hello@refugeekitchen.example"
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "We have moved.<br>&lt;b&gt;Doors&lt;/b&gt; at 18:30 &amp; not before." in html and "<b>Doors" not in html
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "We have moved.\n<b>Doors</b> at 18:30 & not before." in text.replace("\r\n", "\n")
    assert "https://tickets.example/tickets/abc" in text and "https://tickets.example/orders/K7M-4QX?token=x" in text


def test_without_a_contact_address_replies_go_nowhere_new() -> None:
    assert build(announcement(organisation=None))["Reply-To"] is None
    assert build(content(contact_email=""))["Reply-To"] is None


@pytest.mark.parametrize("kind", [MessageKind.order_confirmation, MessageKind.reminder, MessageKind.tickets_resent])
def test_every_guest_email_comes_from_the_organisation_through_the_service_and_replies_go_to_them(kind: str) -> None:
    """A guest who answers their confirmation ("can I bring my child?") writes to the organiser; the sender's address is
    still the service's, which its mail server may send from, named for whoever runs the event."""
    message = build(dataclasses.replace(content(), kind=kind))
    assert message["From"] == "Refugee Kitchen via Events <tickets@events.test>"
    assert message["Reply-To"] == "hello@refugeekitchen.example"
    plain_sender = email.build_email(content(), sender="tickets@events.test", recipient="a@example.org", pdf=None, templates_dir=TEMPLATES, now=NOW)
    assert plain_sender["From"] == "Refugee Kitchen <tickets@events.test>"
    for name in ("Café «Solidarité», Ltd", "Refugee Café (Brixton)", "Café <Ltd>", "Café (Solidarité) \\ x"):
        # As the guest's mail server reads it: the whole name, and the service's address, whatever the name holds.
        sent = email_lib.message_from_bytes(build(content(name=name)).as_bytes(), policy=email_policy.default)
        assert (sent["From"].addresses[0].display_name, sent["From"].addresses[0].addr_spec) == (f"{name} via Events", "tickets@events.test")


def test_an_organisers_english_words_sit_in_an_arabic_email_marked_as_english() -> None:
    html = build(announcement("ar")).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert '<html lang="ar" dir="rtl">' in html and '<div lang="en" dir="ltr"' in html


def test_an_organisers_message_survives_the_trip_through_the_outbox() -> None:
    words = email.OrganiserMessage("Subject", "Body", "fr", (3, 4))
    assert email.OrganiserMessage.from_detail(words.as_detail()) == words


def test_in_french_the_text_emails_labels_take_a_space_before_their_colon() -> None:
    """French writes "Votre commande K7M-4QX : lien", with a narrow no-break space that never leaves the colon alone at
    the start of a line; English and Arabic write the colon straight after the label."""
    french, french_html = bodies(build(content("fr")))
    order = i18n.translations("fr").gettext("Your order %(reference)s") % {"reference": "K7M-4QX"}
    assert f"{order}\u202f: https://tickets.example/orders/K7M-4QX?token=x" in french
    assert "- Amal, Supper\u202f: https://tickets.example/tickets/abc" in french
    show = i18n.translations("fr").gettext("Show ticket")
    assert f'<a href="https://tickets.example/tickets/abc">{show}</a>\u202f: <bdi>Amal</bdi>' in french_html
    english, _ = bodies(build(content("en")))
    assert "Your order K7M-4QX: https://tickets.example/orders/K7M-4QX?token=x" in english
    arabic, _ = bodies(build(content("ar")))
    assert ": https://tickets.example/tickets/abc" in arabic and "\u202f:" not in arabic


def test_an_event_ending_on_another_day_says_which() -> None:
    mail = reminder(kind=MessageKind.order_confirmation, ends_at=datetime(2027, 8, 20, 2, 0, tzinfo=ZoneInfo("Europe/London")))
    text, html = bodies(build(mail))
    assert "Thursday, 19 August 2027, 19:00–Friday, 20 August 2027, 02:00" in text
    assert "19:00–&#8288;Friday, 20 August 2027, 02:00" in html
