"""Rows of an OCR'd table broken by a page break, and the empty cells next to the break.

A word processor lets a table row break at the page end: the row's cells go on at the top of the next
page, where the first part of a wrapped label and a row's numbers (top-aligned) or only its label
(numbers centred lower down) may stand on either side. The PDF reader joins such a row when a row
label of ``labels.csv`` runs across the break (:func:`pipeline.ingest.readers.pdf_pages.merge_split_rows`);
OCR labels are too noisy for that proof alone, so the pixels give a second one:

* the two rows have the same cells (as for the text proof), and the row before the break has a label;
* in every column of numbers at most one of the two parts holds ink, and all the value cells of one
  part are empty while the other part holds at least one number;
* the text after the break in the label cell does not start a row of its own (``row_start`` of
  ``patterns.csv``: ``3.``, ``(七)``, ``四、``).

Without either proof the rows stay apart, and the empty value cells of both rows are *not* proven
empty (the row's numbers may stand on the other side of the break): they are written as OCR cells
without any reading, which the table stage makes ``ambiguous``, never ``blank``.
"""

from __future__ import annotations

from pipeline.ingest.readers.grid import Grid, GridCell
from pipeline.ingest.readers.ocr_cells import CellReading
from pipeline.ingest.readers.pdf_pages import merge_split_rows
from pipeline.ingest.readers.pdf_unruled import compact_label
from pipeline.knowledge import domain

UNPROVEN = CellReading("number", "-", readings=(), candidates=())  # an empty cell not proven empty


def _kind(cell: GridCell | None, readings: dict) -> str:
    reading = readings.get(id(cell)) if cell is not None else None
    return reading.kind if reading is not None else "empty"


def _value_columns(grids: tuple[Grid, Grid], readings: dict) -> set[int]:
    """Grid columns (after the joined parts were renumbered) that hold a number somewhere."""
    return {c.col for g in grids for c in g.cells if c.colspan == 1 and _kind(c, readings) == "number"}


def _pairs(previous: Grid, following: Grid) -> list[tuple[GridCell | None, GridCell]] | None:
    """The cells of the last row before the break and the first row after it, paired by column; None
    when the two rows do not have the same cells (then they are not one row)."""
    last = max(c.row for c in previous.cells)
    before = {(c.col, c.colspan): c for c in previous.cells if c.row == last}
    pairs = [(before.get((c.col, c.colspan)), c) for c in following.cells if c.row == 0]
    if len([a for a, _ in pairs if a is not None]) != len(before):
        return None
    return pairs


def _broken_by_pixels(pairs, readings: dict, values: set[int]) -> bool:
    row_start = domain.pattern("row_start")
    value_pairs = [(a, b) for a, b in pairs if b.col in values and b.colspan == 1]
    label_pairs = [(a, b) for a, b in pairs if not (b.col in values and b.colspan == 1)]
    if not value_pairs or any(a is None for a, _ in value_pairs):
        return False
    kinds = [(_kind(a, readings), _kind(b, readings)) for a, b in value_pairs]
    if any(ka != "empty" and kb != "empty" for ka, kb in kinds):
        return False  # both parts hold a value in one column: two rows
    before_empty = all(ka == "empty" for ka, _ in kinds)
    after_empty = all(kb == "empty" for _, kb in kinds)
    if before_empty == after_empty:
        return False  # no values on either side, or values on both: nothing proves one row
    if any(a is None and b.glyphs for a, b in label_pairs):
        return False
    labelled = [(a, b) for a, b in label_pairs if a is not None and a.glyphs]
    if not labelled:
        return False
    return not any(b.glyphs and row_start.match(compact_label(b.glyphs)) for _, b in label_pairs)


def _merge(pairs) -> None:
    for a, b in pairs:
        if a is not None:
            a.continuation = b
        b.continues_previous = True


def join_broken_row(previous: Grid, following: Grid, readings: dict) -> bool:
    """Read the rows on both sides of a page break as one row when the text or the pixels prove it;
    otherwise mark their empty value cells unproven (in ``readings``, by cell). True when joined."""
    pairs = _pairs(previous, following)
    if pairs is None:
        return False
    if merge_split_rows(previous, following):
        return True
    values = _value_columns((previous, following), readings)
    if _broken_by_pixels(pairs, readings, values):
        _merge(pairs)
        return True
    for a, b in pairs:
        for cell in (a, b):
            if cell is not None and cell.col in values and cell.colspan == 1 and _kind(cell, readings) == "empty":
                readings[id(cell)] = UNPROVEN
    return False


def unproven(reading: CellReading | None) -> bool:
    return reading is UNPROVEN

