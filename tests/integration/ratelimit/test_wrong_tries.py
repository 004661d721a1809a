"""Budgets of wrong tries (claim codes, access codes, waiting-list tokens): a right try is never counted and writes
nothing, and tries sent all at once by one guest get no more wrong answers than their budget allows."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import httpx
import pytest

from events.errors import NotFound, TooManyAttempts
from events.orders import claims
from events.ratelimit import service as ratelimit
from events.ratelimit.tables import RateLimitBucket
from events.waitlist import service as waitlist
from tests.factories import make_event
from tests.integration.orders.test_claim_guessing import wrong_code
from tests.integration.orders.test_pay_it_forward import claim_link
from tests.integration.waitlist.helpers import joined, sold_out_event

TRIES_AT_ONCE = 40


def outcomes(answers: list[object]) -> Counter[str]:
    return Counter("opened" if isinstance(answer, claims.ClaimLinkUsage) else type(answer).__name__ for answer in answers)


async def test_wrong_codes_sent_at_once_get_no_more_answers_than_the_budget(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    guesser = claims.Claimant("192.0.2.40", "browser-that-guesses-xxx")

    tries = [claims.open_claim_link(wrong_code(n), guesser, now=now) for n in range(TRIES_AT_ONCE)]
    answers = await asyncio.gather(*tries, return_exceptions=True)

    budget = claims.FAILED_CLAIMS_PER_BROWSER
    assert outcomes(answers) == {"NotFound": budget, "TooManyAttempts": TRIES_AT_ONCE - budget}
    with pytest.raises(TooManyAttempts):  # the guesser learns nothing more, even of a real code
        await claims.open_claim_link(link["code"], guesser, now=now)
    window = {"window_seconds": claims.FAILED_CLAIMS_WINDOW_SECONDS, "now_epoch": int(now.timestamp())}
    assert await ratelimit.count("claim-failures-browser", f"{guesser.address} {guesser.browser}", **window) == budget
    assert await ratelimit.count("claim-failures", guesser.address, **window) == budget
    assert ratelimit._turns == {}  # nothing of the tries is left in the process's memory


async def test_a_guesser_without_cookies_is_held_by_the_address_budget_at_once_too(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claims, "FAILED_CLAIMS_PER_ADDRESS", 12)  # the real budget is the same, only bigger
    slug = await make_event(now)
    await claim_link(client, organiser, slug)
    # Every try from a browser of its own: only the address's budget holds them.
    tries = [claims.open_claim_link(wrong_code(n), claims.Claimant("192.0.2.41", f"new-browser-{n:03d}-xxxxx"), now=now) for n in range(30)]
    assert outcomes(await asyncio.gather(*tries, return_exceptions=True)) == {"NotFound": 12, "TooManyAttempts": 18}


async def test_right_codes_are_never_counted_and_write_nothing(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now)
    link = await claim_link(client, organiser, slug)
    helper = claims.Claimant("192.0.2.42", "helper-at-the-drop-in-xx")
    opened = await asyncio.gather(*(claims.open_claim_link(link["code"], helper, now=now) for _ in range(TRIES_AT_ONCE)))
    assert len(opened) == TRIES_AT_ONCE
    assert await RateLimitBucket.count() == 0

    # Right and wrong tries at once: every right one is answered, and only the wrong ones are counted.
    budget = claims.FAILED_CLAIMS_PER_BROWSER
    mixed = [claims.open_claim_link(wrong_code(n), helper, now=now) for n in range(budget - 1)]
    mixed += [claims.open_claim_link(link["code"], helper, now=now) for _ in range(TRIES_AT_ONCE)]
    answers = await asyncio.gather(*mixed, return_exceptions=True)
    assert outcomes(answers) == {"NotFound": budget - 1, "opened": TRIES_AT_ONCE}
    window = {"window_seconds": claims.FAILED_CLAIMS_WINDOW_SECONDS, "now_epoch": int(now.timestamp())}
    assert await ratelimit.count("claim-failures-browser", f"{helper.address} {helper.browser}", **window) == budget - 1


async def test_wrong_waiting_list_tokens_sent_at_once_get_no_more_answers_than_the_budget(
    client: httpx.AsyncClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waitlist, "WRONG_TOKENS_PER_CLIENT", 5)
    slug = await sold_out_event(client, now)
    amira = await joined(client, slug, "Amira")
    guest = waitlist.Guest("192.0.2.43")
    assert (await waitlist.entry_status(amira, now, guest=guest)).name == "Amira"
    # Her own entry, looked at: nothing written (her joining was counted, under a budget of its own).
    assert await RateLimitBucket.count().where(RateLimitBucket.key.like("waitlist-token-failures:%")) == 0

    answers = await asyncio.gather(*(waitlist.entry_status(f"guess-{n}", now, guest=guest) for n in range(30)), return_exceptions=True)

    assert Counter(type(answer).__name__ for answer in answers) == {"NotFound": 5, "TooManyAttempts": 25}
    assert all(answer.code == "waiting_entry_not_found" for answer in answers if isinstance(answer, NotFound))
    with pytest.raises(TooManyAttempts):
        await waitlist.entry_status(amira, now, guest=guest)
