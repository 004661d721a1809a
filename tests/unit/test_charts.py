"""Statement charts: well-formed, accessible SVG whose shapes follow the numbers."""

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from events.charts import NARROW_WIDTH, WIDTH, Bar, bar_chart, cumulative, line_chart, nice_ticks, paired
from events.money import format_money

SVG = "{http://www.w3.org/2000/svg}"


def pounds(pence: int) -> str:
    return format_money(pence, "GBP", "en_GB")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_bar_chart_names_itself_and_lists_its_numbers() -> None:
    svg = bar_chart(
        [Bar("Welcome Kitchen", 4973), Bar("Welcome Cinema", 7052)],
        chart_id="funds",
        title="Net due",
        description="One bar per partner.",
        format_value=pounds,
    )
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "funds-title funds-desc"
    assert root.find(f"{SVG}title").text == "Net due"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "One bar per partner. Welcome Kitchen: £49.73; Welcome Cinema: £70.52"  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["Welcome Kitchen", "£49.73", "Welcome Cinema", "£70.52"]


def test_bars_are_proportional_and_the_largest_leaves_room_for_its_label() -> None:
    root = parse(bar_chart([Bar("A", 1000), Bar("B", 4000), Bar("C", 0)], chart_id="c", title="t", description="d"))
    widths = [float(rect.get("width", 0)) for rect in root.iter(f"{SVG}rect")]
    assert widths[1] == 4 * widths[0]
    assert widths[2] <= 1  # a hairline, so a partner with nothing still shows a row
    viewbox_width = float(root.get("viewBox", "").split()[2])
    assert widths[1] < viewbox_width - 80


def test_negative_bars_draw_left_of_a_zero_line() -> None:
    root = parse(bar_chart([Bar("Owed", 500), Bar("Overpaid", -250)], chart_id="c", title="t", description="d"))
    owed, overpaid = root.iter(f"{SVG}rect")
    assert float(overpaid.get("x", 0)) + float(overpaid.get("width", 0)) == float(owed.get("x", 0))
    assert root.find(f"{SVG}line") is not None


def test_labels_are_escaped() -> None:
    svg = bar_chart([Bar("Tom & Jerry <script>", 100)], chart_id="c", title="A < B", description='"quoted"')
    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == "A < B"  # type: ignore[union-attr]


def test_an_empty_bar_chart_is_still_valid_svg() -> None:
    root = parse(bar_chart([], chart_id="c", title="Nothing", description="No partners."))
    assert root.find(f"{SVG}desc").text == "No partners."  # type: ignore[union-attr]


def test_cumulative_fills_days_without_sales() -> None:
    daily = [(date(2027, 8, 1), 3000), (date(2027, 8, 4), 6000), (date(2027, 8, 2), 1500)]
    assert cumulative(daily) == [
        (date(2027, 8, 1), 3000),
        (date(2027, 8, 2), 4500),
        (date(2027, 8, 3), 4500),
        (date(2027, 8, 4), 10500),
    ]
    assert cumulative([]) == []


@given(st.lists(st.tuples(st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 3, 1)), st.integers(0, 10**7)), min_size=1))
def test_the_running_total_ends_at_the_sum(daily: list[tuple[date, int]]) -> None:
    series = cumulative(daily)
    assert series[-1][1] == sum(pence for _, pence in daily)
    assert [day for day, _ in series] == sorted({day for day, _ in series})
    assert all(earlier[1] <= later[1] for earlier, later in itertools.pairwise(series))


@given(st.integers(1, 10**9))
def test_nice_ticks_cover_the_maximum_in_at_most_five_steps(maximum: int) -> None:
    ticks = nice_ticks(maximum)
    assert ticks[0] == 0 and ticks[-1] >= maximum and 2 <= len(ticks) <= 6
    step = ticks[1]
    assert all(b - a == step for a, b in itertools.pairwise(ticks))
    assert re.fullmatch(r"[125]0*", str(step))


def test_nice_ticks_examples() -> None:
    assert nice_ticks(4973) == [0, 1000, 2000, 3000, 4000, 5000]
    assert nice_ticks(60_000) == [0, 20_000, 40_000, 60_000]
    assert nice_ticks(0) == [0]


def test_a_line_chart_has_a_point_per_day_and_money_on_its_axis() -> None:
    points = cumulative([(date(2027, 8, 1), 15_000), (date(2027, 8, 3), 21_000), (date(2027, 8, 9), 24_000)])
    root = parse(line_chart(points, chart_id="sales", title="Ticket income", description="Running total.", format_value=pounds))
    assert root.get("aria-labelledby") == "sales-title sales-desc"
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 9  # every day from the 1st to the 9th
    assert circles[-1].find(f"{SVG}title").text == "9 Aug: £600"  # type: ignore[union-attr]
    ys = [float(c.get("cy", 0)) for c in circles]
    assert ys == sorted(ys, reverse=True)  # a running total never goes down (up the page)
    labels = [t.text for t in root.findall(f"{SVG}text")]
    assert "£0" in labels and "£600" in labels and "1 Aug" in labels and "9 Aug" in labels
    assert root.find(f"{SVG}polyline") is not None


def test_a_single_day_is_one_point_and_no_sales_say_so() -> None:
    one = parse(line_chart([(date(2027, 8, 1), 3000)], chart_id="s", title="t", description="d"))
    assert len(list(one.iter(f"{SVG}circle"))) == 1 and one.find(f"{SVG}polyline") is None
    empty = parse(line_chart([], chart_id="s", title="t", description="d", empty_text="No ticket sales yet."))
    assert [t.text for t in empty.iter(f"{SVG}text")] == ["No ticket sales yet."]


def test_each_chart_is_also_drawn_for_a_phone_so_its_text_keeps_its_size() -> None:
    """A phone's column is about 330 px: a 560-unit drawing would show 15-unit labels at 8 px. The narrow
    drawing keeps the labels, the amounts and every point, in a drawing the phone shows at nearly full size."""
    bars = [Bar("Welcome Kitchen", 4973), Bar("Refugee Women's Group of East London and Hackney Wick", 7052)]
    svg = paired(bar_chart, bars=bars, chart_id="funds", title="Net due", description="One bar per partner.", format_value=pounds)
    wide, narrow = (parse(part) for part in re.findall(r"<svg.*?</svg>", svg, re.DOTALL))
    assert (wide.get("id"), wide.get("class")) == ("funds", "chart")
    assert (narrow.get("id"), narrow.get("class")) == ("funds-narrow", "chart chart-narrow")
    assert narrow.get("aria-labelledby") == "funds-narrow-title funds-narrow-desc"
    assert wide.get("viewBox", "").split()[2] == str(WIDTH) and narrow.get("viewBox", "").split()[2] == str(NARROW_WIDTH)
    assert wide.find(f"{SVG}desc").text == narrow.find(f"{SVG}desc").text  # type: ignore[union-attr]
    narrow_texts = [t.text or "" for t in narrow.iter(f"{SVG}text")]
    assert narrow_texts[1::2] == ["£49.73", "£70.52"]
    assert all(len(label) <= 60 * NARROW_WIDTH // WIDTH for label in narrow_texts[::2])  # long names are shortened to fit
    widest = max(float(rect.get("x", 0)) + float(rect.get("width", 0)) for rect in narrow.iter(f"{SVG}rect"))
    assert widest <= NARROW_WIDTH - 100  # the amount still fits beside the longest bar

    days = [(date(2027, 8, day), 1000 * day) for day in range(1, 15)]
    lines = paired(line_chart, points=days, chart_id="sales", title="Sales", description="By day", format_value=pounds)
    wide, narrow = (parse(part) for part in re.findall(r"<svg.*?</svg>", lines, re.DOTALL))
    assert len(list(narrow.iter(f"{SVG}circle"))) == len(list(wide.iter(f"{SVG}circle"))) == 14
    dates = [
        t
        for t in narrow.iter(f"{SVG}text")
        if t.get("fill") and t.get("text-anchor") in ("start", "middle", "end") and " " in (t.text or "") and "£" not in (t.text or "")
    ]
    assert 2 <= len(dates) <= 4  # fewer dates along a narrow axis, so they do not overlap
