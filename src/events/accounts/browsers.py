"""A short description of a browser from its User-Agent header ("Firefox on Android"), so a person can tell their
sign-ins apart. Pure. Only this description is kept, never the header itself (it fingerprints a device)."""

from __future__ import annotations

import re

# Order matters: many browsers name the ones they are built on (Edge says Chrome and Safari, Chrome says Safari).
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS|HeadlessChrome)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("macOS", re.compile(r"\bMacintosh\b|\bMac OS X\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)
MAX_LENGTH = 120


def describe_browser(user_agent: str | None) -> str:
    """ "Firefox on Android", "Chrome on Windows", "Safari", or "" when nothing is recognised."""
    agent = (user_agent or "")[:512]
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), "")
    if browser and system:
        return f"{browser} on {system}"[:MAX_LENGTH]
    return (browser or system)[:MAX_LENGTH]
