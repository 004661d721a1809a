"""Copying an event's questions to a copy of the event (events.series): each question still asked, with the ticket
types it is limited to as the copy's own types. Never an answer. In the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from events.questions.tables import Question, QuestionTicketType

COPIED_QUESTION_FIELDS = ("kind", "label", "help_text", "preset", "options", "required", "per_ticket", "door_flag", "position")
# The copy's own: its event, when it was made; a removed question is not copied at all.
FRESH_QUESTION_FIELDS = ("id", "event", "created_at", "removed_at")


async def copy_questions(source_event_id: int, target_event_id: int, ticket_types: Mapping[int, int], *, now: datetime) -> int:
    """Copy the questions of ``source_event_id`` (not removed ones) to ``target_event_id``; ``ticket_types`` maps each
    of the source's ticket type ids to the copy's. Returns how many questions were copied."""
    questions = (
        await Question.select()
        .where(Question.event == source_event_id, Question.removed_at.is_null())
        .order_by(Question.position)
        .order_by(Question.id)
    )
    limits: dict[int, list[int]] = {}
    if questions:
        rows = await QuestionTicketType.select(QuestionTicketType.question, QuestionTicketType.ticket_type).where(
            QuestionTicketType.question.is_in([question["id"] for question in questions])
        )
        for row in rows:
            limits.setdefault(row["question"], []).append(row["ticket_type"])
    for question in questions:
        copy = Question(**{name: question[name] for name in COPIED_QUESTION_FIELDS}, event=target_event_id, created_at=now)
        await copy.save()
        # Every ticket type is copied with the event, so each limit has its copy (a missing one is a bug: KeyError).
        for type_id in sorted(limits.get(question["id"], [])):
            await QuestionTicketType(question=copy.id, ticket_type=ticket_types[type_id]).save()
    return len(questions)
