"""A treasurer pays a partner project in real Chromium on a phone, from the event's statement: records a payout in
pounds and pence, pays more than is owed (the form asks why, with the focus on what to fix), and reverses that
payout; the partner's "Paid out" and "Balance owed" follow on the payouts page and the statement. Screenshots of the
payout form land in test-artifacts/payouts-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support.accessibility import assert_accessible
from tests.support.orders import pay_with_test_page, place_order
from tests.support.server import demo_environment, live_server

pytestmark = pytest.mark.browser

ORGANISER = ("organiser@example.org", "organiser-demo-2026")  # seeded by `events demo` in development
SUPPER = "august-supper-club"  # seeded by `events demo`: £30 suppers, 70% to Welcome Kitchen, 30% to Welcome Cinema
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def payouts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: this test sells suppers and records payouts, which other browser tests should not see."""
    env = demo_environment(tmp_path_factory.mktemp("payouts-server"))
    with live_server(env) as base_url:
        yield base_url


def row_value(scope: Any, heading: str) -> Any:
    """The cell beside a row heading in a table of figures (e.g. "Paid out")."""
    return scope.locator("tr", has=scope.page.locator("th", has_text=re.compile(f"^{re.escape(heading)}$"))).locator("td")


def partner_card(page: Any, name: str) -> Any:
    return page.locator("section.statement-card", has=page.get_by_role("heading", name=name, exact=True))


def pounds(pence: int) -> str:
    """As the pages write money: whole pounds without pence, a minus sign before the pound sign."""
    sign, pence = ("-" if pence < 0 else ""), abs(pence)
    return f"{sign}£{pence // 100}" if pence % 100 == 0 else f"{sign}£{pence // 100}.{pence % 100:02d}"


def pence_of(text: str) -> int:
    sign = -1 if text.strip().startswith("-") else 1
    pounds_text = text.strip().lstrip("-").lstrip("£").replace(",", "")
    whole, _, part = pounds_text.partition(".")
    return sign * (int(whole) * 100 + int((part or "0").ljust(2, "0")))


async def fits_the_phone(page: Any) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing is wider than the phone"


async def test_a_treasurer_records_overrides_and_reverses_a_payout(browser, payouts_server: str, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    base_url = payouts_server
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    try:
        await page.goto(f"{base_url}/login?next=/manage/events/{SUPPER}/statement")
        await page.get_by_label("Email").fill(ORGANISER[0])
        await page.get_by_label("Password").fill(ORGANISER[1])
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(f"**/manage/events/{SUPPER}/statement")
        # What the demo's own sales left the kitchen, then two suppers sold: £60, £42 of it Welcome Kitchen's.
        before = pence_of(await row_value(partner_card(page, "Welcome Kitchen"), "Net due").inner_text())
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            created = (await place_order(http, SUPPER, quantity=2, buyer={"name": "Amal Haddad", "email": "amal@example.org"})).json()
            assert (await pay_with_test_page(http, created)).status_code == 303
        await page.reload()
        kitchen = partner_card(page, "Welcome Kitchen")
        owed_pence = before + 4200
        await expect(row_value(kitchen, "Net due")).to_have_text(pounds(owed_pence))
        await expect(row_value(kitchen, "Paid out")).to_have_text("£0")
        await kitchen.get_by_role("link", name="Payouts: record or reverse").click()
        await page.wait_for_url(f"**/manage/partners/welcome-kitchen/payouts?event={SUPPER}")
        owed = page.locator("table.owed tbody tr", has_text="August Supper Club")
        await expect(owed.locator("td.balance .balance-amount")).to_have_text(pounds(owed_pence))
        await expect(page.get_by_label("Why pay more than is owed")).to_have_count(0)  # asked only when it is more
        await fits_the_phone(page)
        await page.screenshot(path=str(artifacts_dir / "payouts-1-form.png"), full_page=True)

        # 1. A payout in pounds and pence.
        await expect(page.get_by_label("Event", exact=True)).to_have_value(SUPPER)
        await page.get_by_label("Amount paid").fill("£12.50")
        await page.get_by_label("Bank reference").fill("BACS 0042")
        await page.get_by_role("button", name="Record payout").click()
        await page.wait_for_url("**/payouts?notice=recorded")
        await expect(page.get_by_role("status")).to_contain_text("Payout recorded")
        await expect(owed.locator("td.paid-out")).to_have_text("-£12.50")
        await expect(owed.locator("td.balance .balance-amount")).to_have_text(pounds(owed_pence - 1250))

        # 2. More than is owed: the form asks why, the error summary takes the focus, nothing is paid until a reason is given.
        await page.get_by_label("Event", exact=True).select_option(SUPPER)  # no event is chosen for the treasurer
        await page.get_by_label("Amount paid").fill(str((owed_pence - 1250) // 100 + 21))
        await page.get_by_label("Bank reference").fill("BACS 0043")
        await page.get_by_role("button", name="Record payout").click()
        summary = page.locator("#error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text(f"Say why you are paying more than the {pounds(owed_pence - 1250)} owed.")
        reason = page.get_by_label("Why pay more than is owed")
        await expect(reason).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_label("Amount paid")).to_have_value(str((owed_pence - 1250) // 100 + 21))  # nothing typed is lost
        await expect(owed.locator("td.balance .balance-amount")).to_have_text(pounds(owed_pence - 1250))
        await assert_accessible(page, "payouts-2-override-asked", artifacts_dir)
        await fits_the_phone(page)
        await summary.get_by_role("link").click()
        await expect(reason).to_be_focused()
        over_pence = ((owed_pence - 1250) // 100 + 21) * 100
        await reason.fill("The kitchen's grant was agreed in advance")
        await page.get_by_role("button", name="Record payout").click()
        await page.wait_for_url("**/payouts?notice=recorded")
        await expect(owed.locator("td.paid-out")).to_have_text(pounds(-1250 - over_pence))
        await expect(owed.locator("td.balance .balance-amount")).to_have_text(pounds(owed_pence - 1250 - over_pence))
        await expect(owed.locator("td.balance .hint")).to_have_text("Overpaid: ask for it back, or take it off a later payout.")
        overpaid = page.locator("tr.payout-row", has_text="BACS 0043")
        await expect(overpaid).to_contain_text("The kitchen's grant was agreed in advance")
        await expect(overpaid.locator("td.payout-amount")).to_have_text(pounds(over_pence))
        await page.screenshot(path=str(artifacts_dir / "payouts-3-overridden.png"), full_page=True)

        # 3. Reverse it: a payout of the opposite amount is recorded beside it, and the balance is owed again.
        await overpaid.get_by_text("Reverse this payout").click()
        await overpaid.get_by_label("Why (optional)").fill("Paid from the wrong account")
        await overpaid.get_by_label(f"Record a payout of {pounds(-over_pence)} that undoes this one.").check()
        await overpaid.get_by_role("button", name="Reverse the payout").click()
        await page.wait_for_url("**/payouts?notice=reversed")
        await expect(page.get_by_role("status")).to_contain_text("Payout reversed")
        await expect(owed.locator("td.paid-out")).to_have_text("-£12.50")
        await expect(owed.locator("td.balance .balance-amount")).to_have_text(pounds(owed_pence - 1250))
        overpaid = page.locator("tr.payout-row:not(.reversal-row)", has_text="BACS 0043")
        await expect(overpaid.locator("td.reversal")).to_contain_text("Reversed by no.")
        reversal = page.locator("tr.reversal-row")
        await expect(reversal.locator("td.payout-amount")).to_have_text(pounds(-over_pence))
        await expect(reversal).to_contain_text("Paid from the wrong account")
        await expect(page.get_by_text("Reverse this payout")).to_have_count(1)  # only the first payout can still be reversed
        await fits_the_phone(page)
        await page.screenshot(path=str(artifacts_dir / "payouts-4-reversed.png"), full_page=True)

        # The statement agrees: £12.50 paid out, the rest still owed.
        await page.goto(f"{base_url}/manage/events/{SUPPER}/statement")
        kitchen = partner_card(page, "Welcome Kitchen")
        await expect(row_value(kitchen, "Paid out")).to_have_text("-£12.50")
        await expect(row_value(kitchen, "Balance owed")).to_have_text(pounds(owed_pence - 1250))
        event_money = page.locator("section.event-money")
        await expect(row_value(event_money, "Paid out")).to_have_text("-£12.50")
        statement_figures = {
            label: await row_value(event_money, label).inner_text() for label in ("Gross income", "Net due to partners", "Balance owed")
        }
        await page.screenshot(path=str(artifacts_dir / "payouts-5-statement.png"), full_page=True)
        # And the dashboard: the same words, the same amounts.
        await page.get_by_role("navigation", name="This event").get_by_role("link", name="Dashboard").click()
        await page.wait_for_url(f"**/manage/events/{SUPPER}")
        dashboard = page.locator("table.event-figures")
        for label, amount in {**statement_figures, "Paid out": "-£12.50"}.items():
            await expect(row_value(dashboard, label)).to_have_text(amount)
        net_to_partners = pence_of(statement_figures["Net due to partners"])
        assert pence_of(statement_figures["Balance owed"]) == net_to_partners - 1250
        await page.screenshot(path=str(artifacts_dir / "payouts-6-dashboard.png"), full_page=True)
    finally:
        await context.close()
