"""Claim codes: long enough that guessing is hopeless, and wrong guesses limited fairly when many people share
one connection (a drop-in centre): one person's guesses stop that person, never the others' real links."""

import re
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from events.catalogue.tables import Event
from events.errors import NotFound, TooManyAttempts
from events.orders import claims
from events.orders.codes import SECRET_ALPHABET
from events.orders.tables import ClaimCode, Order
from events.tickets.issuing import issue_and_confirm
from tests.factories import make_event
from tests.integration.orders.test_pay_it_forward import claim, claim_link


@pytest.fixture
async def another_person(app, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """Someone else's browser on the same connection (the same address as ``client``), with its own cookies."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        yield browser


async def claim_with_the_form(browser: httpx.AsyncClient, code: str, name: str = "Leila") -> httpx.Response:
    page = await browser.get(f"/claim/{code}")
    assert page.status_code == 200, page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return await browser.post(f"/claim/{code}", data={"name": name, "_csrf_token": token}, follow_redirects=True)


def wrong_code(n: int) -> str:
    return f"wrongguess{n:010d}"


async def test_new_codes_are_long_and_old_codes_still_work(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    assert len(link["code"]) == 20 and set(link["code"]) <= set(SECRET_ALPHABET)  # 20 × log2(31) ≈ 99 bits
    event = await Event.select(Event.id).where(Event.slug == slug).first()
    await ClaimCode(event=event["id"], code="abcdefghjkmnpqrs", partner_name="Made before", places=2, created_at=now).save()
    assert (await claim(client, "abcdefghjkmnpqrs")).status_code == 201  # a 16-letter link handed out earlier
    assert (await claim_with_the_form(client, "abcdefghjkmnpqrs", "Amir")).status_code == 200


async def test_one_persons_wrong_codes_stop_that_person_and_not_the_next(
    client: httpx.AsyncClient, another_person: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    guesser = client
    statuses = [(await guesser.get(f"/claim/{wrong_code(n)}")).status_code for n in range(claims.FAILED_CLAIMS_PER_BROWSER)]
    assert statuses == [404] * claims.FAILED_CLAIMS_PER_BROWSER
    stopped = await guesser.get(f"/claim/{link['code']}")  # even a real code, for the person who guessed
    assert stopped.status_code == 429 and int(stopped.headers["retry-after"]) > 0
    assert "wait a few minutes" in stopped.text
    # Someone else on the same connection opens their real link and claims their place.
    done = await claim_with_the_form(another_person, link["code"])
    assert done.status_code == 200 and "<svg" in done.text
    assert await Order.count().where(Order.channel == "claim") == 1


async def test_a_refused_try_learns_nothing_about_the_code(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    page = await client.get(f"/claim/{wrong_code(0)}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get("/login")).text).group(1)  # type: ignore[union-attr]
    for n in range(1, claims.FAILED_CLAIMS_PER_BROWSER):
        assert (await client.post(f"/claim/{wrong_code(n)}", data={"name": "X", "_csrf_token": token})).status_code == 404
    real = await client.post(f"/claim/{link['code']}", data={"name": "Leila", "_csrf_token": token}, follow_redirects=True)
    fake = await client.post(f"/claim/{wrong_code(99)}", data={"name": "Leila", "_csrf_token": token})
    assert page.status_code == 404 and real.status_code == fake.status_code == 429
    assert "<form" in real.text and int(real.headers["retry-after"]) > 0
    assert real.text.replace(link["code"], "CODE") == fake.text.replace(wrong_code(99), "CODE")


async def test_many_people_on_one_connection_each_get_their_own_budget(organiser: dict[str, str], client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, reserved_free_places=30)
    link = await claim_link(client, organiser, slug, places=30)
    people = [claims.Claimant("192.0.2.30", f"person-{n:02d}-browser-id-x") for n in range(30)]
    for person in people:  # everyone at the drop-in centre mistypes, each up to their own limit
        for n in range(claims.FAILED_CLAIMS_PER_BROWSER):
            with pytest.raises(NotFound):
                await claims.claim_place(wrong_code(n), name="X", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)
        with pytest.raises(TooManyAttempts):
            await claims.claim_place(wrong_code(99), name="X", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)
    # ...and their own guessing is all that stops anyone: a newcomer at the same address claims.
    newcomer = claims.Claimant("192.0.2.30", "newcomer-browser-id-xxx")
    placed = await claims.claim_place(
        link["code"], name="Leila", email="", phone="", locale="en", claimant=newcomer, issue=issue_and_confirm, now=now
    )
    assert placed.order_reference


async def test_a_real_code_never_counts_as_a_wrong_guess(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, reserved_free_places=30)
    link = await claim_link(client, organiser, slug, places=30)
    person = claims.Claimant("192.0.2.31", "helper-who-claims-for-many")
    for n in range(claims.FAILED_CLAIMS_PER_BROWSER - 1):
        with pytest.raises(NotFound):
            await claims.claim_place(wrong_code(n), name="X", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)
    for n in range(15):  # a helper claiming for a whole group, more times than the limit
        await claims.claim_place(link["code"], name=f"Guest {n}", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)
    with pytest.raises(NotFound):  # still one wrong guess left
        await claims.claim_place(wrong_code(98), name="X", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)
    with pytest.raises(TooManyAttempts):
        await claims.claim_place(wrong_code(99), name="X", email="", phone="", locale="en", claimant=person, issue=issue_and_confirm, now=now)


async def test_guessing_from_one_address_is_bounded_but_an_opened_link_keeps_working(
    client: httpx.AsyncClient,
    another_person: httpx.AsyncClient,
    organiser: dict[str, str],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claims, "FAILED_CLAIMS_PER_ADDRESS", 25)  # the real budget is the same, only bigger
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    opened = await another_person.get(f"/claim/{link['code']}")  # a guest opens their link, then fills it in
    token = re.search(r'name="_csrf_token" value="([^"]+)"', opened.text).group(1)  # type: ignore[union-attr]
    # Someone on the same connection guesses without keeping cookies, so every try looks like a new browser.
    statuses = [(await claim(client, wrong_code(n))).status_code for n in range(25)]
    assert statuses == [404] * 25
    assert (await claim(client, wrong_code(25))).status_code == 429  # the address's budget is spent
    assert (await claim(client, link["code"])).status_code == 429  # so the guesser learns nothing more
    # The guest who had opened their link still claims their place with it.
    done = await another_person.post(f"/claim/{link['code']}", data={"name": "Leila", "_csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and "<svg" in done.text
    assert await Order.count().where(Order.channel == "claim") == 1
