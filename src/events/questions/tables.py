"""Question tables: an event's questions (which ticket types they are asked for) and the guests' answers."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from events.catalogue.tables import Event, TicketType
from events.orders.tables import Order
from events.questions.statuses import QuestionKind


class Question(Table, tablename="question"):
    """A question asked at checkout and claim. A preset's label and options are translated for guests; an
    organiser's own wording is shown as typed."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    event = ForeignKey(references=Event, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16, choices=QuestionKind)
    label = Varchar(length=200)
    help_text = Text(default="")
    # "" for the organiser's own question, or the preset it came from (e.g. "dietary").
    preset = Varchar(length=20, default="")
    # Choice questions: a JSON list of {"key": ..., "label": ...}; answers store the keys, so labels can change.
    options = Text(default="[]")
    required = Boolean(default=False)
    # Asked once per ticket (each guest) or once per order.
    per_ticket = Boolean(default=True)
    # The door search shows a short flag (e.g. "dietary note") on tickets with an answer to this question.
    door_flag = Boolean(default=False)
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    # A question with answers is removed by setting this (its answers stay until erased with the guests' data).
    removed_at = Timestamptz(null=True, default=None)


class QuestionTicketType(Table, tablename="question_ticket_type"):
    """A ticket type a question is limited to; a question with none is asked for every type."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    question = ForeignKey(references=Question, on_delete=OnDelete.cascade, index=True)
    ticket_type = ForeignKey(references=TicketType, on_delete=OnDelete.cascade, index=True)


class Answer(Table, tablename="answer"):
    """A guest's answer: personal data, erased with the rest of the event's guest data."""

    id: Serial  # the primary key Piccolo adds itself; annotated (not assigned) for type checkers

    question = ForeignKey(references=Question, on_delete=OnDelete.cascade, index=True)
    order_id = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    # Which of the order's tickets (0-based, in the order they are issued: by ticket id) for a per-ticket question;
    # None for a per-order question.
    ticket_index = Integer(null=True, default=None)
    # Free text as typed; one choice: the option's key; several: a JSON list of keys; yes/no: "yes" or "no".
    value = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
