import re
from datetime import datetime
from gettext import NullTranslations
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from events import i18n


def test_an_explicit_choice_beats_the_cookie_which_beats_the_browser() -> None:
    assert i18n.negotiate_locale("ar", "fr", "fa") == "ar"
    assert i18n.negotiate_locale(None, "fr", "fa") == "fr"
    assert i18n.negotiate_locale(None, None, "de-DE,fa;q=0.8,en;q=0.5") == "fa"
    assert i18n.negotiate_locale("xx", None, "fr-CA") == "fr"
    assert i18n.negotiate_locale(None, None, None) == "en"


def test_arabic_and_farsi_read_right_to_left() -> None:
    assert i18n.text_direction("ar") == "rtl"
    assert i18n.text_direction("fa") == "rtl"
    assert i18n.text_direction("fr") == "ltr"


def test_each_language_is_named_in_itself() -> None:
    names = dict(i18n.language_names())
    assert names["ar"] == "العربية"
    assert names["fr"] == "Français"
    assert names["fa"] == "فارسی"


EVENING = datetime(2027, 8, 15, 19, 30, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize(
    ("locale", "written"),
    [
        ("en", "Sunday, 15 August 2027, 19:30"),
        ("fr", "dimanche 15 août 2027, 19:30"),
        ("ar", "الأحد، 15 أغسطس 2027، 19:30"),
        ("fa", "یکشنبه 15 اوت 2027، 19:30"),
    ],
)
def test_each_language_writes_the_day_and_time_with_its_own_punctuation(locale: str, written: str) -> None:
    assert i18n.date_and_time(EVENING, locale) == written
    assert i18n.clock(EVENING, locale) == "19:30"


def test_one_moment_is_written_in_the_time_zone_it_is_given_in_whichever_was_written_first() -> None:
    """Written dates and times are kept once written; an event in Tehran and one in London at the same instant are
    equal moments to Python, yet their pages must each show their own day and time."""
    late_in_london = datetime(2027, 8, 15, 23, 30, tzinfo=ZoneInfo("Europe/London"))
    same_moment_in_tehran = late_in_london.astimezone(ZoneInfo("Asia/Tehran"))
    assert late_in_london == same_moment_in_tehran
    for first, then in ((late_in_london, same_moment_in_tehran), (same_moment_in_tehran, late_in_london)):
        i18n.date_and_time(first, "en")
        assert i18n.date_and_time(then, "en") == ("Sunday, 15 August 2027, 23:30" if then is late_in_london else "Monday, 16 August 2027, 02:00")
        assert i18n.short_date(then, "en") == ("15 August" if then is late_in_london else "16 August")


@pytest.mark.parametrize(
    ("locale", "kept"),
    [
        ("en", "Sunday, 15\u00a0August\u00a02027, 19:30"),
        ("fr", "dimanche 15\u00a0août\u00a02027, 19:30"),
        ("ar", "الأحد، 15\u00a0أغسطس\u00a02027، 19:30"),
    ],
)
def test_a_day_stays_with_its_month_and_year_on_a_narrow_screen(locale: str, kept: str) -> None:
    """A phone may break the line after a comma, never between "15" and its month ("6 ديسمبر" stays whole)."""
    assert i18n.keep_together(i18n.date_and_time(EVENING, locale)) == kept
    assert i18n.keep_together("19:30") == "19:30"


@pytest.mark.parametrize(("locale", "comma"), [("en", ", "), ("fr", ", "), ("ar", "، "), ("fa", "، ")])
def test_arabic_and_farsi_join_parts_with_the_arabic_comma(locale: str, comma: str) -> None:
    assert i18n.comma(locale) == comma


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_no_date_carries_a_bidi_mark(locale: str) -> None:
    for written in (i18n.long_date(EVENING, locale), i18n.short_date(EVENING, locale), i18n.timestamp(EVENING, locale)):
        assert not set(i18n.BIDI_MARKS) & set(written), (locale, written)


@pytest.mark.parametrize("locale", [code for code in i18n.SUPPORTED_LOCALES if code != i18n.DEFAULT_LOCALE])
def test_every_sentence_is_translated_into_each_guest_language(locale: str) -> None:
    """A sentence left untranslated shows in English to a guest who chose their own language: `make messages`
    extracts new sentences, and each one is translated before it lands."""
    with (i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalogue = read_po(po_file, locale=locale)
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as pot_file:
        template = read_po(pot_file)
    assert {message.id for message in template if message.id} <= {message.id for message in catalogue if message.id}, "run `make messages`"
    untranslated = [
        message.id for message in catalogue if message.id and not (all(message.string) if isinstance(message.string, tuple) else message.string)
    ]
    assert untranslated == []
    assert [message.id for message in catalogue if message.id and message.fuzzy] == []
    assert list(catalogue.check()) == []  # placeholders agree with the English
    # A plural's general form (the last: many, other) says every value its English plural does: "3 places", never "a
    # place" (Babel's check lets a plural form leave a value out, as a language's "one" form may).
    dropped = [
        message.id[1]
        for message in catalogue
        if isinstance(message.id, tuple) and set(re.findall(r"%\((\w+)\)", message.id[1])) - set(re.findall(r"%\((\w+)\)", message.string[-1]))
    ]
    assert dropped == []


class _French(NullTranslations):
    """A catalogue that knows one sentence (the real ones are filled in by translators)."""

    def gettext(self, message: str) -> str:
        return {"Choose between 1 and %(max)d places.": "Choisissez entre 1 et %(max)d places."}.get(message, message)


def test_a_sentence_with_values_reads_in_english_and_is_translated_before_its_values_go_in() -> None:
    sentence = i18n.Sentence(i18n.N_("Choose between 1 and %(max)d places."), max=6)
    assert sentence == "Choose between 1 and 6 places." and isinstance(sentence, str)  # an API's detail, as before
    assert sentence.in_language(_French()) == "Choisissez entre 1 et 6 places."
    assert i18n.translated(sentence, "en") == "Choose between 1 and 6 places."


def test_the_translate_filter_translates_a_sentence_then_puts_its_values_in(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from events.templating import create_environment

    monkeypatch.setattr(i18n, "translations", lambda locale, *_: _French() if locale == "fr" else NullTranslations())
    template = create_environment(i18n.PROJECT_ROOT / "templates").from_string("<p>{{ problem | translate }}</p>")
    problem = i18n.Sentence(i18n.N_("Choose between 1 and %(max)d places."), max=6)
    assert template.render(request=SimpleNamespace(state=SimpleNamespace(locale="fr")), problem=problem) == "<p>Choisissez entre 1 et 6 places.</p>"
    # Values are text, never markup.
    hostile = i18n.Sentence("Hello %(name)s", name="<b>x</b>")
    assert "<b>" not in template.render(request=SimpleNamespace(state=SimpleNamespace(locale="fr")), problem=hostile)
