from datetime import datetime, timedelta, timezone

import pytest

from events.catalogue import rules

NOW = datetime(2027, 7, 1, 12, 0, tzinfo=timezone.utc)


def event(**changes: object) -> rules.EventRule:
    values = {
        "title": "Supper club",
        "starts_at": NOW + timedelta(days=10),
        "ends_at": NOW + timedelta(days=10, hours=3),
        "timezone": "Europe/London",
        "capacity": 40,
        "reserved_free_places": 20,
        "currency": "GBP",
        "booking_fee_pence": 0,
    }
    values.update(changes)
    return rules.EventRule(**values)  # type: ignore[arg-type]


def test_a_sound_event_has_no_problems() -> None:
    assert rules.event_problems(event()) == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"ends_at": NOW + timedelta(days=9)}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"reserved_free_places": 41}, "reserved_free_places"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "pounds"}, "currency"),
        ({"booking_fee_pence": -1}, "booking_fee_pence"),
    ],
)
def test_each_broken_rule_names_its_field(changes: dict[str, object], field: str) -> None:
    assert field in rules.event_problems(event(**changes))


def test_shares_must_add_up_to_exactly_100_percent() -> None:
    assert rules.share_problems([("a", 7000), ("b", 3000)]) == {}
    assert rules.share_problems([]) == {}
    assert "add up to 9999" in rules.share_problems([("a", 7000), ("b", 2999)])["beneficiaries"]
    assert "only once" in rules.share_problems([("a", 5000), ("a", 5000)])["beneficiaries"]


def test_status_changes_follow_the_event_lifecycle() -> None:
    assert rules.status_change_problem("draft", "on_sale", ticket_type_count=1, share_count=1) is None
    assert "ticket type" in (rules.status_change_problem("draft", "on_sale", ticket_type_count=0, share_count=1) or "")
    assert "partner" in (rules.status_change_problem("draft", "on_sale", ticket_type_count=1, share_count=0) or "")
    assert rules.status_change_problem("cancelled", "on_sale", ticket_type_count=1, share_count=1) is not None
    assert rules.status_change_problem("finished", "draft", ticket_type_count=1, share_count=1) is not None
    assert rules.status_change_problem("on_sale", "sales_closed", ticket_type_count=1, share_count=1) is None


def test_availability_is_capacity_less_reserved_free_places_less_places_taken() -> None:
    assert rules.places_left(capacity=40, reserved_free_places=20, places_taken=8) == 12
    assert rules.places_left(capacity=40, reserved_free_places=20, places_taken=25) == 0
    assert rules.ticket_type_available(12, quota=None, type_places_taken=5) == 12
    assert rules.ticket_type_available(12, quota=10, type_places_taken=5) == 5
    assert rules.ticket_type_available(3, quota=10, type_places_taken=5) == 3


def test_the_places_a_guest_changing_their_order_holds_are_theirs_to_choose_again() -> None:
    """As orders.service._fits places the changed order: it needs only the places beyond those its order gives back."""
    # The last 2 places, theirs: sold out to everyone else, 2 for them.
    assert rules.ticket_type_available(0, quota=None, type_places_taken=0, yours=2, yours_in_event=2) == 2
    assert rules.ticket_type_available(0, quota=10, type_places_taken=10, yours=2, yours_in_event=2) == 2
    # A few left besides: those and theirs.
    assert rules.ticket_type_available(3, quota=None, type_places_taken=0, yours=2, yours_in_event=2) == 5
    # Another type, whose quota has room, may take the event's places their order gives back.
    assert rules.ticket_type_available(0, quota=10, type_places_taken=4, yours=0, yours_in_event=2) == 2
    # A type sold out by its own quota gets back only its own places, whatever the event gives back.
    assert rules.ticket_type_available(5, quota=4, type_places_taken=4, yours=1, yours_in_event=3) == 1


def test_a_type_is_on_sale_online_only_inside_its_window_on_a_public_event() -> None:
    end = NOW + timedelta(days=1)
    assert rules.on_sale_online("on_sale", "online", None, end, NOW)
    assert not rules.on_sale_online("on_sale", "online", None, end, end)
    assert not rules.on_sale_online("on_sale", "door", None, None, NOW)
    assert not rules.on_sale_online("draft", "both", None, None, NOW)
    assert not rules.on_sale_online("on_sale", "both", NOW + timedelta(hours=1), None, NOW)


def test_sale_windows_are_described_as_people_say_them() -> None:
    end = NOW + timedelta(days=19)
    assert rules.sale_window_phrase("online", None, end, NOW) == ("until", end)
    assert rules.sale_window_phrase("door", None, None, NOW) == ("door", None)
    assert rules.sale_window_phrase("online", None, end, end) == ("ended", end)
    assert rules.sale_window_phrase("both", end, None, NOW) == ("from", end)


def test_slugs_come_from_titles() -> None:
    assert rules.slugify("Choose Love Night!") == "choose-love-night"
    assert rules.slugify("Café  Soirée – 2027") == "cafe-soiree-2027"
    assert rules.slug_problem("Bad Slug") is not None
    assert rules.slug_problem("august-supper-club") is None
