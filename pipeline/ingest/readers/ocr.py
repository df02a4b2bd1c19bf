"""Pages without text read by OCR, into the same :class:`Document` as a PDF with a text layer gives.

Each page picture: straightened, its tables found from the ruling lines in its pixels
(:mod:`ocr_pixels`, the PDF reader's grid model), every cell recognised on its own
(:mod:`ocr_cells`); the text outside the tables is read only where the report's title and the
tables' headings are: whole pages (at the picture's own resolution) until the title or the first
table, then a band above and below each table. The OCR text becomes glyphs in their cells and lines, and the PDF reader's own
code then joins tables continued on the next page, rows broken by the page break, and writes the
document (provenance as for PDFs: ``line`` = page, ``raw`` = the reading `` @p<page>:x0,top,x1,bottom``).

A number cell whose readings do not confirm one value keeps them (``Cell.readings``, with their
confidence): the table stage makes it ``ambiguous`` unless a sum rule confirms one of them.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from pipeline.ingest.normalize import without_spaces
from pipeline.ingest.readers import Cell, Document
from pipeline.ingest.readers.grid import Glyph, Grid
from pipeline.ingest.readers.grid import cell_text as cell_text_of
from pipeline.ingest.readers.ocr_breaks import join_broken_row, unproven
from pipeline.ingest.readers.ocr_cells import CellReading, read_cell
from pipeline.ingest.readers.ocr_engine import Engines
from pipeline.ingest.readers.ocr_lines import heading_on_previous_page, read_text_lines
from pipeline.ingest.readers.ocr_pixels import dilate, find_grids, touching
from pipeline.ingest.readers.ocr_rows import fill_row_labels
from pipeline.ingest.readers.ocr_text import (
    clean_label_tail,
    snap_label,
    undo_confusions,
)
from pipeline.ingest.readers.pdf import blocks_to_document
from pipeline.ingest.readers.pdf_pages import join_continued_tables
from pipeline.ingest.readers.pdf_unruled import Block
from pipeline.knowledge import domain
from pipeline.knowledge.confusions import TITLE_PATTERNS, printed_row_labels

SPACE_EM = 0.6  # a space between synthetic glyphs, in line heights (a space, not a new field)


@dataclass
class OcrPage:
    number: int
    dpi: float
    skew: float
    grids: list[Grid]
    cells: dict[tuple[int, int, int], CellReading] = field(default_factory=dict)  # (grid, row, col)
    lines: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)  # text, box (pt)
    picture: np.ndarray | None = field(default=None, repr=False)  # straightened, kept only while reading


def read_page(gray: np.ndarray, dpi: float, number: int, engines: Engines, whole_text: bool,
              text: bool = True) -> OcrPage:
    """One page picture: its tables' cells, and its text where a title or a heading can be."""
    gray, ink, angle, grids, lines = find_grids(gray, dpi)
    page = OcrPage(number, dpi, angle, grids)
    k = dpi / 72.0
    touch = touching(ink & ~lines, lines, dpi)
    halo = dilate(lines, max(1, int(round(dpi / 150))))  # the line and its fringe
    clean_ink = ink & ~halo
    clean_gray = np.where(halo, 255, gray).astype(np.uint8)
    height, width = gray.shape
    for index, grid in enumerate(grids):
        for cell in grid.cells:
            x0, x1 = max(0, int(round(cell.x0 * k)) + 1), min(width, int(round(cell.x1 * k)) - 1)
            y0, y1 = max(0, int(round(cell.top * k)) + 1), min(height, int(round(cell.bottom * k)) - 1)
            if x1 - x0 < 3 or y1 - y0 < 3:
                continue
            page.cells[(index, cell.row, cell.col)] = read_cell(
                engines, clean_gray[y0:y1, x0:x1], clean_ink[y0:y1, x0:x1], dpi, bool(touch[y0:y1, x0:x1].any()))
        for cell in _short_text_in_number_columns(grid, index, page.cells):  # a digit read as a character
            x0, x1 = max(0, int(round(cell.x0 * k)) + 1), min(width, int(round(cell.x1 * k)) - 1)
            y0, y1 = max(0, int(round(cell.top * k)) + 1), min(height, int(round(cell.bottom * k)) - 1)
            page.cells[(index, cell.row, cell.col)] = read_cell(
                engines, clean_gray[y0:y1, x0:x1], clean_ink[y0:y1, x0:x1], dpi, bool(touch[y0:y1, x0:x1].any()),
                number=True)
    if text:
        page.lines = read_text_lines(engines, gray, grids, dpi, whole_text)
        page.picture = None if whole_text else gray  # its bottom may hold the next page's table heading
    return page


def _short_text_in_number_columns(grid: Grid, index: int, readings: dict) -> list:
    """Cells read as one or two characters of text below a number in their column (same place and
    span; headers are above the numbers): a number the first pass took for a character."""
    first_number: dict[tuple[int, int], int] = {}
    for cell in grid.cells:
        reading = readings.get((index, cell.row, cell.col))
        if reading is not None and reading.kind == "number":
            key = (cell.col, cell.colspan)
            first_number[key] = min(first_number.get(key, cell.row), cell.row)
    out = []
    for cell in grid.cells:
        reading = readings.get((index, cell.row, cell.col))
        if (reading is not None and reading.kind == "text" and len(without_spaces(reading.text)) <= 2
                and cell.row > first_number.get((cell.col, cell.colspan), cell.row)):
            out.append(cell)
    return out


def synthetic_glyphs(text: str, x0: float, top: float, x1: float, bottom: float) -> list[Glyph]:
    """Glyphs for an OCR text laid out left to right over its box (points), a space as a gap: the PDF
    reader's cell and line text give the text back, and its provenance tags carry the box."""
    text = text.strip()
    if not text:
        return []
    h = max(1.0, min(bottom - top, 12.0))
    w = max(0.5, min(h, (x1 - x0) / max(1, len(text))))
    out, x = [], x0
    for ch in text:
        if ch == " ":
            x += SPACE_EM * h
            continue
        out.append(Glyph(ch, x, top, x + w, top + h))
        x += w
    return out


def _cell_text(reading: CellReading | None) -> str:
    if reading is None or reading.kind == "empty":
        return ""
    return reading.text if reading.kind == "number" else undo_confusions(reading.text)


def page_blocks(page: OcrPage) -> list[Block]:
    """The page's tables (OCR text as glyphs in their cells) and lines, top to bottom."""
    blocks = []
    for index, grid in enumerate(page.grids):
        for cell in grid.cells:
            text = _cell_text(page.cells.get((index, cell.row, cell.col)))
            pad = min(2.0, (cell.bottom - cell.top) / 4)
            cell.glyphs = synthetic_glyphs(text, cell.x0 + pad, cell.top + pad, cell.x1 - pad, cell.bottom - pad)
        if any(c.glyphs for c in grid.cells):
            blocks.append(Block(grid.top, grid=grid))
    for text, (x0, top, x1, bottom) in page.lines:
        glyphs = synthetic_glyphs(text, x0, top, x1, bottom)
        if glyphs:
            blocks.append(Block(top, line=glyphs))
    blocks.sort(key=lambda b: b.top)
    return blocks


def _tag(page: int, cell) -> str:
    return f"@p{page}:{cell.x0:.0f},{cell.top:.0f},{cell.x1:.0f},{cell.bottom:.0f}"


def to_document(pages: list[OcrPage]) -> Document:
    """The document of the pages read, made by the PDF reader's own code; unconfirmed numbers keep
    their readings."""
    blocks = [page_blocks(p) for p in pages]
    readings = readings_by_cell(pages)  # before the joins renumber the cells' columns
    joins = join_continued_tables(blocks)
    broken = sum(join_broken_row(previous, following, readings) for previous, following in joins)
    snap_labels(pages, readings)  # after the joins: a label broken by the page break is snapped whole
    named = name_rows_by_order(pages, joins, readings)
    doc = blocks_to_document(blocks)
    unsure = {}
    for page in pages:
        for grid in page.grids:
            for cell in grid.cells:
                reading = readings.get(id(cell))
                if reading is not None and reading.readings is not None:
                    unsure[_tag(page.number, cell)] = reading
    doc.cells = [_with_readings(cell, unsure) for cell in doc.cells]
    doc.pages = len(pages)
    if joins:
        doc.notes.append(f"{len(joins)} table(s) continued on the next page joined")
    if broken:
        doc.notes.append(f"{broken} row(s) broken by a page break read as one")
    if named:
        doc.notes.append(f"{named} row label(s) unreadable by OCR named by their place between the rows read")
    return doc


def snap_labels(pages: list[OcrPage], readings: dict) -> None:
    """Garbled labels replaced by the printed label they clearly copy (:func:`snap_label`); the text of a
    row broken by the page break is snapped as one, into its first part. A row label is printed once:
    a snap that would make it appear twice is not made. Empty cells whose emptiness a page break
    leaves unproven get a placeholder glyph, so the table stage sees them (ambiguous)."""
    proposals, seen = [], Counter()
    for cell in (c for page in pages for grid in page.grids for c in grid.cells):
        reading = readings.get(id(cell))
        if unproven(reading):
            cell.glyphs = synthetic_glyphs(reading.text, cell.x0 + 1, cell.top + 1, cell.x1 - 1, cell.bottom - 1)
            continue
        if reading is None or reading.kind != "text" or not cell.glyphs or cell.continues_previous:
            continue
        text = _joined_text(cell)
        snapped = snap_label(text)
        seen[snapped if snapped != text else without_spaces(text)] += 1
        if snapped != text:
            proposals.append((cell, snapped))
    for cell, snapped in proposals:
        if snapped in printed_row_labels() and seen[snapped] > 1:
            continue
        _write(cell, snapped)


def _write(cell, text: str) -> None:
    """A cell's text replaced (the part after a page break, if any, emptied)."""
    g = cell.glyphs
    cell.glyphs = synthetic_glyphs(text, g[0].x0, g[0].top, max(x.x1 for x in g), max(x.bottom for x in g))
    if cell.continuation is not None:
        cell.continuation.glyphs = []


def _joined_text(cell) -> str:
    """A cell's text, with its rest after the page break when its row was broken there."""
    rest = cell.continuation.glyphs if cell.continuation is not None else []
    return (cell_text_of(cell.glyphs) + " " + cell_text_of(rest)).strip()


def readings_by_cell(pages: list[OcrPage]) -> dict[int, CellReading]:
    """Each grid cell's reading by the cell's identity (a table continued on the next page has its
    cells renumbered on the joined columns, so the place it was read at no longer finds it)."""
    return {id(cell): page.cells[(index, cell.row, cell.col)] for page in pages
            for index, grid in enumerate(page.grids) for cell in grid.cells
            if (index, cell.row, cell.col) in page.cells}


def name_rows_by_order(pages: list[OcrPage], joins: list[tuple[Grid, Grid]], readings: dict) -> int:
    """Row labels the OCR garbled, named by their place in the table (:mod:`ocr_rows`): per table
    (its parts on consecutive pages joined), the label cell of each row that holds numbers."""
    following = {id(a): b for a, b in joins}
    continued = {id(b) for _, b in joins}
    named = 0
    for grid in [g for page in pages for g in page.grids if id(g) not in continued]:
        chain = [grid]
        while id(chain[-1]) in following:
            chain.append(following[id(chain[-1])])
        label_cells = [c for part in chain for c in _row_label_cells(part, readings)]
        fills = fill_row_labels([_joined_text(c) for c in label_cells])
        for position, cell in enumerate(label_cells):
            text = fills.get(position) or clean_label_tail(_joined_text(cell))
            if text != _joined_text(cell):
                _write(cell, text)
        named += len(fills)
    return named


def _row_label_cells(grid: Grid, readings: dict) -> list:
    """The label cell of each grid row that holds a number: the text cell just before its first number."""
    out = []
    for r in sorted({c.row for c in grid.cells}):
        row = sorted((c for c in grid.cells if c.row == r), key=lambda c: c.col)
        kinds = [getattr(readings.get(id(c)), "kind", "empty") for c in row]
        if "number" not in kinds:
            continue
        before = [c for c, kind in zip(row[:kinds.index("number")], kinds) if kind == "text" and c.glyphs]
        if before:
            out.append(before[-1])
    return out


def _with_readings(cell: Cell, unsure: dict[str, CellReading]) -> Cell:
    if not cell.structured or " @" not in cell.raw:
        return cell
    tags = ("@" + cell.raw.rsplit(" @", 1)[1]).replace(",@", " @").split()  # both parts of a broken row
    found = [unsure[tag] for tag in tags if tag in unsure]
    if not found:
        return cell
    reading = found[0]
    return cell._replace(readings=reading.readings, confidence=reading.confidence, candidates=reading.candidates)


def _is_title(text: str) -> bool:
    compact = without_spaces(text)
    return any(domain.pattern(name).search(compact) for name in TITLE_PATTERNS[:2])


def ocr_notes(pages: list[OcrPage], seconds: float) -> str:
    cells = [c for p in pages for c in p.cells.values() if c.kind == "number"]
    unsure = sum(1 for c in cells if c.readings is not None)
    return (f"read by OCR (Tesseract): {len(pages)} page(s) in {seconds:.1f} s, "
            f"{sum(len(p.grids) for p in pages)} table part(s), {len(cells)} number cells, "
            f"{len(cells) - unsure} confirmed by two readings, {unsure} left to the sum rules")


def read_pictures(pictures, engines: Engines, time_budget: float) -> tuple[list[OcrPage], list[str]]:
    """OCR of page pictures ``(gray, dpi)`` (None for a page without one) within ``time_budget`` s:
    the pages read and the problems (pages not read)."""
    start = time.monotonic()
    pages, problems = [], []
    for number, picture in enumerate(pictures, start=1):
        if time.monotonic() - start > time_budget:
            problems.append(f"OCR time limit ({time_budget:g} s) reached on page {number}: "
                            f"pages from {number} on not read")
            break
        if picture is None:
            problems.append(f"page {number}: no picture in a format the OCR reads")
            pages.append(OcrPage(number, 72.0, 0.0, []))
            continue
        gray, dpi = picture
        before_tables = not any(p.grids for p in pages) and not any(_is_title(t) for p in pages for t, _ in p.lines)
        page = read_page(gray, dpi, number, engines, whole_text=before_tables)
        previous = pages[-1] if pages else None
        if previous is not None and previous.picture is not None and not before_tables:
            previous.lines.extend(heading_on_previous_page(engines, previous, page))
        if previous is not None:
            previous.picture = None
        pages.append(page)
    if pages:
        pages[-1].picture = None
    return pages, problems


MIN_PICTURE_PX = (200, 80)  # smaller pictures are icons and logos, not tables
MAX_PICTURE_PX = 40_000_000
PICTURE_DPI = 96.0  # a picture without a resolution is taken at a browser's 96 px per inch


def picture_array(data: bytes) -> tuple[np.ndarray, float] | None:
    """A picture's bytes (PNG, JPEG, GIF ...) as a greyscale array and its dpi; None when it cannot be
    decoded, is too small to be a table or too large to read."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PICTURE_PX or img.width < MIN_PICTURE_PX[0] or img.height < MIN_PICTURE_PX[1]:
            return None
        if img.mode in ("RGBA", "LA", "P"):
            img = img.convert("RGBA")
            paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(paper, img)
        gray = np.asarray(img.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    dpi = img.info.get("dpi", (PICTURE_DPI,))[0] or PICTURE_DPI
    return gray, float(dpi) if 50 <= float(dpi) <= 600 else PICTURE_DPI


def has_table(picture: tuple[np.ndarray, float]) -> bool:
    """Does the picture hold a table (ruling lines that form a grid)? No OCR needed."""
    return bool(find_grids(*picture)[3])


def read_table_picture(picture: tuple[np.ndarray, float], engines: Engines) -> list[Cell]:
    """The table cells of one picture (a table pasted into a web page as an image), row by row, as the
    PDF reader gives a page's cells; their raw text ends with the cell's box `` @p1:x0,top,x1,bottom``."""
    gray, dpi = picture
    page = read_page(gray, dpi, 1, engines, whole_text=False, text=False)
    return [c for c in to_document([page]).cells if c.structured]
