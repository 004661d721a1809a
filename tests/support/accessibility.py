"""axe-core in a Playwright page: run the WCAG 2.x A/AA rules and best practices, fail on serious or critical findings.

axe comes from the npm registry at the exact version in tests/browser/axe/package-lock.json, installed by
`make install-dev` (npm ci) into tests/browser/axe/node_modules/, never fetched while the tests run.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_PACKAGE = PROJECT_ROOT / "tests" / "browser" / "axe"
AXE_SCRIPT = AXE_PACKAGE / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0 and 2.1 at levels A and AA, the one WCAG 2.2 AA rule axe has (target-size: controls big enough
# to tap on a phone), and axe's best practices (landmarks, one main heading, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    """The pinned axe-core; with EVENTS_TEST_REQUIRE_BROWSER=1 a missing install fails instead of skipping."""
    if not AXE_SCRIPT.is_file():
        message = f"axe-core is not installed: run `make install-dev` (npm ci --prefix {AXE_PACKAGE.relative_to(PROJECT_ROOT)})"
        if os.environ.get("EVENTS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"EVENTS_TEST_REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_version() -> str:
    return json.loads((AXE_SCRIPT.parent / "package.json").read_text(encoding="utf-8"))["version"]


async def run_axe(page: Any) -> dict[str, Any]:
    """axe's results for the page as it is now (injected afresh: a navigation drops the script)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        # Evaluated by Playwright rather than added as a <script>: the pages' Content-Security-Policy refuses inline script.
        await page.evaluate("() => {\n" + axe_source() + "\n}")
    return await page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations", "incomplete"]});
            const findings = (list) => list.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
                nodes: v.nodes.map((n) => ({impact: n.impact, target: n.target, summary: n.failureSummary, html: n.html})),
            }));
            return {url: results.url, version: results.testEngine.version, passes: results.passes.length,
                    violations: findings(results.violations), incomplete: findings(results.incomplete)};
        }""",
        AXE_TAGS,
    )


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per rule: what is wrong, how to fix it, and where (CSS selectors of every element)."""
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            target = " ".join(" >> ".join(part) if isinstance(part, list) else part for part in node["target"])
            lines.append(f"    {target}")
            for detail in (node.get("summary") or "").splitlines()[1:3]:
                lines.append(f"        {detail.strip()}")
    return "\n".join(lines)


async def assert_accessible(page: Any, name: str, artifacts_dir: Path | None = None) -> list[dict[str, Any]]:
    """Fail, listing each rule and element, if axe finds a serious or critical violation on the page.

    With ``artifacts_dir``, saves a full-page screenshot and axe's findings as ``name``.png/.axe.json: every
    violation whatever its impact, and what axe could not decide alone ("incomplete", for a person to look at).
    Returns the moderate and minor findings, which do not fail the check."""
    results = await run_axe(page)
    if artifacts_dir is not None:
        await page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
        (artifacts_dir / f"{name}.axe.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe {results['version']} found serious or critical problems on {name} ({results['url']}):\n{describe(blocking)}"
    return [v for v in results["violations"] if v["impact"] not in BLOCKING_IMPACTS]


FOCUS_PROBE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const opaque = (color) => !/^rgba\\(.*,\\s*0\\)$/.test(color) && color !== "transparent";
    let behind = "rgb(255, 255, 255)";
    for (let node = el.parentElement; node; node = node.parentElement) {
        const color = getComputedStyle(node).backgroundColor;
        if (opaque(color)) { behind = color; break; }
    }
    const style = getComputedStyle(el);
    const text = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return {
        element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (text ? ` "${text}"` : ""),
        style: style.outlineStyle, width: parseFloat(style.outlineWidth),
        color: style.outlineColor, behind,
    };
}"""


def _channels(color: str) -> tuple[float, float, float]:
    red, green, blue = (float(part) for part in color[color.index("(") + 1 : color.index(")")].split(",")[:3])
    return red, green, blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored)."""

    def luminance(color: str) -> float:
        def linear(channel: float) -> float:
            c = channel / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = (linear(c) for c in _channels(color))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def assert_focus_visible(page: Any, name: str, *, max_stops: int = 120) -> list[str]:
    """Tab through the whole page: every stop shows a focus ring (WCAG 2.4.7) at least 2px wide whose colour
    stands out 3:1 from what is behind it (1.4.11). Returns the elements in the order Tab reached them."""
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    await page.evaluate("window.scrollTo(0, 0)")
    reached: list[str] = []
    problems: list[str] = []
    for _ in range(max_stops):
        await page.keyboard.press("Tab")
        focus = await page.evaluate(FOCUS_PROBE)
        if focus is None:
            if reached:
                break
            continue
        if reached and focus["element"] == reached[0]:
            break  # round again
        reached.append(focus["element"])
        if focus["style"] == "none" or focus["width"] < 2:
            problems.append(f"{focus['element']}: no visible focus ring ({focus['style']} {focus['width']}px)")
        elif (ratio := contrast_ratio(focus["color"], focus["behind"])) < 3:
            problems.append(f"{focus['element']}: focus ring {focus['color']} on {focus['behind']} has contrast {ratio:.2f}:1 (needs 3:1)")
    assert reached, f"Tab reaches nothing on {name}"
    assert not problems, f"focus is hard to see on {name}:\n    " + "\n    ".join(problems)
    return reached


TARGETS_PROBE = """() => {
    const controls = document.querySelectorAll(
        "a[href], button, select, textarea, summary, input:not([type=hidden]), [role=button], [tabindex]:not([tabindex='-1'])");
    const small = [];
    for (const el of controls) {
        if (!el.checkVisibility({visibilityProperty: true}) || el.disabled) continue;
        const style = getComputedStyle(el);
        // A link in running text may be as tall as its line (WCAG 2.5.8's inline exception).
        const parentText = (el.parentElement.textContent || "").trim().length;
        if (style.display === "inline" && parentText > (el.textContent || "").trim().length) continue;
        // A checkbox or radio button is tapped through its label.
        const target = ["checkbox", "radio"].includes(el.type) && el.closest("label") ? el.closest("label") : el;
        const box = target.getBoundingClientRect();
        if (box.height < MIN_HEIGHT || box.width < MIN_WIDTH) {
            const text = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
            small.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className ? "." + [...el.classList].join(".") : ""}`
                + ` "${text}": ${Math.round(box.width)}×${Math.round(box.height)}px`);
        }
    }
    return small;
}"""


async def assert_touch_targets(page: Any, name: str, *, min_height: int = 44, min_width: int = 24) -> None:
    """On a phone, every control outside running text is at least 44 CSS px tall (a fingertip) and 24 wide."""
    probe = TARGETS_PROBE.replace("MIN_HEIGHT", str(min_height)).replace("MIN_WIDTH", str(min_width))
    small = await page.evaluate(probe)
    assert not small, f"too small to tap on {name} (at least {min_width}×{min_height}px):\n    " + "\n    ".join(small)
