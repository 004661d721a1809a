"""The audit log shows what an organiser reads: pounds, per cent, local times, yes and no, never raw pence or JSON."""

from __future__ import annotations

from events.audit.display import ShownChange, shown_changes


def test_amounts_shares_times_and_flags_read_as_an_organiser_writes_them() -> None:
    changes = [
        ("refunded_pence", 0, 3150),
        ("shares", {}, {"help-refugees": 3000, "refugee-chefs-collective": 7000}),
        ("paid_on", None, "2026-12-07T12:00:00+00:00"),
        ("tickets_refunded", None, [19, 20]),
        ("by_hand", None, False),
        ("override_reason", None, ""),  # nothing to show
        ("share_bp", 2500, 2500),
    ]
    assert shown_changes(changes) == [
        ShownChange("refunded", "£0", "£31.50"),
        ShownChange("shares", "—", "help-refugees: 30%, refugee-chefs-collective: 70%"),
        ShownChange("paid on", None, "7 Dec 2026, 12:00"),
        ShownChange("tickets refunded", None, "19, 20"),
        ShownChange("by hand", None, "no"),
        ShownChange("share", None, "25%"),
    ]


def test_times_are_the_events_own_and_amounts_its_currency() -> None:
    [summer, euros] = shown_changes([("starts_at", None, "2026-07-01T18:00:00+00:00"), ("price_pence", 1200, 1500)], currency="EUR")
    assert summer.after == "1 Jul 2026, 19:00"  # British Summer Time at the venue
    assert euros.before == "€12" and euros.after == "€15"
    [paris] = shown_changes([("starts_at", None, "2026-07-01T18:00:00+00:00")], timezone="Europe/Paris")
    assert paris.after == "1 Jul 2026, 20:00"
