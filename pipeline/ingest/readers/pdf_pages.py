"""Tables that run over a page break, in the grid model shared by the PDF and OCR readers.

A table that is the last thing on a page and goes on at the top of the next one with the same outer
edges is one table: its parts get one set of grid columns. A row broken by the page break is read as
one row only when a row label runs across the break (the text is the proof; the geometry cannot tell).
"""

from __future__ import annotations

import re

from pipeline.ingest.normalize import normalize_text
from pipeline.ingest.readers.grid import Glyph, Grid, cluster, line_text
from pipeline.ingest.readers.pdf_unruled import Block, compact_label, label_across
from pipeline.knowledge import domain

CONTINUATION_EDGE = 4.0  # outer edges of two table parts on consecutive pages within this are one table


def _continues(previous: Grid, following: Grid) -> bool:
    return (abs(previous.x0 - following.x0) <= CONTINUATION_EDGE
            and abs(previous.x1 - following.x1) <= CONTINUATION_EDGE)


def _renumber_columns(parts: list[Grid]) -> None:
    """Cells of a table split over pages on one set of grid columns (the union of the parts')."""
    xs = cluster([x for g in parts for x in g.xs], CONTINUATION_EDGE)
    for grid in parts:
        for cell in grid.cells:
            first = min(range(len(xs)), key=lambda i: abs(xs[i] - cell.x0))
            last = min(range(len(xs)), key=lambda i: abs(xs[i] - cell.x1))
            cell.col, cell.colspan = first, max(1, last - first)


def _is_noise(line: list[Glyph], page_number: re.Pattern) -> bool:
    return bool(page_number.match(normalize_text(line_text(line), False)))


def join_continued_tables(pages: list[list[Block]]) -> list[tuple[Grid, Grid]]:
    """Tables that go on at the top of the next page become one grid. Returns the joined pairs.

    A table continues when it is the last thing on a page (page numbers aside), the next page
    starts with a table, and the two have the same outer left and right edges.
    """
    page_number = domain.noise_patterns("page_number")
    joins: list[tuple[Grid, Grid]] = []
    chain: list[Grid] = []

    def finish() -> None:
        if len(chain) > 1:
            _renumber_columns(chain)
        chain.clear()

    for blocks in pages:
        blocks = [b for b in blocks if b.grid is not None or not _is_noise(b.line, page_number)]
        if not blocks:
            finish()
            continue
        first, last = blocks[0].grid, blocks[-1].grid
        if chain and first is not None and _continues(chain[-1], first):
            joins.append((chain[-1], first))
            chain.append(first)
        else:
            finish()
        if last is None or last is not first:
            finish()
        if last is not None and not chain:
            chain.append(last)
    finish()
    return joins


def merge_split_rows(previous: Grid, following: Grid) -> bool:
    """A row broken by the page break: its cells before and after the break read as one row.

    Geometry cannot tell a broken row from a new one (both are closed by a line at the page end), so
    the text decides: the last row before the break and the first row after it must have the same
    cells (empty cells after the break aside, those are merged cells going on from above), and a row
    label of the tables must run from a cell before the break into the same cell after it. Without
    that proof the rows stay apart: a broken label then leaves its row ambiguous, never wrong.
    """
    last = max(c.row for c in previous.cells)
    before = {(c.col, c.colspan): c for c in previous.cells if c.row == last}
    after = [c for c in following.cells if c.row == 0]
    pairs = [(before.get((c.col, c.colspan)), c) for c in after]
    if any(a is None and b.glyphs for a, b in pairs) or len([a for a, _ in pairs if a]) != len(before):
        return False
    if not any(a is not None and a.glyphs and b.glyphs and label_across(compact_label(a.glyphs), compact_label(b.glyphs))
               for a, b in pairs):
        return False
    for a, b in pairs:
        if a is not None:
            a.continuation = b
        b.continues_previous = True
    return True
