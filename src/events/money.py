"""Money as integer minor units (pence): splitting without losing a penny, and display formatting."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, get_currency_symbol, parse_pattern

from events.i18n import without_bidi_marks

BASIS_POINTS_WHOLE = 10_000
# Whose currency symbols every language shows: "£" rather than French "£GB" or Arabic "UK£".
SYMBOL_LOCALE = "en_GB"


def split_pence(total_pence: int, weights: Sequence[int]) -> list[int]:
    """Split an amount in proportion to non-negative integer weights, by the largest-remainder method.

    Every part is the floor of its exact share; the pennies left over go one each to the parts
    with the largest remainders, ties broken by position (earlier first). The parts always sum
    to ``total_pence``. A negative total (a reversal) is split as the mirror of the positive one.
    """
    if not weights:
        raise ValueError("split_pence needs at least one weight")
    if any(weight < 0 for weight in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    if total_pence < 0:
        return [-part for part in split_pence(-total_pence, weights)]
    floors = [total_pence * weight // weight_sum for weight in weights]
    remainders = [total_pence * weight % weight_sum for weight in weights]
    leftover = total_pence - sum(floors)
    by_largest_remainder = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in by_largest_remainder[:leftover]:
        floors[index] += 1
    return floors


def minor_unit_digits(currency: str) -> int:
    return get_currency_precision(currency)


# Amounts written, kept per process: a page writes the same few prices and totals again and again, and Babel takes
# about a tenth of a millisecond for each. Bounded; an entry is a short string.
AMOUNTS_KEPT = 4096


@lru_cache(maxsize=AMOUNTS_KEPT)
def format_money(minor_units: int, currency: str = "GBP", locale: str = "en_GB") -> str:
    """'£6', '£30', '£12.50': whole amounts drop their zeros, as people write prices.

    In every language the amount is written the language's way (its separators, which side the symbol goes)
    with the symbol a UK charity's guests know: '30 £' in French and Arabic, never '30 £GB' or '30 UK£'. The
    bidi marks that CLDR puts in Arabic and Farsi amounts are left out: a page's or email's ``dir`` already
    orders the text, and where nothing renders them (a plain-text email, a text message) they show as stray
    characters or break a copied amount."""
    digits = minor_unit_digits(currency)
    amount = Decimal(minor_units).scaleb(-digits)
    whole = minor_units % (10**digits) == 0
    return format_currency(amount, currency, locale=locale, format=_pattern(locale, currency, whole=whole), currency_digits=not whole)


@cache
def _pattern(locale: str, currency: str, *, whole: bool) -> str:
    """The language's currency pattern, with the UK's symbol written in, its bidi marks left out, and for a whole
    amount no decimals."""
    pattern = without_bidi_marks(Locale.parse(locale).currency_formats["standard"].pattern)
    pattern = pattern.replace("¤", "'" + get_currency_symbol(currency, SYMBOL_LOCALE) + "'")
    return pattern.replace(".00", "") if whole else pattern


@cache
def money_format(currency: str = "GBP", locale: str = "en_GB") -> str:
    """As JSON, how format_money writes a non-negative amount in ``currency`` and ``locale``, as data for the pages' scripts
    (static/js/money.js), so a live total is written exactly as the server writes amounts: the text before and after
    the number, the decimal and group separators, the group sizes (the first from the right, then the others) and
    the minor unit's digits. Read from format_money's own output, so the two cannot differ."""
    digits = minor_unit_digits(currency)
    one = format_money(10**digits, currency, locale)
    prefix, _, suffix = one.partition("1")
    sample = format_money(1234567 * 10**digits + (12 if digits else 0), currency, locale)  # 1,234,567.12
    number = sample[len(prefix) : len(sample) - len(suffix)]
    group = number[1 : number.index("234")]
    decimal = number[number.index("567") + 3 : number.rindex("12")] if digits else ""
    grouping = parse_pattern(_pattern(locale, currency, whole=True)).grouping
    return json.dumps({"prefix": prefix, "suffix": suffix, "decimal": decimal, "group": group, "grouping": list(grouping), "digits": digits})
