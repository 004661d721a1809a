"""A refugee guest claiming a free place may answer the event's questions, in their language, none of them required:
an Arabic claim answering the dietary question, the claims API with answers, and answers that tell a guesser nothing
about codes."""

from __future__ import annotations

import html
import re
from datetime import datetime

import httpx

from events import i18n
from events.orders.tables import ClaimCode, Order
from events.questions.tables import Answer
from tests.factories import make_event
from tests.integration.orders.test_buy_pages import csrf
from tests.integration.orders.test_pay_it_forward import claim, claim_link
from tests.support.questions import add_course, add_dietary


def in_arabic(message: str) -> str:
    """What an Arabic page shows for ``message``: the Arabic catalogue's words (the English until it is translated)."""
    return html.escape(i18n.translations("ar").gettext(message), quote=False)


async def test_an_arabic_claim_answers_the_dietary_question(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    await add_course(client, slug, organiser)  # required of buyers, never of a free place's guest
    link = await claim_link(client, organiser, slug)
    page = await client.get(f"/claim/{link['code']}?lang=ar")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="ar" dir="rtl">' in text
    # The preset's words come from the Arabic catalogue; every question is optional here.
    assert f'<legend><bdi>{in_arabic("Dietary and allergen needs")}</bdi> <span class="optional">{in_arabic("(optional)")}</span></legend>' in text
    assert in_arabic("Peanut allergy") in text and in_arabic("Halal") in text
    assert f'<legend><bdi>Main course</bdi> <span class="optional">{in_arabic("(optional)")}</span></legend>' in text
    assert f'id="answer_{dietary["id"]}_0.none"' not in text  # checkboxes need no "no answer"
    form = {
        "name": "ليلى",
        f"answer_{dietary['id']}_0.halal": "on",
        f"answer_{dietary['id']}_0.peanuts": "on",
        f"answer_{dietary['id']}_0--note": "بدون فطر",
        "_csrf_token": csrf(text),
    }
    claimed = await client.post(f"/claim/{link['code']}", data=form, follow_redirects=True)
    assert claimed.status_code == 200, claimed.text
    assert '<html lang="ar" dir="rtl">' in claimed.text
    order = await Order.select(Order.id, Order.locale, Order.buyer_name).first()
    assert order["locale"] == "ar" and order["buyer_name"] == "ليلى"
    [answer] = await Answer.select(Answer.question, Answer.ticket_index, Answer.value).where(Answer.order_id == order["id"])
    assert answer == {"question": dietary["id"], "ticket_index": 0, "value": '{"choices": ["halal", "peanuts", "other"], "note": "بدون فطر"}'}


async def test_the_claims_api_takes_answers_and_a_wrong_one_claims_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    link = await claim_link(client, organiser, slug)
    wrong = await claim(client, link["code"], answers=[{"question": dietary["id"], "value": ["vegan", "carnivore"]}])  # type: ignore[arg-type]
    assert wrong.status_code == 422
    assert wrong.json()["fields"] == {f"answer_{dietary['id']}_0": 'Choose one of the answers offered for "Dietary and allergen needs".'}
    assert await Order.count() == 0 and (await ClaimCode.select(ClaimCode.claimed).first())["claimed"] == 0
    # Nothing is required of a free place: no answers at all, or some.
    assert (await claim(client, link["code"], name="Amir")).status_code == 201
    answered = await claim(client, link["code"], name="Leila", locale="fa", answers=[{"question": dietary["id"], "value": ["vegetarian"]}])  # type: ignore[arg-type]
    assert answered.status_code == 201, answered.text
    assert [row["value"] for row in await Answer.select(Answer.value)] == ['["vegetarian"]']
    assert course["required"]


async def test_answers_with_an_unknown_code_are_answered_as_an_unknown_code(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    """Checking answers before the code would tell a guesser which codes are real: a wrong code with answers is the
    same 404 as without, and counts as a wrong guess."""
    slug = await make_event(now)
    dietary = await add_dietary(client, slug, organiser)
    response = await claim(client, "wrongguess0000000001", answers=[{"question": dietary["id"], "value": "not even a list"}])  # type: ignore[arg-type]
    assert response.status_code == 404 and response.json()["error"] == "claim_code_not_found"
    page = await client.get("/claim/wrongguess0000000002")
    assert page.status_code == 404 and "answer_" not in page.text
    token = csrf((await client.get("/login")).text)  # the error page has no form of its own
    posted = await client.post("/claim/wrongguess0000000003", data={"name": "Leila", f"answer_{dietary['id']}_0.vegan": "on", "_csrf_token": token})
    assert posted.status_code == 404 and not re.search("answer_", posted.text)
    assert await Answer.count() == 0
