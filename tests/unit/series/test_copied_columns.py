"""Every column of an event, a ticket type and a question is either copied or starts fresh on a copy: a new column
fails here until someone decides which (a counter copied would start the copy half sold)."""

from __future__ import annotations

import pytest
from piccolo.table import Table

from events.catalogue import copying
from events.catalogue.tables import Event, TicketType
from events.questions import copying as question_copying
from events.questions.tables import Question


@pytest.mark.parametrize(
    ("table", "copied", "fresh"),
    [
        (Event, copying.COPIED_EVENT_FIELDS, copying.FRESH_EVENT_FIELDS),
        (TicketType, copying.COPIED_TYPE_FIELDS + copying.MOVED_TYPE_FIELDS, copying.FRESH_TYPE_FIELDS),
        (Question, question_copying.COPIED_QUESTION_FIELDS, question_copying.FRESH_QUESTION_FIELDS),
    ],
    ids=["event", "ticket type", "question"],
)
def test_each_column_is_copied_or_fresh(table: type[Table], copied: tuple[str, ...], fresh: tuple[str, ...]) -> None:
    columns = {column._meta.name for column in table._meta.columns}
    assert not set(copied) & set(fresh)
    assert set(copied) | set(fresh) == columns


def test_counters_start_fresh() -> None:
    assert {"places_taken", "free_places_claimed", "status", "unused_contributions"} <= set(copying.FRESH_EVENT_FIELDS)
    assert "places_taken" in copying.FRESH_TYPE_FIELDS
