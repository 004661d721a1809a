"""The text rules (events.text) and the form readers that apply them: what a person may type in a field."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
import pytest

from events import text
from events.backoffice import forms
from events.catalogue.schemas import PartnerIn
from events.orders import forms as buy_forms
from events.orders import pricing

NAMES = {
    "Arabic": "أمل حداد",
    "Farsi with a ZWNJ inside a word": "می\u200cخواهم",
    "Chinese": "王小明",
    "Korean": "김민준",
    "emoji ZWJ family": "👨\u200d👩\u200d👧",
    "emoji with skin tone and flag": "👋🏾 🇸🇾",
    "Devanagari with a ZWJ": "क्\u200dष",
    "right-to-left mark inside": "Amal \u200fحداد",
    "accents": "Zoë Núñez-O'Brien",
}
BAD = {
    "NUL": "a\x00b",
    "bell": "a\x07b",
    "escape": "\x1b[2J",
    "DEL": "a\x7fb",
    "C1 (NEL)": "a\x85b",
    "C1 (CSI)": "a\x9bb",
    "lone high surrogate": "a\ud800b",
    "lone low surrogate": "a\udc00b",
    "empty": "",
    "spaces": "   ",
    "no-break and ideographic spaces": "\u00a0\u3000",
    "zero-width characters": "\u200b\u200c\u200d",
    "BOM and word joiner": "\ufeff\u2060",
    "bidi controls": "\u202e\u2066\u2069",
    "Hangul filler": "\u3164",
    "variation selector": "\ufe0f",
}
LINE_BREAKS = {"LF": "a\nb", "CR": "a\rb", "CRLF": "a\r\nb", "trailing LF": "ab\n", "line separator": "a\u2028b", "paragraph separator": "a\u2029b"}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_names_in_any_script_pass(name: str) -> None:
    assert text.line_problem(name) is None
    assert text.text_problem(name) is None
    assert text.form_value_problem(name) is None and text.parameter_problem(name) is None


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_bad_text_is_refused_on_one_line_and_many(value: str) -> None:
    assert text.line_problem(value) is not None
    assert text.text_problem(value) is not None


@pytest.mark.parametrize("value", [v for k, v in BAD.items() if k != "empty"], ids=[k for k in BAD if k != "empty"])
def test_optional_fields_may_be_empty_but_not_blank_or_broken(value: str) -> None:
    assert text.line_problem("", required=False) is None and text.text_problem("", required=False) is None
    assert text.line_problem(value, required=False) is not None
    assert text.text_problem(value, required=False) is not None


@pytest.mark.parametrize("value", LINE_BREAKS.values(), ids=LINE_BREAKS.keys())
def test_line_breaks_only_in_multi_line_text(value: str) -> None:
    assert text.line_problem(value) is not None
    if value not in ("a\u2028b", "a\u2029b"):
        assert text.text_problem(value) is None
    assert text.text_problem("Line one\r\n\tLine two\n") is None


@pytest.mark.parametrize("pattern", [text.LINE_PATTERN, text.OPTIONAL_LINE_PATTERN, text.TEXT_PATTERN, text.OPTIONAL_TEXT_PATTERN])
def test_the_patterns_take_linear_time_on_hostile_input(pattern: str) -> None:
    import re

    compiled = re.compile(pattern)
    hostile = ["a" * 50_000 + "\x00", " " * 50_000, "a" + " " * 50_000 + "\x07", "\u200b" * 50_000 + "\x00"]
    started = time.perf_counter()
    for value in hostile:
        compiled.search(value)
    assert time.perf_counter() - started < 0.5


class _Named(msgspec.Struct):
    name: Annotated[str, text.LINE]


def test_msgspec_errors_about_the_rules_are_explained() -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        msgspec.convert({"name": "a\nb"}, _Named)
    assert text.explain(str(error.value).split(" - at ")[0]) == text.LINE_PROBLEM
    assert text.explain("Expected `int` >= 1") == "Expected `int` >= 1"


# --- the back-office form readers -------------------------------------------------------------------------


def _event_form(**changes: str) -> dict[str, str]:
    starts = datetime(2030, 8, 15, 19, 0)
    form = {
        "title": "Supper Club", "description": "Three courses.", "venue": "Hall", "address": "1 High St",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"), "ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "40", "slug": "supper-club",
    }  # fmt: skip
    return form | changes


def _bad_for(field: str, multi_line: bool) -> dict[str, str]:
    bad = {k: v for k, v in BAD.items() if k not in ("empty", "spaces", "no-break and ideographic spaces")}  # forms trim
    return bad if multi_line else bad | {"CRLF inside": "a\r\nb", "LF inside": "a\nb"}


EVENT_FIELDS = [(field, field in ("description", "address", "access_information")) for field in forms.EVENT_TEXT_FIELDS]


@pytest.mark.parametrize(("field", "multi_line"), EVENT_FIELDS, ids=[f for f, _ in EVENT_FIELDS])
def test_the_event_form_refuses_bad_text_in_each_field(field: str, multi_line: bool) -> None:
    assert forms.event_create(_event_form())[1] == {}
    for label, value in _bad_for(field, multi_line).items():
        for read in (forms.event_create, forms.event_patch):
            event, problems = read(_event_form(**{field: value}))
            assert event is None and field in problems, (read.__name__, label, problems)
    if multi_line:
        assert forms.event_create(_event_form(**{field: "Line one\r\nLine two"}))[1] == {}


@pytest.mark.parametrize(("field", "multi_line"), [("name", False), ("description", True)])
def test_the_ticket_type_form_refuses_bad_text_in_each_field(field: str, multi_line: bool) -> None:
    form = {"name": "Supper", "description": "With dessert", "price": "25", "channel": "both"}
    assert forms.ticket_type_patch(form, None)[1] == {}
    for label, value in _bad_for(field, multi_line).items():
        patch, problems = forms.ticket_type_patch(form | {field: value}, None)
        assert patch is None and field in problems, (label, problems)


@pytest.mark.parametrize(("field", "multi_line"), [("name", False), ("description", True), ("website", False)])
def test_the_partner_form_refuses_bad_text_in_each_field(field: str, multi_line: bool) -> None:
    values = {"name": "Welcome Kitchen", "description": "Meals", "website": "https://example.org"}
    assert forms.convert(values, PartnerIn)[1] == {}
    for label, value in _bad_for(field, multi_line).items():
        partner, problems = forms.convert(values | {field: value}, PartnerIn)
        assert partner is None and field in problems, (label, problems)


BUY_FIELDS = {
    "name": "buyer.name", "email": "buyer.email", "gift_aid_title": "gift_aid.title", "gift_aid_first_name": "gift_aid.first_name",
    "gift_aid_last_name": "gift_aid.last_name", "gift_aid_house": "gift_aid.house", "gift_aid_postcode": "gift_aid.postcode",
}  # fmt: skip


@pytest.mark.parametrize(("form_field", "problem_field"), BUY_FIELDS.items(), ids=BUY_FIELDS.keys())
def test_the_buy_form_refuses_bad_text_before_the_order_joins_a_batch(form_field: str, problem_field: str) -> None:
    form = {"name": "Amal", "email": "amal@example.org", "quantity_1": "1", "gift_aid": "on", "gift_aid_first_name": "Amal",
            "gift_aid_last_name": "Haddad", "gift_aid_house": "1", "gift_aid_postcode": "SW1A 1AA"}  # fmt: skip
    request, problems = buy_forms.buy_request(form, [1])
    assert problems == {} and pricing.text_problems(request) == {}
    for label, value in _bad_for(form_field, False).items():
        request, _ = buy_forms.buy_request(form | {form_field: value}, [1])
        assert problem_field in pricing.text_problems(request), (label, value)


def test_a_summary_is_one_line_cut_at_a_word_with_an_ellipsis() -> None:
    from events.text import summary

    assert summary("Three courses\n\ncooked by   refugee chefs.") == "Three courses cooked by refugee chefs."
    long = "Supper " * 40
    short = summary(long)
    assert len(short) <= 160 and short.endswith("Supper…")
    assert summary("x" * 200).endswith("…") and len(summary("x" * 200)) == 160


@pytest.mark.parametrize(
    "website",
    [
        "http://[",
        "http://[::1]/",
        "https://user@example.org",
        "https://",
        "https://example.org\\@evil.example",
        "ftp://example.org",
        "javascript:alert(1)",
    ],
)
def test_a_partners_website_must_be_a_web_address_every_browser_and_parser_reads_alike(website: str) -> None:
    """A host with brackets, a user name or a backslash is read one way by a browser and another (or not at all) by
    URL parsers: shown as a link, it could lead somewhere other than it reads."""
    partner, problems = forms.convert({"name": "Welcome Kitchen", "website": website}, PartnerIn)
    assert partner is None and "website" in problems
    for fine in ("https://example.org/kitchen?from=events#menu", "http://example.org:8080/a[1]", "https://café.example", ""):
        assert forms.convert({"name": "Welcome Kitchen", "website": fine}, PartnerIn)[1] == {}, fine
