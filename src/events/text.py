"""What counts as text a person typed: the rules every JSON field, form field, path and query parameter
obeys, as pure checks and as msgspec constraints. Pure.

Refused everywhere: NUL and the other C0/C1 control characters (tab and line breaks are allowed in
multi-line text only), lone surrogates, and text with nothing visible in it (empty after trimming, or
only zero-width and other format characters). One-line text (titles, names) also refuses line breaks:
a name with a line break in it breaks email headers, CSV rows and PDFs downstream. Names in any script
pass, with their joiners: ZWNJ inside a Farsi word, ZWJ in an emoji sequence.

The msgspec constraints are regular expressions, so the OpenAPI document states the rule too. They are
linear: one negative look-ahead for forbidden characters, then one search for a visible character.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from msgspec import Meta

from events.i18n import N_

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# Multi-line text keeps tab, line feed and carriage return (a browser sends a textarea's lines as CRLF).
_MULTI_LINE_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Characters that show nothing on their own: format characters (zero-width space/joiners, bidi marks and
# isolates, word joiner, BOM, soft hyphen), fillers and variation selectors. Allowed inside text, but
# text made only of these (and spaces) is empty.
_INVISIBLE = (
    r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
)
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _pattern(controls: str, *, required: bool) -> str:
    # Lone surrogates too (Python matches code points; ECMAScript with the u flag, as JSON Schema tools use).
    no_controls = rf"^(?![\s\S]*[{controls}\ud800-\udfff])"
    visible = rf"[\s\S]*[^\s{_INVISIBLE}{controls}]"
    return no_controls + (visible if required else rf"(?:$|{visible})")


LINE_PATTERN = _pattern(_CONTROLS, required=True)
OPTIONAL_LINE_PATTERN = _pattern(_CONTROLS, required=False)
TEXT_PATTERN = _pattern(_MULTI_LINE_CONTROLS, required=True)
OPTIONAL_TEXT_PATTERN = _pattern(_MULTI_LINE_CONTROLS, required=False)

_LINE = re.compile(LINE_PATTERN)
_OPTIONAL_LINE = re.compile(OPTIONAL_LINE_PATTERN)
_TEXT = re.compile(TEXT_PATTERN)
_OPTIONAL_TEXT = re.compile(OPTIONAL_TEXT_PATTERN)
_CONTROL = re.compile(rf"[{_CONTROLS}]")
_MULTI_LINE_CONTROL = re.compile(rf"[{_MULTI_LINE_CONTROLS}]")

LINE_PROBLEM = N_("Enter this on one line, with something visible in it and no control characters.")
OPTIONAL_LINE_PROBLEM = N_("Leave this empty or enter it on one line, with something visible in it and no control characters.")
TEXT_PROBLEM = N_("Enter some visible text, without control characters.")
OPTIONAL_TEXT_PROBLEM = N_("Leave this empty or enter some visible text, without control characters.")
SURROGATE_PROBLEM = N_("This contains a broken character (a lone UTF-16 surrogate).")

# The msgspec constraints, to combine with a length: ``Annotated[str, Meta(max_length=200), text.LINE]``.
LINE = Meta(pattern=LINE_PATTERN, description="One line of visible text: no control characters or line breaks.")
OPTIONAL_LINE = Meta(pattern=OPTIONAL_LINE_PATTERN, description="Empty, or one line of visible text.")
TEXT = Meta(pattern=TEXT_PATTERN, description="Visible text; tabs and line breaks allowed, no other control characters.")
OPTIONAL_TEXT = Meta(pattern=OPTIONAL_TEXT_PATTERN, description="Empty, or visible text; tabs and line breaks allowed.")

# For patterns of their own (emails, web addresses): the characters they must leave out, and the end of
# the value (``$`` alone also matches before a final line break).
CONTROLS = _CONTROLS
END = r"$(?!\n)"

_PROBLEMS = {
    LINE_PATTERN: LINE_PROBLEM,
    OPTIONAL_LINE_PATTERN: OPTIONAL_LINE_PROBLEM,
    TEXT_PATTERN: TEXT_PROBLEM,
    OPTIONAL_TEXT_PATTERN: OPTIONAL_TEXT_PROBLEM,
}


def line_problem(value: str, *, required: bool = True) -> str | None:
    """What is wrong with ``value`` as one line of text (a title, a name), or None."""
    if _SURROGATES.search(value):
        return SURROGATE_PROBLEM
    if required:
        return None if _LINE.search(value) else LINE_PROBLEM
    return None if _OPTIONAL_LINE.search(value) else OPTIONAL_LINE_PROBLEM


def text_problem(value: str, *, required: bool = True) -> str | None:
    """What is wrong with ``value`` as multi-line text (a description, an address), or None."""
    if _SURROGATES.search(value):
        return SURROGATE_PROBLEM
    if required:
        return None if _TEXT.search(value) else TEXT_PROBLEM
    return None if _OPTIONAL_TEXT.search(value) else OPTIONAL_TEXT_PROBLEM


def parameter_problem(value: str) -> str | None:
    """What is wrong with a path or query parameter (or a form field of any kind): no control characters
    (a query may hold a line break only where a form field does), no lone surrogates."""
    if _SURROGATES.search(value):
        return SURROGATE_PROBLEM
    if _CONTROL.search(value):
        return N_("This contains a control character.")
    return None


def form_value_problem(value: str) -> str | None:
    """The rule for any posted form field whatever it holds: no control characters but tab and line breaks
    (a textarea's), no lone surrogates. One-line fields are checked again by their form's reader."""
    if _SURROGATES.search(value):
        return SURROGATE_PROBLEM
    if _MULTI_LINE_CONTROL.search(value):
        return N_("This contains a control character.")
    return None


def form_problems(form: Mapping[str, str], *, lines: Sequence[str] = (), texts: Sequence[str] = (), required: Sequence[str] = ()) -> dict[str, str]:
    """Each named field of a posted form that breaks its rule: ``lines`` are one-line fields, ``texts``
    multi-line ones; those in ``required`` may not be left empty (the others may). Fields not posted count
    as empty."""
    problems: dict[str, str] = {}
    for name in lines:
        value = (form.get(name) or "").strip()
        if (problem := line_problem(value, required=name in required)) is not None:
            problems[name] = problem
    for name in texts:
        value = (form.get(name) or "").strip()
        if (problem := text_problem(value, required=name in required)) is not None:
            problems[name] = problem
    return problems


def explain(message: str) -> str:
    """A msgspec error about one of these constraints, in words ("Expected `str` matching regex '…'")."""
    for pattern, problem in _PROBLEMS.items():
        if f"regex {pattern!r}" in message:
            return problem
    return message


def summary(text: str, limit: int = 160) -> str:
    """Text shortened to at most ``limit`` characters on one line, at a word break, with an ellipsis when cut: a
    page's meta description (search engines show about 160 characters)."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    if (space := cut.rfind(" ")) > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
