"""Read the data rows of Tables 2 and 3: each row label, then the values printed after it.

Data rows are searched in the template's order, each label once; the values of a row are the value
tokens between its label and the next label of any kind (row, group, header). Which value goes to
which column is decided in :mod:`pipeline.extract.align`. Two layouts need more than that:

* PDF text dumps print some rows' numbers on the line *before* their multi-line label: when every row
  has exactly one line of values as wide as the row, the k-th line is the k-th row's;
* some agencies add a 法人或其他组织 subtotal column to Table 3: it is found (it equals the sum of its
  group's columns on every full row) and left out.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from functools import cache

from pipeline.extract.align import Alignment, Reading, align
from pipeline.extract.locate import TableRegions
from pipeline.extract.readings import RowReading, TableReading
from pipeline.extract.stream import Stream, parse_number
from pipeline.extract.template import TemplateChoice, older_template_of
from pipeline.knowledge import domain, labels
from pipeline.knowledge.domain import Column, Row

_TAIL_STOP = domain.pattern("label_tail_stop")
_ENUMERATOR = domain.pattern("enumerator")
_VALUE_START = domain.pattern("value_start")
MAX_LABEL_TAIL = 40
RUN_TOGETHER_LABELS = 3
_DIGIT = re.compile(r"\d")


def skip_label_tail(compact: str, pos: int, limit: int) -> int:
    """Skip the rest of a label after its matched prefix: ``相关政府信息``, ``(本单位制发的)``, quotes.

    Stops at the first character that can start a value, at a clause mark (a note, not a label), at
    an enumerator like ``(七)`` (the next row), or after a few characters.
    """
    start = pos
    while pos < limit and pos - start < MAX_LABEL_TAIL:
        ch = compact[pos]
        if ch == "(":
            close = compact.find(")", pos, min(limit, pos + 80))
            inner = compact[pos + 1 : close] if close != -1 else ""
            if close != -1 and _ENUMERATOR.fullmatch(inner):
                break  # (七): the next row's label
            if close != -1 and not _DIGIT.search(inner):
                pos = close + 1  # a whole explanation in brackets
                continue
            pos += 1  # an opening bracket whose text is cut by the values (PDF line breaks)
            continue
        if _VALUE_START.match(ch) or _TAIL_STOP.match(ch):
            break
        pos += 1
    return pos


class RowReader:
    """Reads the data rows of one table region of the stream."""

    def __init__(self, stream: Stream, start: int, end: int, boundary_labels):
        self.stream = stream
        self.start = start
        self.end = end
        self.boundaries: list[int] = []  # where any label starts: a row's values end there
        for lab in boundary_labels:
            for m in lab.regex.finditer(stream.compact, start, end):
                self.boundaries.append(m.start())
        self.found: dict[str, re.Match] = {}

    def find_rows(self, rows: tuple[Row, ...], section: str, template: str) -> None:
        """Each row's label, searched in printed order from the end of the previous one."""
        pos = self.start
        for row in rows:
            lab = domain.label(section, "row", row.code, template)
            if lab is None:
                continue
            m = self.stream.search(lab.regex, pos, self.end)
            if m:
                self.found[row.code] = m
                pos = m.end()
        self.boundaries.extend(m.start() for m in self.found.values())
        self.boundaries.sort()

    def value_span(self, label: re.Match) -> tuple[int, int]:
        i = bisect.bisect_right(self.boundaries, label.start())
        while i < len(self.boundaries) and self.boundaries[i] < label.end():
            i += 1
        next_start = self.boundaries[i] if i < len(self.boundaries) else self.end
        return skip_label_tail(self.stream.compact, label.end(), next_start), next_start

    def run_together(self) -> bool:
        """Flattened text: many row labels inside one cell, where numbers may have no separators.

        Two labels on one line happen in PDF dumps whose numbers are separated; splitting digit runs
        there would invent cells, so it takes three.
        """
        cells = Counter(self.stream.cell_of(m.start()) for m in self.found.values())
        return bool(cells) and max(cells.values()) >= RUN_TOGETHER_LABELS

    def read_row(self, code: str, columns: tuple[Column, ...], run_together: bool) -> RowReading:
        label = self.found[code]
        begin, stop = self.value_span(label)
        tokens, _ = self.stream.tokens(begin, stop)
        line = self.stream.cells[self.stream.cell_of(label.start())].line
        return RowReading(code, align(tokens, columns, run_together), line, tokens)

    def reorder_by_lines(self, rows: dict[str, RowReading],
                         columns: dict[str, tuple[Column, ...]]) -> tuple[dict[str, RowReading], list[str]]:
        """PDF text dumps put some rows' numbers on the line *before* their (multi-line) label.

        When the table holds exactly one line of values per row label, each line as wide as its row,
        the k-th line belongs to the k-th label: that order is what the page shows. Rows are then read
        from their line; a row whose label-following reading disagrees becomes ambiguous. Returns the
        rows (a new dict when any changed) and the codes of the rows changed.
        """
        codes = list(self.found)  # in printed order
        if not codes or all(r.status != "ambiguous" for code in codes for r in rows[code].alignment.readings):
            return rows, []  # every row read after its label: nothing for the line order to settle
        groups = self.stream.value_groups(self.found[codes[0]].start(), self.end)
        if len(groups) != len(codes) or any(len(g) != len(columns[c]) for g, c in zip(groups, codes)):
            return rows, []
        reordered, changed = dict(rows), []
        for code, group in zip(codes, groups):
            by_line = align(group, columns[code], run_together=False)
            current = rows[code].alignment.readings
            if all((a.status, a.value) == (b.status, b.value) for a, b in zip(current, by_line.readings)):
                continue
            conflict = any(a.status != "ambiguous" and (a.status, a.value) != (b.status, b.value)
                           for a, b in zip(current, by_line.readings))
            if conflict:
                why = "the numbers after the label and the line order of the table disagree"
                readings = [Reading(r.col, "ambiguous", None, None, r.token, why) for r in by_line.readings]
            else:
                why = "values taken from the table's k-th line of numbers for its k-th row (PDF text order)"
                readings = [Reading(r.col, r.status, r.value, r.unit, r.token, why) for r in by_line.readings]
            reordered[code] = RowReading(code, Alignment(readings), rows[code].label_line)
            changed.append(code)
        return reordered, changed


def row_readers(stream: Stream, regions: TableRegions, choice: TemplateChoice) -> dict[str, RowReader]:
    """A reader with its row labels found for Table 2 and Table 3, where they were found."""
    readers = {}
    template = choice.template
    if regions.proactive_anchor is not None and template:
        reader = RowReader(stream, regions.proactive_anchor.start(), regions.proactive_end,
                           [*domain.labels("proactive", "row"), *domain.labels("proactive", "header"),
                            *domain.labels("proactive", "cue")])
        reader.find_rows(domain.layout(template, "proactive"), "proactive", template)
        readers["proactive"] = reader
    if regions.first_request is not None and template:
        groups = domain.labels("requests", "group", None if choice.requests_has_subitems else domain.TEMPLATES[0])
        reader = RowReader(stream, regions.first_request.start(), regions.requests_end,
                           [*groups, *domain.labels("requests", "header")])
        search_template = older_template_of("requests") if choice.hybrid else template
        reader.find_rows(domain.layout(search_template, "requests"), "requests", search_template)
        readers["requests"] = reader
    return readers


def _note_reordered(table: TableReading, changed: list[str]) -> None:
    if changed:
        table.notes.append(f"rows read by line order (numbers printed before their labels): {', '.join(changed)}")


def read_proactive(reader: RowReader, template: str, run_together: bool, notes: list[str]) -> TableReading:
    table = TableReading("proactive", True, template, notes=list(notes))
    layout = domain.layout(template, "proactive")
    for row in layout:
        if row.code in reader.found:
            table.rows[row.code] = reader.read_row(row.code, row.columns, run_together)
        else:
            table.missing_rows.append(row.code)
    if not run_together:
        table.rows, changed = reader.reorder_by_lines(table.rows, {r.code: r.columns for r in layout})
        _note_reordered(table, changed)
    return table


def read_requests(reader: RowReader, choice: TemplateChoice, run_together: bool) -> TableReading:
    table = TableReading("requests", True, choice.template)
    derived = domain.derived_row("requests")
    unprinted = set(derived.terms) if choice.hybrid else set()
    for row in domain.layout(choice.template, "requests"):
        if row.code in unprinted:
            continue
        if row.code in reader.found:
            table.rows[row.code] = reader.read_row(row.code, row.columns, run_together)
        else:
            table.missing_rows.append(row.code)
    if choice.hybrid:
        _read_single_derived_row(table, reader, derived, run_together)
    if not run_together:
        columns = {r.code: r.columns for t in domain.TEMPLATES for r in domain.layout(t, "requests")}
        table.rows, changed = reader.reorder_by_lines(table.rows, columns)
        _note_reordered(table, changed)
        table.rows, subtotal = drop_subtotal_column(table.rows, columns)
        if subtotal:
            table.notes.append(subtotal)
    return table


def _read_single_derived_row(table: TableReading, reader: RowReader, derived, run_together: bool) -> None:
    """A 2021 report whose Table 3 prints the 2019-style single (六) row: keep that row as printed;
    the three 2021 sub-rows are not in the text."""
    older = older_template_of("requests")
    columns = next(r.columns for r in domain.layout(older, "requests") if r.code == derived.row)
    if derived.row in reader.found:
        table.rows[derived.row] = reader.read_row(derived.row, columns, run_together)
    else:
        table.missing_rows.append(derived.row)
    why = domain.message("single_other_row")
    for code in derived.terms:
        table.rows[code] = RowReading(
            code, Alignment([Reading(c.code, "not_printed", None, None, None, why) for c in columns]), None)
    table.notes.append(why)


@cache
def subtotal_positions() -> dict[int, tuple[range, str]]:
    """Where an agency adds a subtotal of Table 3's column group (法人或其他组织) in a row of one more
    value: before the group's first column or after its last one (before 总计). Position -> (the
    positions of the group's columns in that wider row, where it is in words). Read-only (cached)."""
    columns = [c.code for c in domain.layout(domain.LATEST_TEMPLATE, "requests")[0].columns]
    group = next(g.group for g in labels.groups() if (g.section, g.axis) == ("requests", "col"))
    members = [i for i, code in enumerate(columns)
               if any((c.section, c.axis, c.code, c.group) == ("requests", "col", code, group)
                      for c in labels.code_labels())]
    first, last = members[0], members[-1]
    return {first: (range(first + 1, last + 2), domain.message("subtotal_after_first")),
            last + 1: (range(first, last + 1), domain.message("subtotal_before_total"))}


def drop_subtotal_column(rows: dict[str, RowReading],
                         columns: dict[str, tuple[Column, ...]]) -> tuple[dict[str, RowReading], str | None]:
    """Rows of one value more than the table's columns: find the added subtotal column.

    A position is accepted only when, on every fully numeric wide row, its value equals the sum of the
    group's columns. When several positions pass, rows are read only where they all give the same
    cells. Returns the rows (a new dict when a subtotal was found) and a note.
    """
    positions = subtotal_positions()
    width = len(next(iter(columns.values()))) + 1
    wide = {code: [t for t in r.tokens if t.kind != "empty"] for code, r in rows.items()}
    wide = {code: toks for code, toks in wide.items() if len(toks) == width}
    if len(wide) < max(3, len(rows) // 2):
        return rows, None
    numbers = {code: [parse_number(t.text)[0] if t.kind == "num" else None for t in toks]
               for code, toks in wide.items()}
    complete = [v for v in numbers.values() if all(x is not None for x in v)]
    if not complete:
        return rows, None
    holds = [p for p, (parts, _) in positions.items()
             if all(abs(v[p] - sum(v[i] for i in parts)) < 1e-6 for v in complete)]
    if not holds:
        return rows, None
    narrowed = dict(rows)
    for code, toks in wide.items():
        projections = [toks[:p] + toks[p + 1:] for p in holds]
        if len({tuple(t.text for t in proj) for proj in projections}) == 1:
            alignment = align(projections[0], columns[code], run_together=False)
            why = domain.message("subtotal_read")
            readings = [Reading(r.col, r.status, r.value, r.unit, r.token, why) for r in alignment.readings]
        else:
            why = "eight values and the position of the added subtotal column is not certain for this row"
            readings = [Reading(c.code, "ambiguous", None, None, None, why) for c in columns[code]]
        narrowed[code] = RowReading(code, Alignment(readings), rows[code].label_line, rows[code].tokens)
    where = " or ".join(positions[p][1] for p in holds)
    return narrowed, domain.message("subtotal_column", where=where)
