"""The money format's shared test vectors (tests/vectors/money.json), checked against money.py: the amounts are
written as format_money writes them, in the format money_format gives the pages. tests/js/money.test.mjs checks
static/js/money.js against the same file, so a live total on a page cannot drift from the server's amounts."""

from __future__ import annotations

import json

from events.i18n import FORMAT_LOCALES
from events.money import format_money
from tests.support import money_vectors


def test_the_vectors_file_is_what_money_py_writes_today() -> None:
    assert money_vectors.PATH.read_text() == money_vectors.dumps(money_vectors.build()), (
        "tests/vectors/money.json is out of date: PYTHONPATH=src python -m tests.support.money_vectors"
    )


def test_the_vectors_cover_every_language_with_whole_and_part_amounts() -> None:
    vectors = json.loads(money_vectors.PATH.read_text())
    assert {vector["locale"] for vector in vectors} == set(FORMAT_LOCALES.values())
    gbp = {vector["locale"]: dict(vector["amounts"]) for vector in vectors if vector["currency"] == "GBP"}
    assert gbp["en_GB"][9500] == "£95" and gbp["en_GB"][1250] == "£12.50" and gbp["en_GB"][123456789] == "£1,234,567.89"
    assert gbp["fr_FR"][100050] == "1\u202f000,50\xa0£"
    for locale, amounts in gbp.items():
        for minor_units, written in amounts.items():
            assert written == format_money(minor_units, "GBP", locale)
