"""An order's history notes at display: times at the event's venue, amounts in pence read as amounts, the rest as
written (the stored note never changes)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from events.backoffice.history import DetailPart, detail_parts

LONDON = ZoneInfo("Europe/London")


def test_a_hold_note_shows_its_time_at_the_venue() -> None:
    parts = detail_parts("2 places held until 2026-12-05T06:19:54.737993+00:00", LONDON)
    assert parts == (DetailPart(text="2 places held until "), DetailPart(moment=datetime(2026, 12, 5, 6, 19, 54, 737993, tzinfo=LONDON)))
    summer = detail_parts("refund on 2027-08-01T23:30:00+00:00 unless donated", LONDON)
    assert summer[1].moment is not None and summer[1].moment.utcoffset() is not None
    assert (summer[1].moment.day, summer[1].moment.hour) == (2, 0)  # 00:30 BST, the next day at the venue


def test_amounts_in_pence_are_amounts_and_the_rest_is_text() -> None:
    assert detail_parts("3600 pence, 2 tickets: Ill", LONDON) == (DetailPart(pence=3600), DetailPart(text=", 2 tickets: Ill"))
    assert detail_parts("", LONDON) == ()
    assert detail_parts("Ticket 12 re-issued as version 2", LONDON) == (DetailPart(text="Ticket 12 re-issued as version 2"),)
    # Not a time (no such day), and a number that is part of a word: left as written.
    assert detail_parts("held until 2026-13-45T99:00", LONDON) == (DetailPart(text="held until 2026-13-45T99:00"),)
    assert detail_parts("ref A12 pence", LONDON) == (DetailPart(text="ref A12 pence"),)
