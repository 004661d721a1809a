"""Guest languages: choosing one per request, gettext catalogues read from locale/*.po, and dates and lists written
the way each language writes them."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from events.config import PROJECT_ROOT

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "ar", "fr", "fa")
RIGHT_TO_LEFT = frozenset({"ar", "fa"})
LOCALE_COOKIE = "lang"
LOCALE_COOKIE_SECONDS = 365 * 24 * 3600
# The locale used for numbers, currency and dates in each guest language.
FORMAT_LOCALES = {"en": "en_GB", "fr": "fr_FR", "ar": "ar", "fa": "fa_IR"}
LOCALE_DIR = PROJECT_ROOT / "locale"
# Staff pages (the back office, the platform, statements) are in English whatever the guest's language: they use UK
# legal and finance terms (Gift Aid, HMRC, trustees' statements) whose translations nobody has reviewed, and one
# language on a page reads better than a mix. A route handler's ``opt`` carries STAFF_PAGE to say it is one.
STAFF_LOCALE = "en"
STAFF_PAGE = "staff_page"
# The embeddable ticket form's pages, framed on another website, take their language from ?lang= (or the browser),
# never from the language cookie: in a cross-site frame the cookie is not sent, and the page must not depend on it.
FRAMED_PAGE = "framed_page"
# How a language separates the parts of a phrase ("Sunday 15 August 2027, 19:30"; "the hall, its address"): Arabic
# and Farsi with their own comma.
_COMMAS = {"ar": "\u060c ", "fa": "\u060c "}
# Left-to-right and right-to-left marks and the Arabic letter mark, which CLDR puts in some Arabic and Farsi
# patterns. Pages and emails order their text by their ``dir``; where nothing renders the marks (plain-text email,
# a text message, a copied amount) they show as stray characters, so dates and amounts leave them out.
BIDI_MARKS = "\u200e\u200f\u061c"
_NO_BIDI_MARKS = str.maketrans("", "", BIDI_MARKS)


def N_(message: str) -> str:
    """Marks a sentence for translation where it is written; templates translate it where it is shown."""
    return message


class Sentence(str):
    """A sentence for people with values in it, such as a form's "Choose between 1 and %(max)d places.": it reads as
    the English sentence with its values (an API's detail, a log), and keeps the sentence and the values apart so a page
    translates the sentence first and puts the values in after (templating's ``translate`` filter); formatted first,
    no catalogue would know it. Mark the sentence itself with N_ so it is extracted: ``Sentence(N_("..."), max=6)``."""

    msgid: str
    values: Mapping[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Sentence:
        sentence = super().__new__(cls, msgid % values)
        sentence.msgid = msgid
        sentence.values = values
        return sentence

    def in_language(self, translations: NullTranslations) -> str:
        """The sentence in that catalogue's language, its values put in after translating."""
        return translations.gettext(self.msgid) % self.values


def translated(message: str, locale: str) -> str:
    """A run-time sentence (an error detail, a field's problem) in ``locale``: a Sentence translated then given its
    values, any other text translated when the catalogue knows it."""
    catalogue = translations(locale)
    if isinstance(message, Sentence):
        return message.in_language(catalogue)
    return str(catalogue.gettext(str(message)))


# Run before every request: the same few browser headers come again and again (a door phone sends one on every
# scan), so the answers are remembered; bounded, since the headers are whatever a client sends.
@lru_cache(maxsize=512)
def negotiate_locale(requested: str | None, remembered: str | None, accept_language: str | None) -> str:
    """An explicit choice wins, then the remembered one, then the browser's preference, then English."""
    for candidate in (requested, remembered):
        if candidate and candidate.lower() in SUPPORTED_LOCALES:
            return candidate.lower()
    for tag in _accepted(accept_language or ""):
        base = tag.split("-")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return DEFAULT_LOCALE


def _accepted(header: str) -> list[str]:
    weighted: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        if not tag:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((quality, tag))
    return [tag for quality, tag in sorted(weighted, key=lambda item: -item[0]) if quality > 0]


@cache
def translations(locale: str, locale_dir: Path = LOCALE_DIR) -> NullTranslations:
    """The catalogue for a language, compiled in memory from its .po file (no .mo files to build or commit)."""
    po_path = locale_dir / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def without_bidi_marks(text: str) -> str:
    return text.translate(_NO_BIDI_MARKS)


def comma(locale: str) -> str:
    """The separator between the parts of a phrase in this guest language: ", " or the Arabic comma "، "."""
    return _COMMAS.get(locale, ", ")


# Dates and times written, kept per process: every page writes its event's day and time, and Babel takes about a tenth of
# a millisecond for each. They are kept by what they show (the day, or the hour and minute), never by the moment itself:
# two moments in different time zones are equal in Python, yet show different days and times.
WRITTEN_KEPT = 4096


def long_date(moment: date, locale: str) -> str:
    """'Sunday, 15 August 2027'; 'الأحد، 15 أغسطس 2027' (in the moment's own time zone)."""
    return _written_date(_local_day(moment), "full", locale)


def short_date(moment: date, locale: str) -> str:
    """'15 August'."""
    return _written_date(_local_day(moment), "d MMMM", locale)


def clock(moment: datetime, locale: str) -> str:
    """'19:30', on the 24-hour clock in every language (the moment's own time zone's)."""
    return _written_clock(moment.hour, moment.minute, locale)


def _local_day(moment: date) -> date:
    """The day a moment falls on where it is (its own time zone), as a plain date."""
    return moment.date() if isinstance(moment, datetime) else moment


@lru_cache(maxsize=WRITTEN_KEPT)
def _written_date(day: date, pattern: str, locale: str) -> str:
    return without_bidi_marks(format_date(day, format=pattern, locale=_format_locale(locale)))


@lru_cache(maxsize=WRITTEN_KEPT)
def _written_clock(hour: int, minute: int, locale: str) -> str:
    return without_bidi_marks(format_time(time(hour, minute), format="HH:mm", locale=_format_locale(locale)))


def date_and_time(moment: datetime, locale: str) -> str:
    """'Sunday, 15 August 2027, 19:30'; in Arabic and Farsi joined with their comma."""
    return long_date(moment, locale) + comma(locale) + clock(moment, locale)


# Where a written date must not break across lines on a phone: between a day and its month ("6 ديسمبر") and between
# a month and its year. It may still break after a comma (between the weekday, the date and the time).
_UNBREAKABLE_SPACES = re.compile(r"(?<=\d) (?=[^\W\d_])|(?<=[^\W\d_]) (?=\d{4}\b)")


def keep_together(written: str) -> str:
    """A written date with no-break spaces where a line must not break: 'Sunday, 15\u00a0August\u00a02027, 19:30'."""
    return _UNBREAKABLE_SPACES.sub("\u00a0", written)


def timestamp(moment: datetime, locale: str) -> str:
    """When something happened, to the second: '15 Aug 2027, 19:30:05'."""
    return without_bidi_marks(format_datetime(moment, format="medium", locale=_format_locale(locale)))


def _format_locale(locale: str) -> str:
    return FORMAT_LOCALES.get(locale, FORMAT_LOCALES[DEFAULT_LOCALE])


def text_direction(locale: str) -> str:
    return "rtl" if locale in RIGHT_TO_LEFT else "ltr"


def language_names() -> list[tuple[str, str]]:
    """Each supported language named in itself, so a guest can find their own."""
    return [(code, (Locale.parse(code).get_display_name(code) or code).capitalize()) for code in SUPPORTED_LOCALES]
