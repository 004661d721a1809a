"""Text layout for PDFs: a font per script, Arabic and Farsi shaped and in visual order, wrapping to a width."""

from __future__ import annotations

import unicodedata

import pytest

from events.pdf import text


def test_latin_text_is_one_noto_sans_run() -> None:
    assert text.visual_runs("Amal Haddad") == (("NotoSans", "Amal Haddad"),)
    assert text.visual_runs("Zoë O'Neill – Łódź", bold=True) == (("NotoSans-Bold", "Zoë O'Neill – Łódź"),)


@pytest.mark.parametrize("name", ["ليلى حداد", "سارا احمدی", "مریم رضایی", "عبد الله السلام", "پژمان گلچین"])
def test_arabic_and_farsi_names_are_shaped_and_reversed_for_drawing(name: str) -> None:
    [(font, drawn)] = text.visual_runs(name)
    assert font == "NotoSansArabic"
    # Joined (presentation) forms, not the isolated letters that would render as a string of unjoined letters.
    assert all(0xFB50 <= ord(char) <= 0xFEFF or char == " " for char in drawn)
    # Drawn left to right, so reading it backwards and unshaping gives the name back.
    assert unicodedata.normalize("NFKC", drawn[::-1]) == name
    # Every glyph is in the embedded Arabic font.
    _, arabic = text.fonts()
    assert all(ord(char) in arabic.covers for char in drawn)


def test_mixed_names_use_each_script_font_in_visual_order() -> None:
    runs = text.visual_runs("Amal ليلى")
    assert [font for font, _ in runs] == ["NotoSans", "NotoSansArabic"]
    assert runs[0][1] == "Amal " and unicodedata.normalize("NFKC", runs[1][1][::-1]) == "ليلى"
    # A right-to-left name with a Latin part: the Latin reads left to right, brackets face the right way.
    runs = text.visual_runs("سارا احمدی (Sara)")
    drawn = "".join(text for _, text in runs)
    assert drawn.startswith("(Sara) ")
    assert [font for font, _ in runs] == ["NotoSans", "NotoSansArabic"]


def test_lines_wrap_within_the_width_and_end_with_an_ellipsis_when_cut() -> None:
    title = "A very long fundraising gala dinner title that goes on and on " * 3
    lines = text.wrap(title, 16, True, 200, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(text.text_width(line, 16, True) <= 200 for line in lines)
    assert text.wrap("short", 16, True, 200, 2) == ("short",)
    assert text.wrap("", 16, True, 200, 2) == ()
    long_word = "x" * 200
    assert all(text.text_width(line, 10, False) <= 100 for line in text.wrap(long_word, 10, False, 100, 10))


def test_a_right_to_left_line_puts_its_numbers_and_latin_where_a_right_to_left_reader_expects_them() -> None:
    """An Arabic page's own line (a date, a time range) is a right-to-left paragraph, even where it starts with a
    number or holds no letter at all; text a person typed takes its direction from its first letter."""
    assert text.visual_runs("19:00–22:30", direction="rtl") == (("NotoSans", "22:30–19:00"),)  # 19:00 read first, from the right
    assert text.visual_runs("19:00–22:30") == (("NotoSans", "19:00–22:30"),)
    # An isolated left-to-right part keeps its sign in front; the isolates themselves are not drawn.
    [(_, drawn)] = text.visual_runs("19:00–22:30 \u2066+0100\u2069", direction="rtl")
    assert drawn == "+0100 22:30–19:00"
    # Babel's Arabic dates may carry right-to-left marks: they steer the order and are then dropped.
    drawn = "".join(chunk for _, chunk in text.visual_runs("20\u200f/08\u200f/2026", direction="rtl"))
    assert "\u200f" not in drawn
    # An English title on an Arabic page reads as written.
    assert text.visual_runs("August Supper Club") == (("NotoSans", "August Supper Club"),)
