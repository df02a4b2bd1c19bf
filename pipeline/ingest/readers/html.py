"""HTML pages: the text outside tables as lines, every ``<td>``/``<th>`` as one cell on its grid.

Parsed with lxml (a real HTML parser, tolerant of the broken markup government sites produce).
Grid columns honour colspan and rowspan. A cell that holds a nested table contributes that table's
cells instead of one flattened cell (layout tables around the whole article are common).

Text outside tables is read as the text reader reads a line (:func:`pipeline.ingest.readers.text.line_cells`):
statistics pasted as paragraphs (``<p>``, ``<div>``, ``<br>`` lines, ``<pre>``) are often pipe- or
tab-separated rows, and give the same cells as the same text in a ``.txt`` file. So a tab inside a
paragraph is kept (a field separator), while whitespace that holds a line break, and tabs at a
paragraph's ends, are the source's indentation; inside ``<pre>`` every line break is a line and
the text is kept as written. A table of one
column (each row one cell, no colspan) is a frame around lines of text, and is read as such.

A picture (``<img>``) that shows a table (ruling lines forming a grid) is read by OCR where it stands,
its cells on rows of their own as a ``<table>``'s would be (:mod:`pictures`).
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.ingest.readers import Cell, Document
from pipeline.ingest.readers.pictures import Resolver, TablePictures
from pipeline.ingest.readers.text import line_cells, read_text, strip_markup

_BLOCK = frozenset(
    "p div br h1 h2 h3 h4 h5 h6 li ul ol dl dt dd tr section article header footer nav aside "
    "blockquote pre form fieldset address center hr title caption figure figcaption main".split()
)
_SKIP = frozenset("script style noscript template iframe object svg select option button head".split())
_PRE = frozenset("pre listing plaintext xmp textarea".split())  # whitespace and line breaks as written
_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")
_LINE_BREAK = re.compile(r"[\n\r\f\v\x1c-\x1e\x85\u2028\u2029]")


def _collapse(match: re.Match) -> str:
    """A run of whitespace in flowing text: one space, or its tabs when it holds tabs and no line break
    (text pasted with tab separators; a line break with tabs after it is the source's indentation)."""
    run = match.group()
    if "\t" in run and not _LINE_BREAK.search(run):
        return "\t" * run.count("\t")
    return " "


_MAX_DEPTH = 150  # deeper trees are read as flat text rather than walked recursively
_MAX_SPAN = 200


def _cell_text(el) -> str:
    # Spans that split one number ('<span>1</span><span>2</span>') join without a gap; whitespace
    # between them is a real gap (a browser shows it), so two numbers are never merged into one.
    # The text serializer gives what text_content() gives (every text node, no comments), 3x faster.
    return _WS.sub(" ", etree.tostring(el, method="text", encoding=str, with_tail=False)).strip()


def _cells_holding_tables(table) -> set:
    """The cells of ``table`` (at any depth) that hold a nested table: found once per table from
    the nested tables, not by a search inside every cell."""
    holding = set()
    for nested in table.iter("table"):
        if nested is not table:
            holding.update(nested.iterancestors("td", "th"))
    return holding


def _span(value: str | None) -> int:
    if value is None or value == "1":
        return 1
    try:
        return max(1, min(_MAX_SPAN, int(str(value).strip() or 1)))
    except ValueError:
        return 1


class _Collector:
    """Accumulates raw (not yet normalized) lines and cells in document order."""

    def __init__(self, pictures: TablePictures | None = None) -> None:
        self.items: list[tuple[str, int, int | None, int | None]] = []  # raw, line, row, col
        self.pictures = pictures
        self.ocr: dict[int, tuple] = {}  # item index -> OCR readings, confidence, box tag
        self._buffer: list[tuple[str, bool]] = []  # text, preformatted
        self._line: int | None = None
        self.next_row = 0

    def add_text(self, text: str | None, line: int | None, pre: bool = False) -> None:
        if text:
            if self._line is None and text.strip():
                self._line = line
            self._buffer.append((text, pre))

    def flush(self) -> None:
        # flowing text: whitespace collapsed (no line breaks left), ends stripped; preformatted text
        # as written, one line per line break
        parts, flowing = [], []
        for text, pre in self._buffer:
            if pre:
                parts.append(_WS.sub(_collapse, "".join(flowing)))
                flowing = []
                parts.append(text)
            else:
                flowing.append(text)
        parts.append(_WS.sub(_collapse, "".join(flowing)))
        joined = "".join(parts)
        pre_text = any(pre for _, pre in self._buffer)
        line = self._line or 0
        for piece in joined.split("\n"):
            text = piece.rstrip("\r") if pre_text else piece.strip()
            if text.strip():
                self.items.append((text, line, None, None))
            line += 1
        self._buffer = []
        self._line = None

    def cell(self, raw: str, line: int, row: int, col: int) -> None:
        self.items.append((raw, line, row, col))

    def picture(self, el) -> None:
        """An ``<img>`` that shows a table: its cells read by OCR, on rows of their own."""
        found = self.pictures.read(el.get("src") or "")
        if not found:
            return
        first = self.next_row
        for cell in found:
            text, _, tag = cell.raw.rpartition(" @")
            self.ocr[len(self.items)] = (cell.readings, cell.confidence, cell.candidates, " @" + tag)
            self.items.append((text, el.sourceline or 0, first + cell.row, cell.col))
        self.next_row = first + max(c.row for c in found) + 1


def _walk(el, out: _Collector, depth: int, pre: bool = False) -> None:
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
    if tag == "img" and out.pictures is not None:
        out.flush()
        out.picture(el)
        return
    pre = pre or tag in _PRE
    if tag in _BLOCK:
        out.flush()
    out.add_text(el.text, el.sourceline, pre)
    for child in el:
        _walk(child, out, depth + 1, pre)
        out.add_text(child.tail, child.sourceline, pre)
    if tag in _BLOCK:
        out.flush()


def _cells(tr) -> list:
    return [child for child in tr if child.tag in ("td", "th")]


def _read_table(table, out: _Collector, depth: int) -> None:
    occupied: set[tuple[int, int]] = set()
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    if all(len(_cells(tr)) <= 1 and all(_span(td.get("colspan")) == 1 for td in _cells(tr)) for tr in rows):
        # one column: a frame around lines of text (or around the real tables), read as text
        for tr in rows:
            for td in _cells(tr):
                out.flush()
                _walk(td, out, depth + 1)
                out.flush()
        return
    holding_tables = _cells_holding_tables(table)
    for r, tr in enumerate(rows):
        row_id = out.next_row
        out.next_row += 1
        c = 0
        for td in _cells(tr):
            while (r, c) in occupied:
                c += 1
            colspan, rowspan = _span(td.get("colspan")), _span(td.get("rowspan"))
            if rowspan == 1 and colspan == 1:
                occupied.add((r, c))
            else:
                occupied.update((r + dr, c + dc) for dr in range(rowspan) for dc in range(colspan))
            if td in holding_tables:
                out.flush()
                _walk(td, out, depth + 1)
                out.flush()
            else:
                out.cell(_cell_text(td), td.sourceline or 0, row_id, c)
            c += colspan


# <meta name=...> of government web pages (GB/T 33193 puts PubDate and Url on every article)
_META_PROPERTIES = {"pubdate": "pubdate", "url": "url"}


def _page_properties(root) -> dict[str, str]:
    properties = {}
    for meta in root.iter("meta"):
        key = _META_PROPERTIES.get((meta.get("name") or "").strip().lower())
        content = (meta.get("content") or "").strip()
        if key and content and key not in properties:
            properties[key] = content
    if "url" not in properties:
        for link in root.iter("link"):
            if (link.get("rel") or "").strip().lower() == "canonical" and link.get("href"):
                properties["url"] = link.get("href").strip()
                break
    return properties


def read_html(text: str, resolve: Resolver | None = None) -> Document:
    """The document of an HTML page. ``resolve`` gives the bytes of a file the page links (its
    pictures, by their ``src``); with it, pictures of tables are read by OCR (``data:`` pictures always)."""
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        doc = read_text(_TAG.sub(" ", text), "html")
        doc.notes.append(f"the HTML parser failed ({type(exc).__name__}: {exc}); read as plain text with the tags "
                         "removed")
        return doc
    properties = _page_properties(root)
    pictures = TablePictures(resolve)
    out = _Collector(pictures)
    if root is not None:
        title = root.find(".//title")
        if title is not None and title.text:
            out.add_text(title.text, title.sourceline)
            out.flush()
        body = root.find(".//body")
        _walk(body if body is not None else root, out, 0)
        out.flush()
    traditional = is_traditional("".join(raw for raw, _, _, _ in out.items[:400]))
    doc = Document(format="html", traditional=traditional, properties=properties)
    # items hold no newlines (whitespace is collapsed), so they are normalized in one call
    normalized = normalize_text("\n".join(raw for raw, _, _, _ in out.items), traditional).split("\n")
    if len(normalized) != len(out.items):
        normalized = [normalize_text(raw, traditional) for raw, _, _, _ in out.items]
    for index, ((raw, line, row, col), norm) in enumerate(zip(out.items, normalized)):
        if col is None:
            norm = strip_markup(norm)
            doc.lines.append(norm)
            doc.cells.extend(line_cells(raw, norm, line, -line, traditional))
        elif index in out.ocr:
            readings, confidence, candidates, tag = out.ocr[index]
            doc.cells.append(Cell(norm, raw + tag, line, row, col, True, traditional, readings=readings,
                                  confidence=confidence, candidates=candidates))
        else:
            doc.cells.append(Cell(norm, raw, line, row, col, True, traditional))
    pictures.report(doc)
    return doc
