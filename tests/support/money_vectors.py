"""The money format's shared test vectors (tests/vectors/money.json): for each language and currency the pages
show, the format the money_format filter gives the pages' scripts, and amounts as money.py writes them.

tests/unit/test_money_vectors.py checks that the file is what this module builds (so what money.py writes today);
tests/js/money.test.mjs checks that static/js/money.js writes every amount the same from the format alone.
Regenerate after changing money.py: ``PYTHONPATH=src python -m tests.support.money_vectors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from events.i18n import FORMAT_LOCALES
from events.money import format_money, money_format

PATH = Path(__file__).resolve().parents[1] / "vectors" / "money.json"

CURRENCIES = ("GBP", "EUR", "JPY")  # two decimals, and none
AMOUNTS = (0, 1, 5, 50, 95, 100, 105, 1250, 9500, 10000, 99999, 100000, 100050, 123456, 1234567, 99999999, 123456789)


def build() -> list[dict[str, Any]]:
    return [
        {
            "locale": locale,
            "currency": currency,
            "format": json.loads(money_format(currency, locale)),
            "amounts": [[minor_units, format_money(minor_units, currency, locale)] for minor_units in AMOUNTS],
        }
        for locale in sorted(set(FORMAT_LOCALES.values()))
        for currency in CURRENCIES
    ]


def dumps(vectors: list[dict[str, Any]]) -> str:
    return json.dumps(vectors, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    PATH.write_text(dumps(build()))
