"""Unused pay-it-forward money is decided from the event's statement once sales close: a choice, a confirmation of
what moves where (in pounds, each partner project's share or the event it is carried to), then the decision, once
(a second submit changes nothing and says so); the API's decision and the page's are both in the audit log."""

from __future__ import annotations

import json
import re
from datetime import datetime

import httpx

from events.audit.tables import AuditEntry
from events.ledger.tables import LedgerEntry
from tests.factories import make_event
from tests.support.backoffice import post_form, sign_in_organiser
from tests.support.orders import pay_with_test_page, place_order

SHARES = [{"partner": "welcome-kitchen", "share_bp": 7000}, {"partner": "welcome-cinema", "share_bp": 3000}]


async def closed_with_unused_money(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> str:
    """An event whose £90 of pay-it-forward money paid for no free guest, with sales closed."""
    slug = await make_event(now, slug="august", capacity=10, reserved_free_places=0, pay_it_forward_place_pence=3000, beneficiaries=SHARES)
    created = (await place_order(client, slug, quantity=1, pay_it_forward_places=3)).json()
    await pay_with_test_page(client, created)
    closed = await client.patch(f"/api/events/{slug}", json={"status": "sales_closed"}, headers=organiser)
    assert closed.status_code == 200, closed.text
    return slug


async def decisions() -> list[dict[str, object]]:
    rows = await AuditEntry.select(AuditEntry.action, AuditEntry.after).where(AuditEntry.action == "pay_it_forward.decided")
    return [json.loads(row["after"]) if isinstance(row["after"], str) else row["after"] for row in rows]


async def test_the_statement_gives_unused_money_to_the_partners_after_a_confirmation_once(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await closed_with_unused_money(client, organiser, now)
    await sign_in_organiser(client)
    statement_path = f"/manage/events/{slug}/statement"
    statement = await client.get(statement_path)
    assert statement.status_code == 200 and 'id="unused-heading"' in statement.text
    assert "£90 of pay-it-forward money was not used" in statement.text
    assert f'action="/manage/events/{slug}/statement/pay-it-forward"' in statement.text

    confirm = await post_form(client, f"{statement_path}/pay-it-forward", {"decision": "beneficiaries"}, page=statement_path)
    assert confirm.status_code == 200 and "£90 goes to the partner projects, by their shares:" in confirm.text
    assert re.findall(r'<td class="amount">([^<]+)</td>', confirm.text) == ["£63", "£27"]
    assert await LedgerEntry.count().where(LedgerEntry.kind == "pif_decision") == 0  # nothing moved yet

    done = await post_form(client, f"{statement_path}/pay-it-forward", {"decision": "beneficiaries", "confirmed": "yes"}, page=statement_path)
    assert done.status_code == 303 and done.headers["location"] == f"{statement_path}?notice=unused_decided#unused-heading"
    landed = await client.get(done.headers["location"])
    assert "Done: the unused pay-it-forward money has gone where you chose." in landed.text and 'name="decision"' not in landed.text
    entries = await LedgerEntry.count()
    assert await decisions() == [{"decision": "beneficiaries", "unused_pence": 9000, "target_event": None}]

    again = await post_form(client, f"{statement_path}/pay-it-forward", {"decision": "beneficiaries", "confirmed": "yes"}, page=statement_path)
    assert again.status_code == 303 and again.headers["location"].endswith("?notice=already_decided#unused-heading")
    assert "This was already decided: nothing has changed." in (await client.get(again.headers["location"])).text
    assert await LedgerEntry.count() == entries and len(await decisions()) == 1


async def test_carrying_it_over_names_the_event_and_the_amount_and_a_bad_choice_changes_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str], now: datetime
) -> None:
    slug = await closed_with_unused_money(client, organiser, now)
    september = await make_event(
        now, slug="september", title="September Supper", capacity=10, reserved_free_places=0, pay_it_forward_place_pence=3000, beneficiaries=SHARES
    )
    await sign_in_organiser(client)
    statement_path = f"/manage/events/{slug}/statement"
    assert f'<option value="{september}">September Supper</option>' in (await client.get(statement_path)).text

    nowhere = await post_form(
        client, f"{statement_path}/pay-it-forward", {"decision": "carry_over", "target_event": "no-such-event"}, page=statement_path
    )
    assert nowhere.status_code == 422
    confirm = await post_form(client, f"{statement_path}/pay-it-forward", {"decision": "carry_over", "target_event": september}, page=statement_path)
    assert confirm.status_code == 200
    assert "£90 moves from this event&#39;s pay-it-forward fund to the fund of September Supper" in confirm.text
    done = await post_form(
        client, f"{statement_path}/pay-it-forward", {"decision": "carry_over", "target_event": september, "confirmed": "yes"}, page=statement_path
    )
    assert done.status_code == 303
    assert (await client.get(f"/api/events/{september}")).json()["free_places"]["funded"] == 3
    assert await decisions() == [{"decision": "carry_over", "unused_pence": 9000, "target_event": "september"}]


async def test_the_api_decision_is_in_the_audit_log_too(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await closed_with_unused_money(client, organiser, now)
    decided = await client.post(f"/api/events/{slug}/pay-it-forward/unused", json={"decision": "beneficiaries"}, headers=organiser)
    assert decided.status_code == 201, decided.text
    assert await decisions() == [{"decision": "beneficiaries", "unused_pence": 9000, "target_event": None}]
    twice = await client.post(f"/api/events/{slug}/pay-it-forward/unused", json={"decision": "beneficiaries"}, headers=organiser)
    assert twice.status_code == 409 and len(await decisions()) == 1


async def test_the_form_is_not_offered_before_sales_close(client: httpx.AsyncClient, organiser: dict[str, str], now: datetime) -> None:
    slug = await make_event(now, slug="open", pay_it_forward_place_pence=3000, beneficiaries=SHARES)
    await sign_in_organiser(client)
    statement_path = f"/manage/events/{slug}/statement"
    assert 'id="unused-heading"' not in (await client.get(statement_path)).text
    early = await post_form(client, f"{statement_path}/pay-it-forward", {"decision": "beneficiaries", "confirmed": "yes"}, page=statement_path)
    assert early.status_code == 409 and await LedgerEntry.count().where(LedgerEntry.kind == "pif_decision") == 0
