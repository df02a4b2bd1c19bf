"""HTML pages: the text outside tables as lines, every ``<td>``/``<th>`` as one cell on its grid.

Parsed with lxml (a real HTML parser, tolerant of the broken markup government sites produce).
Grid columns honour colspan and rowspan. A cell that holds a nested table contributes that table's
cells instead of one flattened cell (layout tables around the whole article are common).
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.ingest.readers import Cell, Document
from pipeline.ingest.readers.text import read_text

_BLOCK = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr section article header footer nav aside "
    "blockquote pre form fieldset address center hr title caption figure figcaption main".split()
)
_SKIP = frozenset("script style noscript template iframe object svg select option button head".split())
_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_MAX_DEPTH = 150  # deeper trees are read as flat text rather than walked recursively
_MAX_SPAN = 200


def _cell_text(el) -> str:
    # Spans that split one number ('<span>1</span><span>2</span>') join without a gap; whitespace
    # between them is a real gap (a browser shows it), so two numbers are never merged into one.
    return _WS.sub(" ", el.text_content()).strip()


def _span(value: str | None) -> int:
    if value is None or value == "1":
        return 1
    try:
        return max(1, min(_MAX_SPAN, int(str(value).strip() or 1)))
    except ValueError:
        return 1


class _Collector:
    """Accumulates raw (not yet normalized) lines and cells in document order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int, int | None, int | None]] = []  # raw, line, row, col
        self._buffer: list[str] = []
        self._line: int | None = None
        self.next_row = 0

    def add_text(self, text: str | None, line: int | None) -> None:
        if text:
            if self._line is None and text.strip():
                self._line = line
            self._buffer.append(text)

    def flush(self) -> None:
        text = _WS.sub(" ", "".join(self._buffer)).strip()
        if text:
            self.items.append((text, self._line or 0, None, None))
        self._buffer = []
        self._line = None

    def cell(self, raw: str, line: int, row: int, col: int) -> None:
        self.items.append((raw, line, row, col))


def _walk(el, out: _Collector, depth: int) -> None:
    tag = el.tag if isinstance(el.tag, str) else None
    if tag is None:  # comment or processing instruction
        return
    tag = tag.lower()
    if tag in _SKIP:
        return
    if depth > _MAX_DEPTH:
        out.add_text(" ".join(el.itertext()), el.sourceline)
        return
    if tag == "table":
        out.flush()
        _read_table(el, out, depth)
        return
    if tag in _BLOCK:
        out.flush()
    out.add_text(el.text, el.sourceline)
    for child in el:
        _walk(child, out, depth + 1)
        out.add_text(child.tail, child.sourceline)
    if tag in _BLOCK:
        out.flush()


def _read_table(table, out: _Collector, depth: int) -> None:
    occupied: set[tuple[int, int]] = set()
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    for r, tr in enumerate(rows):
        row_id = out.next_row
        out.next_row += 1
        c = 0
        for td in (child for child in tr if child.tag in ("td", "th")):
            while (r, c) in occupied:
                c += 1
            colspan, rowspan = _span(td.get("colspan")), _span(td.get("rowspan"))
            if rowspan == 1 and colspan == 1:
                occupied.add((r, c))
            else:
                occupied.update((r + dr, c + dc) for dr in range(rowspan) for dc in range(colspan))
            if next(td.iter("table"), None) is not None:
                out.flush()
                _walk(td, out, depth + 1)
                out.flush()
            else:
                out.cell(_cell_text(td), td.sourceline or 0, row_id, c)
            c += colspan


def read_html(text: str) -> Document:
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        doc = read_text(_TAG.sub(" ", text), "html")
        doc.notes.append(f"the HTML parser failed ({type(exc).__name__}: {exc}); read as plain text with the tags "
                         "removed")
        return doc
    out = _Collector()
    if root is not None:
        title = root.find(".//title")
        if title is not None and title.text:
            out.add_text(title.text, title.sourceline)
            out.flush()
        body = root.find(".//body")
        _walk(body if body is not None else root, out, 0)
        out.flush()
    traditional = is_traditional("".join(raw for raw, _, _, _ in out.items[:400]))
    doc = Document(format="html", traditional=traditional)
    # items hold no newlines (whitespace is collapsed), so they are normalized in one call
    normalized = normalize_text("\n".join(raw for raw, _, _, _ in out.items), traditional).split("\n")
    if len(normalized) != len(out.items):
        normalized = [normalize_text(raw, traditional) for raw, _, _, _ in out.items]
    for (raw, line, row, col), norm in zip(out.items, normalized):
        if col is None:
            doc.lines.append(norm)
            doc.cells.append(Cell(norm, raw, line, -line, None, False, traditional))
        else:
            doc.cells.append(Cell(norm, raw, line, row, col, True, traditional))
    return doc
