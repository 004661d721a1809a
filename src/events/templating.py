"""The Jinja environment: per-request gettext that trusts no text as markup, a `translate` filter for run-time sentences, filters for money and event-local dates, and statement charts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_percent
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup, escape

from events import charts, i18n
from events.config import PROJECT_ROOT
from events.money import format_money, money_format
from events.static_assets import StaticFiles
from events.text import summary

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _locale(context: Context) -> str:
    request = context.get("request")
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        # A request's state read straight from its scope: ``request.state`` builds a new State (with a lock) on every
        # access, and a page asks for its language once for every sentence it translates.
        return str(scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
    state = getattr(request, "state", None)
    return getattr(state, "locale", i18n.DEFAULT_LOCALE) if state is not None else i18n.DEFAULT_LOCALE


def _format_locale(context: Context) -> str:
    return i18n.FORMAT_LOCALES[_locale(context)]


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    # Jinja's "newstyle" contract, except that nothing is trusted: the translated sentence is escaped as
    # well as each variable, so neither a catalogue entry nor a message that reached `_` at run time can
    # add markup. A sentence passed without variables is not %-formatted (it may contain a bare "%").
    if context.eval_ctx.autoescape:
        escaped = _escaped_translation(str(message), _locale(context))
        return escaped % variables if variables else escaped
    translated = i18n.translations(_locale(context)).gettext(str(message))
    return translated % variables if variables else translated


# Escaped sentences kept per process: a page translates and escapes some thirty, the same on every view. Bounded; the
# templates' own sentences are a few thousand in all (a sentence that reached `_` at run time may take a place too).
SENTENCES_KEPT = 8192


@lru_cache(maxsize=SENTENCES_KEPT)
def _escaped_translation(message: str, locale: str) -> Markup:
    """The sentence in the language, escaped as text: markup only in the sense that it is safe to print as it is."""
    return escape(i18n.translations(locale).gettext(message))


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int, **variables: Any) -> str:
    variables.setdefault("num", count)
    translated = i18n.translations(_locale(context)).ngettext(str(singular), str(plural), count)
    if context.eval_ctx.autoescape:
        return escape(translated) % variables
    return translated % variables


@pass_context
def _translate(context: Context, message: Any) -> str:
    """The `translate` filter, for sentences that are data rather than template text (error details, field
    errors, labels handed to a macro): translated when the catalogue knows them, and always plain text,
    so autoescaping prints them as written; a sentence with values (i18n.Sentence) is translated before its values
    go in. Template literals use `_()` so that they are extracted."""
    return i18n.translated(message if isinstance(message, str) else str(message), _locale(context))


@pass_context
def _money(context: Context, minor_units: int, currency: str = "GBP") -> str:
    return format_money(minor_units, currency, _format_locale(context))


@pass_context
def _money_format(context: Context, currency: str = "GBP") -> str:
    """How the money filter writes amounts in the page's language, as JSON for static/js/money.js."""
    return money_format(currency, _format_locale(context))


@pass_context
def _long_date(context: Context, moment: datetime) -> str:
    return i18n.long_date(moment, _locale(context))


@pass_context
def _short_date(context: Context, moment: datetime) -> str:
    return i18n.short_date(moment, _locale(context))


@pass_context
def _clock(context: Context, moment: datetime) -> str:
    return i18n.clock(moment, _locale(context))


@pass_context
def _date_and_time(context: Context, moment: datetime) -> str:
    """The day and the time, joined as the guest's language joins them (the Arabic comma in Arabic and Farsi)."""
    return i18n.date_and_time(moment, _locale(context))


@pass_context
def _timestamp(context: Context, moment: datetime) -> str:
    return i18n.timestamp(moment, _locale(context))


@pass_context
def _comma_join(context: Context, parts: Sequence[str]) -> str:
    """The parts that are not empty, one after another with the guest language's comma: a ticket's holder and its type
    (not a venue and its address, which has the organiser's own commas: _event_place.html puts them on lines of their
    own). In HTML each part is escaped unless it is template markup already (a name that _bidi.html isolates); the
    joined line is markup only because each of its parts was escaped."""
    separator = i18n.comma(_locale(context))
    present = [part for part in parts if part]
    if context.eval_ctx.autoescape:
        return escape(separator).join(present)
    return separator.join(str(part) for part in present)


@pass_context
def _basis_points(context: Context, share_bp: int) -> str:
    """7000 -> '70%', 3333 -> '33.33%' in the guest's number format."""
    return format_percent(share_bp / 10_000, format="#,##0.##%", locale=_format_locale(context))


@pass_context
def _bar_chart(context: Context, bars: Sequence[tuple[str, int]], *, currency: str, chart_id: str, title: str, description: str) -> Markup:
    """Inline SVG bars of amounts in pence, labelled in the page's language and number format (drawn for wide
    screens and for phones)."""
    locale = _format_locale(context)
    return charts.paired(
        charts.bar_chart,
        bars=[charts.Bar(label, value) for label, value in bars],
        chart_id=chart_id,
        title=str(title),
        description=str(description),
        format_value=lambda pence: format_money(pence, currency, locale),
    )


@pass_context
def _line_chart(
    context: Context, points: Sequence[tuple[date, int]], *, currency: str, chart_id: str, title: str, description: str, empty_text: str
) -> Markup:
    """Inline SVG of a running total by day, labelled in the page's language and number format (drawn for wide
    screens and for phones)."""
    locale = _format_locale(context)
    return charts.paired(
        charts.line_chart,
        points=points,
        chart_id=chart_id,
        title=str(title),
        description=str(description),
        empty_text=str(empty_text),
        format_value=lambda pence: format_money(pence, currency, locale),
        format_day=lambda day: format_date(day, format="d MMM", locale=locale),
    )


def _summary(text: str) -> str:
    """The `summary` filter: text (markup read back as the text it shows) shortened for a meta description; plain
    text, so autoescaping escapes it once."""
    plain = text.unescape() if isinstance(text, Markup) else str(text)
    return summary(plain)


@pass_context
def _page_link(context: Context, path: str) -> str:
    """A link or form address on a guest page: the path itself, or on a page of the embeddable ticket form (whose
    context carries ``embed``, a storefront.widget.Frame) its counterpart inside the frame, in the frame's language."""
    frame = context.get("embed")
    return frame.url(path) if frame else path


def _is_staff_page(request: Any) -> bool:
    """Whether the page is a staff page (i18n.STAFF_PAGE), whose words are all English: read from its route handler,
    so an error page its guards raise (before a language is chosen) knows it too. False where nothing was routed."""
    scope = getattr(request, "scope", None)
    handler = scope.get("route_handler") if isinstance(scope, dict) else None
    return bool(handler is not None and handler.opt.get(i18n.STAFF_PAGE))


def create_environment(templates_dir: Path, static_files: StaticFiles | None = None) -> Environment:
    """The environment for pages and emails; `static_url("css/site.css")` gives a static file's versioned URL
    (events.static_assets)."""
    static_files = static_files or StaticFiles(PROJECT_ROOT / "static")
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(
        _=_gettext,
        gettext=_gettext,
        ngettext=_ngettext,
        language_names=i18n.language_names(),
        text_direction=i18n.text_direction,
        is_staff_page=_is_staff_page,
        page_link=_page_link,
        bar_chart=_bar_chart,
        line_chart=_line_chart,
        running_totals=charts.cumulative,
        static_url=static_files.url,
    )
    environment.filters.update(
        translate=_translate,
        money=_money,
        money_format=_money_format,
        long_date=_long_date,
        short_date=_short_date,
        clock=_clock,
        date_and_time=_date_and_time,
        keep_together=i18n.keep_together,
        timestamp=_timestamp,
        comma_join=_comma_join,
        basis_points=_basis_points,
        summary=_summary,
    )
    return environment


def create_template_engine(templates_dir: Path, static_files: StaticFiles) -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(create_environment(templates_dir, static_files))


def page_context(page: DataclassInstance) -> dict[str, Any]:
    """A page's typed data as template variables, one per field, each kept as it is (not turned into dicts)."""
    return {field.name: getattr(page, field.name) for field in dataclasses.fields(page)}
