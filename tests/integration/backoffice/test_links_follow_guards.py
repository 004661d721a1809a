"""The back office links only to pages the reader may open: an organiser limited to chosen events sees no menu link
or statement link that would answer 403, and an unlimited organiser still sees them all."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from tests.integration.accounts.test_login import sign_in
from tests.support.backoffice import sign_in_organiser
from tests.support.series import supper_club_with_guests

MENU = ("/manage/guests", "/manage/audit", "/manage/gift-aid", "/manage/people", "/manage/series")


def _links(page: str) -> set[str]:
    return set(re.findall(r'href="(/manage[^"#?]*)', page))


async def test_a_limited_organiser_sees_no_link_that_answers_403(client: httpx.AsyncClient, now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    await sign_in(client, "limited@test.example", "a long password")
    pages = [f"/manage/events/{club.slug}", f"/manage/events/{club.slug}/statement", "/manage"]
    seen: set[str] = set()
    for path in pages:
        page = await client.get(path)
        assert page.status_code == 200, path
        seen |= _links(page.text)
    for link in MENU:
        assert link not in seen, link
    assert not [link for link in seen if link.startswith("/manage/partners/")]  # statements, PDFs to sign off, payouts
    for link in sorted(seen):
        assert (await client.get(link)).status_code != 403, link


async def test_an_unlimited_organiser_still_sees_every_link(client: httpx.AsyncClient, now: datetime) -> None:
    club = await supper_club_with_guests(client, now)
    await sign_in_organiser(client)
    statement = await client.get(f"/manage/events/{club.slug}/statement")
    links = _links(statement.text)
    for link in MENU:
        assert link in links, link
    partner_links = [link for link in links if link.startswith("/manage/partners/")]
    assert any(link.endswith("/statement") for link in partner_links) and any(link.endswith("/statement.pdf") for link in partner_links)
    assert any(link.endswith("/payouts") for link in partner_links)
    assert "/manage/organisation/stripe" not in links  # an organiser, not an owner
