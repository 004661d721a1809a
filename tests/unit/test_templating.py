"""Template text: only literal sentences are translated with `_()`, and nothing, translated or not, is trusted as markup."""

from __future__ import annotations

import re
from gettext import NullTranslations
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import pytest
from jinja2 import nodes
from markupsafe import Markup

from events import charts, i18n
from events.config import PROJECT_ROOT
from events.templating import create_environment
from events.tickets.qr import qr_svg

TEMPLATES = PROJECT_ROOT / "templates"
PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def render(source: str, locale: str = "en", **context: Any) -> str:
    environment = create_environment(TEMPLATES)
    request = SimpleNamespace(state=SimpleNamespace(locale=locale))
    return environment.from_string(source).render(request=request, **context)


def test_an_error_detail_is_printed_as_text() -> None:
    assert render("<p>{{ detail | translate }}</p>", detail=f"Not found: /orders/{PAYLOAD}") == f"<p>Not found: /orders/{ESCAPED}</p>"


def test_an_error_detail_is_translated_when_the_catalogue_knows_it() -> None:
    assert render("{{ detail | translate }}", locale="fr", detail="We could not find that page.") == "Nous n&#39;avons pas trouvé cette page."


def test_the_translate_filter_never_returns_markup() -> None:
    environment = create_environment(TEMPLATES)
    translate = environment.filters["translate"]
    context = SimpleNamespace(get=lambda name: None)
    result = translate(context, Markup(PAYLOAD))
    assert type(result) is str and result == PAYLOAD


def test_a_runtime_message_given_to_gettext_is_escaped_too() -> None:
    assert render("{{ _(detail) }}", detail=PAYLOAD) == ESCAPED
    assert render("{{ gettext(detail) }}", detail=PAYLOAD) == ESCAPED


def test_a_variable_in_a_sentence_is_escaped() -> None:
    assert render('{{ _("Hello %(name)s!", name=name) }}', name=PAYLOAD) == f"Hello {ESCAPED}!"


def test_a_variable_in_a_plural_sentence_is_escaped() -> None:
    source = '{{ ngettext("%(num)d ticket for %(who)s", "%(num)d tickets for %(who)s", count, who=who) }}'
    assert render(source, count=1, who=PAYLOAD) == f"1 ticket for {ESCAPED}"
    assert render(source, count=3, who=PAYLOAD) == f"3 tickets for {ESCAPED}"


def test_a_plural_given_runtime_sentences_is_escaped() -> None:
    assert render("{{ ngettext(one, many, 2) }}", one=PAYLOAD, many=PAYLOAD + "s") == ESCAPED + "s"


def test_a_catalogue_entry_cannot_add_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hostile(NullTranslations):
        def gettext(self, message: str) -> str:
            return f"<b onclick=alert(1)>{message}</b>"

    monkeypatch.setattr(i18n, "translations", lambda locale: Hostile())
    assert render('{{ _("Pay") }}', locale="fr") == "&lt;b onclick=alert(1)&gt;Pay&lt;/b&gt;"


def test_a_detail_with_a_bare_percent_is_shown_as_written() -> None:
    assert render("{{ _(detail) }} {{ detail | translate }}", detail="100% <sure>") == "100% &lt;sure&gt; 100% &lt;sure&gt;"


def test_plain_text_templates_are_not_escaped() -> None:
    source = '{% autoescape false %}{{ _("Dear %(name)s,", name=name) }} {{ detail | translate }}{% endautoescape %}'
    assert render(source, name="Ama & Kofi", detail="5 > 4") == "Dear Ama & Kofi, 5 > 4"


def test_safe_markup_passed_as_a_variable_keeps_its_markup() -> None:
    # A chart or QR code the server drew is Markup on purpose; the sentence around it is still escaped.
    assert render('{{ _("See %(chart)s & more", chart=chart) }}', chart=Markup("<svg></svg>")) == "See <svg></svg> &amp; more"


def _runtime_sentences(source: str, name: str) -> list[str]:
    """Each `_`, `gettext` or `ngettext` call in a template whose sentence is not a string literal."""
    tree = create_environment(TEMPLATES).parse(source, name)
    found = []
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in ("_", "gettext", "ngettext"):
            sentences = call.args[:2] if call.node.name == "ngettext" else call.args[:1]
            literal = bool(sentences) and all(isinstance(arg, nodes.Const) and isinstance(arg.value, str) for arg in sentences)
            if not literal:
                found.append(f"{name}:{call.lineno} {call.node.name}(...)")
    return found


def test_templates_give_gettext_only_literal_sentences() -> None:
    """`_()` is for template text (extracted for translators); anything decided at run time (an error detail,
    a field error, a label handed to a macro) goes through `| translate`, which never marks it safe."""
    templates = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))
    assert len(templates) > 30
    offenders = [call for path in templates for call in _runtime_sentences(path.read_text(encoding="utf-8"), str(path.relative_to(TEMPLATES)))]
    assert offenders == []


def test_the_template_scan_finds_runtime_sentences() -> None:
    source = (TEMPLATES / "errors" / "error.html").read_text(encoding="utf-8")
    planted = source + '{{ _(detail) }}{{ ngettext("one", many, 2) }}{{ gettext("fine") }}{{ _("a " ~ b) }}'
    assert _runtime_sentences(source, "error.html") == []
    assert len(_runtime_sentences(planted, "error.html")) == 3


def test_python_marks_only_svg_the_server_drew_as_safe() -> None:
    """Markup is built in two places only, the QR code and the chart drawers, which write numbers and escaped
    text: no controller or template filter marks anything safe."""
    wrapped = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for path in sorted((PROJECT_ROOT / "src" / "events").rglob("*.py"))
        if re.search(r"\bMarkup\(", path.read_text(encoding="utf-8"))
    }
    assert wrapped == {"src/events/tickets/qr.py", "src/events/charts.py"}


def test_a_qr_code_carries_no_text_of_what_it_encodes() -> None:
    def skeleton(svg: str) -> str:  # the SVG with its numbers and its path's drawing commands taken out
        return re.sub(r"\d+", "N", re.sub(r'd="[Mhvz0-9 -]*"', 'd=""', svg))

    svg = qr_svg(PAYLOAD)
    assert isinstance(svg, Markup)
    assert skeleton(svg) == skeleton(qr_svg("A"))


def test_chart_text_and_ids_are_escaped() -> None:
    svg = charts.paired(
        charts.bar_chart,
        bars=[charts.Bar(PAYLOAD, 100)],
        chart_id='x" onload="alert(1)',
        title=PAYLOAD,
        description=PAYLOAD,
        format_value=lambda pence: PAYLOAD,
    )
    assert isinstance(svg, Markup)
    drawn = ElementTree.fromstring(f"<charts>{svg}</charts>")  # read as a browser's parser would
    elements = list(drawn.iter())
    assert {element.tag.rsplit("}", 1)[-1] for element in elements} <= {"charts", "svg", "title", "desc", "text", "rect", "line"}
    assert not [name for element in elements for name in element.attrib if name.startswith("on")]
    assert [element.attrib["id"] for element in drawn] == ['x" onload="alert(1)', 'x" onload="alert(1)-narrow']
    assert PAYLOAD in {element.text for element in elements}


@pytest.mark.parametrize(
    ("locale", "written"),
    [
        ("en", "Sunday, 15 August 2027, 19:30 · Community Hall, 1 High Street · £12.50"),
        ("fr", "dimanche 15 août 2027, 19:30 · Community Hall, 1 High Street · 12,50\u00a0£"),
        ("ar", "الأحد، 15 أغسطس 2027، 19:30 · Community Hall، 1 High Street · 12.50\u00a0£"),
        ("fa", "یکشنبه 15 اوت 2027، 19:30 · Community Hall، 1 High Street · £\u00a012.50"),
    ],
)
def test_dates_places_and_money_are_written_the_guests_way(locale: str, written: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    evening = datetime(2027, 8, 15, 19, 30, tzinfo=ZoneInfo("Europe/London"))
    source = "{{ moment | date_and_time }} · {{ ['Community Hall', '', '1 High Street'] | comma_join }} · {{ 1250 | money('GBP') }}"
    assert render(source, locale=locale, moment=evening) == written


def test_a_name_inside_a_sentence_is_isolated_escaped_and_joined_with_the_languages_comma() -> None:
    # Only the name is set apart (<bdi>): the Arabic sentence around it keeps the page's direction and its own comma.
    isolate = '{% import "_bidi.html" as bidi %}'
    sentence = isolate + '{{ _("%(name)s, registered charity %(number)s", name=bidi.isolate(name), number="1234567") }}'
    assert render(sentence, locale="ar", name=f"Kitchen {PAYLOAD}") == f"<bdi>Kitchen {ESCAPED}</bdi>، جمعية خيرية مسجّلة برقم 1234567"
    # A ticket's holder and type: each isolated and escaped once, an empty part left out.
    parts = isolate + "{{ [bidi.isolate(holder), bidi.isolate(kind), bidi.isolate('')] | comma_join }}"
    assert render(parts, locale="ar", holder=PAYLOAD, kind="Supper") == f"<bdi>{ESCAPED}</bdi>، <bdi>Supper</bdi>"
    assert render(parts, locale="en", holder="Amal", kind="") == "<bdi>Amal</bdi>"
    assert render("{{ [holder, 'Supper'] | comma_join }}", locale="fa", holder=PAYLOAD) == f"{ESCAPED}، Supper"
    # An email's text part: the words as they are.
    plain = "{% autoescape false %}{{ [holder, kind] | comma_join }}{% endautoescape %}"
    assert render(plain, locale="ar", holder="Ama & Kofi", kind="Supper") == "Ama & Kofi، Supper"


def _hostile_receipt() -> Any:
    from events.orders.receipts import Charity, GiftAidNote, PaidWith, Receipt, ReceiptLine, ReceiptLineKind

    return Receipt(
        reference="ABC-123",
        currency="GBP",
        lines=(
            ReceiptLine(ReceiptLineKind.tickets, PAYLOAD, 2, 3000, 6000),
            ReceiptLine(ReceiptLineKind.donation, f"Fish & Chips {PAYLOAD}", 1, 1000, 1000),
        ),
        refunded_pence=0,
        paid_with=PaidWith.card,
        gift_aid=GiftAidNote(f"Amal {PAYLOAD}", 1000),
        charity=Charity(f"Kitchen {PAYLOAD}", "1234567"),
    )


def test_a_receipt_escapes_every_name_once_on_a_page() -> None:
    page = render('{% import "orders/_receipt.html" as receipts with context %}{{ receipts.receipt_table(receipt) }}', receipt=_hostile_receipt())
    assert PAYLOAD not in page
    assert page.count(ESCAPED) == 5  # the ticket type, the partner project, the donor, the charity (twice)
    assert "Fish &amp; Chips" in page and "&amp;amp;" not in page and "&amp;lt;" not in page


def test_a_receipt_in_an_emails_text_part_is_plain_text() -> None:
    environment = create_environment(TEMPLATES)
    request = SimpleNamespace(state=SimpleNamespace(locale="en"))
    text = environment.get_template("emails/_receipt.txt").render(request=request, mail=SimpleNamespace(receipt=_hostile_receipt()))
    assert f"- {PAYLOAD} (2 × £30): £60" in text
    assert f"- Donation to Fish & Chips {PAYLOAD}: £10" in text
    assert "&lt;" not in text and "&amp;" not in text
