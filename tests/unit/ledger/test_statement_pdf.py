"""The partner statement PDF from statement data alone: every figure in pounds, the period, and the sign-off."""

import re
import subprocess
from datetime import datetime, timezone

from events.ledger.pdf import period_text, render_statement_pdf
from events.ledger.schemas import PartnerStatement, StatementEvent, Totals
from events.ledger.service import FAR_FUTURE, FAR_PAST

NOW = datetime(2027, 9, 2, 10, 0, tzinfo=timezone.utc)


def line(net: int, *, paid: int = 0, reconciled: bool = True, title: str = "Supper Club", card_payments: int = 40) -> StatementEvent:
    return StatementEvent(
        event=title.lower().replace(" ", "-"),
        title=title,
        starts_at=datetime(2027, 8, 19, 18, tzinfo=timezone.utc),
        currency="GBP",
        reconciled=reconciled,
        card_payments=card_payments,
        differences=[],
        partner="welcome-kitchen",
        income_pence={"tickets": 42_000, "booking_fees": 0, "contributions": 4_200, "donations": 1_400},
        refunds_pence=2_100,
        fees_pence=767,
        costs_pence=47_600 - 2_100 - 767 - net,
        net_pence=net,
        paid_out_pence=paid,
        balance_pence=net - paid,
        gift_aid_claimable_pence=0,
    )


def statement(events: list[StatementEvent], name: str = "Welcome Kitchen") -> PartnerStatement:
    totals = Totals(
        income_pence={kind: sum(e.income_pence[kind] for e in events) for kind in ("tickets", "booking_fees", "contributions", "donations")},
        refunds_pence=sum(e.refunds_pence for e in events),
        fees_pence=sum(e.fees_pence for e in events),
        costs_pence=sum(e.costs_pence for e in events),
        net_pence=sum(e.net_pence for e in events),
        paid_out_pence=sum(e.paid_out_pence for e in events),
        balance_pence=sum(e.balance_pence for e in events),
        gift_aid_claimable_pence=0,
    )
    return PartnerStatement(
        partner="welcome-kitchen",
        name=name,
        from_=FAR_PAST,
        to=FAR_FUTURE,
        events=events,
        totals=totals,
        currency="GBP",
        reconciled=all(e.reconciled for e in events),
        card_payments=sum(e.card_payments for e in events),
    )


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def test_one_event_fits_on_one_page_with_its_sign_off() -> None:
    pdf = render_statement_pdf(statement([line(4_973, paid=4_000)]), now=NOW)
    text = text_of(pdf)
    assert pages(pdf) == 1
    assert "Welcome Kitchen" in text and "Supper Club · 19 August 2027" in text
    assert re.search(r"Net due\s+£49\.73", text) and re.search(r"Paid out\s+-£40\b", text) and re.search(r"Balance owed\s+£9\.73", text)
    assert re.search(r"Tickets\s+£420\b", text) and re.search(r"Refunds\s+-£21\b", text) and re.search(r"Stripe fees\s+-£7\.67", text)
    assert "Reconciled with Stripe: yes" in text
    assert "Period: All entries up to 2 September 2027" in text
    assert text.index("Name") < text.index("Signature") < text.rindex("Date")


def test_several_events_flow_onto_more_pages_and_say_when_stripe_disagrees() -> None:
    events = [line(1_000 * n, reconciled=n != 3, title=f"Supper {n}") for n in range(1, 7)]
    pdf = render_statement_pdf(statement(events), now=NOW)
    text = text_of(pdf)
    assert pages(pdf) >= 2
    assert all(f"Supper {n}" in text for n in range(1, 7))
    assert re.search(r"Net due\s+£210\b", text)  # the totals: £1 + £2 + … + £6 thousand pence
    assert "Reconciled with Stripe: no" in text and "Signature" in text


def test_arabic_names_are_set_in_the_arabic_font() -> None:
    pdf = render_statement_pdf(statement([line(500, title="عشاء الخميس")], name="مطبخ الترحيب"), now=NOW)
    assert b"NotoSansArabic" in pdf and pages(pdf) == 1


def test_the_period_says_the_end_is_not_included() -> None:
    start, end = datetime(2027, 8, 1, tzinfo=timezone.utc), datetime(2027, 9, 1, tzinfo=timezone.utc)
    assert period_text(start, end, NOW) == "Entries from 1 August 2027, up to but not including 1 September 2027"
    assert period_text(FAR_PAST, end, NOW) == "Entries before 1 September 2027"
    assert period_text(start, FAR_FUTURE, NOW) == "Entries from 1 August 2027 to 2 September 2027"


def test_without_a_card_payment_through_stripe_there_is_nothing_to_reconcile_and_it_says_so() -> None:
    """Free places, test payments and cash at the door: "Reconciled with Stripe: yes" would vouch for a check that
    compared nothing."""
    text = text_of(render_statement_pdf(statement([line(4_973, card_payments=0)]), now=NOW))
    assert "Reconciled with Stripe" not in text
    assert text.count("Nothing to reconcile with Stripe: no payment by card through Stripe") == 2  # the event, the totals
    mixed = text_of(render_statement_pdf(statement([line(4_973, card_payments=0), line(1_000, title="Club Night")]), now=NOW))
    assert mixed.count("Nothing to reconcile with Stripe") == 1 and mixed.count("Reconciled with Stripe: yes") == 2
