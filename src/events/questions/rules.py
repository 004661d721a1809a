"""Questions per guest, decided without the database: the "Dietary and allergen needs" preset, an organiser's
question checked, a guest's answers read and checked against an event's questions, when answers close, and the
kitchen list's counts (counts only: nothing here ever sees a name). Pure.

Tickets are numbered as they are issued: the order's ticket lines in the order the request listed them, each
expanded into its quantity (tickets.issuing); ``ticket_index`` 0 is the first ticket, which guests read as
"ticket 1". A per-order question has no ticket index.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events import text
from events.i18n import N_, Sentence
from events.questions.statuses import QuestionKind

LABEL_MAX = 200
HELP_MAX = 500
OPTION_LABEL_MAX = 100
OPTIONS_MAX = 40
TEXT_ANSWER_MAX = 500
NOTE_MAX = 200
CLOSE_HOURS_MAX = 24 * 60  # up to sixty days before the start
CHOICE_KINDS = frozenset({QuestionKind.one_choice, QuestionKind.several_choices})
YES, NO = "yes", "no"


@dataclass(frozen=True, slots=True)
class Option:
    """One answer a choice question offers. Answers store its ``key``, so its label can change; ``takes_note``: a
    guest who picks it may add a short note (the preset's "Something else")."""

    key: str
    label: str
    takes_note: bool = False


@dataclass(frozen=True, slots=True)
class Preset:
    """A ready-made question. Its label and options are marked for translation, and guests read them in their language
    (templates translate a preset's words when they show them); the organiser may reword it, and then it is shown as
    typed."""

    key: str
    kind: QuestionKind
    label: str
    help_text: str
    options: tuple[Option, ...]
    door_label: str  # the short flag the door search shows on a ticket with an answer
    required: bool = False
    per_ticket: bool = True
    door_flag: bool = True


DIETARY = Preset(
    key="dietary",
    kind=QuestionKind.several_choices,
    label=N_("Dietary and allergen needs"),
    help_text=N_("Tick all that apply, so the kitchen can cook safely for you. The kitchen sees only how many, never who."),
    options=(
        Option("vegetarian", N_("Vegetarian")),
        Option("vegan", N_("Vegan")),
        Option("halal", N_("Halal")),
        Option("kosher", N_("Kosher")),
        Option("gluten_free", N_("Gluten-free")),
        # The 14 allergens UK food law names (the Food Information Regulations 2014).
        Option("celery", N_("Celery allergy")),
        Option("cereals_gluten", N_("Allergy to cereals containing gluten (wheat, rye, barley, oats)")),
        Option("crustaceans", N_("Crustacean allergy (prawns, crab, lobster)")),
        Option("eggs", N_("Egg allergy")),
        Option("fish", N_("Fish allergy")),
        Option("lupin", N_("Lupin allergy")),
        Option("milk", N_("Milk allergy")),
        Option("molluscs", N_("Mollusc allergy (mussels, squid, snails)")),
        Option("mustard", N_("Mustard allergy")),
        Option("tree_nuts", N_("Tree nut allergy (almonds, hazelnuts, walnuts, cashews)")),
        Option("peanuts", N_("Peanut allergy")),
        Option("sesame", N_("Sesame allergy")),
        Option("soya", N_("Soya allergy")),
        Option("sulphites", N_("Sulphite allergy (sulphur dioxide)")),
        Option("other", N_("Something else (tell us below)"), takes_note=True),
    ),
    door_label=N_("Dietary note"),
)
PRESETS: Mapping[str, Preset] = {DIETARY.key: DIETARY}


# --- questions as stored and as asked ------------------------------------------------------------------


def options_json(options: Sequence[Option]) -> str:
    """Options as the question's JSON column holds them: [{"key", "label"[, "note": true]}]."""
    return json.dumps(
        [{"key": o.key, "label": o.label, **({"note": True} if o.takes_note else {})} for o in options],
        ensure_ascii=False,
    )


def read_options(stored: str) -> tuple[Option, ...]:
    """The options a question's JSON column holds; anything unreadable is left out rather than failing a page."""
    try:
        raw = json.loads(stored or "[]")
    except ValueError:
        return ()
    if not isinstance(raw, list):
        return ()
    return tuple(
        Option(str(item["key"]), str(item.get("label", item["key"])), bool(item.get("note")))
        for item in raw
        if isinstance(item, dict) and isinstance(item.get("key"), str) and item["key"]
    )


@dataclass(frozen=True, slots=True)
class Asked:
    """A question as a guest is asked it (a preset's words already in the guest's language, by the caller) and as its
    answers are checked and counted."""

    id: int
    kind: QuestionKind
    label: str
    options: tuple[Option, ...] = ()
    required: bool = False
    per_ticket: bool = True
    ticket_types: frozenset[int] = frozenset()  # empty: asked for every ticket type
    help_text: str = ""
    preset: str = ""
    door_flag: bool = False
    # What the door search shows on a ticket with an answer (flagged questions only; a preset's in the guest's language):
    # the form tells the guest, beside the question.
    door_label: str = ""

    def asked_for(self, ticket_type: int) -> bool:
        return not self.ticket_types or ticket_type in self.ticket_types

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)

    @property
    def note_option(self) -> Option | None:
        return next((option for option in self.options if option.takes_note), None)


@dataclass(frozen=True, slots=True)
class Slot:
    """One answer a guest may give: a question, for one ticket (its index) or for the whole order (None)."""

    question: Asked
    ticket_index: int | None

    @property
    def name(self) -> str:
        """Its form field's name, and the key its problems are reported under."""
        return field_name(self.question.id, self.ticket_index)


def field_name(question_id: int, ticket_index: int | None) -> str:
    return f"answer_{question_id}" if ticket_index is None else f"answer_{question_id}_{ticket_index}"


def ticket_types_of(items: Iterable[tuple[int, int]]) -> list[int]:
    """Each ticket's type, in the order the tickets are issued: (ticket type, quantity) lines expanded in order."""
    return [type_id for type_id, quantity in items for _ in range(max(0, quantity))]


def slots(questions: Sequence[Asked], ticket_types: Sequence[int], *, tickets: Iterable[int] | None = None) -> list[Slot]:
    """The answers an order's guests are asked for, per-order questions first, then ticket by ticket. ``tickets``
    limits the per-ticket ones to those indexes (e.g. the tickets still valid); a per-order question is asked when
    the order has a ticket of a type it is asked for. An order without tickets is asked nothing."""
    wanted = set(range(len(ticket_types)) if tickets is None else tickets)
    every = [index for index in range(len(ticket_types)) if index in wanted]
    asked: list[Slot] = [
        Slot(question, None) for question in questions if not question.per_ticket and any(question.asked_for(ticket_types[i]) for i in every)
    ]
    for index in every:
        asked += [Slot(question, index) for question in questions if question.per_ticket and question.asked_for(ticket_types[index])]
    return asked


# --- a guest's answers ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Given:
    """An answer as a guest sent it: ``value`` is text (free text, an option's key, "yes" or "no"), a list of keys
    (several choices) or None; ``where`` names it for a problem that has no slot (e.g. "answers[2]")."""

    question: int
    ticket_index: int | None
    value: object
    note: str = ""
    where: str = ""


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer to write: its value as the Answer table holds it (see encode_choices)."""

    question: int
    ticket_index: int | None
    value: str


@dataclass(frozen=True, slots=True)
class Checked:
    answers: list[Stored]
    problems: dict[str, str]


MISSING = N_('Please answer "%(question)s".')
MISSING_FOR_TICKET = N_('Please answer "%(question)s" for ticket %(number)d.')
NOT_A_CHOICE = N_('Choose one of the answers offered for "%(question)s".')
ONE_ANSWER = N_('Give one answer to "%(question)s".')
A_LIST = N_('Give the answers to "%(question)s" as a list of choices.')
AS_TEXT = N_('Give the answer to "%(question)s" as text.')
YES_OR_NO = N_('Answer "%(question)s" with yes or no.')
TOO_LONG = N_('Keep the answer to "%(question)s" to %(max)d characters.')
NO_CONTROLS = N_('Write the answer to "%(question)s" on one line, without control characters.')
NOTE_PROBLEM = N_('Keep the note about "%(question)s" to one line of %(max)d characters at most.')
NO_NOTE = N_('"%(question)s" takes no note.')
UNKNOWN_QUESTION = N_("This event asks no question %(question)s.")
NO_SUCH_TICKET = N_("This order has no ticket %(number)d.")
WHICH_TICKET = N_('Say which ticket the answer to "%(question)s" is for (ticket_index).')
ONCE_PER_ORDER = N_('"%(question)s" is asked once per order: leave out ticket_index.')
NOT_ASKED = N_('"%(question)s" is not asked for ticket %(number)d.')
TWICE = N_('"%(question)s" is answered twice.')


def check_answers(
    questions: Sequence[Asked], ticket_types: Sequence[int], given: Sequence[Given], *, require: bool = True, tickets: Iterable[int] | None = None
) -> Checked:
    """The answers to store, or the problems, each naming its question. ``ticket_types``: each ticket's type in
    issue order; ``tickets``: the indexes that may be answered for (by default all; e.g. only those still valid).
    With ``require`` false (a free place's claim), a required question may be left unanswered; whatever is answered
    is checked all the same."""
    by_id = {question.id: question for question in questions}
    asked = {(slot.question.id, slot.ticket_index): slot for slot in slots(questions, ticket_types, tickets=tickets)}
    problems: dict[str, str] = {}
    answers: dict[tuple[int, int | None], Stored] = {}
    seen: set[tuple[int, int | None]] = set()
    for number, answer in enumerate(given):
        where = answer.where or f"answers[{number}]"
        question = by_id.get(answer.question)
        if question is None:
            problems[where] = Sentence(UNKNOWN_QUESTION, question=answer.question)
            continue
        index = answer.ticket_index
        if not question.per_ticket and index is not None:
            problems[where] = Sentence(ONCE_PER_ORDER, question=question.label)
            continue
        if question.per_ticket and index is None:
            # One ticket the question is asked for: that is the one meant.
            candidates = [i for (q, i) in asked if q == question.id]
            if len(candidates) != 1:
                problems[where] = Sentence(WHICH_TICKET, question=question.label)
                continue
            index = candidates[0]
        if index is not None and not 0 <= index < len(ticket_types):
            problems[where] = Sentence(NO_SUCH_TICKET, number=index + 1)
            continue
        slot = asked.get((question.id, index))
        if slot is None:
            problems[where] = Sentence(NOT_ASKED, question=question.label, number=(index or 0) + 1)
            continue
        if (question.id, index) in seen:
            problems[slot.name] = Sentence(TWICE, question=question.label)
            continue
        seen.add((question.id, index))
        value, problem = _checked_value(question, answer.value, answer.note)
        if problem is not None:
            problems[slot.name] = problem
        elif value is not None:
            answers[(question.id, index)] = Stored(question.id, index, value)
    if require:
        for key, slot in asked.items():
            if slot.question.required and key not in answers and slot.name not in problems:
                problems[slot.name] = missing(slot)
    return Checked([answers[key] for key in asked if key in answers], problems)


def missing(slot: Slot) -> Sentence:
    if slot.ticket_index is None:
        return Sentence(MISSING, question=slot.question.label)
    return Sentence(MISSING_FOR_TICKET, question=slot.question.label, number=slot.ticket_index + 1)


def _checked_value(question: Asked, value: object, note: str) -> tuple[str | None, str | None]:
    """(the value to store, or None for no answer; a problem, or None)."""
    label = question.label
    note = note.strip() if isinstance(note, str) else ""
    if note and question.kind != QuestionKind.several_choices:
        return None, Sentence(NO_NOTE, question=label)
    if question.kind == QuestionKind.several_choices:
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
            return None, Sentence(A_LIST, question=label)
        keys = [key.strip() for key in value if key.strip()]
        if any(question.option(key) is None for key in keys):
            return None, Sentence(NOT_A_CHOICE, question=label)
        if note:
            noted = question.note_option
            if noted is None:
                return None, Sentence(NO_NOTE, question=label)
            if len(note) > NOTE_MAX or text.line_problem(note) is not None:
                return None, Sentence(NOTE_PROBLEM, question=label, max=NOTE_MAX)
            keys.append(noted.key)  # a note says "something else" even if its box was not ticked
        chosen = set(keys)
        ordered = [option.key for option in question.options if option.key in chosen]
        return (encode_choices(ordered, note) if ordered else None), None
    if value is None:
        return None, None
    if isinstance(value, list):
        return None, Sentence(ONE_ANSWER if question.kind in CHOICE_KINDS | {QuestionKind.yes_no} else AS_TEXT, question=label)
    if not isinstance(value, str):
        return None, Sentence(AS_TEXT, question=label)
    if question.kind == QuestionKind.text:
        if not value.strip():
            return None, None
        if len(value) > TEXT_ANSWER_MAX:
            return None, Sentence(TOO_LONG, question=label, max=TEXT_ANSWER_MAX)
        if text.line_problem(value) is not None:
            return None, Sentence(NO_CONTROLS, question=label)
        return value.strip(), None
    stripped = value.strip()
    if not stripped:
        return None, None
    if question.kind == QuestionKind.yes_no:
        return (stripped.lower(), None) if stripped.lower() in (YES, NO) else (None, Sentence(YES_OR_NO, question=label))
    return (stripped, None) if question.option(stripped) is not None else (None, Sentence(NOT_A_CHOICE, question=label))


def encode_choices(keys: Sequence[str], note: str = "") -> str:
    """Several choices as the Answer table holds them: a JSON list of keys, or {"choices": [...], "note": "..."}
    when the guest wrote a note with the option that takes one."""
    if note:
        return json.dumps({"choices": list(keys), "note": note}, ensure_ascii=False)
    return json.dumps(list(keys))


@dataclass(frozen=True, slots=True)
class Decoded:
    """A stored answer read back: the options chosen (one choice: one; yes/no: "yes" or "no"), or the text."""

    choices: tuple[str, ...] = ()
    text: str = ""
    note: str = ""

    @property
    def empty(self) -> bool:
        return not self.choices and not self.text and not self.note


def decode(kind: QuestionKind | str, value: str) -> Decoded:
    """A stored value as its question's kind reads it; a value written for another kind reads as nothing."""
    if kind == QuestionKind.text:
        return Decoded(text=value)
    if kind in (QuestionKind.one_choice, QuestionKind.yes_no):
        return Decoded(choices=(value,) if value else ())
    try:
        raw = json.loads(value or "[]")
    except ValueError:
        return Decoded()
    if isinstance(raw, dict):
        keys, note = raw.get("choices", []), raw.get("note", "")
    else:
        keys, note = raw, ""
    if not isinstance(keys, list):
        return Decoded()
    return Decoded(choices=tuple(key for key in keys if isinstance(key, str)), note=note if isinstance(note, str) else "")


def answer_text(question: Asked, value: str, *, label_of: Mapping[str, str] | None = None) -> str:
    """An answer in words, for the attendee list and the guest's own page: option labels joined, a note after them.
    ``label_of`` gives an option's words (e.g. translated); by default its label."""
    decoded = decode(question.kind, value)
    if question.kind == QuestionKind.text:
        return decoded.text
    if question.kind == QuestionKind.yes_no:
        return {YES: N_("Yes"), NO: N_("No")}.get(decoded.choices[0], "") if decoded.choices else ""
    words = []
    for key in decoded.choices:
        option = question.option(key)
        if option is not None:
            words.append((label_of or {}).get(key, option.label))
    said = "; ".join(words)
    return f"{said}: {decoded.note}" if decoded.note else said


def flags_at_door(question: Asked, value: str) -> bool:
    """Whether this answer puts the question's flag on a ticket at the door: anything said, but "no"."""
    decoded = decode(question.kind, value)
    if question.kind == QuestionKind.yes_no:
        return decoded.choices == (YES,)
    return not decoded.empty


# --- when answers close ------------------------------------------------------------------------------------


def answers_close_at(starts_at: datetime, hours_before: int) -> datetime:
    return starts_at - timedelta(hours=max(0, hours_before))


def answers_open(starts_at: datetime, hours_before: int, now: datetime) -> bool:
    """Guests may change their answers until this many hours before the start (the kitchen shops and cooks then)."""
    return now < answers_close_at(starts_at, hours_before)


# --- the kitchen list ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    key: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class QuestionCounts:
    """How a question was answered, without names: ``asked`` tickets (or orders, for a per-order question), how many
    of them answered, and each option's count (several choices: one guest may count under several)."""

    question: int
    label: str
    kind: QuestionKind
    per_ticket: bool
    asked: int
    answered: int
    tallies: tuple[Tally, ...]
    notes: int = 0  # answers with a note ("something else: ..."); the notes are on the attendee list, with names

    @property
    def unanswered(self) -> int:
        return self.asked - self.answered


def count_answers(question: Asked, values: Iterable[str], *, asked: int) -> QuestionCounts:
    """The kitchen list's line for one question: ``values`` are the stored answers of the tickets (or orders) counted,
    ``asked`` how many tickets (or orders) were asked it. Options are counted in the organiser's order, zeros too;
    yes/no as "Yes" and "No"; free text only as answered or not (what was written is not counted)."""
    counts: dict[str, int] = {}
    answered = notes = 0
    for value in values:
        decoded = decode(question.kind, value)
        if question.kind == QuestionKind.yes_no:
            known = [key for key in decoded.choices if key in (YES, NO)]
        else:
            known = [key for key in decoded.choices if question.option(key) is not None]
        if decoded.empty or (question.kind != QuestionKind.text and not known):
            continue
        answered += 1
        notes += 1 if decoded.note else 0
        for key in dict.fromkeys(known):
            counts[key] = counts.get(key, 0) + 1
    tallies: tuple[Tally, ...]
    if question.kind == QuestionKind.yes_no:
        tallies = (Tally(YES, N_("Yes"), counts.get(YES, 0)), Tally(NO, N_("No"), counts.get(NO, 0)))
    elif question.kind in CHOICE_KINDS:
        tallies = tuple(Tally(option.key, option.label, counts.get(option.key, 0)) for option in question.options)
    else:
        tallies = ()
    return QuestionCounts(question.id, question.label, question.kind, question.per_ticket, asked, answered, tallies, notes)


# --- an organiser's question ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """A question as an organiser writes it. ``options``: the choices' labels, one each (choice kinds only)."""

    kind: str
    label: str
    help_text: str = ""
    options: tuple[str, ...] = ()
    required: bool = False
    per_ticket: bool = True
    door_flag: bool = False
    ticket_types: tuple[int, ...] = ()


def draft_problems(draft: Draft, event_types: Iterable[int], *, preset: bool = False) -> dict[str, str]:
    """Field -> message for each rule the question breaks. A preset's options are its own and are not checked here."""
    problems: dict[str, str] = {}
    if draft.kind not in set(QuestionKind):
        problems["kind"] = N_("Choose what kind of question it is.")
    label = draft.label.strip()
    if not label:
        problems["label"] = N_("Write the question.")
    elif len(label) > LABEL_MAX:
        problems["label"] = Sentence(N_("Keep the question to %(max)d characters."), max=LABEL_MAX)
    elif (problem := text.line_problem(label)) is not None:
        problems["label"] = problem
    if len(draft.help_text) > HELP_MAX:
        problems["help_text"] = Sentence(N_("Keep the explanation to %(max)d characters."), max=HELP_MAX)
    elif (problem := text.text_problem(draft.help_text, required=False)) is not None:
        problems["help_text"] = problem
    if not preset and draft.kind in CHOICE_KINDS:
        labels = [option.strip() for option in draft.options if option.strip()]
        if len(labels) < 2:
            problems["options"] = N_("Give at least two choices, one per line.")
        elif len(labels) > OPTIONS_MAX:
            problems["options"] = Sentence(N_("Give at most %(max)d choices."), max=OPTIONS_MAX)
        elif any(len(option) > OPTION_LABEL_MAX for option in labels):
            problems["options"] = Sentence(N_("Keep each choice to %(max)d characters."), max=OPTION_LABEL_MAX)
        elif any(text.line_problem(option) is not None for option in labels):
            problems["options"] = text.LINE_PROBLEM
        elif len({option.casefold() for option in labels}) != len(labels):
            problems["options"] = N_("Give each choice once.")
    unknown = set(draft.ticket_types) - set(event_types)
    if unknown:
        problems["ticket_types"] = N_("Choose ticket types of this event.")
    return problems


_KEY_CHARACTERS = re.compile(r"[^a-z0-9]+")


def option_key(label: str, taken: Iterable[str]) -> str:
    """A stable key for a new option: its label in lower-case ASCII ("Gluten-free" -> "gluten_free"), made unique."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = _KEY_CHARACTERS.sub("_", ascii_label.lower()).strip("_")[:40] or "choice"
    used = set(taken)
    key, number = base, 2
    while key in used:
        key, number = f"{base}_{number}", number + 1
    return key


def options_for(labels: Sequence[str], existing: Sequence[Option] = ()) -> tuple[Option, ...]:
    """The options for these labels: a label already offered keeps its key (its answers still count under it), a new
    one gets a new key. An option dropped takes its key with it; answers with that key are no longer counted."""
    kept = {option.label.strip().casefold(): option for option in existing}
    taken = {option.key for option in existing}
    options: list[Option] = []
    for label in (label.strip() for label in labels):
        if not label:
            continue
        old = kept.get(label.casefold())
        if old is not None:
            options.append(Option(old.key, label, old.takes_note))
        else:
            key = option_key(label, taken)
            taken.add(key)
            options.append(Option(key, label))
    return tuple(options)


@dataclass(frozen=True, slots=True)
class Ordering:
    """Question ids in the order they are asked."""

    ids: tuple[int, ...] = field(default_factory=tuple)

    def moved(self, question_id: int, direction: str) -> tuple[int, ...]:
        """The order with one question moved one place "up" or "down" (at an end it stays)."""
        ids = list(self.ids)
        if question_id not in ids:
            return self.ids
        at = ids.index(question_id)
        to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
        if 0 <= to < len(ids):
            ids[at], ids[to] = ids[to], ids[at]
        return tuple(ids)


def close_hours_problem(hours: int | None) -> str | None:
    if hours is None or not 0 <= hours <= CLOSE_HOURS_MAX:
        return Sentence(N_("Give a whole number of hours from 0 to %(max)d."), max=CLOSE_HOURS_MAX)
    return None
