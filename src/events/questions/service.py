"""Questions per guest: the organiser's set-up, the answers checked before an order is placed and recorded in its
transaction (orders.service.OnPlaced), the guest changing them until the cut-off, and what the organiser reads of
them: the attendee list, one order, the door's flag and the kitchen list (counts only). Privacy's erasure and export
read and erase them here. Each public function is one transaction at most; the rules are in questions.rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events import db
from events.audit import service as audit
from events.catalogue.lookup import EventRow, find_event
from events.catalogue.tables import Event, TicketType
from events.codes import rules as code_rules
from events.errors import Conflict, InvalidInput, NotFound
from events.i18n import N_, translations
from events.orders import codes, pricing
from events.orders import service as orders
from events.orders.service import OnPlaced
from events.orders.statuses import OrderStatus
from events.orders.tables import ClaimCode, Order, OrderLine
from events.questions import forms, queries, rules
from events.questions.rules import Asked, Given, Option, Slot, Stored
from events.questions.statuses import QuestionKind
from events.questions.tables import Answer, Question, QuestionTicketType
from events.tickets.statuses import TicketStatus
from events.tickets.tables import Ticket

QUESTION_NOT_FOUND = N_("This event has no such question.")
ONLINE_CHANNEL = "online"  # orders bought through the buy form or the API; free places and the rest answer if they like


class AnswersRefused(InvalidInput):
    """A guest's answers break a rule: ``fields`` holds each problem under its slot's form field (or, for an answer
    that fits no slot, where it was in the request), each message naming its question; ``asking`` is the form to show
    again, where there is one."""

    def __init__(self, problems: dict[str, str], asking: Asking | None = None) -> None:
        super().__init__(next(iter(problems.values())), fields=problems)
        self.asking = asking


# --- the questions as asked ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    """The slots a form shows under one heading: the order's (ticket None) or one ticket's."""

    ticket_index: int | None
    type_name: str
    slots: tuple[Slot, ...]

    @property
    def ticket_number(self) -> int:
        return (self.ticket_index or 0) + 1


@dataclass(frozen=True, slots=True)
class Asking:
    """The questions one order's guests are asked, as a form shows them: per-order questions first, then ticket by
    ticket; ``several`` when the order has more than one ticket (each ticket's heading then says which)."""

    slots: tuple[Slot, ...]
    groups: tuple[Group, ...]
    several: bool

    @property
    def empty(self) -> bool:
        return not self.slots

    @property
    def flagged_at_door(self) -> bool:
        """Whether an answer to one of these puts a short note on the ticket at the door ("Dietary note", never the
        answer): the form then says so, and beside each such question what the door sees."""
        return any(slot.question.door_flag for slot in self.slots)


def _asking(
    questions: Sequence[Asked], ticket_types: Sequence[int], type_names: Mapping[int, str], *, tickets: Iterable[int] | None = None
) -> Asking:
    asked = rules.slots(questions, ticket_types, tickets=tickets)
    groups: list[Group] = []
    order_slots = tuple(slot for slot in asked if slot.ticket_index is None)
    if order_slots:
        groups.append(Group(None, "", order_slots))
    for index in dict.fromkeys(slot.ticket_index for slot in asked if slot.ticket_index is not None):
        assert index is not None
        groups.append(Group(index, type_names.get(ticket_types[index], ""), tuple(slot for slot in asked if slot.ticket_index == index)))
    return Asking(tuple(asked), tuple(groups), len(ticket_types) > 1)


def _in_language(row: Mapping[str, Any], locale: str) -> tuple[str, str, tuple[Option, ...]]:
    """A question's label, explanation and options as a guest reads them: a preset's in their language (its words are
    the catalogue's; reworded, they are shown as typed), an organiser's own as typed."""
    options = rules.read_options(row["options"])
    if not row["preset"] or locale == "en":
        return row["label"], row["help_text"], options
    catalogue = translations(locale)
    return (
        catalogue.gettext(row["label"]),
        catalogue.gettext(row["help_text"]) if row["help_text"] else "",
        tuple(Option(option.key, catalogue.gettext(option.label), option.takes_note) for option in options),
    )


async def _limits(question_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    if not question_ids:
        return {}
    rows = await QuestionTicketType.select(QuestionTicketType.question, QuestionTicketType.ticket_type).where(
        QuestionTicketType.question.is_in(list(question_ids))
    )
    limits: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        limits[row["question"]].add(row["ticket_type"])
    return {question: frozenset(types) for question, types in limits.items()}


QUESTION_COLUMNS = (
    Question.id,
    Question.kind,
    Question.label,
    Question.help_text,
    Question.preset,
    Question.options,
    Question.required,
    Question.per_ticket,
    Question.door_flag,
    Question.position,
)


async def _question_rows(event_id: int, *, removed: bool = False) -> list[dict[str, Any]]:
    query = Question.select(*QUESTION_COLUMNS).where(Question.event == event_id)
    if not removed:
        query = query.where(Question.removed_at.is_null())
    return await query.order_by(Question.position).order_by(Question.id)


async def _live_question_rows_of(slug: str) -> Sequence[Mapping[str, Any]]:
    """The questions an event asks now, by its slug, with the event's id: one query, and none found for an event that
    asks nothing (or does not exist)."""
    return await db.run(queries.LIVE_QUESTIONS_OF_EVENT, slug)


async def event_questions(event_id: int, locale: str = "en", *, removed: bool = False) -> list[Asked]:
    """The event's questions in the order they are asked, in ``locale`` (see _in_language); with ``removed``, the
    removed ones too (their answers are still held)."""
    rows = await _question_rows(event_id, removed=removed)
    return await _asked_of(rows, locale)


async def _asked_of(rows: Sequence[Mapping[str, Any]], locale: str) -> list[Asked]:
    limits = await _limits([row["id"] for row in rows])
    asked = []
    for row in rows:
        label, help_text, options = _in_language(row, locale)
        asked.append(
            Asked(
                id=row["id"],
                kind=QuestionKind(row["kind"]),
                label=label,
                options=options,
                required=row["required"],
                per_ticket=row["per_ticket"],
                ticket_types=limits.get(row["id"], frozenset()),
                help_text=help_text,
                preset=row["preset"],
                door_flag=row["door_flag"],
                door_label=_door_label(row, label, locale) if row["door_flag"] else "",
            )
        )
    return asked


def _door_label(row: Mapping[str, Any], label: str, locale: str) -> str:
    """The note the door sees for an answer to the question, as door_notes writes it, in the guest's language."""
    preset = rules.PRESETS.get(row["preset"]) if row["preset"] else None
    return translations(locale).gettext(preset.door_label) if preset else label


async def _type_names(event_id: int) -> dict[int, str]:
    rows = await TicketType.select(TicketType.id, TicketType.name).where(TicketType.event == event_id)
    return {row["id"]: row["name"] for row in rows}


# --- answers with a new order ----------------------------------------------------------------------------


def _recorder(answers: Sequence[Stored], now: datetime) -> OnPlaced:
    """Writes checked answers for the new order, in the transaction placing it (orders.service.place_order)."""

    async def record(order_id: int) -> None:
        await _insert_answers(order_id, answers, now)

    return record


async def _insert_answers(order_id: int, answers: Sequence[Stored], now: datetime) -> None:
    """Answers to the questions still asked: one removed since they were checked is left out rather than failing the
    order (and with it, a batch of other buyers' orders)."""
    if not answers:
        return
    live = {
        row["id"] for row in await Question.select(Question.id).where(Question.id.is_in([a.question for a in answers]), Question.removed_at.is_null())
    }
    rows = [
        Answer(question=a.question, order_id=order_id, ticket_index=a.ticket_index, value=a.value, created_at=now, updated_at=now)
        for a in answers
        if a.question in live
    ]
    if rows:
        await Answer.insert(*rows)


async def answers_recorder(slug: str, items: Sequence[tuple[int, int]], given: Sequence[Given], *, locale: str, now: datetime) -> OnPlaced | None:
    """Check an order's answers before it is placed (AnswersRefused, a 422 naming each question, and nothing held),
    and return what records them with it, or None when there is nothing to record. ``items`` are the order's (ticket
    type, quantity) lines in the order of the request: the tickets are numbered so (see questions.rules). On the
    on-sale rush's route: an event that asks nothing costs one query."""
    rows = await _live_question_rows_of(slug)
    if not rows and (not given or not await Event.exists().where(Event.slug == slug)):
        return None  # nothing asked (an unknown event: the order itself answers "not found")
    checked = rules.check_answers(await _asked_of(rows, locale), rules.ticket_types_of(items), given)
    if checked.problems:
        raise AnswersRefused(checked.problems)
    return _recorder(checked.answers, now) if checked.answers else None


@dataclass(frozen=True, slots=True)
class BuyStep:
    """What the buy form does next: show the questions (``show``), or place the order, recording ``record``."""

    asking: Asking | None = None
    show: bool = False
    record: OnPlaced | None = None


async def buy_form_step(
    slug: str, request: pricing.Request, form: Mapping[str, str], *, locale: str, now: datetime, code: code_rules.Code | None = None
) -> BuyStep:
    """The buy form without JavaScript, in two steps: an order whose tickets are asked questions is checked as an order
    (its problems raised as the order would raise them) and then asked them; the form sent again with the answers
    (forms.ANSWERS_STEP) has them checked (AnswersRefused, with the form to show again) before the order is placed.
    ``code``: the access or discount code the order is placed with (already checked by the event page), so the order
    is quoted as it will be placed: with the hidden types it unlocks and its discount. An event that asks nothing (or
    does not exist: the order answers that) costs one query."""
    rows = await _live_question_rows_of(slug)
    if not rows:
        return BuyStep()
    event_id = rows[0]["event"]
    questions = await _asked_of(rows, locale)
    ticket_types = rules.ticket_types_of(request.items)
    asking = _asking(questions, ticket_types, await _type_names(event_id))
    if asking.empty:
        return BuyStep()
    if not form.get(forms.ANSWERS_STEP):
        _, types, terms = await orders.load_terms(slug)
        if text_problems := pricing.request_problems(request):
            raise InvalidInput(next(iter(text_problems.values())), fields=text_problems)
        try:
            pricing.quote_online_order(types, terms, request, now, code)
        except pricing.Problems as problems:
            orders.raise_problems(problems)
        return BuyStep(asking, show=True)
    checked = rules.check_answers(questions, ticket_types, forms.given_from_form(form, asking.slots))
    if checked.problems:
        raise AnswersRefused(checked.problems, asking)
    return BuyStep(asking, record=_recorder(checked.answers, now) if checked.answers else None)


async def claim_asking(code: str, locale: str) -> Asking | None:
    """The questions a claim link's guest may answer (all optional), or None. Read only for a code already checked
    (the claim page) or to read the form posted to it: it counts no guess, and the page answers an unknown code as
    before, so it tells nothing about codes."""
    row = await ClaimCode.select(ClaimCode.event).where(ClaimCode.code == code.strip().lower(), ClaimCode.revoked_at.is_null()).first()
    if row is None:
        return None
    questions = await event_questions(row["event"], locale)
    free_type = await orders.free_place_type(row["event"]) if questions else None
    if free_type is None:
        return None
    asking = _asking(questions, [free_type["id"]], {free_type["id"]: free_type["name"]})
    return None if asking.empty else asking


def claim_recorder(given: Sequence[Given], *, locale: str, now: datetime) -> OnPlaced | None:
    """Records a free place's answers in the claim's transaction (orders.claims.claim_place), checked there, once the
    code has been found: a claim's answers are optional, and checking them before the code would tell a guesser
    which codes are real. A problem (AnswersRefused) undoes the claim."""
    if not given:
        return None

    async def record(order_id: int) -> None:
        order = await Order.select(Order.event).where(Order.id == order_id).first()
        assert order is not None
        ticket_types, _ = await _order_tickets(order_id)
        checked = rules.check_answers(await event_questions(order["event"], locale), ticket_types, given, require=False)
        if checked.problems:
            raise AnswersRefused(checked.problems)
        await _insert_answers(order_id, checked.answers, now)

    return record


async def _order_tickets(order_id: int) -> tuple[list[int], set[int]]:
    """The order's tickets' types by ticket index, and the indexes of those still valid: its tickets by id once issued,
    else its ticket lines expanded as issuing will expand them."""
    tickets = await Ticket.select(Ticket.ticket_type, Ticket.status).where(Ticket.order_id == order_id).order_by(Ticket.id)
    if tickets:
        return [t["ticket_type"] for t in tickets], {i for i, t in enumerate(tickets) if t["status"] == TicketStatus.valid}
    lines = (
        await OrderLine.select(OrderLine.ticket_type, OrderLine.quantity)
        .where(OrderLine.order_id == order_id, OrderLine.kind == "ticket")
        .order_by(OrderLine.id)
    )
    types = rules.ticket_types_of((line["ticket_type"], line["quantity"]) for line in lines if line["ticket_type"] is not None)
    return types, set(range(len(types)))


async def _stored(order_id: int) -> list[Stored]:
    rows = await Answer.select(Answer.question, Answer.ticket_index, Answer.value).where(Answer.order_id == order_id).order_by(Answer.id)
    return [Stored(row["question"], row["ticket_index"], row["value"]) for row in rows]


async def answers_as_form(reference: str, asking: Asking) -> dict[str, str]:
    """The answers order ``reference`` gave, as the questions step's fields for ``asking``: the order a guest is
    changing ("Change order"), so that the step shows what they answered (a dietary need, an allergy) to keep or
    change, rather than asking it all again from nothing. Only for an order the caller has checked the guest may
    change (its change token)."""
    order = await Order.select(Order.id).where(Order.reference == codes.normalise_reference(reference)).first()
    return forms.form_values(asking.slots, await _stored(order["id"])) if order else {}


# --- the guest's own answers, until the cut-off ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuestAnswers:
    """An order's answers as its guest sees and changes them."""

    reference: str
    event_title: str
    status: OrderStatus
    closes_at: datetime  # in the event's time zone
    open: bool  # may they still be changed
    asking: Asking
    values: dict[str, str]  # the answers as the form's fields
    lines: list[AnswerLine]  # the answers in words
    required: bool  # whether its required questions are (a free place's never are)


@dataclass(frozen=True, slots=True)
class AnswerLine:
    """One answer in words: the question, which ticket (None: the whole order), what was answered."""

    question: str
    ticket_number: int | None
    answer: str
    type_name: str = ""


async def _guest_view(order: Mapping[str, Any], *, locale: str, now: datetime) -> GuestAnswers:
    questions = await event_questions(order["event"], locale)
    ticket_types, valid = await _order_tickets(order["id"])
    asking = _asking(questions, ticket_types, await _type_names(order["event"]), tickets=valid)
    stored = await _stored(order["id"])
    catalogue = translations(locale)
    by_slot = {(answer.question, answer.ticket_index): answer.value for answer in stored}
    lines = [
        AnswerLine(
            slot.question.label,
            None if slot.ticket_index is None else slot.ticket_index + 1,
            catalogue.gettext(said) if slot.question.kind == QuestionKind.yes_no else said,
        )
        for slot in asking.slots
        if (said := rules.answer_text(slot.question, by_slot.get((slot.question.id, slot.ticket_index), "")))
    ]
    closes_at = rules.answers_close_at(order["event.starts_at"], order["event.answers_close_hours_before"])
    return GuestAnswers(
        reference=order["reference"],
        event_title=order["event.title"],
        status=OrderStatus(order["status"]),
        closes_at=closes_at.astimezone(ZoneInfo(order["event.timezone"])),
        open=order["status"] == OrderStatus.paid and rules.answers_open(order["event.starts_at"], order["event.answers_close_hours_before"], now),
        asking=asking,
        values=forms.form_values(asking.slots, stored),
        lines=lines,
        required=order["channel"] == ONLINE_CHANNEL,
    )


async def _order(reference: str) -> Mapping[str, Any]:
    """The order as its answers are shown, with ``asks``: whether its event asks anything."""
    rows = await db.run(queries.ORDER_WITH_QUESTIONS, codes.normalise_reference(reference))
    if not rows:
        raise NotFound(N_("We could not find that order."), code="order_not_found")
    return rows[0]


async def guest_answers(reference: str, *, locale: str, now: datetime) -> GuestAnswers | None:
    """The order's questions and answers for its guest (the order page and the page that changes them), or None when
    the event asks its tickets nothing."""
    order = await _order(reference)
    if not order["asks"]:
        return None
    view = await _guest_view(order, locale=locale, now=now)
    return None if view.asking.empty else view


ANSWERS_CLOSED = N_("Answers can no longer be changed: the kitchen is planning with them. Please contact the organiser.")


async def change_answers(reference: str, form: Mapping[str, str], *, locale: str, now: datetime) -> None:
    """The guest changes their answers from their order page, until the event's cut-off (Conflict after it). A paid
    order's required questions stay required; a free place's stay optional, as when it was claimed."""
    async with db.write_transaction():
        await orders.lock_order(reference)  # one change of the order's answers at a time
        order = await _order(reference)
        view = await _guest_view(order, locale=locale, now=now)
        if not view.open:
            raise Conflict(ANSWERS_CLOSED, code="answers_closed")
        ticket_types, valid = await _order_tickets(order["id"])
        given = forms.given_from_form(form, view.asking.slots)
        questions = await event_questions(order["event"], locale)
        checked = rules.check_answers(questions, ticket_types, given, require=view.required, tickets=valid)
        if checked.problems:
            raise AnswersRefused(checked.problems, view.asking)
        for slot in view.asking.slots:
            await Answer.delete().where(
                Answer.order_id == order["id"],
                Answer.question == slot.question.id,
                Answer.ticket_index.is_null() if slot.ticket_index is None else Answer.ticket_index == slot.ticket_index,
            )
        await _insert_answers(order["id"], checked.answers, now)
        await orders.note(order["id"], "answers_changed", "The guest changed their answers", now)


# --- the organiser's set-up --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A question as its organiser sets it up."""

    id: int
    kind: QuestionKind
    label: str
    help_text: str
    preset: str
    options: tuple[Option, ...]
    required: bool
    per_ticket: bool
    door_flag: bool
    position: int
    ticket_types: tuple[int, ...]
    ticket_type_names: tuple[str, ...]
    answers: int

    def draft(self) -> rules.Draft:
        return rules.Draft(
            kind=self.kind,
            label=self.label,
            help_text=self.help_text,
            options=tuple(option.label for option in self.options),
            required=self.required,
            per_ticket=self.per_ticket,
            door_flag=self.door_flag,
            ticket_types=self.ticket_types,
        )


@dataclass(frozen=True, slots=True)
class QuestionSetup:
    """An event's questions page: its questions, its ticket types (to limit a question to), the presets not added yet,
    and until when guests may change their answers."""

    event: EventRow
    questions: list[QuestionView]
    ticket_types: list[tuple[int, str]]
    presets: list[rules.Preset]
    close_hours: int
    closes_at: datetime


async def _views(event_id: int) -> list[QuestionView]:
    rows = await _question_rows(event_id)
    limits = await _limits([row["id"] for row in rows])
    names = await _type_names(event_id)
    counts: dict[int, int] = defaultdict(int)
    if rows:
        for answer in await Answer.select(Answer.question).where(Answer.question.is_in([row["id"] for row in rows])):
            counts[answer["question"]] += 1
    return [
        QuestionView(
            id=row["id"],
            kind=QuestionKind(row["kind"]),
            label=row["label"],
            help_text=row["help_text"],
            preset=row["preset"],
            options=rules.read_options(row["options"]),
            required=row["required"],
            per_ticket=row["per_ticket"],
            door_flag=row["door_flag"],
            position=row["position"],
            ticket_types=tuple(sorted(limits.get(row["id"], ()))),
            ticket_type_names=tuple(names[t] for t in sorted(limits.get(row["id"], ())) if t in names),
            answers=counts[row["id"]],
        )
        for row in rows
    ]


async def question_setup(slug: str) -> QuestionSetup:
    event = await find_event(slug)
    questions = await _views(event.id)
    types = await TicketType.select(TicketType.id, TicketType.name).where(TicketType.event == event.id).order_by(TicketType.position, TicketType.id)
    hours = await _close_hours(event.id)
    used = {question.preset for question in questions}
    return QuestionSetup(
        event=event,
        questions=questions,
        ticket_types=[(row["id"], row["name"]) for row in types],
        presets=[preset for key, preset in rules.PRESETS.items() if key not in used],
        close_hours=hours,
        closes_at=rules.answers_close_at(event.starts_at, hours).astimezone(ZoneInfo(event.timezone)),
    )


async def list_questions(slug: str) -> list[QuestionView]:
    event = await find_event(slug)
    return await _views(event.id)


async def _close_hours(event_id: int) -> int:
    row = await Event.select(Event.answers_close_hours_before).where(Event.id == event_id).first()
    return int(row["answers_close_hours_before"]) if row else 0


async def _event_types(event_id: int) -> list[int]:
    return [row["id"] for row in await TicketType.select(TicketType.id).where(TicketType.event == event_id)]


def _refuse(problems: dict[str, str]) -> InvalidInput:
    return InvalidInput(next(iter(problems.values())), fields=problems)


def _audited(view: QuestionView | rules.Draft, preset: str = "") -> dict[str, Any]:
    """What the audit log keeps of a question: its set-up, never an answer."""
    return {
        "kind": str(view.kind),
        "label": view.label,
        "options": [option.label if isinstance(option, Option) else option for option in view.options],
        "required": view.required,
        "per_ticket": view.per_ticket,
        "door_flag": view.door_flag,
        "ticket_types": list(view.ticket_types),
        **({"preset": preset} if preset else {}),
    }


async def add_question(slug: str, draft: rules.Draft, *, now: datetime, preset: str = "") -> QuestionView:
    """Add a question at the end of the event's list: the organiser's own, or a preset (its kind and options are the
    preset's; its words unless reworded)."""
    event = await find_event(slug)
    if preset:
        known = rules.PRESETS.get(preset)
        if known is None:
            raise _refuse({"preset": N_("There is no such ready-made question.")})
        draft = rules.Draft(
            kind=known.kind,
            label=draft.label.strip() or known.label,
            help_text=draft.help_text.strip() or known.help_text,
            options=tuple(option.label for option in known.options),
            required=draft.required,
            per_ticket=draft.per_ticket,
            door_flag=draft.door_flag,
            ticket_types=draft.ticket_types,
        )
    async with db.write_transaction():
        if problems := rules.draft_problems(draft, await _event_types(event.id), preset=bool(preset)):
            raise _refuse(problems)
        if preset and await Question.exists().where(Question.event == event.id, Question.preset == preset, Question.removed_at.is_null()):
            message = N_("This event already asks this ready-made question.")
            raise Conflict(message, code="question_exists", fields={"preset": message})
        last = await Question.select(Question.position).where(Question.event == event.id).order_by(Question.position, ascending=False).first()
        options = rules.PRESETS[preset].options if preset else rules.options_for(draft.options) if draft.kind in rules.CHOICE_KINDS else ()
        question = Question(
            event=event.id,
            kind=draft.kind,
            label=draft.label.strip(),
            help_text=draft.help_text.strip(),
            preset=preset,
            options=rules.options_json(options),
            required=draft.required,
            per_ticket=draft.per_ticket,
            door_flag=draft.door_flag,
            position=(last["position"] + 1) if last else 0,
            created_at=now,
        )
        await question.save()
        await _limit_to(question.id, draft.ticket_types)
        await audit.record(
            "question.added", now=now, event_id=event.id, subject_type="question", subject_id=question.id, after=_audited(draft, preset)
        )
    return await _view(event.id, question.id)


async def _view(event_id: int, question_id: int) -> QuestionView:
    found = next((view for view in await _views(event_id) if view.id == question_id), None)
    if found is None:
        raise NotFound(QUESTION_NOT_FOUND, code="question_not_found")
    return found


async def _limit_to(question_id: int, ticket_types: Sequence[int]) -> None:
    await QuestionTicketType.delete().where(QuestionTicketType.question == question_id)
    if ticket_types:
        await QuestionTicketType.insert(*[QuestionTicketType(question=question_id, ticket_type=t) for t in dict.fromkeys(ticket_types)])


async def change_question(slug: str, question_id: int, draft: rules.Draft, *, now: datetime) -> QuestionView:
    """Change a question's words, choices, whether it is required, how it is asked and for which ticket types. A
    question with answers keeps its kind (its answers are read by it), and a choice kept keeps its key, so its
    answers still count; a preset keeps its choices."""
    event = await find_event(slug)
    async with db.write_transaction():
        before = await _view(event.id, question_id)
        if before.preset:
            draft = rules.Draft(
                kind=before.kind,
                label=draft.label,
                help_text=draft.help_text,
                options=(),
                required=draft.required,
                per_ticket=draft.per_ticket,
                door_flag=draft.door_flag,
                ticket_types=draft.ticket_types,
            )
        if problems := rules.draft_problems(draft, await _event_types(event.id), preset=bool(before.preset)):
            raise _refuse(problems)
        if before.answers and draft.kind != before.kind:
            message = N_("Guests have answered this question, so its kind cannot change. Remove it and add a new one instead.")
            raise Conflict(message, code="question_answered", fields={"kind": message})
        if before.answers and before.per_ticket != draft.per_ticket:
            message = N_(
                "Guests have answered this question, so it cannot change between per ticket and per order. Remove it and add a new one instead."
            )
            raise Conflict(message, code="question_answered", fields={"asked": message})
        options = before.options if before.preset else rules.options_for(draft.options, before.options) if draft.kind in rules.CHOICE_KINDS else ()
        await Question.update(
            {
                Question.kind: draft.kind,
                Question.label: draft.label.strip(),
                Question.help_text: draft.help_text.strip(),
                Question.options: rules.options_json(options),
                Question.required: draft.required,
                Question.per_ticket: draft.per_ticket,
                Question.door_flag: draft.door_flag,
            }
        ).where(Question.id == question_id)
        await _limit_to(question_id, draft.ticket_types)
        old, new = audit.changed_fields(_audited(before), _audited(draft))
        if new:
            await audit.record("question.changed", now=now, event_id=event.id, subject_type="question", subject_id=question_id, before=old, after=new)
    return await _view(event.id, question_id)


async def move_question(slug: str, question_id: int, direction: str, *, now: datetime) -> None:
    """Move a question one place up or down the order guests are asked in."""
    event = await find_event(slug)
    async with db.write_transaction():
        rows = await _question_rows(event.id)
        ids = tuple(row["id"] for row in rows)
        if question_id not in ids:
            raise NotFound(QUESTION_NOT_FOUND, code="question_not_found")
        if direction not in ("up", "down"):
            raise _refuse({"direction": N_("Move a question up or down.")})
        moved = rules.Ordering(ids).moved(question_id, direction)
        if moved == ids:
            return
        for position, moved_id in enumerate(moved):
            await Question.update({Question.position: position}).where(Question.id == moved_id)
        await audit.record(
            "question.moved",
            now=now,
            event_id=event.id,
            subject_type="question",
            subject_id=question_id,
            before={"position": ids.index(question_id) + 1},
            after={"position": moved.index(question_id) + 1},
        )


async def remove_question(slug: str, question_id: int, *, now: datetime) -> None:
    """Stop asking a question. One nobody has answered goes; one with answers is kept out of sight with them, until
    they are erased with the rest of the guests' data."""
    event = await find_event(slug)
    async with db.write_transaction():
        view = await _view(event.id, question_id)
        if view.answers:
            await Question.update({Question.removed_at: now}).where(Question.id == question_id)
        else:
            await Question.delete().where(Question.id == question_id)
        await audit.record(
            "question.removed",
            now=now,
            event_id=event.id,
            subject_type="question",
            subject_id=question_id,
            before={"label": view.label},
            after={"answers_kept": view.answers},
        )


async def set_answers_close(slug: str, hours: int | None, *, now: datetime) -> None:
    """Until how many hours before the start guests may change their answers."""
    if (problem := rules.close_hours_problem(hours)) is not None:
        raise _refuse({"close_hours": problem})
    assert hours is not None
    event = await find_event(slug)
    async with db.write_transaction():
        before = await _close_hours(event.id)
        if before == hours:
            return
        await Event.update({Event.answers_close_hours_before: hours}).where(Event.id == event.id)
        await audit.record(
            "event.answers_close_changed",
            now=now,
            event_id=event.id,
            subject_type="event",
            subject_id=slug,
            before={"answers_close_hours_before": before},
            after={"answers_close_hours_before": hours},
        )


# --- what the organiser reads: the kitchen list, the attendee list, one order, the door ------------------


@dataclass(frozen=True, slots=True)
class KitchenList:
    """How many guests and what they asked the kitchen for: counts only, never who."""

    event: EventRow
    starts_at: datetime  # in the event's time zone
    guests: int  # valid tickets of paid orders
    questions: list[rules.QuestionCounts] = field(default_factory=list)


async def _paid_tickets(event_id: int) -> dict[int, list[dict[str, Any]]]:
    """The tickets of the event's paid orders, by order, each order's in issue order (their ticket index)."""
    rows = (
        await Ticket.select(Ticket.id, Ticket.order_id, Ticket.ticket_type, Ticket.status)
        .where(Ticket.event == event_id, Ticket.order_id.status == OrderStatus.paid)
        .order_by(Ticket.order_id)
        .order_by(Ticket.id)
    )
    by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_order[row["order_id"]].append(row)
    return by_order


async def kitchen_list(slug: str) -> KitchenList:
    """The kitchen list: for each question, over the valid tickets of paid orders (a per-order question: over the paid
    orders with such a ticket), how many were asked, answered, and chose each answer."""
    event = await find_event(slug)
    questions = await event_questions(event.id)
    by_order = await _paid_tickets(event.id)
    guests = sum(1 for tickets in by_order.values() for t in tickets if t["status"] == TicketStatus.valid)
    answers = await _answers_by_slot([q.id for q in questions], list(by_order))
    counted = []
    for question in questions:
        values: list[str] = []
        asked = 0
        for order_id, tickets in by_order.items():
            valid = [i for i, t in enumerate(tickets) if t["status"] == TicketStatus.valid and question.asked_for(t["ticket_type"])]
            for index in valid if question.per_ticket else valid[:1]:
                asked += 1
                value = answers.get((question.id, order_id, index if question.per_ticket else None))
                if value is not None:
                    values.append(value)
        counted.append(rules.count_answers(question, values, asked=asked))
    return KitchenList(event, event.starts_at.astimezone(ZoneInfo(event.timezone)), guests, counted)


async def _answers_by_slot(question_ids: Sequence[int], order_ids: Sequence[int]) -> dict[tuple[int, int, int | None], str]:
    if not question_ids or not order_ids:
        return {}
    rows = await Answer.select(Answer.question, Answer.order_id, Answer.ticket_index, Answer.value).where(
        Answer.question.is_in(list(question_ids)), Answer.order_id.is_in(list(order_ids))
    )
    return {(row["question"], row["order_id"], row["ticket_index"]): row["value"] for row in rows}


@dataclass(frozen=True, slots=True)
class AttendeeAnswers:
    """The attendee list's answer columns: a heading per question, and each ticket's answers under them."""

    headings: list[str]
    by_ticket: dict[int, list[str]]


async def attendee_answers(event_id: int) -> AttendeeAnswers:
    """Each valid ticket's answers (a per-order question's answer on each of the order's tickets), in words."""
    questions = await event_questions(event_id)
    if not questions:
        return AttendeeAnswers([], {})
    by_order = await _paid_tickets(event_id)
    answers = await _answers_by_slot([q.id for q in questions], list(by_order))
    by_ticket: dict[int, list[str]] = {}
    for order_id, tickets in by_order.items():
        for index, ticket in enumerate(tickets):
            by_ticket[ticket["id"]] = [
                rules.answer_text(q, answers.get((q.id, order_id, index if q.per_ticket else None), "")) if q.asked_for(ticket["ticket_type"]) else ""
                for q in questions
            ]
    return AttendeeAnswers([q.label for q in questions], by_ticket)


async def order_answer_lines(order_id: int) -> list[AnswerLine]:
    """One order's answers in words, for its organiser: removed questions' too, as long as they are held."""
    event = await Order.select(Order.event).where(Order.id == order_id).first()
    if event is None:
        return []
    questions = {q.id: q for q in await event_questions(event["event"], removed=True)}
    ticket_types, _ = await _order_tickets(order_id)
    names = await _type_names(event["event"])
    order_of = {question_id: position for position, question_id in enumerate(questions)}
    lines: list[tuple[tuple[int, int], AnswerLine]] = []
    for answer in await _stored(order_id):
        question = questions.get(answer.question)
        if question is None or not (said := rules.answer_text(question, answer.value)):
            continue
        index = answer.ticket_index
        type_name = names.get(ticket_types[index], "") if index is not None and index < len(ticket_types) else ""
        line = AnswerLine(question.label, None if index is None else index + 1, said, type_name)
        lines.append(((-1 if index is None else index, order_of[question.id]), line))
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


async def door_notes(event_id: int, ticket_ids: Sequence[int], *, locale: str = "en") -> dict[int, list[str]]:
    """The short flags the door search shows on tickets: for each question the organiser flagged for the door and the
    guest answered (a preset's own short flag, e.g. "Dietary note"; else the question). Never the answer itself."""
    flagged = [q for q in await event_questions(event_id, locale) if q.door_flag]
    if not flagged or not ticket_ids:
        return {}
    wanted = await Ticket.select(Ticket.id, Ticket.order_id).where(Ticket.id.is_in(list(ticket_ids)), Ticket.event == event_id)
    order_ids = list({row["order_id"] for row in wanted})
    siblings = await Ticket.select(Ticket.id, Ticket.order_id, Ticket.ticket_type).where(Ticket.order_id.is_in(order_ids or [-1])).order_by(Ticket.id)
    position: dict[int, tuple[int, int, int]] = {}
    seen: dict[int, int] = defaultdict(int)
    for row in siblings:
        position[row["id"]] = (row["order_id"], seen[row["order_id"]], row["ticket_type"])
        seen[row["order_id"]] += 1
    answers = await _answers_by_slot([q.id for q in flagged], order_ids)
    catalogue = translations(locale)
    notes: dict[int, list[str]] = {}
    for ticket_id in ticket_ids:
        if ticket_id not in position:
            continue
        order_id, index, ticket_type = position[ticket_id]
        flags = []
        for question in flagged:
            value = answers.get((question.id, order_id, index if question.per_ticket else None))
            if value is not None and question.asked_for(ticket_type) and rules.flags_at_door(question, value):
                preset = rules.PRESETS.get(question.preset)
                flags.append(catalogue.gettext(preset.door_label) if preset else question.label)
        if flags:
            notes[ticket_id] = list(dict.fromkeys(flags))
    return notes


# --- privacy: export and erasure ------------------------------------------------------------------------------


async def exported_answers(order_ids: Sequence[int]) -> dict[int, list[AnswerLine]]:
    """The orders' answers in words, for a guest's data export, by order."""
    exported: dict[int, list[AnswerLine]] = {}
    for order_id in order_ids:
        if lines := await order_answer_lines(order_id):
            exported[order_id] = lines
    return exported


async def erase_answers(order_ids: Sequence[int]) -> int:
    """Delete the orders' answers (personal data: dietary and health needs among them). Inside the caller's write
    transaction; the number erased. A removed question nobody's answers hold any more goes too."""
    if not order_ids:
        return 0
    erased = await Answer.delete().where(Answer.order_id.is_in(list(order_ids))).returning(Answer.question)
    emptied = {row["question"] for row in erased}
    if emptied:
        still = Answer.select(Answer.question).where(Answer.question.is_in(list(emptied)))
        await Question.delete().where(Question.id.is_in(list(emptied)), Question.removed_at.is_not_null(), Question.id.not_in(still))
    return len(erased)


# --- the demo --------------------------------------------------------------------------------------------------


async def answer_as_guest(order_id: int, given: Sequence[Given], *, now: datetime) -> None:
    """Record answers for an order already placed, as its guest would give them (the demo's guests): checked as a
    claim's are (nothing required), in one transaction."""
    async with db.write_transaction():
        order = await Order.select(Order.event).where(Order.id == order_id).first()
        if order is None:
            raise NotFound(N_("We could not find that order."), code="order_not_found")
        ticket_types, _ = await _order_tickets(order_id)
        checked = rules.check_answers(await event_questions(order["event"]), ticket_types, given, require=False)
        if checked.problems:
            raise AnswersRefused(checked.problems)
        await Answer.delete().where(Answer.order_id == order_id)
        await _insert_answers(order_id, checked.answers, now)


def preset_draft(key: str) -> rules.Draft:
    """A preset as it is added by default (required or not, per ticket, flagged at the door as the preset says)."""
    preset = rules.PRESETS[key]
    return rules.Draft(kind=preset.kind, label=preset.label, required=preset.required, per_ticket=preset.per_ticket, door_flag=preset.door_flag)
