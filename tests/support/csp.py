"""Content-Security-Policy violations seen by the browser tests, so a flow the policy breaks fails its test.

Chromium reports each violation twice over: a console error ("Refused to ... because it violates the
following Content Security Policy directive") and a `securitypolicyviolation` event, which an init script
turns into a console error too (some violations, e.g. in frames, only show up one way)."""

from __future__ import annotations

from typing import Any

VIOLATIONS: list[str] = []

_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.effectiveDirective + " blocked " + (event.blockedURI || "inline") +
    " in " + event.sourceFile + ":" + event.lineNumber);
});
"""


def _is_violation(text: str) -> bool:
    return "Content Security Policy" in text or text.startswith("CSP violation: ")


async def watch(context: Any) -> Any:
    """Record every violation reported in pages of this browser context."""

    def on_console(message: Any) -> None:
        if message.type == "error" and _is_violation(message.text):
            page = message.page
            VIOLATIONS.append(f"{page.url if page else '?'}: {message.text}")

    await context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", on_console)
    return context


def take() -> list[str]:
    """The violations recorded since the last call."""
    found = list(VIOLATIONS)
    VIOLATIONS.clear()
    return found


class WatchedBrowser:
    """A Playwright browser whose new contexts and pages report CSP violations (everything else passes through)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    async def new_context(self, **options: Any) -> Any:
        return await watch(await self._browser.new_context(**options))

    async def new_page(self, **options: Any) -> Any:
        context = await self.new_context(**options)
        page = await context.new_page()

        async def close_context(_: Any) -> None:  # like Browser.new_page: closing the page closes its context
            await context.close()

        page.on("close", close_context)
        return page

    @property
    def browser_type(self) -> Any:
        return _WatchedBrowserType(self._browser.browser_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


class _WatchedBrowserType:
    def __init__(self, browser_type: Any) -> None:
        self._browser_type = browser_type

    async def launch(self, **options: Any) -> WatchedBrowser:
        return WatchedBrowser(await self._browser_type.launch(**options))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser_type, name)
