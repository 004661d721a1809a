"""Charts for statements as inline SVG drawn on the server (no scripts, no CDN). Pure.

Each chart is an ``<svg role="img">`` named by its own ``<title>`` and ``<desc>``; the page puts the
same numbers in a table for screen readers. An SVG's text scales with its drawing, so a chart drawn for a
desktop column reads at 7 or 8 pixels on a phone: pages show a chart drawn ``WIDTH`` units wide on wide
screens and one drawn ``NARROW_WIDTH`` wide on phones (``paired``), switched by CSS. Amounts are integer
pence throughout and reach the picture only through the caller's ``format_value`` (so the page's locale
decides how £49.73 reads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

INK = "#1b1b1f"
MUTED = "#4a4a55"
ACCENT = "#0b5c4a"
RULE = "#c9c5bb"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans Arabic", sans-serif'

WIDTH = 560  # viewBox units; the SVG itself scales to its container's width
NARROW_WIDTH = 340  # for a phone's column (about 330 px), so the text keeps about its size
LABEL_SIZE = 15
AXIS_SIZE = 13
# Room kept right of the longest bar for its amount; about ten characters of AXIS_SIZE text.
BAR_VALUE_ROOM = 110
BAR_HEIGHT = 22
BAR_ROW = LABEL_SIZE + 8 + BAR_HEIGHT + 14  # name, gap, bar, gap to the next row
MAX_LABEL_CHARS = 60

LINE_HEIGHT = 260
PLOT_LEFT = 84  # room for the amounts on the y axis
PLOT_RIGHT = 16
PLOT_TOP = 16
PLOT_BOTTOM = 36  # room for the dates on the x axis
DATE_LABEL_ROOM = 110  # viewBox units per date along the bottom: 5 dates on a wide chart, 3 on a narrow one


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int  # pence


def paired(draw: Callable[..., str], *, chart_id: str, **chart: Any) -> Markup:
    """The chart drawn twice: ``WIDTH`` wide (class "chart") and ``NARROW_WIDTH`` wide (class "chart
    chart-narrow", id ``<chart_id>-narrow``), for the page's CSS to show one of them. Markup because every
    text in it (labels, title, description, amounts, ids) is escaped here, and the rest is numbers."""
    wide = draw(chart_id=chart_id, width=WIDTH, **chart)
    narrow = draw(chart_id=f"{chart_id}-narrow", width=NARROW_WIDTH, **chart)
    return Markup(wide + narrow)


def _svg_open(chart_id: str, width: int, height: int, title: str, description: str) -> list[str]:
    # direction="ltr": the drawing's geometry is the same in right-to-left pages; text inside still
    # follows the bidi algorithm, so an Arabic partner name reads correctly.
    kind = "chart" if width == WIDTH else "chart chart-narrow"
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="{kind}" id={quoteattr(chart_id)} viewBox="0 0 {width} {height}" '
            f'width="100%" role="img" aria-labelledby={quoteattr(f"{chart_id}-title {chart_id}-desc")} direction="ltr" '
            f'font-family={quoteattr(FONT)} font-size="{AXIS_SIZE}" fill="{INK}">'
        ),
        f"<title id={quoteattr(f'{chart_id}-title')}>{escape(title)}</title>",
        f"<desc id={quoteattr(f'{chart_id}-desc')}>{escape(description)}</desc>",
    ]


def _short(label: str, most: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    format_value: Callable[[int], str] = str,
    width: int = WIDTH,
) -> str:
    """Horizontal bars, one row per item: its name above, the bar, and the amount at the bar's end.

    The description is followed by every item and its amount, so the picture's numbers are in its
    accessible name too. Negative amounts draw leftwards from a zero line.
    """
    values = [bar.value for bar in bars]
    listed = "; ".join(f"{bar.label}: {format_value(bar.value)}" for bar in bars)
    height = max(len(bars), 1) * BAR_ROW + 4
    parts = _svg_open(chart_id, width, height, title, f"{description} {listed}".strip() if listed else description)
    if not bars:
        return "".join([*parts, "</svg>"])
    low, high = min(0, *values), max(0, *values)
    span = (high - low) or 1
    room = width - BAR_VALUE_ROOM - (BAR_VALUE_ROOM if low < 0 else 0)
    zero = (BAR_VALUE_ROOM if low < 0 else 0) + room * (-low) / span
    for index, bar in enumerate(bars):
        top = index * BAR_ROW
        length = room * abs(bar.value) / span
        left = zero - length if bar.value < 0 else zero
        bar_top = top + LABEL_SIZE + 8
        middle = bar_top + BAR_HEIGHT / 2
        label = _short(bar.label, MAX_LABEL_CHARS * width // WIDTH)
        parts.append(f'<text x="0" y="{top + LABEL_SIZE}" font-size="{LABEL_SIZE}" font-weight="600">{escape(label)}</text>')
        parts.append(f'<rect x="{left:.1f}" y="{bar_top}" width="{max(length, 1):.1f}" height="{BAR_HEIGHT}" rx="3" fill="{ACCENT}"/>')
        if bar.value < 0:
            value_at, anchor = left - 6, "end"
        else:
            value_at, anchor = zero + length + 6, "start"
        parts.append(f'<text x="{value_at:.1f}" y="{middle + AXIS_SIZE * 0.35:.1f}" text-anchor="{anchor}">{escape(format_value(bar.value))}</text>')
    if low < 0:
        parts.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="{MUTED}" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)


def cumulative(daily: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Running totals for every day from the first to the last (days without sales repeat the total)."""
    if not daily:
        return []
    by_day: dict[date, int] = {}
    for day, pence in daily:
        by_day[day] = by_day.get(day, 0) + pence
    first, last = min(by_day), max(by_day)
    running = 0
    series = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        running += by_day.get(day, 0)
        series.append((day, running))
    return series


def nice_ticks(maximum: int, *, most: int = 5) -> list[int]:
    """Axis ticks from 0 in steps of 1, 2 or 5 × 10^k, at most ``most`` of them past zero, covering ``maximum``."""
    if maximum <= 0:
        return [0]
    step = 1
    while True:
        for multiple in (1, 2, 5):
            candidate = step * multiple
            if -(-maximum // candidate) <= most:
                count = -(-maximum // candidate)
                return [candidate * n for n in range(count + 1)]
        step *= 10


def _date_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def line_chart(
    points: Sequence[tuple[date, int]],
    *,
    chart_id: str,
    title: str,
    description: str,
    format_value: Callable[[int], str] = str,
    format_day: Callable[[date], str] = _date_label,
    empty_text: str = "No sales yet",
    width: int = WIDTH,
) -> str:
    """A running total by day: a line over a shaded area, a dot per day, amounts up the side, dates along the bottom."""
    parts = _svg_open(chart_id, width, LINE_HEIGHT, title, description)
    plot_width = width - PLOT_LEFT - PLOT_RIGHT
    plot_height = LINE_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    bottom = PLOT_TOP + plot_height
    if not points:
        parts.append(f'<text x="{width / 2}" y="{LINE_HEIGHT / 2}" text-anchor="middle" fill="{MUTED}">{escape(empty_text)}</text>')
        return "".join([*parts, "</svg>"])
    ticks = nice_ticks(max(value for _, value in points))
    top_value = ticks[-1] or 1

    def y_of(value: int) -> float:
        return bottom - plot_height * value / top_value

    def x_of(index: int) -> float:
        if len(points) == 1:
            return PLOT_LEFT + plot_width / 2
        return PLOT_LEFT + plot_width * index / (len(points) - 1)

    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line x1="{PLOT_LEFT}" y1="{y:.1f}" x2="{width - PLOT_RIGHT}" y2="{y:.1f}" stroke="{RULE}" stroke-width="1"/>')
        parts.append(f'<text x="{PLOT_LEFT - 8}" y="{y + AXIS_SIZE * 0.35:.1f}" text-anchor="end" fill="{MUTED}">{escape(format_value(tick))}</text>')
    coordinates = [(x_of(index), y_of(value)) for index, (_, value) in enumerate(points)]
    if len(points) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        area = f"{coordinates[0][0]:.1f},{bottom:.1f} {line} {coordinates[-1][0]:.1f},{bottom:.1f}"
        parts.append(f'<polygon points="{area}" fill="{ACCENT}" fill-opacity="0.12"/>')
        parts.append(f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="2.5" stroke-linejoin="round"/>')
    for (x, y), (day, value) in zip(coordinates, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{ACCENT}">'
            f"<title>{escape(format_day(day))}: {escape(format_value(value))}</title></circle>"
        )
    every = max(1, -(-len(points) // max(2, width // DATE_LABEL_ROOM)))
    labelled = sorted({*range(0, len(points), every), len(points) - 1})
    if len(labelled) > 1 and labelled[-1] - labelled[-2] < every / 2:
        labelled.pop(-2)  # the last date always shows; drop its neighbour rather than overlap it
    for index in labelled:
        x = x_of(index)
        anchor = "middle"
        if len(points) > 1 and index == 0:
            anchor = "start"
        elif len(points) > 1 and index == len(points) - 1:
            anchor = "end"
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + AXIS_SIZE + 10}" text-anchor="{anchor}" fill="{MUTED}">{escape(format_day(points[index][0]))}</text>'
        )
    parts.append(f'<line x1="{PLOT_LEFT}" y1="{bottom}" x2="{width - PLOT_RIGHT}" y2="{bottom}" stroke="{MUTED}" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)
