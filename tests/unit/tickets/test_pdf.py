"""Ticket PDFs without a database: the layout, embedded fonts, Arabic and Farsi names, and a QR code that scans."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import arabic_reshaper
import pytest
import zxingcpp
from babel.dates import format_date, format_interval
from PIL import Image
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from events import i18n
from events.pdf import pages
from events.pdf.text import fonts, visual_runs
from events.tickets import pdf, qr
from events.tickets.signing import verify_ticket
from tests.support.ticket_pdfs import KEY, START, lines_read_right_to_left, logical, rasterise, ticket, tool, words


def one_code(results: list) -> list:  # type: ignore[type-arg]
    """The decoder may report one symbol twice (two passes); a page must hold exactly one distinct code."""
    distinct = {result.text: result for result in results}
    assert len(distinct) == 1, [result.text[:40] for result in results]
    return list(distinct.values())


# --- whole pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [("a4", (595.28, 841.89)), ("phone", (255.12, 538.58))])
def test_each_ticket_is_one_page_of_the_chosen_size(size: str, expected: tuple[float, float], tmp_path: Path) -> None:
    tickets = [ticket(1), ticket(2, holder="ليلى حداد"), ticket(3, holder="سارا احمدی")]
    document = pdf.render_tickets_pdf(tickets, page_size=size)
    path = tmp_path / "tickets.pdf"
    path.write_bytes(document)
    info = subprocess.run([tool("pdfinfo"), str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+3$", info, re.MULTILINE)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())  # type: ignore[union-attr]
    assert (round(width, 2), round(height, 2)) == expected


def test_the_page_shows_the_ticket_and_no_price(tmp_path: Path) -> None:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf.render_tickets_pdf([ticket(5, type_name="Pay-it-forward place")]))
    text = subprocess.run([tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in (
        "August Supper Club",
        "Thursday, 20 August 2026",  # Babel's full date in British English, as the ticket page writes it
        "19:00–22:30 BST",  # the event's own time zone
        "St Margaret's Community Hall",
        "12 Example Road, London E8 1AA",
        "Amal Haddad",
        "Pay-it-forward place",
        "K7M-4QX",
        ticket(5).secret,
        "Show this QR code at the door",
    ):
        assert expected in text
    assert "£" not in text and "price" not in text.lower()


def test_all_text_uses_the_embedded_noto_fonts(tmp_path: Path) -> None:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf.render_tickets_pdf([ticket(1), ticket(2, holder="ليلى حداد")]))
    listing = subprocess.run([tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in listing}
    assert names == {"NotoSans-Regular", "NotoSans-Bold", "NotoSansArabic-Bold"}
    assert all(" yes yes yes " in line for line in listing)  # embedded, subset, with a ToUnicode map


def test_the_qr_code_scans_and_verifies_on_both_page_sizes(tmp_path: Path) -> None:
    for size in ("a4", "phone"):
        view = ticket(9)
        directory = tmp_path / size
        directory.mkdir()
        [page] = rasterise(pdf.render_tickets_pdf([view], page_size=size), directory)
        [found] = one_code(zxingcpp.read_barcodes(Image.open(page), formats=zxingcpp.BarcodeFormat.QRCode))
        assert found.text == view.code
        assert verify_ticket(found.text, {"00000000c0de": KEY.public_key()}).secret == view.secret


@pytest.mark.parametrize("size", ["a4", "phone"])
def test_long_texts_wrap_and_stay_on_the_page_and_off_the_qr_code(size: str, tmp_path: Path) -> None:
    view = ticket(
        7,
        event_title="A Very Long Fundraising Gala Dinner Title That Goes On And On To Test How Titles Wrap On A Ticket " * 2,
        venue="The Extremely Long Named Community and Cultural Centre of the Borough of Hackney and Beyond",
        address="Unit 14, Block C, The Old Biscuit Factory Industrial Estate, 100 Some Very Long Road Name, London E8 1AA, United Kingdom",
        holder="Maximilian Alexander von Hohenzollern-Sigmaringen the Third of Many Names, Again and Again",
        type_name="Pay-it-forward place (free, kept for refugees and asylum seekers)",
    )
    document = pdf.render_tickets_pdf([view], page_size=size)
    path = tmp_path / "ticket.pdf"
    path.write_bytes(document)
    width, height = pdf.PAGE_SIZES[size]
    [page_words] = words(path)
    assert page_words
    for x0, y0, x1, y1, text in page_words:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, text
    assert any(text.endswith("…") for *_, text in page_words)  # cut short, visibly
    [png] = rasterise(document, tmp_path)
    [found] = one_code(zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode))
    assert found.text == view.code
    scale = 72 / 150
    xs = [point.x * scale for point in (found.position.top_left, found.position.bottom_right)]
    ys = [point.y * scale for point in (found.position.top_left, found.position.bottom_right)]
    for x0, y0, x1, y1, text in page_words:
        overlaps = x0 < max(xs) and x1 > min(xs) and y0 < max(ys) and y1 > min(ys)
        assert not overlaps, f"{text!r} is drawn over the QR code"


@pytest.mark.parametrize("locale", ["en", "ar"])
@pytest.mark.parametrize("size", ["a4", "phone"])
def test_the_layout_plan_matches_the_drawing_and_fits_the_page(size: str, locale: str) -> None:
    """_plan measures the page before drawing, to choose how many lines each part may take; it must agree
    (an Arabic page's labels are larger)."""
    from reportlab.pdfgen.canvas import Canvas

    design = pdf.DESIGNS[size]
    wording = pdf._wording(locale)
    long = "Words and more words that go on " * 8
    cases = [
        ticket(1),
        ticket(2, holder="ليلى حداد", venue="", address=""),
        ticket(3, event_title=long, venue=long, address=long, holder=long, type_name=long),
        ticket(4, ends_at=START + timedelta(days=1, hours=2)),  # ends the next day
    ]
    for view in cases:
        canvas = Canvas(io.BytesIO(), pagesize=pdf.PAGE_SIZES[size])
        planned, drawn = pdf._draw_ticket(canvas, view, size, wording=wording)
        assert abs(planned - drawn) < 0.5, (view.id, planned, drawn)
        bottom = design.margin + (6 * mm if design.card else 0)
        assert drawn >= bottom - 0.5, (view.id, drawn)


def test_the_qr_code_is_the_size_the_design_asks_for(tmp_path: Path) -> None:
    # The symbol itself (finder edge to finder edge); the white quiet zone around it comes on top. What makes
    # a code easy to scan from a smudged print or a cracked screen is the size of each module.
    view = ticket(3)
    modules = qr.qr_symbol(view.code).size
    for size, expected_mm, smallest_module_mm in (("a4", (85, 110), 1.9), ("phone", (68, 90), 1.5)):
        directory = tmp_path / size
        directory.mkdir()
        [png] = rasterise(pdf.render_tickets_pdf([view], page_size=size), directory)
        [found] = one_code(zxingcpp.read_barcodes(Image.open(png), formats=zxingcpp.BarcodeFormat.QRCode))
        side_mm = (found.position.top_right.x - found.position.top_left.x) / 150 * 25.4
        low, high = expected_mm
        assert low <= side_mm <= high, (size, side_mm)
        assert side_mm / modules >= smallest_module_mm, (size, side_mm / modules)


def test_an_arabic_name_reads_back_in_logical_order(tmp_path: Path) -> None:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf.render_tickets_pdf([ticket(1, holder="ليلى حداد"), ticket(2, holder="سارا احمدی")], page_size="phone"))
    text = subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout
    lines = {logical(line) for line in text.splitlines()}
    assert "ليلى حداد" in lines and "سارا احمدی" in lines


def test_rendering_reuses_fonts_and_stays_fast() -> None:
    """Not the benchmark (bench/tickets.py): a guard against losing the caches (~5 ms → 30+ ms)."""
    pdf.render_tickets_pdf([ticket(1)])
    views = [ticket(n, holder=f"Guest Number {n}") for n in range(10, 40)]
    began = time.process_time()
    for view in views:
        pdf.render_tickets_pdf([view])
    assert (time.process_time() - began) / len(views) < 0.030


@pytest.mark.parametrize("size", ["a4", "phone"])
def test_a_page_drawn_from_the_shared_layout_is_the_page_drawn_afresh(size: str, tmp_path: Path) -> None:
    """The band, labels, tear line and small print are made once per layout and reused (pages._SHARED):
    a ticket drawn with that cache empty and drawn again from it shows the same words in the same places
    and looks the same, when the earlier tickets of its layout were in another PDF, and when a ticket of
    another layout (a name on two lines moves the labels below it) came in between."""
    view = ticket(21, holder="Sara Ahmadi")
    pages._SHARED.clear()
    fresh = tmp_path / "fresh.pdf"
    fresh.write_bytes(pdf.render_tickets_pdf([view], page_size=size))
    assert pages._SHARED, "the layout was kept"
    pages._SHARED.clear()
    long_name = ticket(23, holder="Maximilian Alexander von Hohenzollern-Sigmaringen the Third of Many Names")
    pdf.render_tickets_pdf([long_name, ticket(22, holder="Grace Mensah")], page_size=size)
    assert len(pages._SHARED) == 2
    reused = tmp_path / "reused.pdf"
    reused.write_bytes(pdf.render_tickets_pdf([view], page_size=size))
    assert words(fresh) == words(reused)
    labels = {text for *_, text in words(reused)[0]}
    assert {"TICKET", "ADMIT", "ONE", "NAME", "TYPE", "ORDER", "CODE", "door", "yourself."} <= labels
    (tmp_path / "fresh-page").mkdir()
    (tmp_path / "reused-page").mkdir()
    [fresh_png] = rasterise(fresh.read_bytes(), tmp_path / "fresh-page")
    [reused_png] = rasterise(reused.read_bytes(), tmp_path / "reused-page")
    assert Image.open(fresh_png).tobytes() == Image.open(reused_png).tobytes()


def test_pdfs_drawn_in_parallel_threads_read_as_when_drawn_one_at_a_time(tmp_path: Path) -> None:
    """The web app draws PDFs in worker threads (tickets_pdf), several at once, sharing the font, subset, text
    and layout caches: no PDF may pick up another's subsets or text."""
    names = ["Amal Haddad", "ليلى حداد", "سارا احمدی", "Zoë Kowalczyk", "مریم رضایی", "Amal حداد", "پژمان گلچین", "Tom O'Neill"]
    orders = [[ticket(60 + 8 * i + j, holder=names[(i + j) % len(names)]) for j in range(5)] for i in range(6)]

    def read(document: bytes, name: str) -> str:
        path = tmp_path / name
        path.write_bytes(document)
        return subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout

    expected = [read(pdf.render_tickets_pdf(order), f"one-{index}.pdf") for index, order in enumerate(orders)]
    pages._SHARED.clear()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so their work interleaves finely
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            documents = list(pool.map(pdf.render_tickets_pdf, orders * 3))
    finally:
        sys.setswitchinterval(interval)
    for index, document in enumerate(documents):
        assert read(document, f"parallel-{index}.pdf") == expected[index % len(orders)]


def _logo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (138, 44, 13)).save(buffer, format="PNG")
    return buffer.getvalue()


BRANDED = pdf.Branding(name="Refugee Kitchen", accent=pdf.colour_of("#8a2c0d"), logo=_logo())


@pytest.mark.parametrize("size", ["a4", "phone"])
@pytest.mark.parametrize("branding", [BRANDED, pdf.Branding(name="Welcome Cinema", accent=pdf.colour_of("#1d3f8f"))], ids=["logo", "no-logo"])
def test_a_branded_ticket_names_its_organisation_in_its_colour_and_still_fits(size: str, branding: pdf.Branding, tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    design = pdf.DESIGNS[size]
    long = "Words and more words that go on " * 8
    for view in (ticket(1), ticket(3, event_title=long, venue=long, address=long, holder=long, type_name=long)):
        canvas = Canvas(io.BytesIO(), pagesize=pdf.PAGE_SIZES[size])
        planned, drawn = pdf._draw_ticket(canvas, view, size, None, branding, ImageReader(io.BytesIO(branding.logo)) if branding.logo else None)
        assert abs(planned - drawn) < 0.5, (view.id, planned, drawn)
        assert drawn >= design.margin + (6 * mm if design.card else 0) - 0.5, (view.id, drawn)

    document = pdf.render_tickets_pdf([ticket(1)], page_size=size, branding=branding)
    path = tmp_path / "ticket.pdf"
    path.write_bytes(document)
    text = subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert branding.name in text and text.index(branding.name) < text.index("August Supper Club")
    # The band is in the organisation's colour (sampled just below the page's top edge), and the code still scans.
    [png] = rasterise(document, tmp_path)
    page = Image.open(png).convert("RGB")
    top = int((design.margin if design.card else 0) * 150 / 72) + 8
    red, green, blue = (round(channel * 255) for channel in branding.accent)
    assert page.getpixel((page.size[0] // 2, top)) == pytest.approx((red, green, blue), abs=3)  # type: ignore[arg-type]
    [found] = one_code(zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode))
    assert found.text == ticket(1).code


def test_the_logo_is_embedded_once_for_a_whole_order() -> None:
    one = pdf.render_tickets_pdf([ticket(1)], branding=BRANDED)
    many = pdf.render_tickets_pdf([ticket(n) for n in range(1, 6)], branding=BRANDED)
    assert one.count(b"/Subtype /Image") == 1 and many.count(b"/Subtype /Image") == 1
    assert pdf.render_tickets_pdf([ticket(1)]).count(b"/Subtype /Image") == 0


# --- in the order's language -----------------------------------------------------------------------------

LABELS = (pdf.BAND_START, pdf.BAND_END, pdf.NAME, pdf.TICKET_TYPE, pdf.ORDER, pdf.TICKET_CODE)
ARABIC_LETTERS = re.compile("[\u0600-\u06ff]")


def plain_text(path: Path) -> str:
    return subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout


def both_painters(views: list, locale: str, size: str, directory: Path) -> Path:  # type: ignore[type-arg]
    """The tickets drawn in ``locale`` by the fast painter, checked to read as the reference painter's do."""
    directory.mkdir()
    fast, stock = directory / "fast.pdf", directory / "stock.pdf"
    fast.write_bytes(pdf.render_tickets_pdf(views, page_size=size, locale=locale))
    stock.write_bytes(pdf.render_tickets_pdf_with_public_api(views, page_size=size, locale=locale))
    assert plain_text(fast) == plain_text(stock)
    assert [[word[4] for word in page] for page in words(fast)] == [[word[4] for word in page] for page in words(stock)]
    return fast


def translated_labels(locale: str) -> list[str]:
    """The labels the catalogue has in ``locale``, as the ticket shows them (a label not yet translated is in English)."""
    gettext = i18n.translations(locale).gettext
    return [gettext(label).upper() for label in LABELS if gettext(label) != label]


def centre_of(page_words: list[tuple[float, float, float, float, str]], reads: str) -> float:
    """The horizontal centre of the topmost word that reads ``reads`` (a right-to-left word's glyphs come drawn reversed)."""
    found = [(y0, (x0 + x1) / 2) for x0, y0, x1, _, drawn in page_words if reads in (drawn, logical(drawn[::-1]))]
    return min(found)[1]


@pytest.mark.parametrize("size", ["a4", "phone"])
def test_an_arabic_order_gets_tickets_in_arabic_laid_out_right_to_left(size: str, tmp_path: Path) -> None:
    views = [ticket(1), ticket(2, holder="ليلى حداد")]
    document = both_painters(views, "ar", size, tmp_path / "ar")
    gettext = i18n.translations("ar").gettext
    day = format_date(START, format="full", locale="ar")
    assert day == "الخميس، 20 أغسطس 2026"  # Babel's, with the Arabic comma
    known = [gettext(label).upper() for label in (pdf.BAND_START, pdf.NAME, pdf.ORDER, pdf.TICKET_CODE)]
    assert all(ARABIC_LETTERS.search(label) for label in known)  # in the catalogue already
    for page in lines_read_right_to_left(document):
        # Read right to left, the page's own lines are Babel's Arabic date and times and the catalogue's labels.
        assert day in page
        assert any(line.startswith(format_interval(START, views[0].ends_at, "Hm", locale="ar")) for line in page)
        assert set(known) | set(translated_labels("ar")) <= set(page)
    raw = plain_text(document)
    # Drawn in joined letter forms, and still read back as Arabic in logical order.
    assert arabic_reshaper.reshape(gettext(pdf.NAME)) in raw and arabic_reshaper.reshape(day.split("،")[0]) in raw
    lines = {logical(line) for line in raw.splitlines()}
    # The English title and a Latin name keep their own left-to-right order on the Arabic page; the Arabic name reads as written.
    assert {"August Supper Club", "Amal Haddad", "ليلى حداد", "St Margaret's Community Hall"} <= lines
    # Mirrored: the band's 'Ticket' is at the right, and the columns run from the right (ticket type, then order).
    width = pdf.PAGE_SIZES[size][0]
    for page_words in words(document):
        assert centre_of(page_words, gettext(pdf.BAND_START).upper()) > width * 0.75
        assert centre_of(page_words, "K7M-4QX") < width / 2 < centre_of(page_words, "Supper")


def test_a_farsi_order_gets_tickets_in_farsi_with_its_own_letters(tmp_path: Path) -> None:
    holder = "پژمان گلچین"  # peh, zheh, gaf, tcheh and Farsi yeh; keheh is in 'کد بلیت' (ticket code)
    document = both_painters([ticket(1, holder=holder)], "fa", "phone", tmp_path / "fa")
    gettext = i18n.translations("fa").gettext
    day = format_date(START, format="full", locale="fa_IR")
    assert day == "پنجشنبه 20 اوت 2026"
    [page] = lines_read_right_to_left(document)
    assert day in page and any(line.startswith("19:00 تا 22:30") for line in page)  # 'تا': Farsi's 'to'
    assert {"نام", "سفارش", "کد بلیت", "بلیت"} | set(translated_labels("fa")) <= set(page)
    assert holder in {logical(line) for line in plain_text(document).splitlines()}
    # Every letter (each of its joined forms) is in the embedded Arabic font, which covers Farsi.
    _, arabic = fonts()
    for words_in_farsi in (holder, gettext(pdf.TICKET_CODE), day):
        assert all(ord(char) in arabic.covers for name, run in visual_runs(words_in_farsi) if name == arabic.regular for char in run)


@pytest.mark.parametrize("size", ["a4", "phone"])
def test_a_farsi_word_joined_by_a_zero_width_non_joiner_reads_as_one_word(size: str, tmp_path: Path) -> None:
    """Farsi writes some words in parts with a zero-width non-joiner (U+200C) between them ('نیک‌نام', 'می‌شود').
    Readers break a word at that glyph of no width and join it again only if its letters either side come from
    one PDF font (events.pdf.text.ARABIC_SEED); the guest's PDF must read as the reference painter's, word for word."""
    holder = "علی\u200cرضا نیک\u200cنام"
    document = both_painters([ticket(1, holder=holder, event_title="جشن نوروز خانه\u200cها")], "fa", size, tmp_path / size)
    [page] = lines_read_right_to_left(document)  # words joined with spaces: a word read in two parts would show
    assert holder in page and "جشن نوروز خانه\u200cها" in page
    # So do the words with a non-joiner in the small print's translation ('می‌شود', 'نسخه‌ای'...).
    small_print = i18n.translations("fa").gettext(pdf.SMALL_PRINT)
    assert all(word in " ".join(page) for word in small_print.split() if "\u200c" in word)


def test_a_french_order_gets_tickets_in_french_left_to_right(tmp_path: Path) -> None:
    document = both_painters([ticket(1)], "fr", "a4", tmp_path / "fr")
    lines = [" ".join(line.split()) for line in plain_text(document).splitlines()]
    assert "jeudi 20 août 2026" in lines
    hours = " ".join(format_interval(START, ticket(1).ends_at, "Hm", locale="fr_FR").split())
    assert any(line.startswith(hours) for line in lines) and hours == "19:00 – 22:30"
    assert {"NOM", "COMMANDE", "CODE DU BILLET", "BILLET"} | set(translated_labels("fr")) <= set(lines)
    [page_words] = words(document)
    assert centre_of(page_words, "BILLET") < pdf.PAGE_SIZES["a4"][0] / 4  # where a line starts, as in English
    assert centre_of(page_words, "Supper") < centre_of(page_words, "K7M-4QX")


def test_a_ticket_keeps_its_own_language_after_one_in_another_and_an_unknown_language_is_english(tmp_path: Path) -> None:
    """The parts every ticket of a layout shares are kept per language (pages._SHARED), so an English ticket drawn
    after a French one of the same layout has English labels."""
    pages._SHARED.clear()
    pdf.render_tickets_pdf([ticket(1)], locale="fr")
    for locale in ("en", "de"):
        path = tmp_path / f"{locale}.pdf"
        path.write_bytes(pdf.render_tickets_pdf([ticket(1)], locale=locale))
        labels = {text for *_, text in words(path)[0]}
        assert {"TICKET", "ADMIT", "NAME", "ORDER", "CODE"} <= labels and not {"BILLET", "NOM", "COMMANDE"} & labels


@pytest.mark.parametrize(("locale", "zone"), [("fr", "heure : Royaume-Uni"), ("ar", "توقيت المملكة المتحدة"), ("fa", "وقت بریتانیا")])
def test_a_language_without_a_short_name_for_the_time_zone_names_its_place_not_an_offset(locale: str, zone: str) -> None:
    """'+0100' told a guest reading French, Arabic or Farsi little; English keeps 'BST'."""
    start = datetime(2026, 8, 20, 19, 0, tzinfo=ZoneInfo("Europe/London"))
    _, hours = pdf._when(start, start + timedelta(hours=3, minutes=30), locale)
    assert hours.endswith(zone) and "+01" not in hours


def test_the_same_moment_in_two_time_zones_is_written_in_each_ones_own() -> None:
    """The two are equal in Python (one instant), and written dates are kept once written."""
    in_london = datetime(2026, 8, 20, 19, 0, tzinfo=ZoneInfo("Europe/London"))
    in_paris = in_london.astimezone(ZoneInfo("Europe/Paris"))
    assert in_london == in_paris
    assert pdf._when(in_london, in_london + timedelta(hours=3, minutes=30), "en")[1] == "19:00–22:30 BST"
    assert pdf._when(in_paris, in_paris + timedelta(hours=3, minutes=30), "en")[1] == "20:00–23:30 CEST"
