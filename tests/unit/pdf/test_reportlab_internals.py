"""The fast paths through reportlab's internals draw what reportlab's public API draws.

Each ticket is rendered twice: by render_tickets_pdf (cached font subsets, text as raw operators, shared
forms: events.pdf.reportlab_internals) and by render_tickets_pdf_with_public_api (stock reportlab, plain
TTFonts, text objects, paths: slow). poppler must read the same words in the same places from both, find
the same embedded fonts, and draw the same pixels, give or take anti-aliasing where the fast painter's
shared layer lies under the QR code's white square. After a reportlab upgrade, this is the check to run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from events.pdf import pages
from events.tickets import pdf
from tests.support.ticket_pdfs import logical, rasterise, ticket, tool, words

LATIN = ticket(31, holder="Grace Mensah-Bonsu", type_name="Supper (standard)")
ARABIC = ticket(32, holder="ليلى حداد", event_title="عشاء الخريف الخيري", venue="قاعة المجتمع")
MIXED = ticket(33, holder="سارا احمدی (Sara)")
# Farsi words in parts joined by a zero-width non-joiner (U+200C), which readers break at unless the glyphs
# either side of it come from one PDF font.
FARSI = ticket(34, holder="علی\u200cرضا نیک\u200cنام", event_title="جشن نوروز خانه\u200cها")
# At most one pixel in this many may differ by more than NOTICEABLE of 255 grey levels, none by more than WRONG.
PIXELS_PER_DIFFERENCE = 10_000
NOTICEABLE = 32
WRONG = 128


def both(views: list, size: str, directory: Path, locale: str = "en") -> tuple[Path, Path]:  # type: ignore[type-arg]
    directory.mkdir()
    fast, stock = directory / "fast.pdf", directory / "stock.pdf"
    fast.write_bytes(pdf.render_tickets_pdf(views, page_size=size, locale=locale))
    stock.write_bytes(pdf.render_tickets_pdf_with_public_api(views, page_size=size, locale=locale))
    return fast, stock


def text(path: Path) -> str:
    return subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout


def fonts(path: Path) -> list[tuple[str, ...]]:
    """(font without its subset tag, type, embedded, subset, ToUnicode), one per font in the PDF."""
    listing = subprocess.run([tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return sorted({(line.split()[0].split("+")[-1], *line.split()[1:2], *line.split()[-5:-2]) for line in listing})


def assert_same_pixels(fast: Path, stock: Path, directory: Path) -> None:
    (directory / "fast-pages").mkdir()
    (directory / "stock-pages").mkdir()
    fast_pages = rasterise(fast.read_bytes(), directory / "fast-pages")
    stock_pages = rasterise(stock.read_bytes(), directory / "stock-pages")
    assert len(fast_pages) == len(stock_pages)
    for fast_png, stock_png in zip(fast_pages, stock_pages, strict=True):
        fast_image, stock_image = Image.open(fast_png).convert("L"), Image.open(stock_png).convert("L")
        assert fast_image.size == stock_image.size
        histogram = ImageChops.difference(fast_image, stock_image).histogram()
        pixels = fast_image.size[0] * fast_image.size[1]
        assert sum(histogram[WRONG + 1 :]) == 0, f"{fast_png.name}: parts drawn differently"
        assert sum(histogram[NOTICEABLE + 1 :]) <= pixels // PIXELS_PER_DIFFERENCE, (
            f"{fast_png.name}: {sum(histogram[NOTICEABLE + 1 :])} pixels differ"
        )


@pytest.mark.parametrize("size", ["a4", "phone"])
@pytest.mark.parametrize(
    ("case", "views", "locale"),
    [
        ("latin", [LATIN], "en"),
        ("arabic", [ARABIC], "en"),
        ("farsi", [FARSI], "en"),
        ("order", [LATIN, ARABIC, MIXED, LATIN], "en"),
        # In the order's language: right to left with Arabic labels and dates, Farsi, French.
        ("order-in-arabic", [LATIN, ARABIC, MIXED], "ar"),
        ("order-in-farsi", [MIXED, FARSI, LATIN], "fa"),
        ("order-in-french", [LATIN, ARABIC], "fr"),
    ],
)
def test_the_fast_path_reads_and_looks_like_stock_reportlab(case: str, views: list, locale: str, size: str, tmp_path: Path) -> None:  # type: ignore[type-arg]
    fast, stock = both(views, size, tmp_path / case, locale)
    assert text(fast) == text(stock)
    fast_words, stock_words = words(fast), words(stock)
    assert [[word[4] for word in page] for page in fast_words] == [[word[4] for word in page] for page in stock_words]
    for fast_page, stock_page in zip(fast_words, stock_words, strict=True):
        for fast_word, stock_word in zip(fast_page, stock_page, strict=True):
            assert all(abs(a - b) < 0.05 for a, b in zip(fast_word[:4], stock_word[:4], strict=True)), (fast_word, stock_word)
    assert fonts(fast) == fonts(stock)
    assert_same_pixels(fast, stock, tmp_path / case)


def test_the_comparison_sees_what_a_broken_fast_path_would_draw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If reportlab changed the codes its first subset gives ASCII (what ascii_string relies on), text would come
    out as other glyphs: the same comparison must fail."""
    fast, stock = both([LATIN], "a4", tmp_path / "sound")
    assert LATIN.holder in {logical(line) for line in text(fast).splitlines()}
    from events.pdf import reportlab_internals

    reportlab_internals.ascii_string.cache_clear()
    pages._shareable.cache_clear()
    pages._SHARED.clear()
    shifted = reportlab_internals._PDF_STRING | {code: chr(code + 1) for code in range(ord("a"), ord("z"))}
    monkeypatch.setattr(reportlab_internals, "_PDF_STRING", shifted)
    try:
        broken = tmp_path / "broken.pdf"
        broken.write_bytes(pdf.render_tickets_pdf([LATIN]))
        assert text(broken) != text(stock)
        with pytest.raises(AssertionError):
            assert_same_pixels(broken, stock, tmp_path)
    finally:
        reportlab_internals.ascii_string.cache_clear()
        pages._shareable.cache_clear()
        pages._SHARED.clear()


@pytest.mark.parametrize("size", ["a4", "phone"])
def test_a_branded_ticket_reads_and_looks_like_stock_reportlab(size: str, tmp_path: Path) -> None:
    """The organisation's band colour, name and logo (tickets.pdf.Branding) come out the same from both painters."""
    import io

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", (300, 100), (138, 44, 13)).save(buffer, format="PNG")
    branding = pdf.Branding(name="Refugee Kitchen", accent=pdf.colour_of("#8a2c0d"), logo=buffer.getvalue())
    directory = tmp_path / "branded"
    directory.mkdir()
    fast, stock = directory / "fast.pdf", directory / "stock.pdf"
    fast.write_bytes(pdf.render_tickets_pdf([LATIN, ARABIC], page_size=size, branding=branding))
    stock.write_bytes(pdf.render_tickets_pdf_with_public_api([LATIN, ARABIC], page_size=size, branding=branding))
    assert text(fast) == text(stock) and "Refugee Kitchen" in text(fast)
    assert [[word[4] for word in page] for page in words(fast)] == [[word[4] for word in page] for page in words(stock)]
    assert_same_pixels(fast, stock, directory)
