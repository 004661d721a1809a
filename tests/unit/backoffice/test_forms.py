"""Amounts typed by organisers, and CSV cells that a spreadsheet must not run."""

import pytest

from events.backoffice.forms import AmountNotUnderstood, parse_amount
from events.backoffice.orders import safe_cell


@pytest.mark.parametrize(("text", "pence"), [("12.50", 1250), ("£12.50", 1250), ("12,5", 1250), (" 7 ", 700), ("0.01", 1), ("", None)])
def test_amounts_are_read_as_pence(text: str, pence: int | None) -> None:
    assert parse_amount(text) == pence


@pytest.mark.parametrize("text", ["ten", "12.505", "-5", "1e3", "12.50.1"])
def test_amounts_that_are_not_money_are_refused(text: str) -> None:
    with pytest.raises(AmountNotUnderstood):
        parse_amount(text)


@pytest.mark.parametrize("text", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_cells_that_would_start_a_formula_are_kept_as_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_ordinary_cells_are_left_alone() -> None:
    assert safe_cell("Amal Haddad") == "Amal Haddad" and safe_cell("K7M-4QX") == "K7M-4QX" and safe_cell(None) == ""
