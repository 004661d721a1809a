"""Ticket PDFs without a database: a TicketView with a genuine signed code, and poppler's readings of a PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta
from html import unescape as html_unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bidi import get_display
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.catalogue.service import organisation_ref
from events.orders.codes import SECRET_ALPHABET
from events.tickets.signing import TicketClaims, sign_ticket
from events.tickets.views import TicketView

KEY = Ed25519PrivateKey.generate()
LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 8, 20, 19, 0, tzinfo=LONDON)
# How long a browser test waits for a PDF from a live server (Playwright's default is 30 s). A server renders PDFs in a
# pool process at a lower priority than itself (events.cpu.NICENESS), started by its first PDF: while the rest of the
# suite keeps both cores busy (xdist workers, browsers, other servers), that first start and render have taken over
# 30 s (a clean-clone CI run, 7 December, the kitchen list's PDF). Unloaded it takes about a second.
PDF_TIMEOUT_MS = 120_000
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def ticket(number: int = 1, **changes: object) -> TicketView:
    secret = "hq7mtw2xz9kcpe4rab" + SECRET_ALPHABET[number // 31 % 31] + SECRET_ALPHABET[number % 31]
    claims = TicketClaims("00000000c0de", number, 1, 42, 7, secret, int(START.timestamp()) - 86_400, int(START.timestamp()) + 2 * 86_400)
    view = TicketView(
        id=number,
        secret=secret,
        page_secret=secret[::-1],
        version=1,
        status="valid",
        holder="Amal Haddad",
        type_name="Supper",
        ticket_type_id=7,
        order_reference="K7M-4QX",
        event_id=42,
        event_slug="august-supper-club",
        event_title="August Supper Club",
        venue="St Margaret's Community Hall",
        address="12 Example Road, London E8 1AA",
        starts_at=START,
        ends_at=START + timedelta(hours=3, minutes=30),
        timezone="Europe/London",
        code=sign_ticket(claims, KEY),
        organisation_id=1,
        organisation=organisation_ref("refugee-kitchen", "Refugee Kitchen", ""),
    )
    return replace(view, **changes)  # type: ignore[arg-type]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or os.environ.get("EVENTS_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{name} (poppler-utils) is needed")
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def logical(visual_line: str) -> str:
    """pdftotext's reading of a line, normalised: presentation forms back to letters, no bidi marks."""
    return unicodedata.normalize("NFKC", visual_line).translate(BIDI_CONTROLS).strip()


def words(pdf_path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (points, y down), from pdftotext -bbox."""
    html = subprocess.run([tool("pdftotext"), "-bbox", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in html.split("<page ")[1:]:
        pages.append(
            [
                (float(a), float(b), float(c), float(d), text)
                for a, b, c, d, text in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)
            ]
        )
    return pages


def rasterise(pdf_bytes: bytes, directory: Path, dpi: int = 150) -> list[Path]:
    source = directory / "ticket.pdf"
    source.write_bytes(pdf_bytes)
    subprocess.run([tool("pdftoppm"), "-r", str(dpi), "-png", str(source), str(directory / "page")], check=True)
    return sorted(directory.glob("page-*.png"))


def lines_read_right_to_left(pdf_path: Path) -> list[list[str]]:
    """Each page's lines as a right-to-left reader reads them: the glyphs in the order they are drawn (pdftotext
    -bbox-layout, words left to right), put in reading order by the Unicode bidi algorithm in a right-to-left
    paragraph, then unshaped (logical). A line drawn right to left reads as written; one drawn in the wrong
    direction does not (its numbers and words come out swapped)."""
    html = subprocess.run([tool("pdftotext"), "-bbox-layout", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in html.split("<page ")[1:]:
        lines = []
        for line in re.findall(r"<line [^>]*>(.*?)</line>", page, re.DOTALL):
            found = re.findall(r'<word xMin="([\d.]+)"[^>]*>([^<]*)</word>', line)
            drawn = " ".join(html_unescape(text) for _, text in sorted(found, key=lambda word: float(word[0])))
            lines.append(logical(get_display(drawn, base_dir="R")))
        pages.append(lines)
    return pages
