"""The storefront's request bodies that join two domains: an order or a claim with the guests' answers to the
event's questions (events.questions), which the orders package below knows nothing of."""

from __future__ import annotations

import msgspec

from events.orders.schemas import ClaimIn, OrderCreate
from events.questions.schemas import AnswerIn


class OrderIn(OrderCreate, forbid_unknown_fields=True):
    """An online order. Add pay-it-forward places or a donation (optionally for one partner) if you like, and a Gift
    Aid declaration on them; ``answers`` answer the event's questions (see ``AnswerIn``)."""

    answers: list[AnswerIn] = msgspec.field(default_factory=list)


class ClaimWithAnswers(ClaimIn, forbid_unknown_fields=True):
    """A guest claims a free place: a first name is enough; contact details are optional, and so are ``answers`` to
    the event's questions."""

    answers: list[AnswerIn] = msgspec.field(default_factory=list)
