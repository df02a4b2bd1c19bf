"""Tables drawn without ruling lines: fields of a line cut at column edges seen on nearby lines,
and a cell's text wrapped over several lines joined back when a row label of the tables runs across
the wrap (the same proof as for a row broken by a page break). Also the page blocks both use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipeline.ingest.normalize import normalize_text, without_spaces
from pipeline.ingest.readers.grid import (
    CJK,
    NUMERIC_ONLY,
    Glyph,
    Grid,
    cell_text,
    line_height,
    line_text,
    split_fields,
)
from pipeline.knowledge import domain

# A cell's text wrapped over lines without ruling lines: the next line of the cell starts at the same
# left edge (WRAP_ALIGN points) within WRAP_GAP line heights below; at most WRAP_CHAIN lines are joined.
WRAP_ALIGN = 2.0
WRAP_GAP = 1.5
WRAP_CHAIN = 6
# Columns of a table without ruling lines whose texts touch: a left edge where at least COLUMN_EDGE_SUPPORT
# fields start (within COLUMN_EDGE_TOL points) splits a field that runs across it, inside the table
# (the lines between the first and the last with at least TABLE_LINE_FIELDS fields).
COLUMN_EDGE_SUPPORT = 3
COLUMN_EDGE_TOL = 1.0
COLUMN_EDGE_WINDOW = 10  # lines above and below whose fields show the edges (a page has other tables)
TABLE_LINE_FIELDS = 3
_NUMBER_CHARS = frozenset("0123456789.,+-%")


@dataclass
class Block:
    """One thing on a page, in reading order: a table (grid) or a line of text."""

    top: float
    grid: Grid | None = None
    line: list[Glyph] | None = None
    # the line's fields when they differ from its gaps' (cut at a column's edge, or wrapped text joined
    # into them or taken out of them): each field is its pieces, one per line of text
    fields: list[list[list[Glyph]]] | None = None
    structured: bool = False  # the line had several fields


@cache
def _row_labels() -> tuple[re.Pattern, ...]:
    return tuple(lab.regex for section in domain.SECTIONS for kind in ("row", "group")
                 for lab in domain.labels(section, kind))


def compact_label(glyphs: list[Glyph]) -> str:
    return without_spaces(normalize_text(cell_text(glyphs), False))


def label_across(before: str, after: str) -> bool:
    """Does a row label of the tables (labels.csv) run from one text into the other?"""
    joined = before + after
    return any(m.start() < len(before) < m.end() for regex in _row_labels() for m in regex.finditer(joined))


def join_wrapped_fields(pages: list[list[Block]], traditional: bool) -> int:
    """Text drawn without ruling lines: a label wrapped over several lines of a narrow cell read as one.

    Without lines, each line of text is read on its own, so a label wrapped in its cell (``1.属于国家秘``
    / ``密``) is cut by the row's numbers, which are centred between its two lines, and a wrapped stub
    (``三、本`` / ``年度办`` / ``理结果``) falls between other rows' labels and numbers. Geometry alone
    cannot tell the next line of a cell from the next row's cell when cells have no padding, so, as for
    a row broken by a page break, the text decides: a field takes in the field below it when that one
    starts at the same left edge, is the next text of that column (nothing else between them in its
    width, within :data:`WRAP_GAP` line heights) and a row label of the tables (labels.csv) runs from
    the one into the other. The joined text stays where its first line is, before the row's numbers.
    Without that proof nothing moves. Returns the number of lines joined.
    """
    joined = 0
    for blocks in pages:
        run: list[Block] = []
        for block in [*blocks, None]:
            if block is not None and block.grid is None:
                run.append(block)
                continue
            if len(run) > 1:
                joined += _join_wrapped_in_run(run, traditional)
            run = []
    return joined


def _compact_text(glyphs: list[Glyph], traditional: bool) -> str:
    return without_spaces(normalize_text(line_text(glyphs), traditional))


def column_fields(lines: list[list[Glyph]]) -> list[list[list[Glyph]]]:
    """The fields of consecutive lines of text: cut at wide gaps (:func:`split_fields`), and inside a
    table without ruling lines also where a field runs across a column's left edge (the texts of two
    cells without padding touch: ``(三)不`` and ``合法权益``). A column's left edge is a position where
    several fields of the nearby lines start. A number is never cut (nor cut from its unit)."""
    gaps = [split_fields(line) for line in lines]
    wide = [i for i, f in enumerate(gaps) if len(f) >= TABLE_LINE_FIELDS]
    if not wide:
        return gaps
    first, last = wide[0], wide[-1]
    fields = list(gaps)
    for i in range(first, last + 1):
        near = gaps[max(first, i - COLUMN_EDGE_WINDOW):min(last, i + COLUMN_EDGE_WINDOW) + 1]
        starts = sorted(f[0].x0 for line in near for f in line)
        edges = [group[0] for group in _groups(starts, COLUMN_EDGE_TOL) if len(group) >= COLUMN_EDGE_SUPPORT]
        if not edges:
            continue
        cut = []
        for field in gaps[i]:
            piece = [field[0]]
            for prev, g in zip(field, field[1:]):
                if prev.text not in _NUMBER_CHARS and any(
                        abs(g.x0 - e) <= COLUMN_EDGE_TOL and prev.x1 <= e + COLUMN_EDGE_TOL for e in edges):
                    cut.append(piece)
                    piece = []
                piece.append(g)
            cut.append(piece)
        fields[i] = cut
    return fields


def _groups(values: list[float], tol: float) -> list[list[float]]:
    """Sorted values in groups of neighbours within ``tol``."""
    out: list[list[float]] = []
    for v in values:
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return out


def _join_wrapped_in_run(run: list[Block], traditional: bool) -> int:
    fields = [[[f] for f in line] for line in column_fields([block.line for block in run])]
    taken: set[tuple[int, int]] = set()
    joined = 0
    for i in range(len(run)):
        for fi, field in enumerate(fields[i]):
            if (i, fi) in taken or NUMERIC_ONLY.fullmatch(line_text(field[0])):
                continue
            chain = [(i, fi)]
            while len(chain) < WRAP_CHAIN:
                below = _next_in_column(fields, chain[-1], field[0], taken)
                if below is None:
                    break
                chain.append(below)
            if len(chain) == 1:
                continue
            texts = [_compact_text(fields[j][fj][0], traditional) for j, fj in chain]
            text, ends = "", []
            for piece in texts:
                text += piece
                ends.append(len(text))
            crossed = {b for regex in _row_labels() for m in regex.finditer(text)
                       for b in ends[:-1] if m.start() < b < m.end()}
            for (j, fj), end in zip(chain[1:], ends):
                if end not in crossed:
                    break
                field.extend(fields[j][fj])
                taken.add((j, fj))
                joined += 1
    for j, block in enumerate(run):
        cut = len(fields[j]) != len(split_fields(block.line))
        if cut or any((j, fj) in taken for fj in range(len(fields[j]))) or any(len(f) > 1 for f in fields[j]):
            block.fields = [f for fj, f in enumerate(fields[j]) if (j, fj) not in taken]
            block.structured = len(fields[j]) > 1
    return joined


def _next_in_column(fields: list[list[list[Glyph]]], at: tuple[int, int], first: list[Glyph],
                    taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """The field on a following line that goes on from the field ``at`` (its last piece) in its column:
    the first text below it within the column's width, when it starts at the same left edge."""
    i, fi = at
    last = fields[i][fi][-1]
    height = line_height(last)
    bottom = max(g.bottom for g in last)
    x0, x1 = first[0].x0, max(first[-1].x1, last[-1].x1)
    for j in range(i + 1, len(fields)):
        if not fields[j]:
            continue
        top = min(g.top for f in fields[j] for g in f[0])
        if top > bottom + WRAP_GAP * height:
            return None
        for fj, field in enumerate(fields[j]):
            glyphs = field[0]
            if glyphs[-1].x1 <= x0 or glyphs[0].x0 >= x1:
                continue  # another column
            if ((j, fj) in taken or abs(glyphs[0].x0 - x0) > WRAP_ALIGN
                    or NUMERIC_ONLY.fullmatch(line_text(glyphs))):
                return None  # other text in the column: a cell of its own
            return j, fj
    return None


def pieces_text(pieces: list[list[Glyph]]) -> str:
    """The text of a field joined from lines: a line break between CJK characters is nothing."""
    text = ""
    for piece in (line_text(p) for p in pieces):
        if text and not (CJK.match(text[-1]) and CJK.match(piece[0])):
            text += " "
        text += piece
    return text
