"""Questions API shapes (msgspec): an organiser's question, a guest's answer in an order or a claim, the kitchen list."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from events import text
from events.questions import rules
from events.questions.rules import Given
from events.questions.statuses import QuestionKind
from events.row_ids import RowId


class QuestionIn(Struct, forbid_unknown_fields=True):
    """A question for the event's guests: your own (``kind``, ``label`` and, for choices, two or more ``options``), or
    the ready-made ``"preset": "dietary"`` (dietary and allergen needs: its kind and options are its own, its label
    and help text unless you give them). ``per_ticket`` asks each guest (else once per order); ``ticket_types`` limits
    it to those types (none: every type); ``door_flag`` shows a short flag on an answering guest's ticket in the door
    search (default: the preset's, else false)."""

    preset: Literal["dietary"] | None = None
    kind: QuestionKind | None = None
    label: Annotated[str, Meta(max_length=rules.LABEL_MAX), text.OPTIONAL_LINE] = ""
    help_text: Annotated[str, Meta(max_length=rules.HELP_MAX), text.OPTIONAL_TEXT] = ""
    options: list[Annotated[str, Meta(min_length=1, max_length=rules.OPTION_LABEL_MAX), text.LINE]] = msgspec.field(default_factory=list)
    required: bool = False
    per_ticket: bool = True
    door_flag: bool | None = None
    ticket_types: list[RowId] = msgspec.field(default_factory=list)

    def draft(self) -> rules.Draft:
        preset = rules.PRESETS.get(self.preset or "")
        door_flag = self.door_flag if self.door_flag is not None else bool(preset and preset.door_flag)
        return rules.Draft(
            kind=str(preset.kind if preset else self.kind or ""),
            label=self.label,
            help_text=self.help_text,
            options=tuple(self.options),
            required=self.required,
            per_ticket=self.per_ticket,
            door_flag=door_flag,
            ticket_types=tuple(self.ticket_types),
        )


class OptionOut(Struct):
    key: str
    label: str
    takes_note: bool


class QuestionOut(Struct):
    id: int
    kind: QuestionKind
    label: str
    help_text: str
    preset: str
    options: list[OptionOut]
    required: bool
    per_ticket: bool
    door_flag: bool
    ticket_types: list[int]
    position: int
    answers: int  # how many answers it has (never what they are)


class AnswerIn(Struct, forbid_unknown_fields=True):
    """One answer: ``question`` is its id (``GET /api/events/{slug}/questions``); ``ticket_index`` which ticket (0 is
    the first of the order's tickets, its ``items`` expanded in order; leave it out for a per-order question, or when
    only one ticket is asked); ``value`` the text (one line), the option's ``key``, ``"yes"``/``"no"``, or a list of
    keys for several choices; ``note`` goes with the option that takes one (the dietary preset's ``other``)."""

    question: RowId
    value: (
        Annotated[str, Meta(max_length=rules.TEXT_ANSWER_MAX), text.OPTIONAL_LINE] | list[Annotated[str, Meta(max_length=100), text.LINE]] | None
    ) = None
    ticket_index: Annotated[int, Meta(ge=0, le=1000)] | None = None
    note: Annotated[str, Meta(max_length=rules.NOTE_MAX), text.OPTIONAL_LINE] = ""

    def given(self, position: int) -> Given:
        return Given(self.question, self.ticket_index, self.value, self.note, where=f"answers[{position}]")


def given_answers(answers: list[AnswerIn]) -> list[Given]:
    return [answer.given(position) for position, answer in enumerate(answers)]


class TallyOut(Struct):
    key: str
    label: str
    count: int


class QuestionCountsOut(Struct):
    question: int
    label: str
    kind: QuestionKind
    per_ticket: bool
    asked: int
    answered: int
    unanswered: int
    counts: list[TallyOut]
    notes: int


class KitchenListOut(Struct):
    """Counts only, never who: the valid tickets of paid orders (``guests``), and for each question how many tickets
    (or orders, for a per-order question) were asked it, answered it, and chose each answer."""

    event: str
    guests: int
    questions: list[QuestionCountsOut]
