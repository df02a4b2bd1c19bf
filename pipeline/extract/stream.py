"""The document as one searchable stream, and the value tokens between labels.

Labels are found in the *compact* stream (all cell texts with every whitespace removed), because real
reports break labels anywhere: ``科研`` / ``机构`` on two lines, ``结果维  持``, ``本年度办 理结果``.
Numbers are read from the *spaced* stream (cells joined by newlines), because there a space or a cell
boundary is what separates two numbers.
"""

from __future__ import annotations

import bisect
import re
from array import array
from typing import NamedTuple

from pipeline.ingest.normalize import raw_span
from pipeline.ingest.readers import Cell
from pipeline.knowledge import domain

# A value piece (knowledge/data/patterns.csv): optional sign, digits with optional thousands separators
# and decimals, optional unit (values.csv); a placeholder printed for nothing to report.
_NUMBER = domain.pattern("number")
_PLACEHOLDER = domain.pattern("placeholder")
_SIGN_SPLIT = re.compile(r"(?<=\d)(?=[+\-]\d)")
_UNIT = re.compile("(" + "|".join(re.escape(u.text) for u in domain.units()) + ")$")
_NON_SPACE = re.compile(r"\S+")
_VALUE_SEPARATOR = domain.pattern("value_separators")
_NUMBERING_AFTER = domain.pattern("numbering_after")


class Token(NamedTuple):
    kind: str  # 'num' | 'blank' (a printed placeholder) | 'empty' (an empty structured cell)
    # | 'unsure' (an OCR number its readings do not confirm: ``cell.readings``)
    text: str  # the normalized piece, e.g. '297.17万元', '-18', '0000000'
    cell: Cell
    start: int  # offsets of the piece in cell.text
    end: int
    glued: bool  # touches the previous label or token with no separator

    @property
    def line(self) -> int:
        return self.cell.line

    def raw(self) -> str:
        """The source text of this token: the whole cell or line when short, else a snippet."""
        cell = self.cell
        if len(cell.raw) <= 160:
            return cell.raw.strip()
        snippet = raw_span(cell.raw, cell.traditional, cell.offset + self.start, cell.offset + self.end)
        return snippet or self.text


class Stream:
    def __init__(self, cells: list[Cell]):
        self.cells = cells
        self.cell_starts: list[int] = []
        parts = []
        pos = 0
        for cell in cells:
            self.cell_starts.append(pos)
            parts.append(cell.text)
            pos += len(cell.text) + 1
        self.spaced = "\n".join(parts)
        # The compact text is the spaced text without whitespace; it is kept as runs (start in
        # compact, start in spaced) rather than a position table, so memory stays small for big files.
        compact_parts = []
        self._compact_starts = array("q")
        self._spaced_starts = array("q")
        length = 0
        for m in _NON_SPACE.finditer(self.spaced):
            self._compact_starts.append(length)
            self._spaced_starts.append(m.start())
            compact_parts.append(m.group())
            length += m.end() - m.start()
        self.compact = "".join(compact_parts)

    def to_spaced(self, compact_pos: int) -> int:
        """Spaced position of a compact position (end positions map to just after the last char)."""
        if compact_pos <= 0:
            return 0
        if compact_pos >= len(self.compact):
            return len(self.spaced)
        run = bisect.bisect_right(self._compact_starts, compact_pos) - 1
        return self._spaced_starts[run] + compact_pos - self._compact_starts[run]

    def cell_at(self, spaced_pos: int) -> int:
        return max(0, bisect.bisect_right(self.cell_starts, spaced_pos) - 1)

    def search(self, pattern: re.Pattern, start: int, end: int | None = None) -> re.Match | None:
        end = len(self.compact) if end is None else end
        return pattern.search(self.compact, start, end)

    def glued_to_label(self, compact_end: int) -> bool:
        """True when the text right after a label (compact position) follows it with no separator."""
        if compact_end >= len(self.compact) or compact_end <= 0:
            return False
        return self.to_spaced(compact_end) == self.to_spaced(compact_end - 1) + 1

    def cell_of(self, compact_pos: int) -> int:
        return self.cell_at(self.to_spaced(compact_pos))

    def to_compact(self, spaced_pos: int) -> int:
        """Compact position of the first non-space character at or after a spaced position."""
        run = bisect.bisect_right(self._spaced_starts, spaced_pos) - 1
        if run < 0:
            return 0
        offset = spaced_pos - self._spaced_starts[run]
        length = (self._compact_starts[run + 1] if run + 1 < len(self._compact_starts) else len(self.compact)) \
            - self._compact_starts[run]
        return self._compact_starts[run] + offset if offset < length else self._compact_starts[run] + length

    def tokens(self, compact_start: int, compact_end: int) -> tuple[list[Token], int | None]:
        """Value tokens in a compact span, up to the first piece of text that is not a value.

        Returns the tokens and, when reading stopped at text, the compact position of that text.
        """
        # Positions: span_start/span_end in the spaced stream, from_char/to_char inside one cell's text.
        # Start right after the label's last character, so empty cells between the label and the
        # first number are seen (they may be blank values).
        span_start = self.to_spaced(compact_start - 1) + 1 if compact_start > 0 else 0
        span_end = self.to_spaced(compact_end) if compact_end < len(self.compact) else len(self.spaced) + 1
        tokens: list[Token] = []
        first = self.cell_at(span_start)
        glued_next = self.glued_to_label(compact_start)
        for cell_index in range(first, len(self.cells)):
            cell_start = self.cell_starts[cell_index]
            if cell_start >= span_end:
                break
            cell = self.cells[cell_index]
            text = cell.text
            from_char = span_start - cell_start if span_start > cell_start else 0
            to_char = span_end - cell_start if span_end - cell_start < len(text) else len(text)
            if from_char >= to_char:
                if cell.structured and not cell.text.strip() and cell_start >= span_start:
                    tokens.append(Token("empty", "", cell, 0, 0, False))
                glued_next = False
                continue
            if cell.readings is not None and from_char == 0:  # an OCR number not confirmed by its readings
                tokens.append(unsure_token(cell, glued_next))
                glued_next = False
                continue
            if from_char == 0 and to_char == len(text) and text.isascii() and text.isdigit():
                # a cell holding one number (built without the named tuple's Python-level __new__)
                tokens.append(tuple.__new__(Token, ("num", text, cell, 0, to_char, glued_next)))
                glued_next = False
                continue
            for m in _NON_SPACE.finditer(text, from_char, to_char):
                piece = m.group()
                if piece.isascii() and piece.isdigit():  # the common case: one plain number
                    tokens.append(tuple.__new__(Token, ("num", piece, cell, m.start(), m.end(), glued_next)))
                    glued_next = False
                    continue
                piece_start = m.start()
                for sub in _SIGN_SPLIT.split(piece) if ("+" in piece or "-" in piece) else (piece,):
                    stopped = self.classify(sub, cell, piece_start, glued_next, tokens)
                    if stopped:
                        taken = tokens[-1].end if tokens and tokens[-1].cell is cell else piece_start
                        return tokens, self.to_compact(cell_start + max(taken, piece_start))
                    piece_start += len(sub)
                    glued_next = True  # pieces split at a sign touch each other
                glued_next = False
            glued_next = False
        return tokens, None

    def pieces(self, compact_start: int, compact_end: int):
        """The whitespace-free pieces of a compact span, cell by cell: (cell index, cell, match)."""
        span_start = self.to_spaced(compact_start)
        span_end = self.to_spaced(compact_end) if compact_end < len(self.compact) else len(self.spaced) + 1
        for cell_index in range(self.cell_at(span_start), len(self.cells)):
            cell_start = self.cell_starts[cell_index]
            if cell_start >= span_end:
                break
            cell = self.cells[cell_index]
            from_char, to_char = max(0, span_start - cell_start), min(len(cell.text), span_end - cell_start)
            for m in _NON_SPACE.finditer(cell.text, from_char, to_char):
                yield cell_index, cell, m

    def value_groups(self, compact_start: int, compact_end: int) -> list[list[Token]]:
        """Runs of values, each within one cell (one line of a PDF text dump), between pieces of text.

        A piece that is not wholly a value (a label such as ``1.属于国家秘密``) ends a run.
        """
        groups: list[list[Token]] = []
        current: list[Token] = []
        current_cell = unsure_cell = None
        for cell_index, cell, m in self.pieces(compact_start, compact_end):
            if cell_index != current_cell:
                if current:
                    groups.append(current)
                current, current_cell = [], cell_index
                if cell.readings is not None and m.start() == 0:  # an OCR number not confirmed: one value
                    groups.append([unsure_token(cell, False)])
                    unsure_cell = cell_index
            if cell_index == unsure_cell:
                continue
            piece: list[Token] = []
            if self.classify(m.group(), cell, m.start(), False, piece):
                if current:
                    groups.append(current)
                current = []
            else:
                current.extend(piece)
        if current:
            groups.append(current)
        return groups

    @staticmethod
    def classify(piece: str, cell: Cell, start: int, glued: bool, out: list[Token]) -> bool:
        """Append the tokens of one whitespace-free piece; True when the piece is text (stop)."""
        pos = 0
        while pos < len(piece):
            if _VALUE_SEPARATOR.match(piece, pos):  # 65,27 (a comma that is not a thousands separator)
                pos += 1
                glued = False
                continue
            m = _NUMBER.match(piece, pos)
            if m:
                end = m.end()
                if _NUMBERING_AFTER.match(piece, end) and not _UNIT.search(m.group()):
                    end -= 1  # '...04.无正当理由': the last digit numbers the next label
                if end > pos:
                    out.append(Token("num", piece[pos:end], cell, start + pos, start + end, glued))
                if end < m.end():
                    return True
                pos = end
                glued = True
                continue
            m = _PLACEHOLDER.match(piece, pos)
            if m and (m.end() == len(piece) or not piece[m.end()].isalnum()):
                out.append(Token("blank", m.group(), cell, start + pos, start + m.end(), glued))
                pos = m.end()
                glued = True
                continue
            return True
        return False


def unsure_token(cell: Cell, glued: bool) -> Token:
    """The one value of an OCR cell whose readings do not confirm a number (its likeliest reading)."""
    return Token("unsure", cell.text, cell, 0, len(cell.text), glued)


def parse_number(text: str) -> tuple[float, str | None]:
    """Value and written unit of a number token ('297.17万元' -> (297.17, '万元'))."""
    if text.isascii() and text.isdigit():
        return float(text), None
    unit = None
    m = _UNIT.search(text)
    if m:
        unit = m.group(1)
        text = text[: m.start()]
    return float(text.replace(",", "")), unit
