"""What an organisation's details must be: colours white text can be read on, charity numbers and HMRC
references as the registers write them, and logos that are PNG or JPEG by their bytes, never SVG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from events.organisations import rules
from events.organisations.rules import OrganisationDetails


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (11, 92, 74)).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("colour", "ratio"),
    [("#000000", 21.0), ("#ffffff", 1.0), ("#0b5c4a", 7.94), ("#767676", 4.54), ("#777777", 4.48), ("#ffcc00", 1.51)],
)
def test_contrast_with_white_is_wcags_ratio(colour: str, ratio: float) -> None:
    assert rules.contrast_with_white(colour) == pytest.approx(ratio, abs=0.01)


@pytest.mark.parametrize("colour", ["#0b5c4a", "#8A2C0D", "#767676", "#000000"])
def test_dark_enough_colours_are_accepted(colour: str) -> None:
    assert "accent_colour" not in rules.details_problems(OrganisationDetails(name="Kitchen", accent_colour=colour))


def test_a_colour_too_light_for_white_text_is_refused_with_its_contrast() -> None:
    problems = rules.details_problems(OrganisationDetails(name="Kitchen", accent_colour="#777777"))
    assert problems["accent_colour"] == ("White text on this colour is hard to read (contrast 4.5:1, at least 4.5:1 is needed): choose a darker one.")


@pytest.mark.parametrize("colour", ["0b5c4a", "#0b5c4", "#0b5c4aa", "#gggggg", "red", "#0b5c4a;", "#0b5c4a}body{", "", "#0B5C4A\n"])
def test_anything_but_hash_and_six_hex_digits_is_not_a_colour(colour: str) -> None:
    problems = rules.details_problems(OrganisationDetails(name="Kitchen", accent_colour=colour))
    assert problems["accent_colour"] == "Give a colour as # and six hexadecimal digits, e.g. #0b5c4a."


@pytest.mark.parametrize(("stored", "served"), [("#8A2C0D", "#8a2c0d"), ("#ffffff", "#0b5c4a"), ("red;}*{x:y", "#0b5c4a"), ("", "#0b5c4a")])
def test_a_theme_only_ever_gets_a_readable_colour(stored: str, served: str) -> None:
    assert rules.theme_colour(stored) == served


@pytest.mark.parametrize(
    "number", ["1234567", "123456", "12345678", "1234567-1", "SC012345", "sc 012 345", "NIC101234", "XR12345", "01234567", "AB123456"]
)
def test_charity_numbers_of_every_register_are_accepted(number: str) -> None:
    assert "charity_number" not in rules.details_problems(OrganisationDetails(name="Kitchen", charity_number=number))


@pytest.mark.parametrize("number", ["12345", "123456789", "SC12345", "SC01234", "NIC201234", "1234567-123", "charity", "1234567/1"])
def test_other_charity_numbers_are_refused(number: str) -> None:
    problems = rules.details_problems(OrganisationDetails(name="Kitchen", charity_number=number))
    assert problems["charity_number"].startswith("Give the registered charity number")


def test_charity_numbers_and_references_are_kept_in_capitals_without_spaces() -> None:
    assert rules.normalise_charity_number(" sc 012 345 ") == "SC012345"


@pytest.mark.parametrize(("reference", "valid"), [("AB12345", True), ("ab12345", True), ("X12345", True), ("ABC12345", False), ("AB1234567", False)])
def test_hmrc_gift_aid_references(reference: str, valid: bool) -> None:
    problems = rules.details_problems(OrganisationDetails(name="Kitchen", gift_aid_reference=reference))
    assert ("gift_aid_reference" not in problems) is valid


def test_every_field_is_optional_but_the_name_and_colour() -> None:
    assert rules.details_problems(OrganisationDetails(name="Kitchen")) == {}
    assert set(rules.details_problems(OrganisationDetails(name=""))) == {"name"}
    problems = rules.details_problems(OrganisationDetails(name="Kitchen", contact_email="not an email"))
    assert set(problems) == {"contact_email"}


def test_png_and_jpeg_logos_are_known_by_their_first_bytes() -> None:
    assert rules.logo_content_type(image("PNG")) == "image/png"
    assert rules.logo_content_type(image("JPEG")) == "image/jpeg"
    assert rules.logo_problem(image("PNG")) is None and rules.logo_problem(image("JPEG")) is None


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"GIF89a\x01\x00\x01\x00",
        b"<html><body>hi</body></html>",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"\x89PNG",  # a PNG's signature cut short
        b" \x89PNG\r\n\x1a\n",  # not at the start
    ],
)
def test_svg_and_every_other_kind_of_file_is_refused(data: bytes) -> None:
    assert rules.logo_content_type(data) is None
    assert rules.logo_problem(data) == "The logo must be a PNG or JPEG image."


def test_an_empty_or_oversize_logo_is_refused() -> None:
    assert rules.logo_problem(b"") == "Choose an image file."
    assert rules.logo_problem(image("PNG") + b"\0" * rules.LOGO_MAX_BYTES) == "The logo must be at most 256 KB."
    exactly = image("PNG")
    exactly += b"\0" * (rules.LOGO_MAX_BYTES - len(exactly))
    assert rules.logo_problem(exactly) is None


def test_widget_origins_are_kept_as_browsers_match_them() -> None:
    origins, problem = rules.widget_origins(
        " https://Charity.Example.org/ \r\n\r\nhttps://shop.example.org:8443\nhttp://localhost:8000\nhttps://charity.example.org"
    )
    assert problem is None
    assert origins == ["https://charity.example.org", "https://shop.example.org:8443", "http://localhost:8000"]
    assert rules.widget_origins("") == ([], None)


@pytest.mark.parametrize(
    "typed",
    [
        "http://charity.example.org",
        "https://charity.example.org/tickets",
        "https://charity.example.org?x=1",
        "https://*.example.org",
        "https://charity.example.org:99999",
        "ftp://charity.example.org",
        "https://user@charity.example.org",
        "https://charity.example.org 'unsafe-inline'",
        "https://charity",
        "https://charity.example.org\x07",
        "\n".join(f"https://site{n}.example.org" for n in range(rules.WIDGET_ORIGINS_MAX + 1)),
    ],
)
def test_anything_but_an_origin_is_refused(typed: str) -> None:
    origins, problem = rules.widget_origins(typed)
    assert origins == [] and problem
