"""The questions' HTML forms read and filled: a guest's answers (buying, claiming, changing them later) and an
organiser's question. Pure.

A guest's answer to one slot is the field ``answer_<question>[_<ticket index>]``: the text, the option's key (one
choice, a radio button) or "yes"/"no". Several choices are one checkbox per option, ``<slot>.<key>``, so a form never
repeats a name; the note of the option that takes one is ``<slot>--note`` (keys are [a-z0-9_], so neither suffix can
be an option's key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from events.questions.rules import Draft, Given, Slot, Stored, decode
from events.questions.statuses import QuestionKind

ANSWER_PREFIX = "answer_"
NOTE_SUFFIX = "--note"
# The buy form's second step (the questions) says it is one, so a form sent without answers is asked them first.
ANSWERS_STEP = "answers_step"


def note_name(slot: Slot) -> str:
    return slot.name + NOTE_SUFFIX


def choice_name(slot: Slot, key: str) -> str:
    return f"{slot.name}.{key}"


def given_from_form(form: Mapping[str, str], asked: Sequence[Slot]) -> list[Given]:
    """What a guest answered on a form, slot by slot (fields for no slot are not read)."""
    given: list[Given] = []
    for slot in asked:
        question = slot.question
        if question.kind == QuestionKind.several_choices:
            keys = [option.key for option in question.options if form.get(choice_name(slot, option.key))]
            note = form.get(note_name(slot), "") if question.note_option is not None else ""
            if keys or note.strip():
                given.append(Given(question.id, slot.ticket_index, keys, note, where=slot.name))
        elif (value := form.get(slot.name, "")).strip():
            given.append(Given(question.id, slot.ticket_index, value, where=slot.name))
    return given


def form_values(asked: Sequence[Slot], stored: Iterable[Stored]) -> dict[str, str]:
    """Stored answers as the form's fields, to show a guest what they answered."""
    by_slot = {(answer.question, answer.ticket_index): answer.value for answer in stored}
    values: dict[str, str] = {}
    for slot in asked:
        value = by_slot.get((slot.question.id, slot.ticket_index))
        if value is None:
            continue
        decoded = decode(slot.question.kind, value)
        if slot.question.kind == QuestionKind.several_choices:
            values.update({choice_name(slot, key): "on" for key in decoded.choices})
            if decoded.note:
                values[note_name(slot)] = decoded.note
        elif slot.question.kind == QuestionKind.text:
            values[slot.name] = decoded.text
        elif decoded.choices:
            values[slot.name] = decoded.choices[0]
    return values


def carried_fields(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """The buy form's own fields, carried as hidden fields through the questions step: everything but the CSRF token,
    the step's marker and the answers."""
    return [
        (name, value) for name, value in form.items() if not name.startswith(("_", ANSWER_PREFIX)) and name != ANSWERS_STEP and isinstance(value, str)
    ]


def draft_from_form(form: Mapping[str, str], event_types: Iterable[int]) -> Draft:
    """An organiser's question form: the kind, the words, the choices one per line, the boxes ticked, and the ticket
    types it is limited to (a checkbox ``type_<id>`` each; none ticked: every type)."""
    return Draft(
        kind=form.get("kind", "").strip(),
        label=form.get("label", ""),
        help_text=form.get("help_text", "").strip(),
        options=tuple(line for line in form.get("options", "").splitlines() if line.strip()),
        required=bool(form.get("required")),
        per_ticket=form.get("asked", "per_ticket") != "per_order",
        door_flag=bool(form.get("door_flag")),
        ticket_types=tuple(type_id for type_id in event_types if form.get(f"type_{type_id}")),
    )


def draft_form(draft: Draft) -> dict[str, str]:
    """A question as its form shows it, to edit it."""
    values = {
        "kind": draft.kind,
        "label": draft.label,
        "help_text": draft.help_text,
        "options": "\n".join(draft.options),
        "required": "on" if draft.required else "",
        "asked": "per_ticket" if draft.per_ticket else "per_order",
        "door_flag": "on" if draft.door_flag else "",
    }
    values.update({f"type_{type_id}": "on" for type_id in draft.ticket_types})
    return values
