from hypothesis import given
from hypothesis import strategies as st

from events.catalogue.freeplaces import free_places, funded_places, funded_places_used


def test_contributions_build_up_into_whole_places() -> None:
    assert funded_places(0, 3000) == 0
    assert funded_places(2999, 3000) == 0
    assert funded_places(3000, 3000) == 1
    assert funded_places(14 * 3000 + 1500, 3000) == 14
    assert funded_places(10_000, 0) == 0  # the event takes no pay-it-forward


def test_funded_places_are_taken_up_by_free_guests_first_and_never_more_than_funded() -> None:
    assert funded_places_used(funded=5, claimed=3) == 3
    assert funded_places_used(funded=5, claimed=15) == 5  # the rest came on reserved places
    assert funded_places_used(funded=0, claimed=4) == 0


def test_reserved_places_are_free_whatever_the_funding() -> None:
    places = free_places(capacity=40, reserved=20, places_taken=10, claimed=11, contributions_pence=0, place_value_pence=3000, converts_general=False)
    assert (places.reserved, places.funded, places.claimed, places.available) == (20, 0, 11, 9)


def test_extra_funded_places_turn_general_places_free_only_when_chosen_and_while_they_last() -> None:
    common = {"capacity": 40, "reserved": 20, "claimed": 20, "contributions_pence": 25 * 3000, "place_value_pence": 3000}
    assert free_places(**common, places_taken=0, converts_general=False).available == 0
    assert free_places(**common, places_taken=0, converts_general=True).available == 5
    assert free_places(**common, places_taken=18, converts_general=True).available == 2  # only 2 general places left
    assert free_places(**{**common, "claimed": 23}, places_taken=3, converts_general=True).available == 2  # 3 already converted


@given(
    capacity=st.integers(min_value=1, max_value=500),
    reserved_share=st.floats(min_value=0, max_value=1),
    taken_share=st.floats(min_value=0, max_value=1),
    claimed_share=st.floats(min_value=0, max_value=1.5),
    contributions=st.integers(min_value=0, max_value=10_000_000),
    place_value=st.integers(min_value=0, max_value=10_000),
    converts=st.booleans(),
)
def test_funded_places_are_whole_never_negative_and_never_beyond_capacity(
    capacity: int, reserved_share: float, taken_share: float, claimed_share: float, contributions: int, place_value: int, converts: bool
) -> None:
    reserved = int(capacity * reserved_share)
    places_taken = int((capacity - reserved) * taken_share)
    claimed = min(int(reserved * claimed_share), reserved + places_taken)
    places = free_places(
        capacity=capacity,
        reserved=reserved,
        places_taken=places_taken,
        claimed=claimed,
        contributions_pence=contributions,
        place_value_pence=place_value,
        converts_general=converts,
    )
    assert places.funded == (contributions // place_value if place_value > 0 else 0)
    assert places.funded >= 0 and places.available >= 0
    general_left = capacity - reserved - places_taken
    assert places.available <= max(0, reserved - claimed) + (general_left if converts else 0)
    assert claimed + places.available <= capacity  # never more free guests than the room holds
