"""QR codes for ticket codes, encoded by the qrcode package: drawn as SVG for pages and as vector runs
in PDFs.

What the qrcode package costs, and how it is used to keep that down (a 500-ticket order is one PDF, and
every ticket's code is different, so the encoding cannot be shared between tickets):
  * the mask is fixed: the automatic choice builds the symbol eight times to score each mask (about
    20 ms a code), and a fixed mask is as valid to every reader;
  * the mode is the densest that holds the text: a ticket's code (tickets/signing.py) uses only QR's
    alphanumeric characters, 11 bits per pair where byte mode takes 16, so it fits version 7 rather than 11;
  * the version is given: left to itself, ``make()`` runs ``best_fit`` twice (once through the
    ``version`` property, once explicitly), which encodes the data into a bit buffer each time only to
    count its bits. Within one mode the version depends on nothing but the length, so qrcode's own
    ``best_fit`` is asked once per mode and length (_version_for) and the answer reused;
  * the symbol is kept as one bytes object per row, and its dark runs found with a regular expression.
What is left is qrcode's Reed-Solomon coding and module placement: about 1.5 ms of CPU for a ticket's
(version 7) code on the 2-core reference machine, where a version 11 code took 4.5 ms (bench/tickets.py).
The tests decode what this makes with zxing-cpp, from PDFs and screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.util
from markupsafe import Markup

# Medium error correction survives a cracked screen or a smudged print while keeping modules large.
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QUIET_ZONE = 4
MASK_PATTERN = 0
_DARK_RUN = re.compile(b"\x01+")
_ALPHANUMERIC = re.compile(rb"[0-9A-Z $%*+\-./:]+")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A QR symbol without its quiet zone: ``rows[r][c]`` is 1 where module (r, c) is dark, else 0.

    Rows are bytes, one byte per module: a cached ticket-sized symbol takes about 6 kB, where tuples of
    booleans took about 30 kB."""

    size: int
    rows: tuple[bytes, ...]
    version: int

    def dark(self, row: int, column: int) -> bool:
        return self.rows[row][column] == 1

    def runs(self) -> list[tuple[int, int, int]]:
        """(row, first column, length) of each horizontal run of dark modules, top to bottom."""
        return [(index, match.start(), match.end() - match.start()) for index, row in enumerate(self.rows) for match in _DARK_RUN.finditer(row)]


@lru_cache(maxsize=64)
def _version_for(mode: int, length: int) -> int:
    """The smallest version that holds ``length`` characters (bytes) in ``mode``, as qrcode's best_fit finds it."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0, mask_pattern=MASK_PATTERN)
    filler = b"0" * length if mode == qrcode.util.MODE_ALPHA_NUM else bytes(length)
    code.add_data(qrcode.util.QRData(filler, mode=mode))
    return code.best_fit()


def _mode_for(encoded: bytes) -> int:
    """Alphanumeric mode for text of QR's 45 alphanumeric characters (capitals, digits, space, $%*+-./:), else bytes."""
    return qrcode.util.MODE_ALPHA_NUM if _ALPHANUMERIC.fullmatch(encoded) else qrcode.util.MODE_8BIT_BYTE


# Symbols kept per process, for a code shown again soon: a ticket's page opened twice, or the page and then its PDF, one
# ticket's PDF and then the whole order's. New tickets keep coming, so the cache ends up full whatever its size, and its
# size is what it costs: about 4 kB a symbol. 256 hold an hour of a busy door's reopened tickets and fill within minutes
# under load, then stay level; 2,048 took over an hour to fill, to 8 MB of every serve worker and PDF pool process
# (bench/soak.py --probe). An order's PDF of more tickets than this, downloaded again, encodes its codes again.
SYMBOLS_KEPT = 256


@lru_cache(maxsize=SYMBOLS_KEPT)
def qr_symbol(data: str) -> Symbol:
    """The smallest symbol that holds ``data``, in the densest mode its characters allow."""
    encoded = data.encode()
    mode = _mode_for(encoded)
    code = qrcode.QRCode(version=_version_for(mode, len(encoded)), error_correction=ERROR_CORRECTION, border=0, mask_pattern=MASK_PATTERN)
    code.add_data(qrcode.util.QRData(encoded, mode=mode))
    code.make(fit=False)
    rows = tuple(bytes(row) for row in code.get_matrix())  # map_data leaves only True/False in every module
    return Symbol(size=len(rows), rows=rows, version=code.version)


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The symbol as rows of booleans (True is dark), with its quiet zone."""
    symbol = qr_symbol(data)
    width = symbol.size + 2 * QUIET_ZONE
    blank = (False,) * width
    margin = (False,) * QUIET_ZONE
    rows = tuple(margin + tuple(module == 1 for module in row) + margin for row in symbol.rows)
    return (blank,) * QUIET_ZONE + rows + (blank,) * QUIET_ZONE


def qr_svg(data: str) -> Markup:
    """An SVG (white background and quiet zone, one path of dark runs) that the page scales to fit. Markup
    because it is drawn from numbers only: ``data`` becomes the modules' positions, never text in the SVG."""
    symbol = qr_symbol(data)
    width = symbol.size + 2 * QUIET_ZONE
    path = "".join(f"M{column + QUIET_ZONE} {row + QUIET_ZONE}h{length}v1h-{length}z" for row, column, length in symbol.runs())
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {width} {width}" '
        f'width="{width}mm" height="{width}mm" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{width}" fill="#fff"/><path fill="#000" d="{path}"/></svg>'
    )
