"""Guest languages: choosing one per request, and gettext catalogues read from locale/*.po."""

from __future__ import annotations

import io
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from events.config import PROJECT_ROOT

DEFAULT_LOCALE = "en"
SUPPORTED_LOCALES = ("en", "ar", "fr", "fa")
RIGHT_TO_LEFT = frozenset({"ar", "fa"})
LOCALE_COOKIE = "lang"
# The locale used for numbers, currency and dates in each guest language.
FORMAT_LOCALES = {"en": "en_GB", "fr": "fr_FR", "ar": "ar", "fa": "fa_IR"}
LOCALE_DIR = PROJECT_ROOT / "locale"


def N_(message: str) -> str:
    """Marks a sentence for translation where it is written; templates translate it where it is shown."""
    return message


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


def text_direction(locale: str) -> str:
    return "rtl" if locale in RIGHT_TO_LEFT else "ltr"


def language_names() -> list[tuple[str, str]]:
    """Each supported language named in itself, so a guest can find their own."""
    return [(code, (Locale.parse(code).get_display_name(code) or code).capitalize()) for code in SUPPORTED_LOCALES]
