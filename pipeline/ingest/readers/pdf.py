"""PDF input, read from the page's own structure: character boxes and ruling lines.

A text dump of a PDF loses the table (numbers land before their labels, a vertical stub is spread
one character per line). Here every page gives its glyphs (with their boxes) and its ruling lines
(stroked segments and thin filled rectangles) through pdfminer.six (its content streams read by
:mod:`pdf_lexer`, which gives the same objects faster). Lines that touch each other form a
table; the distinct x and y positions of its lines form the elementary grid, and two neighbouring
elementary cells with no line drawn between them are one merged cell (a colspan or rowspan). Each
glyph goes to the cell that holds its centre. A table that runs off the bottom of a page and
continues at the top of the next one with the same outer edges is one logical table: its cells are
numbered on one grid.

The result is the same :class:`Document` as HTML gives: every table cell a structured cell on its
grid (empty cells included, a merged cell once at its top-left position), text outside tables as
lines. Where a page has a text layer but no ruling lines, its lines are split into fields at wide
gaps between glyphs (position-based columns), as the text reader splits on tabs.

Provenance: ``Cell.line`` is the 1-based page number; ``Cell.raw`` is the cell's text followed by
`` @p<page>:<x0>,<top>,<x1>,<bottom>``, its box in points from the top-left corner of the page as
displayed (rotation applied).

Limits: a page limit and a time budget per file (an alarm interrupts the parse where signals are
available, and the budget is checked between pages everywhere); what was not read is said in
``Document.problems``. Scanned PDFs (no text layer), encrypted and corrupt files raise
:class:`Unreadable` with a reason a person can act on; a damaged page is skipped with a note.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1

from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.ingest.readers import Cell, Document, Unreadable
from pipeline.ingest.readers.grid import (
    CJK, GridCell, build_grids, cell_text, group_lines, line_text, merge_rules, outermost, place_glyphs,
    split_fields)
from pipeline.ingest.readers.pdf_content import PageContent, page_content
from pipeline.ingest.readers.pdf_device import GlyphAggregator
from pipeline.ingest.readers.pdf_lexer import FastInterpreter
from pipeline.ingest.readers.pdf_objects import FastDocument, fast_fonts
from pipeline.ingest.readers.pdf_pages import join_continued_tables, merge_split_rows
from pipeline.ingest.readers.pdf_unruled import Block, join_wrapped_fields, pieces_text
from pipeline.knowledge import domain
from pipeline.timelimit import TimeLimitExceeded, time_limit

PAGE_LIMIT = 300  # annual reports run to a few dozen pages; the tables come early
TIME_BUDGET_S = 30.0
MAX_RULES_PER_PAGE = 2_000  # more (joined) ruling lines than this: the page is a drawing (a chart, a map)


def page_blocks(content: PageContent) -> list[Block]:
    """The page's tables (with their glyphs placed in cells) and its other lines, top to bottom."""
    grids = outermost(build_grids(content.rules))
    rest = place_glyphs(grids, content.glyphs)
    blocks = [Block(g.top, grid=g) for g in grids if any(c.glyphs for c in g.cells)]
    blocks += [Block(min(x.top for x in line), line=line) for line in group_lines(rest)]
    blocks.sort(key=lambda b: b.top)
    return blocks


def _box_tag(page: int, x0: float, top: float, x1: float, bottom: float) -> str:
    return f" @p{page}:{x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}"


def _table_cell(cell: GridCell, page: int, row: int, traditional: bool) -> Cell:
    """One structured cell; a cell of a row broken by a page break carries the text of both parts."""
    parts = [(page, cell)] + ([(page + 1, cell.continuation)] if cell.continuation is not None else [])
    texts = [(p, c, cell_text(c.glyphs)) for p, c in parts]
    written = [(p, c, t) for p, c, t in texts if t] or texts[:1]
    raw = ""
    for _, _, text in written:
        if raw and text and not (CJK.match(raw[-1]) and CJK.match(text[0])):
            raw += " "
        raw += text
    tags = ",".join(_box_tag(p, c.x0, c.top, c.x1, c.bottom).strip() for p, c, _ in written)
    return Cell(normalize_text(raw, traditional), f"{raw} {tags}", written[0][0], row, cell.col, True, traditional)


def pages_traditional(pages: list[list[Block]]) -> bool:
    sample = "".join(g.text for blocks in pages for b in blocks
                     for g in (b.line if b.grid is None else [x for c in b.grid.cells for x in c.glyphs]))[:20000]
    return is_traditional(sample)


def blocks_to_document(pages: list[list[Block]], traditional: bool | None = None) -> Document:
    """Table cells row by row (a merged cell once, at its first row), other lines as lines or fields."""
    page_number = domain.noise_patterns("page_number")
    traditional = pages_traditional(pages) if traditional is None else traditional
    doc = Document(format="pdf", traditional=traditional)
    next_row = 0
    for page_no, blocks in enumerate(pages, start=1):
        for block in blocks:
            if block.grid is not None:
                grid = block.grid
                by_row: dict[int, list[GridCell]] = {}
                for cell in grid.cells:
                    by_row.setdefault(cell.row, []).append(cell)
                for r in sorted(by_row):
                    cells = [c for c in sorted(by_row[r], key=lambda c: c.col) if not c.continues_previous]
                    for cell in cells:
                        doc.cells.append(_table_cell(cell, page_no, next_row, traditional))
                    next_row += 1 if cells else 0
                continue
            if block.fields is not None:
                next_row += _joined_line_cells(doc, block, page_no, next_row, traditional, page_number)
                continue
            line = block.line
            text = normalize_text(line_text(line), traditional)
            if not text.strip() or page_number.match(text):
                continue
            doc.lines.append(text)
            fields = split_fields(line)
            if len(fields) == 1:
                raw = line_text(line)
                tag = _box_tag(page_no, line[0].x0, min(g.top for g in line), line[-1].x1,
                               max(g.bottom for g in line))
                doc.cells.append(Cell(text, raw + tag, page_no, next_row, None, False, traditional))
            else:
                for index, glyphs in enumerate(fields):
                    raw = line_text(glyphs)
                    tag = _box_tag(page_no, glyphs[0].x0, min(g.top for g in glyphs), glyphs[-1].x1,
                                   max(g.bottom for g in glyphs))
                    doc.cells.append(Cell(normalize_text(raw, traditional), raw + tag, page_no, next_row, index,
                                          True, traditional))
            next_row += 1
    return doc


def _joined_line_cells(doc: Document, block: Block, page_no: int, row: int, traditional: bool,
                       page_number: re.Pattern) -> int:
    """The cells of a line whose fields were cut at column edges or took in (or gave up) wrapped lines."""
    texts = [pieces_text(pieces) for pieces in block.fields]
    text = normalize_text(" ".join(texts), traditional)
    if not text.strip() or page_number.match(text):
        return 0
    doc.lines.append(text)
    structured = block.structured
    for index, (raw, pieces) in enumerate(zip(texts, block.fields)):
        glyphs = [g for piece in pieces for g in piece]
        tag = _box_tag(page_no, min(g.x0 for g in glyphs), min(g.top for g in glyphs), max(g.x1 for g in glyphs),
                       max(g.bottom for g in glyphs))
        doc.cells.append(Cell(normalize_text(raw, traditional), raw + tag, page_no, row,
                              index if structured else None, structured, traditional))
    return 1


def open_pdf(data: bytes) -> tuple[PDFDocument, list[PDFPage]]:
    """The parsed document and its pages, or :class:`Unreadable` saying why it cannot be opened."""
    try:
        document = FastDocument(PDFParser(io.BytesIO(data)), data)
        pages = list(PDFPage.create_pages(document))
    except PDFPasswordIncorrect as exc:
        raise Unreadable("encrypted PDF: it needs a password to open; give an unprotected copy "
                         "(or the text or HTML version of the report)") from exc
    except PDFEncryptionError as exc:
        raise Unreadable(f"encrypted PDF with an unsupported protection ({exc}); give an unprotected copy "
                         "(or the text or HTML version of the report)") from exc
    except RecursionError as exc:
        raise Unreadable("corrupt PDF: its object tree loops; give the text or HTML version") from exc
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise Unreadable(f"corrupt or unsupported PDF: it cannot be parsed ({type(exc).__name__}: {exc}); "
                         "check that the download is complete, or give the text or HTML version") from exc
    return document, pages


@dataclass
class Extraction:
    """What the content streams gave: each page read, the number of pages, and what happened."""

    contents: list[PageContent]
    n_pages: int
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    created: str | None = None  # the document information's CreationDate, as written

    @property
    def cut_short(self) -> bool:
        return len(self.contents) < self.n_pages


def extract_pages(data: bytes, page_limit: int, time_budget: float) -> Extraction:
    """Glyphs and ruling lines of the first ``page_limit`` pages within ``time_budget`` seconds;
    :class:`Unreadable` when the file cannot be opened."""
    start = time.monotonic()
    pages: list[PDFPage] | None = None
    found = Extraction([], 0)
    deadline = None
    try:
        with time_limit(time_budget) as deadline:
            document, pages = open_pdf(data)
            found.created = _creation_date(document)
            if not pages:
                raise Unreadable("PDF without pages: nothing to read")
            found.n_pages = len(pages)
            resources = PDFResourceManager(caching=True)
            device = GlyphAggregator(resources, laparams=None)  # characters and paths, no layout analysis
            # pdfminer's interpreter with a faster reader of the content streams: the same result
            interpreter = FastInterpreter(resources, device)
            with fast_fonts():
                for index, page in enumerate(pages[:page_limit]):
                    if time.monotonic() - start > time_budget:
                        raise TimeLimitExceeded(deadline)
                    found.contents.append(_read_page(interpreter, device, page, index, found))
    except TimeLimitExceeded as exc:
        if exc.deadline != deadline:
            raise  # the caller's limit (the build's per-file limit), not this parse budget
        if pages is None:
            raise Unreadable(f"PDF time limit ({time_budget:g} s) reached while opening the file; "
                             "give the text or HTML version", cacheable=False) from None
        if len(found.contents) < min(len(pages), page_limit):
            found.problems.append(f"PDF time limit ({time_budget:g} s) reached on page {len(found.contents) + 1} "
                                  f"of {len(pages)}: pages {len(found.contents) + 1}-{len(pages)} not read")
    if found.n_pages > page_limit and len(found.contents) == page_limit:
        found.problems.append(f"PDF page limit: only the first {page_limit} of {found.n_pages} pages read")
    return found


def _read_page(interpreter, device, page, index: int, found: Extraction) -> PageContent:
    try:
        interpreter.process_page(page)
        content = page_content(device.get_result())
        content.rules = merge_rules(content.rules)
        if len(content.rules) > MAX_RULES_PER_PAGE:
            found.notes.append(f"PDF page {index + 1}: {len(content.rules)} lines, a drawing: read as text")
            content.rules = []
        return content
    except Exception as exc:  # one damaged page does not lose the others
        found.problems.append(f"PDF page {index + 1} could not be read ({type(exc).__name__}: {exc})")
        return PageContent([], [], 0, 0)


def read_pdf(data: bytes, page_limit: int | None = None, time_budget: float | None = None) -> Document:
    """The document of one PDF, or :class:`Unreadable` with the reason it cannot be read.

    ``page_limit`` and ``time_budget`` default to :data:`PAGE_LIMIT` and :data:`TIME_BUDGET_S`.
    """
    with _library_messages() as messages:
        found = extract_pages(data, PAGE_LIMIT if page_limit is None else page_limit,
                              TIME_BUDGET_S if time_budget is None else time_budget)
    if messages:
        first = Counter(messages).most_common(1)[0][0]
        found.notes.append(f"pdfminer.six warned {len(messages)} time(s) while reading (most often: {first})")
    if _is_scan(found):  # pages that are pictures: OCR (never on a page with a text layer)
        from pipeline.ingest.readers.scan import read_scanned_pdf

        return read_scanned_pdf(data, found.n_pages, sum(c.images for c in found.contents))
    check_text_layer(found.contents, found.n_pages, found.problems)
    doc = contents_to_document(found.contents, found.notes)
    doc.cut_short = found.cut_short
    doc.problems.extend(found.problems)
    if found.created:
        doc.properties["created"] = found.created
    return doc


@contextmanager
def _library_messages():
    """pdfminer's log messages (fonts without a bounding box ...) collected for the report's notes
    instead of printed on the terminal, one line per character."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("pdfminer")
    handler, propagate = Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _creation_date(document: PDFDocument) -> str | None:
    for info in document.info:
        value = info.get("CreationDate") if isinstance(info, dict) else None
        value = resolve1(value) if value is not None else None
        if isinstance(value, bytes):
            return value.decode("latin-1", errors="replace")
        if isinstance(value, str):
            return value
    return None


def contents_to_document(contents: list[PageContent], notes: list[str]) -> Document:
    """Pages' glyphs and lines to one document: tables continued over pages joined, rows broken by a
    page break and labels wrapped in unruled tables read as one."""
    blocks = [page_blocks(c) for c in contents]
    joins = join_continued_tables(blocks)
    broken_rows = sum(merge_split_rows(previous, following) for previous, following in joins)
    traditional = pages_traditional(blocks)
    wrapped = join_wrapped_fields(blocks, traditional)
    doc = blocks_to_document(blocks, traditional)
    doc.pages = len(contents)
    notes = list(notes)
    if joins:
        notes.append(f"{len(joins)} table(s) continued on the next page joined")
    if broken_rows:
        notes.append(f"{broken_rows} row(s) broken by a page break read as one")
    if wrapped:
        notes.append(f"{wrapped} line(s) of text without ruling lines joined to the wrapped label they continue")
    doc.notes.extend(notes)
    return doc


def _is_scan(found: Extraction) -> bool:
    """No text at all, only images, and every page read: a scanned report."""
    contents = found.contents
    return (not found.problems and bool(contents) and not any(c.glyphs or c.unmapped for c in contents)
            and any(c.images for c in contents))


def check_text_layer(contents: list[PageContent], n_pages: int, problems: list[str]) -> None:
    """:class:`Unreadable` when the pages read give no usable text: scanned, or fonts without Unicode."""
    glyphs = sum(len(c.glyphs) for c in contents)
    unmapped = sum(c.unmapped for c in contents)
    if unmapped > glyphs:
        raise Unreadable(f"PDF text layer is unusable: {unmapped} of {unmapped + glyphs} characters have no "
                         "Unicode mapping in their font (garbled on copy); give the text or HTML version")
    if glyphs == 0:
        if problems:
            raise Unreadable(f"no text read from the PDF: {'; '.join(problems)}", cacheable=False)
        images = sum(c.images for c in contents)
        what = f"{images} image(s) and no text" if images else "no text and no images"
        raise Unreadable(f"scanned PDF without a text layer ({n_pages} page(s), {what}): OCR is not supported; "
                         "give the text or HTML version of the report, or an OCRed PDF")


def measure_pages_per_second(files: Iterable[bytes], clock: Callable[[], float] = time.perf_counter) -> tuple[int, float]:
    """Pages read and seconds spent by :func:`read_pdf` over some PDFs (for ``make bench``)."""
    pages, seconds = 0, 0.0
    for data in files:
        begin = clock()
        doc = read_pdf(data)
        seconds += clock() - begin
        pages += doc.pages or 0
    return pages, seconds
