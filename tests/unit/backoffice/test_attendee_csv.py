"""Attendee CSV cells that a spreadsheet must not run as formulas."""

import pytest

from events.backoffice.orders import safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_cells_that_would_start_a_formula_are_kept_as_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_ordinary_cells_are_left_alone() -> None:
    assert safe_cell("Amal Haddad") == "Amal Haddad" and safe_cell("K7M-4QX") == "K7M-4QX" and safe_cell(None) == ""
