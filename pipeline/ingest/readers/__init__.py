"""Format readers. Each turns one input into the same thing: a :class:`Document`.

A document is the report's text as an ordered list of cells with provenance. A cell is one table cell
(HTML ``<td>``, a PDF or Word table cell, a pipe- or tab-separated field) or, for plain text, one line.
Everything after the readers is format-blind. Text formats are read from their decoded text
(:func:`read_document`), binary ones (PDF, Word) from their bytes (:func:`read_binary_document`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Cell(NamedTuple):
    text: str  # normalized text
    raw: str  # the source text it came from, unchanged (a line, an HTML or Word cell's text; PDF: the
    # cell's text followed by its place on the page, " @p<page>:<x0>,<top>,<x1>,<bottom>" in points)
    line: int  # 1-based line in the source file (PDF: page number; Word: paragraph or table row number)
    row: int  # index of the source row (text line / <tr>); cells of one row share it
    col: int | None  # grid column (HTML, with spans) or field index (pipes/tabs); None for plain lines
    structured: bool  # True when the source marks cell boundaries (so an empty cell is a real cell)
    traditional: bool = False  # the source was converted from traditional script
    offset: int = 0  # where ``text`` starts in the normalized form of ``raw`` (for raw snippets)
    # OCR: a number its readings do not confirm keeps them (``text`` is the likeliest); None otherwise
    readings: tuple[str, ...] | None = None
    confidence: float | None = None  # the OCR readings' mean confidence (0-100)
    candidates: tuple[str, ...] | None = None  # values two independent readings of it give (may be none)


@dataclass(slots=True)
class Document:
    format: str
    cells: list[Cell] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # normalized text lines, for metadata
    traditional: bool = False
    pages: int | None = None  # pages read (paged formats)
    notes: list[str] = field(default_factory=list)  # what the reader did, for reports.notes
    problems: list[str] = field(default_factory=list)  # what it could not do (a limit hit), for the reason
    cut_short: bool = False  # a time or page limit stopped the reading: the result depends on the machine
    # what the file says about itself: pubdate and url (a web page's meta tags), created (a PDF's or
    # Word file's creation date), as written
    properties: dict[str, str] = field(default_factory=dict)
    # the result depends on more than the file's bytes (pictures it links, OCR not installed): not cached
    machine_dependent: bool = False


class Unreadable(Exception):
    """The input cannot be read as a report; the message says why and what to do, for ``reason``.

    ``cacheable`` is False when the verdict depends on the machine rather than the file (a converter
    that is not installed, or that ran out of time): it must be tried again on the next build.
    """

    def __init__(self, message: str, cacheable: bool = True):
        super().__init__(message)
        self.cacheable = cacheable


BINARY_FORMATS = ("pdf", "docx", "doc")


def read_binary_document(data: bytes, fmt: str) -> Document:
    """The document of a PDF or Word file; :class:`Unreadable` when it cannot be read."""
    from pipeline.ingest.readers.docx import read_doc, read_docx
    from pipeline.ingest.readers.pdf import read_pdf

    readers = {"pdf": read_pdf, "docx": read_docx, "doc": read_doc}
    try:
        return readers[fmt](data)
    except Unreadable:
        raise
    except Exception as exc:  # a reader bug or a file feature it does not handle: never a crash
        raise Unreadable(f"the {fmt} reader failed on this file ({type(exc).__name__}: {exc}); "
                         "give the text or HTML version, and report the file", cacheable=False) from exc


def read_document(text: str, fmt: str, resolve=None) -> Document:
    """The document of a text format; ``resolve(src) -> bytes | None`` gives the files an HTML page
    links (its pictures), relative to the page (see :func:`pipeline.ingest.readers.pictures.folder_resolver`)."""
    from pipeline.ingest.readers.html import read_html
    from pipeline.ingest.readers.text import read_text

    if fmt == "html":
        return read_html(text, resolve)
    return read_text(text, fmt)
