"""The organiser's side of codes: the ticket type form's "hidden" box, and the Codes page (its list with uses, making a
code, revoking one), every action in the audit log."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from events.catalogue.tables import TicketType
from events.codes.tables import Code, CodeUnlock
from tests.factories import make_event
from tests.support.audit import list_entries
from tests.support.backoffice import post_form, sign_in_organiser


async def test_an_organiser_hides_a_type_makes_a_code_for_it_and_revokes_it(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now, reserved_free_places=0)
    await sign_in_organiser(client)
    tickets = f"/manage/events/{slug}/tickets"
    added = await post_form(
        client, tickets, {"name": "Volunteer", "price": "0", "channel": "online", "max_per_order": "1", "hidden": "on"}, page=tickets
    )
    assert added.status_code == 303, added.text[:2000]
    volunteer = await TicketType.select().where(TicketType.name == "Volunteer").first()
    assert volunteer is not None and volunteer["hidden"] is True
    listing = await client.get(tickets)
    assert "hidden: with a code" in listing.text
    edit = await client.get(f"{tickets}/{volunteer['id']}/edit")
    assert re.search(r'id="hidden" name="hidden" type="checkbox" value="on" checked', edit.text)
    [created] = [entry for entry in await list_entries(action="ticket_type.created") if entry.after["name"] == "Volunteer"]
    assert created.after["hidden"] is True

    codes = f"/manage/events/{slug}/codes"
    page = await client.get(codes)
    assert page.status_code == 200 and 'aria-current="page">Codes<' in page.text and "No codes yet." in page.text
    assert f'id="unlock_{volunteer["id"]}"' in page.text

    both = await post_form(client, codes, {"discount": "percent", "discount_percent": "150", "max_uses": "", "code": "x y"}, page=codes)
    assert both.status_code == 422 and 'id="error-summary"' in both.text
    assert re.search(r'id="discount_percent"[^>]*aria-invalid="true"', both.text)
    assert re.search(r'id="max_uses"[^>]*aria-invalid="true"', both.text)
    nothing = await post_form(client, codes, {"discount": "none", "max_uses": "5"}, page=codes)
    assert nothing.status_code == 422 and "must unlock a hidden ticket type or give a discount" in nothing.text
    assert await Code.count() == 0

    made = await post_form(
        client,
        codes,
        {"note": "Kitchen volunteers", f"unlock_{volunteer['id']}": "on", "discount": "none", "max_uses": "6", "valid_until": "2099-01-01T12:00"},
        page=codes,
    )
    assert made.status_code == 303, made.text[:2000]
    row = await Code.select().first()
    assert row is not None and re.fullmatch(r"[A-HJKMNP-Z2-9]{10}", row["code"])  # made up: nothing to mistake
    assert [u["ticket_type"] for u in await CodeUnlock.select(CodeUnlock.ticket_type)] == [volunteer["id"]]
    shown = await client.get(made.headers["location"])
    assert row["code"] in shown.text and "Kitchen volunteers" in shown.text and "Unlocks Volunteer" in shown.text
    assert re.search(r'class="uses">0 of 6<', shown.text)
    taken = await post_form(client, codes, {"code": row["code"].lower(), "discount": "amount", "discount_amount": "5", "max_uses": "2"}, page=codes)
    assert taken.status_code == 409 and "already has that code" in taken.text

    bought = await client.post(
        f"/api/events/{slug}/orders",
        json={"buyer": {"name": "Ana", "email": "ana@example.org"}, "items": [{"ticket_type": volunteer["id"], "quantity": 1}], "code": row["code"]},
    )
    assert bought.status_code == 201, bought.text
    assert re.search(r'class="uses">1 of 6<', (await client.get(codes)).text)

    revoked = await post_form(client, f"{codes}/{row['code']}/revoke", {}, page=codes)
    assert revoked.status_code == 303
    after = await client.get(revoked.headers["location"])
    assert "revoked" in after.text and f"{codes}/{row['code']}/revoke" not in after.text
    again = await client.post(
        f"/api/events/{slug}/orders",
        json={"buyer": {"name": "Bo", "email": "bo@example.org"}, "items": [{"ticket_type": volunteer["id"], "quantity": 1}], "code": row["code"]},
    )
    assert again.status_code == 422 and again.json()["error"] == "code_not_found"

    [made_entry] = await list_entries(action="code.created")
    assert made_entry.actor == "Sam Organiser" and made_entry.after["unlocks"] == [volunteer["id"]] and made_entry.after["max_uses"] == 6
    assert row["code"] not in str(made_entry.after)  # the code itself stays out of the log
    [revoked_entry] = await list_entries(action="code.revoked")
    assert revoked_entry.after["uses"] == 1


async def test_the_codes_api_checks_what_a_code_may_unlock(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, ticket_types=[{"name": "Supper", "price_pence": 3000}, {"name": "Crew", "price_pence": 0, "hidden": True}])
    types = {t["name"]: t["id"] for t in (await client.patch(f"/api/events/{slug}", json={}, headers=organiser)).json()["ticket_types"]}
    visible = await client.post(f"/api/events/{slug}/codes", json={"unlocks": [types["Supper"]], "max_uses": 3}, headers=organiser)
    assert visible.status_code == 422 and "unlocks" in visible.json()["fields"]
    both = await client.post(f"/api/events/{slug}/codes", json={"discount_percent": 10, "discount_pence": 100, "max_uses": 3}, headers=organiser)
    assert both.status_code == 422 and "discount_pence" in both.json()["fields"]
    backwards = await client.post(
        f"/api/events/{slug}/codes",
        json={"discount_percent": 10, "max_uses": 3, "valid_from": "2099-02-01T10:00:00", "valid_until": "2099-01-01T10:00:00"},
        headers=organiser,
    )
    assert backwards.status_code == 422 and "valid_until" in backwards.json()["fields"]
    beyond = await client.post(
        f"/api/events/{slug}/codes", json={"discount_percent": 10, "max_uses": 3, "valid_until": "9999-12-31T23:00:00-23:00"}, headers=organiser
    )
    assert beyond.status_code == 422 and "valid_until" in beyond.json()["fields"]
    chosen = await client.post(f"/api/events/{slug}/codes", json={"code": "crew!", "unlocks": [types["Crew"]], "max_uses": 3}, headers=organiser)
    assert chosen.status_code == 422 and "code" in chosen.json()["fields"]
    made = await client.post(
        f"/api/events/{slug}/codes",
        json={"code": "Crew-2099", "unlocks": [types["Crew"]], "max_uses": 3, "valid_from": "2099-01-01T10:00:00"},
        headers=organiser,
    )
    assert made.status_code == 201, made.text
    assert made.json()["valid_from"].startswith("2099-01-01T10:00:00")  # a wall-clock time at the event
    early = await client.post(
        f"/api/events/{slug}/orders",
        json={"buyer": {"name": "Ana", "email": "ana@example.org"}, "items": [{"ticket_type": types["Crew"], "quantity": 1}], "code": "CREW-2099"},
    )
    assert early.status_code == 422 and early.json()["error"] == "code_not_valid_yet" and "code" in early.json()["fields"]
    assert (await client.delete(f"/api/events/{slug}/codes/crew-2099", headers=organiser)).status_code == 204
    assert (await client.delete(f"/api/events/{slug}/codes/crew-2099", headers=organiser)).status_code == 404
    [listed] = (await client.get(f"/api/events/{slug}/codes", headers=organiser)).json()
    assert listed["revoked"] is True
