"""Text outside the tables of an OCR'd page, read only where the report's title and the tables'
headings are: the whole page until the title or the first table, then a band above and below each
table. A table that starts at the top of its page has its heading (and a caption drawn as a box,
which is no grid) at the bottom of the page before: that page's last :data:`PREVIOUS_PAGE_BAND_IN`
inches below its own tables are read then.
"""

from __future__ import annotations

import numpy as np

from pipeline.ingest.readers.grid import Grid
from pipeline.ingest.readers.ocr_cells import join_han
from pipeline.ingest.readers.ocr_engine import Engines
from pipeline.ingest.readers.ocr_text import undo_confusions

BAND_ABOVE_IN = 1.0  # text read above each table (its heading) ...
BAND_BELOW_IN = 0.8  # ... and below it (notes, the next section's heading)
TOP_OF_PAGE_IN = 1.5  # a table starting this near its page's top has its heading on the page before ...
PREVIOUS_PAGE_BAND_IN = 2.5  # ... in that page's last inches (the bottom margin included)

Line = tuple[str, tuple[float, float, float, float]]  # text, box in points


def read_text_lines(engines: Engines, gray: np.ndarray, grids: list[Grid], dpi: float, whole: bool) -> list[Line]:
    """Text lines outside the tables (tables painted white): the whole page, or bands around tables."""
    k = dpi / 72.0
    if whole:
        bands = [(0, gray.shape[0])]
    else:
        bands = []
        for g in grids:
            bands.append((max(0, int((g.top - BAND_ABOVE_IN * 72) * k)), int(g.top * k)))
            bands.append((int(g.bottom * k), min(gray.shape[0], int((g.bottom + BAND_BELOW_IN * 72) * k))))
    return _read_bands(engines, _without_tables(gray, grids, dpi), bands, dpi)


def heading_on_previous_page(engines: Engines, previous, page) -> list[Line]:
    """Lines at the bottom of the page before ``page`` when ``page``'s first table starts at its top (the
    part below the previous page's tables not read yet); ``previous.picture`` is that page straightened."""
    if not page.grids or min(g.top for g in page.grids) > TOP_OF_PAGE_IN * 72 or previous.picture is None:
        return []
    gray, dpi = previous.picture, previous.dpi
    k = dpi / 72.0
    start = gray.shape[0] - PREVIOUS_PAGE_BAND_IN * 72 * k
    if previous.grids:
        start = max(start, (max(g.bottom for g in previous.grids) + BAND_BELOW_IN * 72) * k)
    return _read_bands(engines, _without_tables(gray, previous.grids, dpi), [(int(start), gray.shape[0])], dpi)


def _without_tables(gray: np.ndarray, grids: list[Grid], dpi: float) -> np.ndarray:
    k = dpi / 72.0
    img = gray.copy()
    for g in grids:
        img[max(0, int(g.top * k) - 2):int(g.bottom * k) + 3, max(0, int(g.x0 * k) - 2):int(g.x1 * k) + 3] = 255
    return img


def _read_bands(engines: Engines, img: np.ndarray, bands: list[tuple[int, int]], dpi: float) -> list[Line]:
    from PIL import Image

    k = dpi / 72.0
    out = []
    for top, bottom in _merged(bands):
        crop = img[top:bottom]
        if bottom - top < 8 or (crop < 128).sum() < 30:
            continue
        for text, _, (x0, y0, x1, y1) in engines.lines(Image.fromarray(crop), int(round(dpi))):
            out.append((undo_confusions(join_han(text)), (x0 / k, (y0 + top) / k, x1 / k, (y1 + top) / k)))
    return out


def _merged(bands: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for top, bottom in sorted(bands):
        if out and top <= out[-1][1]:
            out[-1][1] = max(out[-1][1], bottom)
        elif bottom > top:
            out.append([top, bottom])
    return [(a, b) for a, b in out]
