"""Format readers. Each turns one decoded input into the same thing: a :class:`Document`.

A document is the report's text as an ordered list of cells with provenance. A cell is one table cell
(HTML ``<td>``, a pipe- or tab-separated field) or, for plain text, one line. Everything after the
readers is format-blind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Cell:
    text: str  # normalized text
    raw: str  # the source text it came from, unchanged (a line, or an HTML cell's text)
    line: int  # 1-based line in the source file
    row: int  # index of the source row (text line / <tr>); cells of one row share it
    col: int | None  # grid column (HTML, with spans) or field index (pipes/tabs); None for plain lines
    structured: bool  # True when the source marks cell boundaries (so an empty cell is a real cell)
    traditional: bool = False  # the source was converted from traditional script
    offset: int = 0  # where ``text`` starts in the normalized form of ``raw`` (for raw snippets)


@dataclass(slots=True)
class Document:
    format: str
    cells: list[Cell] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # normalized text lines, for metadata
    traditional: bool = False


def read_document(text: str, fmt: str) -> Document:
    from pipeline.readers.html import read_html
    from pipeline.readers.text import read_text

    if fmt == "html":
        return read_html(text)
    return read_text(text, fmt)
