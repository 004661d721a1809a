"""A guest changes their answers from their order page until the event's cut-off (48 hours before by default), and
not after: the kitchen plans with them then."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from events.catalogue.tables import Event
from events.orders.tables import OrderHistory
from events.questions.tables import Answer
from tests.factories import make_event
from tests.integration.orders.test_buy_pages import csrf
from tests.integration.orders.test_pay_it_forward import claim, claim_link
from tests.support.orders import pay_with_test_page, place_order
from tests.support.questions import add_course, add_dietary


async def values() -> dict[tuple[int, int | None], str]:
    return {(row["question"], row["ticket_index"]): row["value"] for row in await Answer.select(Answer.question, Answer.ticket_index, Answer.value)}


async def paid_order(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, **event: object) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    slug = await make_event(now, **event)
    dietary = await add_dietary(client, slug, organiser)
    course = await add_course(client, slug, organiser)
    answers = [{"question": course["id"], "ticket_index": 0, "value": "lamb"}, {"question": course["id"], "ticket_index": 1, "value": "lamb"}]
    created = (await place_order(client, slug, quantity=2, answers=answers)).json()
    await pay_with_test_page(client, created)
    return created, dietary, course


async def test_a_guest_changes_their_answers_before_the_cut_off(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    created, dietary, course = await paid_order(client, organiser, now)
    token = created["access_token"]
    order_page = await client.get(f"/orders/{created['reference']}?token={token}")
    assert "Your answers" in order_page.text and "Change your answers" in order_page.text and "Lamb" in order_page.text
    page = await client.get(f"/orders/{created['reference']}/answers?token={token}")
    assert page.status_code == 200 and "You can change them until" in page.text
    assert page.text.count('value="lamb" checked') == 2  # what was answered, shown again
    form = {
        "token": token,
        f"answer_{course['id']}_0": "lamb",
        f"answer_{course['id']}_1": "aubergine",
        f"answer_{dietary['id']}_1.vegan": "on",
        "_csrf_token": csrf(page.text),
    }
    saved = await client.post(f"/orders/{created['reference']}/answers", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("&saved=1")
    assert await values() == {(course["id"], 0): "lamb", (course["id"], 1): "aubergine", (dietary["id"], 1): '["vegan"]'}
    assert "Your answers are saved." in (await client.get(saved.headers["location"])).text
    assert await OrderHistory.exists().where(OrderHistory.kind == "answers_changed")

    # A required answer stays required; a bad one is refused beside its question, and nothing changes.
    refused = await client.post(
        f"/orders/{created['reference']}/answers", data={**form, f"answer_{course['id']}_1": "", f"answer_{dietary['id']}_0.paleo": "on"}
    )
    assert refused.status_code == 422 and "Please answer &#34;Main course&#34; for ticket 2." in refused.text
    assert (await values())[(course["id"], 1)] == "aubergine"
    # Another order's token opens nothing.
    assert (await client.get(f"/orders/{created['reference']}/answers?token=ord_wrong")).status_code == 404


async def test_answers_cannot_change_after_the_cut_off(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    created, dietary, course = await paid_order(client, organiser, now)
    # The event starts in 47 hours: the default cut-off, 48 hours before, has passed.
    starts = now + timedelta(hours=47)
    await Event.update({Event.starts_at: starts, Event.ends_at: starts + timedelta(hours=3)}).where(Event.slug == "supper-club")
    token = created["access_token"]
    order_page = await client.get(f"/orders/{created['reference']}?token={token}")
    assert "Your answers" in order_page.text and "Change your answers" not in order_page.text
    page = await client.get(f"/orders/{created['reference']}/answers?token={token}")
    assert page.status_code == 200 and "Answers closed at" in page.text and "Lamb" in page.text
    assert f'action="/orders/{created["reference"]}/answers"' not in page.text  # shown, not offered for change
    late = await client.post(
        f"/orders/{created['reference']}/answers",
        data={"token": token, f"answer_{course['id']}_0": "aubergine", f"answer_{course['id']}_1": "aubergine", "_csrf_token": csrf(order_page.text)},
    )
    assert late.status_code == 409 and "Answers can no longer be changed" in late.text
    assert await values() == {(course["id"], 0): "lamb", (course["id"], 1): "lamb"}

    # The organiser gives guests until 24 hours before: the guest may change them again.
    from tests.support.backoffice import post_form, sign_in_organiser

    await sign_in_organiser(client)
    moved = await post_form(
        client, "/manage/events/supper-club/questions/cut-off", {"close_hours": "24"}, page="/manage/events/supper-club/questions"
    )
    assert moved.status_code == 303
    assert "You can change them until" in (await client.get(f"/orders/{created['reference']}/answers?token={token}")).text
    assert dietary["id"]


async def test_a_free_places_answers_stay_optional_when_changed(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    course = await add_course(client, slug, organiser)
    link = await claim_link(client, organiser, slug)
    assert (await claim(client, link["code"], email="leila@example.org")).status_code == 201
    from events.orders.codes import order_access_token
    from events.orders.tables import Order

    reference = (await Order.select(Order.reference).first())["reference"]
    token = order_access_token(client._transport.app.state.settings.secret_key, reference)  # type: ignore[attr-defined]
    page = await client.get(f"/orders/{reference}/answers?token={token}")
    assert page.status_code == 200 and "(optional)" in page.text
    saved = await client.post(f"/orders/{reference}/answers", data={"token": token, "_csrf_token": csrf(page.text)})
    assert saved.status_code == 303 and await Answer.count() == 0
    saved = await client.post(
        f"/orders/{reference}/answers", data={"token": token, f"answer_{course['id']}_0": "lamb", "_csrf_token": csrf(page.text)}
    )
    assert saved.status_code == 303 and await values() == {(course["id"], 0): "lamb"}
