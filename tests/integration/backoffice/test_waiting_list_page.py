"""The back-office waiting-list page: who is waiting in what order with their offers and the free list's counts per
referral partner; removing a person after a confirmation, closing and reopening the list, with CSRF-protected forms."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx

from events.accounts import service as accounts
from events.catalogue.tables import Event
from events.waitlist.statuses import WaitingStatus
from events.waitlist.tables import WaitingEntry
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.waitlist import add_waiting_entry


async def _status(entry_id: int) -> str:
    return (await WaitingEntry.select(WaitingEntry.status).where(WaitingEntry.id == entry_id).first())["status"]


async def test_the_page_lists_people_in_order_with_counts_per_partner_and_is_linked_from_the_dashboard(
    client: httpx.AsyncClient, now: datetime
) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    await add_waiting_entry(slug, now=now, name="Amal <b>First</b>", email="amal@guest.example", quantity=2)
    offered = await add_waiting_entry(slug, now=now + timedelta(seconds=1), name="Bea Offered", status=WaitingStatus.offered)
    await add_waiting_entry(slug, now=now + timedelta(seconds=2), name="Chen Second", phone="+447700900123")
    await add_waiting_entry(slug, now=now, name="Dara", phone="+447700900124", partner="Refugee Drop-in")
    await add_waiting_entry(slug, now=now, name="Eli", partner="Night Shelter", quantity=2)

    dashboard = await client.get(f"/manage/events/{slug}")
    assert f'href="/manage/events/{slug}/waiting-list"' in dashboard.text

    page = await client.get(f"/manage/events/{slug}/waiting-list")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Amal &lt;b&gt;First&lt;/b&gt;" in page.text and "<b>First</b>" not in page.text  # what a guest typed is escaped
    assert "amal@guest.example" in page.text and "+447700900123" in page.text
    assert 'aria-current="page">Waiting list' in page.text
    paid_rows = re.findall(r'<tr id="entry-(\d+)">\s*<th scope="row"[^>]*>([^<]+)</th>', page.text.split('id="free-heading"')[0])
    assert [turn.strip() for _, turn in paid_rows] == ["1", "—", "2"]
    assert str(offered) == paid_rows[1][0]
    counts = page.text.split('class="summary partner-counts"')[1].split("</table>")[0]
    assert re.search(r"Night Shelter</th><td class=\"number\">1</td><td class=\"number\">2</td>", counts)
    assert re.search(r"Refugee Drop-in</th><td class=\"number\">1</td><td class=\"number\">1</td>", counts)
    # Offer by hand only to those waiting; remove anyone still on the list.
    assert page.text.count('/offer"') == 4 and page.text.count('/remove"') == 5
    assert "The list is open" in page.text and "Close the waiting list" in page.text


async def test_removing_a_person_asks_first_then_takes_them_off(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    entry = await add_waiting_entry(slug, now=now, name="Amal First", quantity=2)
    page = f"/manage/events/{slug}/waiting-list/{entry}/remove"

    confirm = await client.get(page)
    assert confirm.status_code == 200 and "Amal First" in confirm.text and "Remove them from the waiting list" in confirm.text
    assert await _status(entry) == "waiting"  # asking changes nothing

    refused = await client.post(page, data={})  # no CSRF token: not the organiser's own form
    assert refused.status_code == 403 and await _status(entry) == "waiting"

    removed = await post_form(client, page, {}, page=page)
    assert removed.status_code == 303 and removed.headers["location"] == f"/manage/events/{slug}/waiting-list?notice=removed"
    assert await _status(entry) == "removed"
    shown = await client.get(removed.headers["location"])
    assert "The person was taken off the waiting list." in shown.text and f"/waiting-list/{entry}/offer" not in shown.text
    [logged] = await list_entries(action="waiting_list.entry_removed")
    assert logged.actor == "Sam Organiser" and logged.subject_id == str(entry)


async def test_closing_with_and_without_those_waiting_then_reopening(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    waiting = await add_waiting_entry(slug, now=now)
    offered = await add_waiting_entry(slug, now=now, status=WaitingStatus.offered)
    list_page = f"/manage/events/{slug}/waiting-list"

    closed = await post_form(client, f"{list_page}/close", {}, page=list_page)
    assert closed.status_code == 303
    assert (await Event.select(Event.waiting_list_open).where(Event.slug == slug).first())["waiting_list_open"] is False
    assert await _status(waiting) == "waiting"
    shown = await client.get(closed.headers["location"])
    assert "The list is closed" in shown.text and "Reopen the waiting list" in shown.text

    await post_form(client, f"{list_page}/open", {}, page=list_page)
    assert (await Event.select(Event.waiting_list_open).where(Event.slug == slug).first())["waiting_list_open"] is True
    cleared = await post_form(client, f"{list_page}/close", {"remove_waiting": "yes"}, page=list_page)
    assert (await _status(waiting), await _status(offered)) == ("removed", "offered")
    assert "1 person still waiting was taken off." in (await client.get(cleared.headers["location"])).text


async def test_offering_to_someone_not_waiting_is_explained_and_door_staff_are_kept_out(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    other = await make_event(now, slug="other-night", title="Other Night")
    await sign_in_organiser(client)
    offered = await add_waiting_entry(slug, now=now, status=WaitingStatus.offered)
    elsewhere = await add_waiting_entry(other, now=now)
    list_page = f"/manage/events/{slug}/waiting-list"

    again = await post_form(client, f"{list_page}/{offered}/offer", {}, page=list_page)
    assert again.status_code == 409 and "This guest is not waiting for places." in again.text
    assert (await post_form(client, f"{list_page}/{elsewhere}/remove", {}, page=list_page)).status_code == 404
    assert (await client.get(f"{list_page}/{elsewhere}/remove")).status_code == 404
    assert await _status(elsewhere) == "waiting"

    await client.post(
        "/logout", data={"_csrf_token": client.cookies.get("csrftoken", "")}, headers={"x-csrftoken": client.cookies.get("csrftoken", "")}
    )
    client.cookies.clear()
    await accounts.create_user("door@test.example", role="door", password="a long door password")
    await sign_in(client, "door@test.example", "a long door password")
    assert (await client.get(list_page)).status_code == 403


async def test_people_no_longer_waiting_are_listed_apart_under_earlier(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    await sign_in_organiser(client)
    waiting = await add_waiting_entry(slug, now=now, name="Amal Waiting")
    left = await add_waiting_entry(slug, now=now + timedelta(seconds=1), name="Bea Left", status=WaitingStatus.left)
    page = (await client.get(f"/manage/events/{slug}/waiting-list")).text
    paid = page.split('id="free-heading"')[0]
    active, earlier = paid.split('<details class="earlier">')
    assert f'id="entry-{waiting}"' in active and "Bea Left" not in active  # those in play first
    assert f'id="entry-{left}"' in earlier and "Earlier: 1 person" in earlier and "Left" in earlier
    assert f"/waiting-list/{left}/" not in page  # nothing to offer or remove for someone who left
    assert "Closing the list stops new people joining." in page  # the hint does not read as the list's state
