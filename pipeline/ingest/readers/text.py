"""Plain text and markdown: one cell per line, or fields split on pipes / tabs."""

from __future__ import annotations

import re

from pipeline.ingest.normalize import is_traditional, normalize_text
from pipeline.ingest.readers import Cell, Document
from pipeline.knowledge import domain

_MARKUP = re.compile(r"^[ \t]*#{1,6}[ \t]*|\*\*|__", re.MULTILINE)
_MARKDOWN_RULE = re.compile(r"^[\s|:\-+=]+$")
_PIPE_ONLY = re.compile(r"^[\s|]*$")


def split_fields(line: str) -> list[tuple[int, str]] | None:
    """(offset, text) of the fields of a pipe- or tab-separated line, or None for a plain line.

    A pipe at the very start or end of a line opens or closes the row (markdown style, or one cell per
    line ending in ``|``) and does not make an extra empty field. Field text is stripped; the offset
    is where the stripped text starts in ``line``.
    """
    sep = "|" if "|" in line else "\t" if "\t" in line else None
    if sep is None:
        return _csv_fields(line)
    start, end = 0, len(line)
    if sep == "|":
        stripped = line.strip()
        lead = len(line) - len(line.lstrip())
        start, end = lead, lead + len(stripped)
        if line.startswith("|", start):
            start += 1
        if end > start and line[end - 1] == "|":
            end -= 1
    fields = []
    pos = start
    for piece in line[start:end].split(sep):
        lead = len(piece) - len(piece.lstrip())
        fields.append((pos + lead, piece.strip()))
        pos += len(piece) + 1
    return fields


_CSV_VALUE = re.compile(r'^\s*(?:"?[+\-]?[\d.,]*"?|[-—/])?\s*$')
_HAN = re.compile(r"[\u4e00-\u9fff]")
_THOUSANDS = re.compile(r"^\s*[+\-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\D{0,3}\s*$")


def _csv_fields(line: str) -> list[tuple[int, str]] | None:
    """Fields of a comma-separated row (a sheet saved as CSV): a label followed by values, or five or
    more values. Prose has commas too (NFKC turns ，into ,), but not mostly numbers between them; a
    number with thousands separators alone on a line is one number."""
    if line.count(",") < 2 or _THOUSANDS.match(line):
        return None
    pieces = line.split(",")
    numeric = [bool(_CSV_VALUE.match(p)) for p in pieces]
    labelled_row = bool(_HAN.search(pieces[0])) and not numeric[0] and sum(numeric[1:]) * 2 > len(pieces) - 1
    value_row = len(pieces) >= 5 and all(numeric)
    if not (labelled_row or value_row):
        return None
    fields, pos = [], 0
    for piece in pieces:
        text = piece.strip().strip('"').strip()
        fields.append((pos + (piece.find(text) if text else 0), text))
        pos += len(piece) + 1
    return fields


def strip_markup(normalized: str) -> str:
    """Markdown headings and bold marks as spaces, not nothing, so offsets into the line stay valid."""
    return _MARKUP.sub(lambda m: " " * len(m.group()), normalized)


def line_cells(raw: str, norm: str, line: int, row: int, traditional: bool) -> list[Cell]:
    """The cells of one line of text (``norm``: normalized, markup stripped): nothing for a blank line,
    a page number or a row of pipes; its fields for a pipe-, tab- or comma-separated row; else the
    line as one cell. The HTML reader reads text outside tables through this too."""
    if not norm or norm.isspace() or domain.noise_patterns("page_number").match(norm):
        return []
    if "|" in norm and (_PIPE_ONLY.match(norm) or _MARKDOWN_RULE.match(norm)):
        return []  # a row separator made of pipes, or a markdown |---| rule
    fields = split_fields(norm)
    # cells built without the named tuple's Python-level __new__: every field given, in Cell's order
    if fields is None:
        return [tuple.__new__(Cell, (norm, raw, line, row, None, False, traditional, 0, None, None, None))]
    return [tuple.__new__(Cell, (value, raw, line, row, index, True, traditional, offset, None, None, None))
            for index, (offset, value) in enumerate(fields)]


def read_text(text: str, fmt: str = "text") -> Document:
    traditional = is_traditional(text)
    doc = Document(format=fmt, traditional=traditional)
    raw_lines = text.splitlines()
    normalized = strip_markup(normalize_text(text, traditional)).splitlines()
    if len(normalized) != len(raw_lines):  # a line separator changed under normalization: go line by line
        normalized = [strip_markup(normalize_text(r, traditional)) for r in raw_lines]
    doc.lines = normalized
    for number, (raw, norm) in enumerate(zip(raw_lines, normalized), start=1):
        doc.cells.extend(line_cells(raw, norm, number, number, traditional))
    return doc
