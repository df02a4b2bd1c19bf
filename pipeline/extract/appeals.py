"""Read Table 4 (行政复议、行政诉讼): one run of fifteen values after its header words.

Table 4 has no row labels in the body: its three row groups (review, lawsuits without and after
review) are header columns, so the table is read as one sequence of values after the header words
(``labels.csv``, appeals header), which may be printed again when the table comes in parts.
"""

from __future__ import annotations

import re

from pipeline.extract import proven, settle
from pipeline.extract.align import Alignment, Reading, align
from pipeline.extract.locate import TableRegions
from pipeline.extract.readings import RowReading, TableReading
from pipeline.extract.rows import MAX_LABEL_TAIL
from pipeline.extract.stream import Stream, Token, unsure_token
from pipeline.ingest.readers import Cell
from pipeline.knowledge import domain
from pipeline.knowledge.domain import Column

_HEADER_GAP = domain.pattern("header_gap")
_VALUE_START = domain.pattern("value_start")
_FIRST_VALUE = re.compile(r"[0-9]")


def _skip_header_words(compact: str, header: re.Pattern, pos: int, end: int) -> int:
    while True:
        gap = _HEADER_GAP.match(compact, pos, end)
        m = header.match(compact, gap.end() if gap else pos, end)
        if not m or m.end() == pos:
            return pos
        pos = m.end()


def _values_start(stream: Stream, header: re.Pattern, heading: re.Match, end: int) -> int:
    pos = _skip_header_words(stream.compact, header, heading.end(), end)
    # Header text the pattern does not know (an annotation, a note on the source) is skipped up to the
    # first value, as long as it holds no digits that could be mistaken for one.
    at_value = pos < end and _VALUE_START.match(stream.compact, pos)
    first_value = None if at_value else _FIRST_VALUE.search(stream.compact, pos, end)
    if first_value and first_value.start() - pos <= MAX_LABEL_TAIL:
        pos = first_value.start()
    return pos


def _unplaced(alignment: Alignment) -> bool:
    """Cells left ambiguous other than OCR numbers their readings did not confirm (those are placed)."""
    return any(r.status == "ambiguous" and (r.token is None or r.token.kind != "unsure") for r in alignment.readings)


def value_row(stream: Stream, start: int, end: int, width: int) -> list[Token] | None:
    """The values of Table 4 from its grid: the one row of table cells in the span whose cells are all
    values (a number, an unconfirmed OCR number, a placeholder or an empty cell), ``width`` of them.
    Header words garbled by OCR (``尚未审结`` read with a digit) then do not stop the reading."""
    if start >= end:
        return None
    rows: dict[int, list[Cell]] = {}
    for cell in stream.cells[stream.cell_of(start):stream.cell_of(end - 1) + 1]:
        if cell.structured and cell.col is not None:
            rows.setdefault(cell.row, []).append(cell)
    found = []
    for cells in rows.values():
        tokens = [_cell_value(cell) for cell in sorted(cells, key=lambda c: c.col)]
        if len(tokens) == width and all(t is not None for t in tokens):
            found.append(tokens)
    return found[0] if len(found) == 1 else None


def _cell_value(cell: Cell) -> Token | None:
    """A table cell as one value token, or None when it holds text or more than one value."""
    if cell.readings is not None:
        return unsure_token(cell, False)
    if not cell.text.strip():
        return Token("empty", "", cell, 0, 0, False)
    piece: list[Token] = []
    text = cell.text.strip()
    if " " in text or Stream.classify(text, cell, cell.text.index(text), False, piece) or len(piece) != 1:
        return None
    return piece[0]


def read_appeals(stream: Stream, regions: TableRegions, template: str, run_together: bool) -> TableReading:
    table = TableReading("appeals", True, template)
    header = domain.labels("appeals", "header")[0].regex
    end = regions.end_of_tables
    pos = _values_start(stream, header, regions.appeals_heading, end)
    rows = domain.layout(template, "appeals")
    columns = tuple(Column(f"{row.code}/{c.code}", c.unit, c.signed, c.money) for row in rows for c in row.columns)
    tokens: list = []
    start = pos
    while True:
        found, stop = stream.tokens(start, end)
        tokens += found
        if stop is None or sum(t.kind != "empty" for t in tokens) >= len(columns):
            break
        # Table 4 printed in parts (行政复议, then 行政诉讼 with its own header): skip the header words
        resume = _skip_header_words(stream.compact, header, stop, end)
        if resume == stop:
            break
        start = resume
    alignment = settle.by_row_sums(align(tokens, columns, run_together), "appeals")
    if not run_together and _unplaced(alignment):
        by_sums = proven.appeals_by_sums(stream, regions.appeals_heading.end(), end, rows)
        if by_sums is not None:
            alignment = Alignment([Reading(f"{row.code}/{r.col}", *r[1:]) for row in rows for r in by_sums[row.code]])
    if not run_together and _unplaced(alignment):
        # the sums do not prove an order (an OCR number unconfirmed, a garbled header): the grid's one
        # row of exactly as many value cells as the table has columns still delimits them
        row_tokens = value_row(stream, regions.appeals_heading.end(), end, len(columns))
        by_cells = align(row_tokens, columns, False) if row_tokens else None
        if by_cells is not None and not _unplaced(by_cells):
            evidence = f"read by cells: the table's one row of {len(columns)} value cells"
            alignment = Alignment([r._replace(evidence=evidence) if r.status == "reported" and r.evidence is None
                                   else r for r in by_cells.readings])
    line = stream.cells[stream.cell_of(min(pos, len(stream.compact) - 1))].line if stream.compact else None
    by_row: dict[str, list[Reading]] = {row.code: [] for row in rows}
    for reading in alignment.readings:
        row_code, col_code = reading.col.split("/")
        by_row[row_code].append(Reading(col_code, reading.status, reading.value, reading.unit, reading.token,
                                        reading.evidence))
    for row in rows:
        table.rows[row.code] = RowReading(row.code, Alignment(by_row[row.code]), line)
    return table
