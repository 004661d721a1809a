"""Order emails built from plain data: the organisation's name, colour and logo at the top (the logo inside the
email, shown by its Content-ID), and the charity line and contact address at the bottom, in the guest's language."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from events.tickets import email

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
        assert "Refugee Kitchen CIO, registered charity 1234567" in body, kind
        assert "Questions? Write to us at hello@refugeekitchen.example" in body, kind


def test_a_charity_without_a_number_is_named_alone() -> None:
    body = build(content(charity_number="", charity_name="")).get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "registered charity" not in body and "Refugee Kitchen" in body


def test_in_arabic_the_charity_line_is_translated_and_the_page_reads_right_to_left() -> None:
    message = build(content("ar"))
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert 'dir="rtl"' in html and "registered charity" not in html
    assert "Refugee Kitchen CIO، جمعية خيرية مسجّلة برقم 1234567" in html and "hello@refugeekitchen.example" in html


def test_the_organisations_name_is_escaped() -> None:
    html = build(content(name='<script>alert("x")</script>')).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
