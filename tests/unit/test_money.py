import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.money import format_money, split_pence


def test_split_follows_largest_remainder_with_earlier_parts_winning_ties() -> None:
    assert split_pence(100, [1, 1, 1]) == [34, 33, 33]
    assert split_pence(1000, [7000, 3000]) == [700, 300]
    assert split_pence(1, [7000, 3000]) == [1, 0]
    assert split_pence(5, [1, 2]) == [2, 3]  # 1.67 and 3.33: the larger remainder (.67) gets the penny


def test_a_negative_amount_splits_as_the_mirror_of_the_positive() -> None:
    assert split_pence(-100, [1, 1, 1]) == [-34, -33, -33]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_split_rejects_weights_that_cannot_share(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        split_pence(100, weights)


@settings(max_examples=2000)
@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_split_never_loses_or_invents_a_penny(total: int, weights: list[int]) -> None:
    parts = split_pence(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / weight_sum
        assert abs(part - exact) < 1  # each part is within a penny of its exact share
        if weight == 0:
            assert part == 0


def test_prices_read_as_people_write_them() -> None:
    assert format_money(600) == "£6"
    assert format_money(3000) == "£30"
    assert format_money(1250) == "£12.50"
    assert format_money(50) == "£0.50"
    assert format_money(123456) == "£1,234.56"
    assert format_money(900, "EUR", "fr_FR") == "9\u00a0€"


@pytest.mark.parametrize(
    ("locale", "whole", "pence", "thousands"),
    [
        ("en_GB", "£30", "£12.50", "£1,234.56"),
        ("fr_FR", "30\u00a0£", "12,50\u00a0£", "1\u202f234,56\u00a0£"),
        ("ar", "30\u00a0£", "12.50\u00a0£", "1,234.56\u00a0£"),
        ("fa_IR", "£\u00a030", "£\u00a012.50", "£\u00a01,234.56"),
    ],
)
def test_each_language_writes_pounds_its_own_way_with_the_pound_sign(locale: str, whole: str, pence: str, thousands: str) -> None:
    assert (format_money(3000, "GBP", locale), format_money(1250, "GBP", locale), format_money(123456, "GBP", locale)) == (whole, pence, thousands)


@pytest.mark.parametrize("locale", ["en_GB", "fr_FR", "ar", "fa_IR"])
@pytest.mark.parametrize("pence", [0, 5, 3000, 1250, 123456, -500])
def test_no_amount_carries_a_country_code_or_a_bidi_mark(locale: str, pence: int) -> None:
    amount = format_money(pence, "GBP", locale)
    assert "£" in amount
    for unwanted in ("UK", "GB", "\u200e", "\u200f", "\u061c"):
        assert unwanted not in amount, (locale, pence, amount)
